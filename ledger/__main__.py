"""``python -m ledger verify DIR``: check a decision dossier offline.

Exit status 0 if it verifies, 1 if it does not (the reason is printed), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from ledger.cosignature import CosignatureError, parse_vkey
from ledger.dossier_format import DossierError
from ledger.dossier_verify import verify_dossier
from ledger.signing import SignedTreeHead


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="verify a decision dossier directory")
    verify.add_argument("directory", type=Path)
    verify.add_argument(
        "--trusted-key", type=Path, help="PEM public key the log is expected to use"
    )
    verify.add_argument(
        "--known-head",
        type=Path,
        action="append",
        default=[],
        help="tree-head JSON obtained independently; the dossier must be consistent with it",
    )
    verify.add_argument(
        "--require-closed", action="store_true", help="fail unless the case is closed"
    )
    verify.add_argument(
        "--witness-key", action="append", default=[],
        help="a witness's verifier key (name+keyid+base64); repeat for several",
    )
    verify.add_argument(
        "--min-witnesses", type=int, default=None,
        help="how many of the --witness-key witnesses must have cosigned (default: all)",
    )
    args = parser.parse_args(argv)

    try:
        trusted = args.trusted_key.read_bytes() if args.trusted_key else None
        known = [SignedTreeHead.model_validate_json(p.read_bytes()) for p in args.known_head]
        witnesses = [parse_vkey(vkey) for vkey in args.witness_key]
        if args.min_witnesses is not None and args.min_witnesses < 0:
            raise CosignatureError("--min-witnesses: must be 0 or more")
    except (OSError, ValidationError, CosignatureError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        report = verify_dossier(
            args.directory,
            trusted_public_key_pem=trusted,
            known_tree_heads=known,
            require_closed=args.require_closed,
            witness_keys=witnesses,
            min_witnesses=len(witnesses) if args.min_witnesses is None else args.min_witnesses,
        )
    except DossierError as exc:
        print(f"FAILED: {exc}")
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
