"""Every `DUEPROCESS_*` setting is declared once, in a section of `dueprocess.settings.REGISTRY`,
and docs/settings.md is what the registry generates.

Each check is also run on a synthetic class, so that it is seen to fail when it should.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dueprocess.settings import REGISTRY, reference
from dueprocess.settings.reference import (
    DOCUMENT,
    WRITE_COMMAND,
    render,
    render_default,
    variables,
)

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("dueprocess", "flows", "tasks", "models", "notifications", "deployments",
              "ledger", "portal", "programme", "implementation")


def declared_twice(sections: Iterable[type[BaseSettings]]) -> dict[str, list[str]]:
    """Environment variable -> the sections declaring it, for those declared more than once."""
    owners: dict[str, list[str]] = {}
    for section in sections:
        for variable in variables(section):
            owners.setdefault(variable, []).append(section.__qualname__)
    return {variable: names for variable, names in owners.items() if len(names) > 1}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def production_sources() -> Iterator[tuple[str, str]]:
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield module_name(path), path.read_text(encoding="utf-8")


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):  # a generic base: Base[...]
        return _base_name(node.value)
    return None


def settings_classes(sources: Iterable[tuple[str, str]]) -> set[str]:
    """`module.Class` of every class deriving from BaseSettings, directly or through another
    such class (by name, to a fixed point)."""
    classes = [(module, node) for module, source in sources
               for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)]
    found: dict[str, str] = {}  # class name -> module.Class
    grown = True
    while grown:
        grown = False
        for module, node in classes:
            if node.name in found:
                continue
            bases = {_base_name(base) for base in node.bases}
            if "BaseSettings" in bases or bases & set(found):
                found[node.name] = f"{module}.{node.name}"
                grown = True
    return set(found.values())


def registered(sections: Iterable[type[BaseSettings]]) -> set[str]:
    return {f"{section.__module__}.{section.__qualname__}" for section in sections}


class _Rogue(BaseSettings):
    """A section of the tests' own: declares the data directory again, and a secret."""

    model_config = SettingsConfigDict(env_prefix="DUEPROCESS_", extra="ignore")

    data_dir: Path = Field(default=Path("elsewhere"), description="The data directory, again")
    rogue_password: SecretStr = Field(default=SecretStr("hunter2-rogue"),
                                      description="A secret with a default")


def test_no_variable_is_declared_by_two_sections() -> None:
    assert declared_twice(REGISTRY) == {}


def test_a_variable_declared_twice_is_found() -> None:
    assert declared_twice((*REGISTRY, _Rogue)) == {"DUEPROCESS_DATA_DIR": ["Settings", "_Rogue"]}


def test_the_inbox_section_reads_its_own_prefix() -> None:
    from dueprocess.settings import InboxSettings

    assert "DUEPROCESS_PORTAL_SESSION_SECRET" in variables(InboxSettings)


def test_every_settings_class_of_the_code_is_registered() -> None:
    found = settings_classes(production_sources())
    assert found, "no BaseSettings subclass found: the walk is broken"
    missing = sorted(found - registered(REGISTRY))
    assert missing == [], (f"settings classes outside dueprocess.settings.REGISTRY: {missing}; "
                           "declare them as a section of dueprocess/settings/ and register them")
    assert registered(REGISTRY) <= found  # and the walk finds every registered section


def test_an_unregistered_settings_class_is_found() -> None:
    rogue = ("feature.settings", "import pydantic_settings\n"
             "class Rogue(pydantic_settings.BaseSettings):\n    x: int = 1\n"
             "class Narrower(Rogue):\n    y: int = 2\n"
             "class Plain:\n    pass\n")
    found = settings_classes([*production_sources(), rogue])
    assert sorted(found - registered(REGISTRY)) == ["feature.settings.Narrower",
                                                    "feature.settings.Rogue"]


def test_the_settings_reference_is_up_to_date() -> None:
    current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    assert current == render(), (f"{DOCUMENT.relative_to(ROOT)} is out of date: "
                                 f"run `.venv/bin/{WRITE_COMMAND}`")


def test_the_reference_follows_the_registry_and_hides_secrets() -> None:
    text = render((*REGISTRY, _Rogue))
    assert text != render()
    assert "`DUEPROCESS_ROGUE_PASSWORD`" in text
    assert "hunter2-rogue" not in text
    assert render_default("rogue_password", _Rogue.model_fields["rogue_password"]) == (
        "*(secret: not shown)*")
    for section in REGISTRY:  # the registry's own secrets: only "unset" or "not shown"
        for name, field in section.model_fields.items():
            if "secret" in str(field.annotation).lower():
                assert render_default(name, field) in ("unset", "*(secret: not shown)*"), name


def test_a_setting_without_a_description_is_refused() -> None:
    class Undescribed(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="DUEPROCESS_")
        undescribed_limit: int = 3

    with pytest.raises(ValueError, match="DUEPROCESS_UNDESCRIBED_LIMIT"):
        render([Undescribed])


def test_the_write_and_check_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = tmp_path / "settings.md"
    monkeypatch.setattr(reference, "DOCUMENT", document)
    document.write_text("stale\n", encoding="utf-8")
    assert reference.main(["--check"]) == 1
    assert reference.main(["--write"]) == 0
    assert document.read_text(encoding="utf-8") == render()
    assert reference.main(["--check"]) == 0


def test_importing_the_settings_stays_light() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import json, sys, dueprocess.settings; "
         "print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    modules = {name.split(".")[0] for name in json.loads(loaded.stdout.splitlines()[-1])}
    heavy = {"prefect", "sqlalchemy", "sqlmodel", "fastapi", "jinja2", "cryptography",
             "apprise", "models", "notifications", "portal", "programme"}
    assert modules & heavy == set()
