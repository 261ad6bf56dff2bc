"""README.md's architecture table stays true: it names every top-level folder of the
repository and every sub-package of the production packages, and no folder that does not
exist.

The table is the one under `| folder | why it exists |` in the `## Architecture` section;
each row's first column is one backticked path (`portal/comments/`). Top-level folders
are those git tracks (or, outside a git checkout, those on disk), dot-folders and build
output left out; a sub-package is a directory with an `__init__.py` below a top-level
package that holds application code (every one but `tests` and `bench`), at any depth.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SECTION = "## Architecture"
TABLE_HEADER = "| folder |"
NOT_PRODUCTION = frozenset({"tests", "bench"})  # packages that hold no application code
BUILD_OUTPUT = frozenset({"build", "dist", "__pycache__", "node_modules", "htmlcov"})


def table_folders(readme: str) -> list[str]:
    """The folders the architecture table names, in order, without their trailing slash."""
    heading = re.search(rf"^{re.escape(SECTION)}$", readme, re.MULTILINE)
    if heading is None:
        raise ValueError(f"README.md has no '{SECTION}' section")
    after = re.search(r"^## ", readme[heading.end():], re.MULTILINE)
    lines = readme[heading.end():heading.end() + after.start() if after else None].splitlines()
    header = next((n for n, line in enumerate(lines) if line.startswith(TABLE_HEADER)), None)
    if header is None:
        raise ValueError(f"the '{SECTION}' section has no table headed '{TABLE_HEADER}'")
    folders = []
    for line in lines[header + 2:]:  # after the header and its | --- | line
        if not line.startswith("|"):
            break
        cell = line.split("|")[1]
        match = re.fullmatch(r"\s*`([^`]+)`\s*", cell)
        if match is None:
            raise ValueError(f"a row of the table does not start with a `folder/`: {line[:80]}")
        folders.append(match.group(1).strip().rstrip("/"))
    return folders


def tracked_files(root: Path) -> list[str] | None:
    """The files git tracks under *root*, or None outside a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True,
                                check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [name for name in listed.decode().split("\0") if name]


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in BUILD_OUTPUT or name.endswith(".egg-info")


def top_level_folders(root: Path, files: Iterable[str] | None) -> set[str]:
    """Top-level folders holding a tracked file (every folder on disk when *files* is
    None), dot-folders (`.git`, `.venv`, `.ci`) and build output left out."""
    if files is None:
        names = {path.name for path in root.iterdir() if path.is_dir()}
    else:  # a folder whose files were all deleted in the working tree is gone
        names = {name.split("/", 1)[0] for name in files if "/" in name}
    return {name for name in names if not _skipped(name) and (root / name).is_dir()}


def sub_packages(root: Path, top: Iterable[str]) -> set[str]:
    """Every directory with an `__init__.py` below a production package of *top*."""
    found = set()
    for name in top:
        if name in NOT_PRODUCTION or not (root / name / "__init__.py").is_file():
            continue
        for marker in (root / name).rglob("__init__.py"):
            folder = marker.parent.relative_to(root)
            if folder != Path(name) and not any(_skipped(part) for part in folder.parts):
                found.add(folder.as_posix())
    return found


def problems(root: Path, named: list[str], files: Iterable[str] | None) -> list[str]:
    """What the table gets wrong about the tree at *root*, one line each (none: true)."""
    top = top_level_folders(root, files)
    required = top | sub_packages(root, top)
    found = []
    found += [f"missing a row: `{folder}/`" for folder in sorted(required - set(named))]
    found += [f"names a folder that does not exist: `{folder}/`"
              for folder in named if not (root / folder).is_dir()]
    found += [f"names a folder twice: `{folder}/`"
              for folder in sorted({f for f in named if named.count(f) > 1})]
    return found


def without_row(readme: str, folder: str) -> str:
    """*readme* with the table row of *folder* removed."""
    row = re.compile(rf"^\| `{re.escape(folder)}/?` \|.*\n", re.MULTILINE)
    changed, count = row.subn("", readme, count=1)
    assert count == 1, f"no row for `{folder}/` in the table"
    return changed


def test_the_table_names_every_folder_and_sub_package_and_nothing_else() -> None:
    found = problems(ROOT, table_folders(README.read_text(encoding="utf-8")),
                     tracked_files(ROOT))
    assert not found, ("README.md's architecture table (section 'Architecture') is out of "
                       "date; give each folder one row saying why it exists:\n  "
                       + "\n  ".join(found))


@pytest.mark.parametrize("folder", ["implementation", "dueprocess/composition",
                                    "notifications/transport", "bench"])
def test_a_missing_row_is_named(folder: str) -> None:
    readme = without_row(README.read_text(encoding="utf-8"), folder)
    found = problems(ROOT, table_folders(readme), tracked_files(ROOT))
    assert f"missing a row: `{folder}/`" in found


def test_a_row_for_no_folder_and_a_row_twice_are_named() -> None:
    readme = README.read_text(encoding="utf-8")
    named = [*table_folders(readme), "portal/cli", "models"]
    found = problems(ROOT, named, tracked_files(ROOT))
    assert found == ["names a folder that does not exist: `portal/cli/`",
                     "names a folder twice: `models/`"]


def test_the_checker_on_a_small_tree(tmp_path: Path) -> None:
    for folder in ("app/sub/deeper", "app/templates", "tests/unit", "docs", ".ci",
                   ".venv/lib", "build/lib", "app.egg-info", "app/__pycache__"):
        (tmp_path / folder).mkdir(parents=True)
    for package in ("app", "app/sub", "app/sub/deeper", "tests", "tests/unit"):
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "docs" / "guide.md").write_text("")
    (tmp_path / ".ci" / "run").write_text("")
    files = ["app/__init__.py", "app/sub/__init__.py", "app/sub/deeper/__init__.py",
             "tests/__init__.py", "tests/unit/__init__.py", "docs/guide.md", ".ci/run"]
    readme = ("# x\n\n## Architecture\n\n| folder | why it exists |\n| --- | --- |\n"
              "| `app/` | The application. |\n| `app/sub/` | A part of it. |\n"
              "| `tests/` | The tests. |\n| `gone/` | Moved away. |\n\n## Guides\n")
    named = table_folders(readme)
    assert named == ["app", "app/sub", "tests", "gone"]
    for listing in (files, None):  # from git, and from the disk outside a checkout
        assert problems(tmp_path, named, listing) == [
            "missing a row: `app/sub/deeper/`", "missing a row: `docs/`",
            "names a folder that does not exist: `gone/`"]


def test_a_row_without_a_backticked_folder_is_refused() -> None:
    readme = ("## Architecture\n\n| folder | why it exists |\n| --- | --- |\n"
              "| app | The application. |\n")
    with pytest.raises(ValueError, match="does not start with"):
        table_folders(readme)
