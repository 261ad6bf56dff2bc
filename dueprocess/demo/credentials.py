"""The demo's people prove who they are like anyone else: an API token each.

Issued in one place, once per demo run, as an administrator would (`dueprocess credentials
token`); each issue is a logged `credential.issued` event. The tokens live only in this
process.
"""

from __future__ import annotations

from typing import Any

from dueprocess.db import session_scope
from dueprocess.services.administration import publish_credential
from dueprocess.services.form_codes import issue_form_code_as
from dueprocess.services.identity import issue_token
from dueprocess.settings import get_settings
from models.base import utcnow

_tokens: dict[tuple[str, str], str] = {}


def token_for(handle: str) -> str:
    """The demo person's API token (issued on first use, per case database)."""
    key = (get_settings().resolved_database_url, handle)
    if key not in _tokens:
        with session_scope() as session:
            credential, token = issue_token(session, handle=handle, label="demo")
            publish_credential(session, credential, kind="credential.issued", handle=handle,
                               by=None, now=utcnow())
        _tokens[key] = token
    return _tokens[key]


def form_code_for(case_id: str, stage: str, handle: str, evidence: dict[str, Any]) -> str:
    """What a reviewer gets from `dueprocess form-code` before filling in the Prefect form."""
    return issue_form_code_as(case_id=case_id, stage_key=stage, evidence=evidence,
                              token=token_for(handle), channel="demo")[1]
