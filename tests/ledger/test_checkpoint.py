"""C2SP signed-note and tlog-checkpoint: the spec's own example (Go's x/mod/sumdb/note
test vector) and the rules a verifier must keep."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import (
    CheckpointError,
    checkpoint_text,
    log_vkey,
    note_key_id,
    parse_checkpoint,
    sign_note,
    verify_note,
)
from ledger.cosignature import WitnessSigner, add_signature_lines, cosign

# The example of the signed-note spec and of golang.org/x/mod/sumdb/note.
SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
NOTE = TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
               "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def spec_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(SKEY.split("+", 4)[4])
    assert seed[0] == 1  # algorithm: Ed25519
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_the_spec_example_signs_byte_for_byte() -> None:
    assert sign_note(TEXT, "PeterNeumann", spec_key()) == NOTE


def test_the_spec_key_id_and_public_key() -> None:
    key = spec_key().public_key()
    name, key_hash, encoded = VKEY.split("+", 2)
    assert note_key_id(name, key).hex() == key_hash
    assert base64.b64decode(encoded)[1:] == spec_key().public_key().public_bytes_raw()


def test_the_spec_example_verifies_and_an_edit_does_not() -> None:
    key = spec_key().public_key()
    assert verify_note(NOTE, "PeterNeumann", key) == TEXT
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_note(NOTE.replace("cryptography", "cryptographY"), "PeterNeumann", key)


def test_signatures_by_unknown_keys_are_ignored() -> None:
    other = Ed25519PrivateKey.generate()
    cosigned = NOTE + sign_note(TEXT, "witness.example", other).split("\n\n", 1)[1]
    assert verify_note(cosigned, "PeterNeumann", spec_key().public_key()) == TEXT
    with pytest.raises(CheckpointError, match=r"no signature by 'log\.example'"):
        verify_note(NOTE, "log.example", spec_key().public_key())


def test_a_checkpoint_round_trips() -> None:
    root = bytes(range(32))
    text = checkpoint_text("example.gov.cn/dueprocess", 42, root)
    assert text == f"example.gov.cn/dueprocess\n42\n{base64.b64encode(root).decode()}\n"
    checkpoint = parse_checkpoint(text)
    assert (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash) == (
        "example.gov.cn/dueprocess", 42, root)


@pytest.mark.parametrize(("text", "problem"), [
    ("origin\n42\n", "needs origin, tree size and root hash"),
    ("origin\n042\n" + base64.b64encode(bytes(32)).decode() + "\n", "not a decimal number"),
    ("origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n", "not a decimal number"),
    ("origin\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "has 31 bytes"),
    ("origin\n1\n" + base64.b64encode(bytes(32)).decode(), "must end with a newline"),
    ("origin\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n", "empty extension line"),
])
def test_malformed_checkpoints_are_named(text: str, problem: str) -> None:
    with pytest.raises(CheckpointError, match=problem):
        parse_checkpoint(text)


# Go's golang.org/x/mod/sumdb/note, from Debian's golang-golang-x-mod-dev (GOPATH mode):
# an implementation no one here wrote must accept the cosigned note with the log's key.
GO_SOURCE = """package main

import (
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fmt.Println("bad verifier key:", err)
		os.Exit(2)
	}
	msg, _ := os.ReadFile(os.Args[2])
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fmt.Println("refused:", err)
		os.Exit(1)
	}
	fmt.Printf("verified by %s; %d other signatures\\n%s", n.Sigs[0].Name,
		len(n.UnverifiedSigs), n.Text)
}
"""
GOPATH = Path("/usr/share/gocode")


@pytest.fixture(scope="module")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("go") is None or not (GOPATH / "src/golang.org/x/mod/sumdb/note").is_dir():
        pytest.skip("needs Debian's golang-go and golang-golang-x-mod-dev (.ci/run installs them)")
    directory = tmp_path_factory.mktemp("go")
    (directory / "main.go").write_text(GO_SOURCE)
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH),
           "GOCACHE": str(directory / "cache"), "GOFLAGS": ""}
    subprocess.run(["go", "build", "-o", str(directory / "verify"), "main.go"],
                   cwd=directory, env=env, check=True, capture_output=True)
    return directory / "verify"


@pytest.mark.slow
def test_go_accepts_the_cosigned_note_with_the_log_key_and_refuses_an_edit(
        go_verifier: Path, tmp_path: Path) -> None:
    log = Ed25519PrivateKey.generate()
    origin = "example.gov.cn/dueprocess"
    text = checkpoint_text(origin, 20852163, bytes(range(32)))
    witnesses = [WitnessSigner(f"witness.example/w{n}", Ed25519PrivateKey.generate())
                 for n in (1, 2)]
    note = add_signature_lines(sign_note(text, origin, log),
                               [cosign(text, w, timestamp=1_700_000_000) for w in witnesses])
    path = tmp_path / "checkpoint"
    path.write_text(note)
    vkey = log_vkey(origin, log.public_key())
    result = subprocess.run([go_verifier, vkey, path], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert result.stdout == f"verified by {origin}; 2 other signatures\n{text}"
    path.write_text(note.replace("20852163", "20852164"))
    edited = subprocess.run([go_verifier, vkey, path], capture_output=True, text=True)
    assert edited.returncode == 1 and "refused" in edited.stdout
