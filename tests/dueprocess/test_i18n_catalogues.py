"""The gettext catalogues hold every message the code and the templates show: each message
Babel extracts (in process, with the repository's babel.cfg, as `pybabel extract` does) has
a Chinese translation, and each committed .mo is what its .po compiles to."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages import frontend
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from dueprocess.i18n import LANGUAGES, LOCALES, Language, catalogue_path

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"

Key = tuple[str | None, str]  # (msgctxt, msgid)


def extracted(folder: Path) -> dict[Key, list[str]]:
    """Every message Babel extracts under `folder` with babel.cfg, and where it is."""
    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with BABEL_CFG.open(encoding="utf-8") as config:
        method_map, options_map = parse(config, str(BABEL_CFG))
    found: dict[Key, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(folder), method_map, options_map, keywords=DEFAULT_KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    return found


def po_catalogue(language: Language) -> Catalog:
    with catalogue_path(language, "po").open("rb") as po:
        return read_po(po, locale=LOCALES[language])


def untranslated(messages: dict[Key, list[str]], catalogue: Catalog) -> list[str]:
    """The messages that `catalogue` lacks, leaves empty or marks fuzzy, where used."""
    problems = []
    for (context, msgid), where in sorted(messages.items(), key=lambda m: str(m[0])):
        entry = catalogue.get(msgid, context=context)
        if entry is None or not entry.string or entry.fuzzy:
            state = "missing" if entry is None else "fuzzy" if entry.fuzzy else "empty"
            problems.append(f"{state}: {context or ''}|{msgid!r} ({', '.join(where)})")
    return problems


def missing(messages: Iterable[Key], catalogue: Catalog) -> list[Key]:
    return [key for key in messages if catalogue.get(key[1], context=key[0]) is None]


def mo_messages(compiled: bytes) -> dict[Key, str]:
    return {(m.context, m.id): m.string for m in read_mo(io.BytesIO(compiled))
            if m.id and isinstance(m.id, str) and isinstance(m.string, str)}


def compiled(catalogue: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalogue)
    return out.getvalue()


def mo_differences(catalogue: Catalog, committed: bytes) -> list[str]:
    """How the committed .mo differs from what compiling `catalogue` gives."""
    fresh, stored = mo_messages(compiled(catalogue)), mo_messages(committed)
    return ([f"not in the .mo: {key}" for key in fresh.keys() - stored.keys()]
            + [f"not in the .po: {key}" for key in stored.keys() - fresh.keys()]
            + [f"{key}: .po {fresh[key]!r}, .mo {stored[key]!r}"
               for key in fresh.keys() & stored.keys() if fresh[key] != stored[key]])


@pytest.fixture(scope="module")
def code_messages() -> dict[Key, list[str]]:
    return extracted(ROOT)


def test_every_message_in_the_code_has_a_chinese_translation(
        code_messages: dict[Key, list[str]]) -> None:
    assert len(code_messages) > 150  # the extraction ran over the pages and the code
    assert (None, "Major administrative decisions") in code_messages  # a template's
    assert ("case status", "closed") in code_messages  # Python, with a context
    catalogue = po_catalogue("zh-CN")
    assert untranslated(code_messages, catalogue) == []
    assert list(catalogue.check()) == []  # placeholders of python-format messages agree


def test_the_english_catalogue_has_every_message_as_its_own_text(
        code_messages: dict[Key, list[str]]) -> None:
    catalogue = po_catalogue("en")
    assert missing(code_messages, catalogue) == []
    # English is the msgid itself: a translation, if one is given, says the same.
    assert [m.id for m in catalogue if m.id and m.string and m.string != m.id] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_committed_mo_is_its_po_compiled(language: Language) -> None:
    committed = catalogue_path(language, "mo").read_bytes()
    assert mo_differences(po_catalogue(language), committed) == []


def test_the_checks_fail_on_an_untranslated_message_and_a_stale_mo(tmp_path: Path) -> None:
    """The checks above can fail: a new message in a template and in Python code, unknown
    to the catalogue, is reported with where it is; so is a .mo not compiled again after
    its .po changed."""
    page = tmp_path / "feature" / "templates" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text('<p>{{ _("A message no catalogue has") }} {{ _("Status") }}</p>\n'
                    '<p>{{ pgettext("ballot status", "a status of no ballot") }}</p>\n',
                    encoding="utf-8")
    (tmp_path / "feature" / "module.py").write_text(
        'def words(t):\n    return t.gettext("Another message, in Python")\n', encoding="utf-8")
    found = extracted(tmp_path)
    problems = untranslated(found, po_catalogue("zh-CN"))
    assert len(problems) == 3, problems
    assert any("'A message no catalogue has' (feature/templates/page.html:1)" in p
               for p in problems)
    assert any("ballot status|'a status of no ballot'" in p for p in problems)
    assert any("feature/module.py:2" in p for p in problems)

    catalogue = po_catalogue("zh-CN")
    entry = catalogue.get("Status")
    assert entry is not None and entry.string == "状态"
    committed = catalogue_path("zh-CN", "mo").read_bytes()
    entry.string = "情况"  # the .po edited, the .mo not compiled again
    assert mo_differences(catalogue, committed) == [f"{(None, 'Status')}: .po '情况', .mo '状态'"]
    entry.flags.add("fuzzy")  # a fuzzy entry is neither translated nor compiled
    assert untranslated({(None, "Status"): ["page.html:1"]}, catalogue) == [
        "fuzzy: |'Status' (page.html:1)"]
    assert f"not in the .po: {(None, 'Status')}" in mo_differences(catalogue, committed)
