"""The log's signed tree heads on the portal, for the public and for witnesses.

    GET /transparency                         HTML: the latest head, every head, how to check
    GET /transparency/checkpoint              the latest head as a C2SP signed note, with
                                              every witness cosignature the log holds
    GET /transparency/heads.json              every head (STH JSON + its cosigned note)
    GET /transparency/consistency.json        RFC 9162 proof between two signed heads
    GET /transparency/public-key.pem          the log's public key, as published
    GET /transparency/feed.atom               Atom feed: one entry per signed head

The portal never reads the signing key: the public key comes from the published file,
the origin from the stored checkpoints. Witnesses (`dueprocess witness URL`) fetch
`heads.json` and check each new head against the ones they saw before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from feedgen.feed import FeedGenerator

from dueprocess.db import session_scope
from dueprocess.ledger.heads import consistency_between, head_history
from dueprocess.ledger.log import LogTampered
from dueprocess.settings import get_transparency_settings
from dueprocess.web.context import page_templates
from dueprocess.web.errors import Problem
from dueprocess.web.language import chosen_language
from dueprocess.web.rendering import page_context
from ledger import SignedTreeHead
from ledger.codec import b64encode

router = APIRouter(prefix="/transparency", tags=["transparency"])
CHECKPOINT_MEDIA_TYPE = "text/plain; charset=utf-8"
PROBLEMS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (404, 409, 422)}
# The JSON endpoints are in the OpenAPI schema; the text, PEM, Atom and HTML ones are
# described in docs/dossier-format.md §10 (include_in_schema=False).

_PAGE = """{% extends "base.html" %}
{% block title %}Transparency log — {{ _("Major administrative decisions") }}{% endblock %}
{% block content %}
<h1>Transparency log</h1>
<p>Every case event is a leaf of an RFC 6962 Merkle log. The log's key signs its tree
heads, also as C2SP checkpoints (origin <code>{{ origin or "—" }}</code>), so that anyone
can check that the log only ever grows: <code>dueprocess witness {{ base }}</code> keeps
the heads it saw and fails if a later one does not extend them.</p>
{% if latest %}
<h2>Latest head</h2>
<table>
<tr><th>Tree size</th><td>{{ latest.tree_size }}</td></tr>
<tr><th>Root hash</th><td class="digest">{{ latest.root_hash }}</td></tr>
<tr><th>Signed</th><td>{{ latest_time }}</td></tr>
<tr><th>Key id</th><td class="digest">{{ latest.key_id }}</td></tr>
</table>
{% if checkpoint %}<h3>Checkpoint</h3><pre class="digest">{{ checkpoint }}</pre>{% endif %}
<h2>History</h2>
<table>
<tr><th>Tree size</th><th>Root hash</th><th>Signed</th><th>Consistency</th></tr>
{% for row in history %}
<tr><td>{{ row.size }}</td><td class="digest">{{ row.root }}</td><td>{{ row.time }}</td>
<td>{% if row.previous is not none %}<a href="{{ row.proof }}">from {{ row.previous }}</a>
{% endif %}</td></tr>
{% endfor %}
</table>
{% else %}
<p>No tree head has been signed yet.</p>
{% endif %}
<p class="muted"><a href="/transparency/heads.json">heads.json</a> ·
<a href="/transparency/checkpoint">checkpoint</a> ·
<a href="/transparency/public-key.pem">public key</a> ·
<a href="/transparency/feed.atom">Atom feed</a></p>
{% endblock %}
"""


def _timestamp(sth: SignedTreeHead) -> str:
    return str(sth.model_dump(mode="json")["timestamp"])


def _history() -> tuple[list[tuple[SignedTreeHead, str | None]], str | None]:
    with session_scope() as session:
        heads = head_history(session)
    origin = next((_origin(note) for _, note in reversed(heads) if note), None)
    return heads, origin


def _origin(note: str) -> str:
    return note.split("\n", 1)[0]


def _public_key() -> str | None:
    path = get_transparency_settings().publication_dir / "public-key.pem"
    try:
        return path.read_text(encoding="ascii")
    except OSError:
        return None


def head_object(sth: SignedTreeHead, note: str | None) -> dict[str, Any]:
    return {**sth.model_dump(mode="json"), "checkpoint": note}


@router.get("/heads.json", responses=PROBLEMS)
def heads_json() -> dict[str, Any]:
    """Every signed tree head, oldest first, with its C2SP checkpoint note."""
    heads, origin = _history()
    return {"origin": origin, "public_key": _public_key(),
            "heads": [head_object(sth, note) for sth, note in heads]}


@router.get("/checkpoint", response_class=PlainTextResponse, include_in_schema=False)
def checkpoint() -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)."""
    heads, _ = _history()
    note = next((n for _, n in reversed(heads) if n), None)
    if note is None:
        raise HTTPException(404, "no checkpoint has been signed yet")
    return PlainTextResponse(note, media_type=CHECKPOINT_MEDIA_TYPE)


@router.get("/consistency.json", responses=PROBLEMS)
def consistency(
    first: Annotated[int, Query(ge=1, le=2**53 - 1, description="Size of the older head")],
    second: Annotated[int, Query(ge=1, le=2**53 - 1, description="Size of the newer head")],
) -> dict[str, Any]:
    """RFC 9162 consistency proof between the signed heads of sizes first ≤ second."""
    if first > second:
        return _problem(422, "first: must not be larger than second")
    with session_scope() as session:
        try:
            proof = consistency_between(session, first, second)
        except LookupError as exc:
            return _problem(404, f"{exc.args[0]}; see /transparency/heads.json")
        except LogTampered as exc:
            return _problem(409, str(exc))
    return {"first": first, "second": second, "proof": [b64encode(p) for p in proof]}


def _problem(status: int, detail: str) -> Any:
    return JSONResponse({"detail": detail}, status_code=status)


@router.get("/public-key.pem", response_class=PlainTextResponse, include_in_schema=False)
def public_key() -> PlainTextResponse:
    pem = _public_key()
    if pem is None:
        raise HTTPException(404, "the log's public key has not been published yet")
    return PlainTextResponse(pem, media_type="application/x-pem-file")


@router.get("/feed.atom", include_in_schema=False)
def feed(request: Request) -> Response:
    """Atom feed of the signed tree heads, newest on top."""
    heads, origin = _history()
    base = str(request.base_url).rstrip("/")
    generator = FeedGenerator()
    generator.id(f"{base}/transparency/feed.atom")
    generator.title(f"Signed tree heads of {origin or 'the transparency log'}")
    generator.link(href=f"{base}/transparency/feed.atom", rel="self")
    generator.link(href=f"{base}/transparency", rel="alternate")
    generator.updated(heads[-1][0].timestamp if heads else datetime(2019, 9, 1).astimezone())
    for sth, note in heads:  # feedgen prepends: oldest first gives newest on top
        entry = generator.add_entry()
        entry.id(f"{base}/transparency/heads/{sth.tree_size}")
        entry.title(f"Tree head {sth.tree_size}: {sth.root_hash}")
        entry.link(href=f"{base}/transparency")
        entry.published(sth.timestamp)
        entry.updated(sth.timestamp)
        entry.content(note or head_object(sth, None).__repr__(), type="text")
        entry.category(term="tree-head")
    return Response(bytes(generator.atom_str(pretty=True)),
                    media_type="application/atom+xml; charset=utf-8")


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    heads, origin = _history()
    template = page_templates(chosen_language(request)).env.from_string(_PAGE)
    history = [{"size": sth.tree_size, "root": sth.root_hash, "time": _timestamp(sth),
                "previous": heads[i - 1][0].tree_size if i else None,
                "proof": f"/transparency/consistency.json?first={heads[i - 1][0].tree_size}"
                         f"&second={sth.tree_size}" if i else None}
               for i, (sth, _) in enumerate(heads)]
    latest, note = heads[-1] if heads else (None, None)
    return HTMLResponse(template.render(
        **page_context(request), origin=origin, base=str(request.base_url).rstrip("/"),
        latest=latest,
        latest_time=_timestamp(latest) if latest else None, checkpoint=note,
        history=list(reversed(history)),
    ))
