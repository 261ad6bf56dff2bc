"""Long steps show themselves: a spinner on a terminal, plain lines on stderr otherwise."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from dueprocess.cli_kit import working


def test_a_step_prints_a_line_as_it_starts_and_its_duration_when_piped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    piped = Console(force_terminal=False)
    with working("exporting the dossier …", on=piped):
        print("the command's output")
    out, err = capsys.readouterr()
    assert out == "the command's output\n"  # stdout stays the command's own
    assert re.fullmatch(r"exporting the dossier …\nexporting the dossier: done in \d+\.\d s\n",
                        err), err


def test_a_step_on_a_terminal_shows_a_spinner_and_no_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with working("exporting the dossier …", on=Console(force_terminal=True)):
        pass
    assert "done in" not in capsys.readouterr().err
