"""The case database's half of the transparency log: every case event becomes a leaf.

The log's format, Merkle proofs, signatures and the offline dossier verifier are the
top-level `ledger` package, which needs no database so that anyone can verify with it
alone; this package writes the case database's records into that log and checks them.

The composition root subscribes `log_case_event` to the case journal, so every case
event (evidence, refusals, transitions, notices, decisions, and the case's draft
versions) is appended as a Merkle leaf in the same transaction as the change it records.
Comments, notices, confirmed subscriptions, assignments, declarations, panel notes,
stages, credentials and people are logged as row snapshots (`rows`), whoever writes them
(`models.ledger` notes every covered row at flush); rows of no case go on the `system`
chain. A case's chain ends with its case-closed record. Heads are signed after every
decision or closure, by the sign-heads deployment, and as C2SP checkpoints for witnesses
(`ledger.witness`, `dueprocess witness URL`).
Database triggers refuse UPDATE and DELETE on the log and the evidence tables (migration
0002) and a leaf after a chain's case-closed record (0012); `verify_log` recomputes the
log from the rows, checks the signed tree heads and reports the unsigned tail;
`export_dossier` writes a decision dossier anyone can verify offline (docs/dossier-format.md).

For the portal and API: `latest_tree_head()`, `published_tree_heads()`,
`log_public_key_pem()`.
"""

from dueprocess.ledger.audit import LogReport, verify_log
from dueprocess.ledger.export import export_and_verify, export_dossier
from dueprocess.ledger.heads import (
    HeadStateInconsistent,
    latest_tree_head,
    log_public_key_pem,
    publish_tree_head,
    published_tree_heads,
)
from dueprocess.ledger.log import LogTampered, log_case_event
from dueprocess.settings import TransparencySettings, get_transparency_settings

__all__ = [
    "HeadStateInconsistent",
    "LogReport",
    "LogTampered",
    "TransparencySettings",
    "export_and_verify",
    "export_dossier",
    "get_transparency_settings",
    "latest_tree_head",
    "log_case_event",
    "log_public_key_pem",
    "publish_tree_head",
    "published_tree_heads",
    "verify_log",
]
