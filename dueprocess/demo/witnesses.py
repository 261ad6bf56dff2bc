"""The demo's two witnesses: each its own Ed25519 key and state under the data directory,
serving the C2SP tlog-witness API on loopback in this process, registered with the log
(DUEPROCESS_WITNESSES, inherited by the served deployments), so every head the demo signs
is cosigned and its dossier carries both cosignatures."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import uvicorn
from rich.console import Console

from dueprocess.ledger.heads import log_vkey_now, signing_key
from dueprocess.stack.processes import free_port
from ledger.cosignature import WitnessSigner, generate_witness_key, load_witness_signer
from ledger.witness_server import WitnessService, parse_log_vkey, witness_app

NAMES = ("witness-a.demo.example/w1", "witness-b.demo.example/w1")


def _signer(directory: Path, number: int) -> WitnessSigner:
    path = directory / f"w{number}.key"
    return load_witness_signer(path) if path.exists() else generate_witness_key(
        path, NAMES[number - 1])


@contextmanager
def _served(service: WitnessService) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(witness_app(service), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():  # bound: the thread's own start-up
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("a demo witness did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def demo_witnesses(data_dir: Path, console: Console) -> Iterator[list[WitnessSigner]]:
    """Run the two witnesses and register them with the log for the block."""
    signing_key(lambda message: console.print(f"  {message}", markup=False, highlight=False))
    origin, key = parse_log_vkey(log_vkey_now())
    directory = data_dir / "witnesses"
    signers = [_signer(directory, number) for number in (1, 2)]
    previous = os.environ.get("DUEPROCESS_WITNESSES")
    with ExitStack() as stack:
        entries = []
        for number, signer in enumerate(signers, 1):
            service = WitnessService(signer=signer, state_path=directory / f"w{number}.json",
                                     logs={origin: key})
            url = stack.enter_context(_served(service))
            entries.append(f"{url} {signer.public.vkey()}")
            console.print(f"  witness {signer.name} on {url} (verifier key "
                          f"{signer.public.vkey()})", markup=False, highlight=False,
                          soft_wrap=True)
        os.environ["DUEPROCESS_WITNESSES"] = ", ".join(entries)
        try:
            yield signers
        finally:
            if previous is None:
                os.environ.pop("DUEPROCESS_WITNESSES", None)
            else:
                os.environ["DUEPROCESS_WITNESSES"] = previous
