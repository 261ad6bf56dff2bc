"""No secret is committed: no private key, and no data or key directory of a demo run."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A PEM private key block with its base64 body (a test naming the header is no key).
PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\s+[A-Za-z0-9+/=]{40}")


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_private_key_or_run_directory_is_tracked() -> None:
    files = tracked_files()
    assert files
    assert not [f for f in files if f.relative_to(ROOT).parts[0] in
                (".dueprocess", ".dueprocess-keys")]
    keys = [f for f in files if f.is_file() and PEM_PRIVATE_KEY.search(f.read_bytes())]
    assert not keys, f"private keys committed: {keys}"
