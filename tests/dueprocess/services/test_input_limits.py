"""Inputs an attacker can hand an official: a case file whose `draft.file` reaches outside
its folder, evidence or case files nested deep enough to crash a recursive parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from sqlmodel import select

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError, Refused
from dueprocess.services.cases import read_case_file
from dueprocess.services.payloads import (
    MAX_NESTING_DEPTH,
    TooDeep,
    check_nesting,
    load_yaml,
    loads_json,
    split_documents,
)
from models.cases import DecisionCase
from models.evidence import EvidenceItem, Refusal
from tests.conftest import DEMO_CASE
from tests.support import as_official

CLI = [sys.executable, "-c", "from dueprocess.commands.app import main; main()"]
SECRET = "TOP SECRET: this file is outside the case folder\n"


def dueprocess(*args: str | Path, env: dict[str, str] | None = None,
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})})


def case_count() -> int:
    with session_scope() as session:
        return len(session.exec(select(DecisionCase)).all())


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """A case folder, a secret file next to it (outside it), and the demo case's data."""
    folder = tmp_path / "cases" / "parking"
    folder.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    return {"folder": folder, "secret": secret}


def write_case(folder: Path, draft: dict[str, Any]) -> Path:
    data = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))
    data["draft"] = {"title": data["draft"]["title"], **draft}
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- draft.file is confined to the case file's folder -------------------------------------


@pytest.mark.parametrize("name", [
    "../../secret.txt",
    "../../../../../../../../etc/os-release",
    "sub/../../../secret.txt",
])
def test_a_draft_file_outside_the_folder_is_refused(layout: dict[str, Path], name: str) -> None:
    (layout["folder"] / "sub").mkdir()
    path = write_case(layout["folder"], {"file": name})
    with pytest.raises(DueProcessError) as refused:
        read_case_file(path)
    message = str(refused.value)
    assert "draft.file" in message and "leads outside the case file's folder" in message
    assert SECRET.strip() not in message


def test_an_absolute_draft_file_is_refused(layout: dict[str, Path]) -> None:
    path = write_case(layout["folder"], {"file": str(layout["secret"])})
    with pytest.raises(DueProcessError, match=r"draft\.file: .* is an absolute path"):
        read_case_file(path)


def test_a_symlink_out_of_the_folder_is_refused(layout: dict[str, Path]) -> None:
    (layout["folder"] / "draft.txt").symlink_to(layout["secret"])
    (layout["folder"] / "linked").symlink_to(layout["secret"].parent, target_is_directory=True)
    for name in ("draft.txt", "linked/secret.txt"):
        path = write_case(layout["folder"], {"file": name})
        with pytest.raises(DueProcessError, match=r"draft\.file: .*leads outside.*symlinks"):
            read_case_file(path)


def test_a_draft_file_in_the_folder_or_below_is_read(layout: dict[str, Path]) -> None:
    folder = layout["folder"]
    (folder / "drafts").mkdir()
    (folder / "drafts" / "v1.txt").write_text("Article 1. Parking is free.", encoding="utf-8")
    (folder / "alias.txt").symlink_to(folder / "drafts" / "v1.txt")  # a symlink that stays in
    for name in ("drafts/v1.txt", "drafts/../drafts/v1.txt", "alias.txt"):
        request = read_case_file(write_case(folder, {"file": name}))
        assert request.draft.text == "Article 1. Parking is free."


def test_the_cli_does_not_publish_a_file_from_outside(layout: dict[str, Path]) -> None:
    before = case_count()
    path = write_case(layout["folder"], {"file": "../../secret.txt"})
    result = dueprocess("open", path, "--no-start", env=as_official())
    assert result.returncode == 2, result.stdout
    assert "draft.file" in result.stderr and "outside the case file's folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert case_count() == before
    # A name that looks like terminal markup is printed as it is, not as a traceback.
    path = write_case(layout["folder"], {"file": "../[/evil]"})
    result = dueprocess("open", path, "--no-start", env=as_official())
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "draft.file: '../[/evil]' leads outside" in " ".join(result.stderr.split())
    assert case_count() == before


# --- nesting depth -------------------------------------------------------------------------


def nested_json(depth: int, *, key: str = "a") -> str:
    return f'{{"{key}": ' * depth + "1" + "}" * depth


def test_json_at_the_limit_is_read_and_one_deeper_is_refused() -> None:
    assert loads_json(nested_json(MAX_NESTING_DEPTH), field="f")  # 32 objects
    assert yaml.safe_load(nested_json(MAX_NESTING_DEPTH)) == load_yaml(
        nested_json(MAX_NESTING_DEPTH), field="f")
    with pytest.raises(TooDeep) as refused:
        loads_json(nested_json(MAX_NESTING_DEPTH + 1), field="--file e.json")  # 33
    assert str(refused.value).startswith("--file e.json: a.a.a.")
    assert f"deeper than {MAX_NESTING_DEPTH} levels" in str(refused.value)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"summary": "[" * 10_000 + '{"' * 10_000, "n": [1, [2, [3]]]})
    assert loads_json(text, field="f")["n"] == [1, [2, [3]]]


def test_the_path_names_the_field_that_is_too_deep() -> None:
    value: Any = 1
    for _ in range(40):
        value = [value]
    text = json.dumps({"findings": [{"ok": 1}, {"details": value}]})
    with pytest.raises(TooDeep, match=r"^f: findings\.1\.details\.…\.0\.0\.0: "):
        loads_json(text, field="f")
    with pytest.raises(TooDeep, match=r"^g: findings\.1\.details\.…\.0\.0\.0: "):
        check_nesting(json.loads(text), field="g")


def test_yaml_nesting_is_refused_before_the_recursive_composer_runs() -> None:
    flow = "title: " + "[" * 200_000 + "]" * 200_000
    with pytest.raises(TooDeep, match=r"^case file c.yaml: title\.0\.0\..*32 levels"):
        load_yaml(flow, field="case file c.yaml")
    block = "".join(f"{'  ' * n}k{n}:\n" for n in range(40)) + "  " * 40 + "v: 1\n"
    with pytest.raises(TooDeep, match=r"^f: k0\.k1\.k2\.…"):
        load_yaml(block, field="f")


def test_yaml_aliases_cannot_hide_depth_or_loop() -> None:
    chain = "\n".join(["a0: &a0 [x]", *(f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 60))])
    with pytest.raises(TooDeep, match=r"^f: a\d+\."):
        load_yaml(chain, field="f")
    with pytest.raises(TooDeep):
        load_yaml("a: &a [*a]", field="f")  # a list that contains itself
    laughs = "\n".join(["l0: &l0 [x, x, x, x, x, x, x, x, x, x]", *(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9))])
    assert set(load_yaml(laughs, field="f")) == {f"l{i}" for i in range(9)}  # 10^9 leaves


def test_a_deep_case_file_is_refused_naming_the_limit(layout: dict[str, Path]) -> None:
    path = layout["folder"] / "case.yaml"
    path.write_text(DEMO_CASE.read_text(encoding="utf-8") + "\nextra: "
                    + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(TooDeep, match=r"^case file .*case\.yaml: extra\.0\.0.*limit: 32"):
        read_case_file(path)


class FreeForm(BaseModel):
    data: Any
    documents: list[Any] = []


def test_evidence_with_free_form_fields_is_refused_before_hashing() -> None:
    value: Any = {}
    for _ in range(5000):
        value = {"x": value}
    with pytest.raises(Refused) as refused:
        split_documents(FreeForm(data={"ok": 1}), max_document_bytes=10, max_evidence_bytes=10)
    assert "NESTING-DEPTH" not in str(refused.value)  # only the size rule: under the limit
    with pytest.raises(Refused) as refused:
        split_documents(FreeForm.model_construct(data=value, documents=[]),
                        max_document_bytes=10, max_evidence_bytes=10**9)
    [problem] = refused.value.problems
    assert problem.rule == "NESTING-DEPTH" and problem.message.startswith("evidence: data.x.x")


@pytest.mark.slow
def test_record_refuses_evidence_nested_200000_deep_and_audits_it(
    case_id: str, tmp_path: Path,
) -> None:
    evidence = tmp_path / "risk.json"
    evidence.write_text('{"summary": ' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    result = dueprocess("record", case_id, "risk_assessment", "--file", evidence,
                        "--as", "liu.yang", "--no-resume")
    assert result.returncode == 2, result.stdout
    assert "RecursionError" not in result.stderr and "Traceback" not in result.stderr
    assert "[NESTING-DEPTH" in result.stderr and "summary.0.0." in result.stderr
    assert "deeper than 32 levels" in result.stderr
    with session_scope() as session:
        assert not session.exec(select(EvidenceItem).where(
            EvidenceItem.case_id == case_id)).all()
        [refusal] = session.exec(select(Refusal).where(Refusal.case_id == case_id)).all()
    assert (refusal.stage_key, refusal.submitted_by, refusal.channel) == (
        "risk_assessment", "liu.yang", "cli")
    assert refusal.reasons[0]["rule"] == "NESTING-DEPTH"
