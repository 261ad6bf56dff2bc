"""Vote receipts on the portal: a voter fetches their receipt by its id, and anyone pastes
or uploads a receipt to have it checked. The check runs on the server (the portal's pages
run no scripts) exactly as `dueprocess verify-receipt` runs it offline, with the log's own
public key, and also asks whether the head is the one the log published for its size."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from dueprocess.db import session_scope
from dueprocess.errors import DueProcessError
from dueprocess.ledger import log_public_key_pem
from dueprocess.web.forms import message, refused, too_many
from dueprocess.web.i18n import words
from dueprocess.web.language import language_query
from dueprocess.web.rendering import page
from models.ledger import PublishedTreeHead
from programme.receipts import (
    HEAD,
    KEY,
    MAX_RECEIPT_BYTES,
    RECEIPT_ID_PATTERN,
    CheckedVote,
    ReceiptPending,
    ReceiptRefused,
    fetch_receipt,
    verify_receipt,
)

router = APIRouter(prefix="/programme/receipts", include_in_schema=False,
                   dependencies=[Depends(language_query)])
CHECK = "/programme/receipts/check"
ReceiptId = Annotated[str, Path(pattern=RECEIPT_ID_PATTERN)]


def _check_page(request: Request, *, text: str = "", checked: CheckedVote | None = None,
                problem: ReceiptRefused | None = None, status: int = 200) -> Response:
    return page(request, "programme_receipt_check.html", {
        "text": text, "checked": checked, "problem": problem}, status)


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request) -> Response:
    return _check_page(request)


@router.post("/check")
async def check_post(request: Request) -> Response:
    limited = too_many(request, back=CHECK)
    if limited is not None:
        return limited
    try:
        text = await _submitted(request)
    except ReceiptRefused as exc:
        return _check_page(request, problem=exc, status=422)
    try:
        checked = await run_in_threadpool(check_published, text)
    except ReceiptRefused as exc:
        return _check_page(request, text=text, problem=exc, status=422)
    return _check_page(request, text=text, checked=checked)


async def _submitted(request: Request) -> str:
    """The receipt, uploaded as a file or pasted (the file wins when both are sent)."""
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_RECEIPT_BYTES)
    except (MultiPartException, AssertionError) as exc:
        raise ReceiptRefused("RECEIPT-FORMAT", f"form: {exc}; send a receipt file "
                             "or paste it as multipart/form-data") from None
    upload, pasted = form.get("file"), form.get("receipt")
    raw: bytes | str = ""
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_RECEIPT_BYTES + 1)
    elif isinstance(pasted, str):
        raw = pasted
    if not raw.strip():
        raise ReceiptRefused("RECEIPT-FORMAT", "receipt: paste the receipt or choose its file")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ReceiptRefused("RECEIPT-FORMAT", "file: a receipt is UTF-8 JSON") from None
    return raw


def check_published(text: str) -> CheckedVote:
    """`verify_receipt` with this log's public key, and the head must be the one the log
    published for its size (another root signed by the same key is a forked log)."""
    key = log_public_key_pem()
    if key is None:
        raise ReceiptRefused(KEY, "this log has signed no tree head yet")
    checked = verify_receipt(text, trusted_public_key_pem=key)
    head = checked.receipt.tree_head
    with session_scope() as session:
        published = session.get(PublishedTreeHead, head.tree_size)
        root = None if published is None else published.root_hash
    if root != head.root_hash:
        raise ReceiptRefused(HEAD, f"the log's key signed this head of {head.tree_size} "
                             "leaves, but the log published " + (
                                 "no head of that size" if root is None else "another root "
                                 "for it: the log has forked; report it"))
    return checked


@router.get("/{receipt}")
def receipt_file(request: Request, receipt: ReceiptId) -> Response:
    """The receipt as a JSON file to keep, or a page saying when it will be ready."""
    _ = words(request)
    try:
        fetched = fetch_receipt(receipt)
    except ReceiptPending as exc:
        response = message(request, _("Your receipt is not ready yet: a signed tree head "
                                      "covers your vote within {seconds} s. Reload this page "
                                      "then.").format(seconds=exc.retry_after), status=202,
                           back=CHECK)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except DueProcessError as exc:
        return refused(request, exc, back=CHECK)
    headers: dict[str, Any] = {
        "Content-Disposition": f'attachment; filename="receipt-{fetched.receipt_id}.json"'}
    return Response(fetched.to_json(), media_type="application/json", headers=headers)
