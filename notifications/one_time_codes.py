"""One-time codes that prove a resident controls a channel (an Apprise URL): a public
voter's, or a resident asking for an evaluation. The code goes to the channel through
Apprise; whoever receives it controls the channel. Only its digest is stored, and it
works once, for `CODE_TTL`.

Hardened against one person counting several times and against guessing:

- The channel is canonicalised before it is hashed (`canonical_channel`): one mailbox or
  one webhook is one channel however it is typed, so it gets one pseudonym.
- A code reads `<locator>-<8 digits>`: the locator names the stored code, so a wrong
  guess is charged to that code, which dies after `DUEPROCESS_CODE_MAX_ATTEMPTS`; every
  wrong guess is also charged to its chain's attempt budget (`guesses_spent`).
- A refused guess (`CodeRefused`) is never a refusal row or a log record of its own:
  guesses are counted per chain and minute (`count_guesses`) and each minute's count is
  logged once, as a `code_guesses.counted` record, when the minute is over.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from dueprocess.clock import system_now
from dueprocess.errors import Refused
from dueprocess.journal import CaseEvent, publish
from dueprocess.rules.engine import Unmet
from dueprocess.settings import get_code_settings, get_notify_settings
from ledger import utc_timestamp
from models.one_time_codes import CodeGuesses
from notifications.delivery import quiet_apprise
from notifications.transport.channels import (
    InvalidChannel,
    check_subscriber_url,
    instantiate,
    privacy_form,
)

CODE_TTL = timedelta(minutes=15)
GUESSES_COUNTED = "code_guesses.counted"  # one record per chain and minute
PlusTags = Literal["strip", "keep"]
_CODE_RE = re.compile(r"^\s*(\d{1,12})\s*-\s*(\d{8})\s*$")
_DEFAULT_PORTS = frozenset({80, 443})


class CodeRefused(Refused):
    """A refused code guess: counted in aggregate on its chain, never audited one by one."""


def new_code() -> str:
    """The secret part of a code: 8 random digits."""
    return f"{secrets.randbelow(10**8):08d}"


def code_text(*, locator: int, secret: str) -> str:
    """The code as the resident receives and types it."""
    return f"{locator}-{secret}"


def parse_code(text: str) -> tuple[int, str] | None:
    """`(locator, secret)` of a typed code, or None for one not of the form."""
    found = _CODE_RE.match(text)
    return None if found is None else (int(found.group(1)), found.group(2))


def digest_matches(stored: str, given: str) -> bool:
    return hmac.compare_digest(stored.encode(), given.encode())


def secret_digest(scope: str, secret: str) -> str:
    return hashlib.sha256(f"{scope}:{secret}".encode()).hexdigest()


# Canonical channels ------------------------------------------------------------------


def canonical_channel(url: str, *, plus_tags: PlusTags = "strip") -> str:
    """The one form of a channel that hashing sees: the scheme family (`mailtos` is
    `mailto`, `jsons` is `json`: Apprise's plugin for the scheme names it), the host in
    lower case without a default port, the path without a trailing slash, no query, no
    password; an email channel is its one target address, case-folded, its `+tag`
    stripped unless `plus_tags` is "keep". Idempotent; InvalidChannel names the field."""
    plugin = instantiate(url)
    family = _family(plugin)
    targets = getattr(plugin, "targets", None)
    if family == "mailto":
        return f"mailto://{_mailbox(targets, plus_tags=plus_tags)}"
    return f"{family}://{_authority(plugin)}{_path(url)}"


def _family(plugin: Any) -> str:
    """The plugin's plain scheme (its first), else its secure one: one name per service."""
    for scheme in (plugin.protocol, plugin.secure_protocol):
        if isinstance(scheme, (tuple, list)):
            scheme = scheme[0] if scheme else None
        if scheme:
            return str(scheme).lower()
    raise InvalidChannel("url: Apprise names no scheme for this service")


def _mailbox(targets: Any, *, plus_tags: PlusTags) -> str:
    addresses = [t[1] if isinstance(t, (tuple, list)) else str(t) for t in targets or []]
    if len(addresses) != 1:
        raise InvalidChannel(f"url: a code goes to one address, this URL names "
                             f"{len(addresses)}")
    local, _, domain = addresses[0].strip().rpartition("@")
    local = local.casefold()
    if plus_tags == "strip":
        local = local.split("+", 1)[0]
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidChannel("url: the address's domain is not a valid host name") from None
    if not local or not domain:
        raise InvalidChannel("url: the address needs a mailbox and a domain")
    return f"{local}@{domain}"


def _authority(plugin: Any) -> str:
    host = str(getattr(plugin, "host", "") or "").rstrip(".").lower()
    user = getattr(plugin, "user", None)
    port = getattr(plugin, "port", None)
    where = f"{user}@{host}" if user else host
    return where if port in (None, *_DEFAULT_PORTS) else f"{where}:{port}"


def _path(url: str) -> str:
    """The path of `url` as typed (case kept: paths are case-sensitive), without query,
    fragment or trailing slash."""
    rest = url.strip().partition("://")[2]
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    path = rest.partition("/")[2]
    path = re.sub(r"/{2,}", "/", path).strip("/")
    return f"/{path}" if path else ""


# Delivery ----------------------------------------------------------------------------


def send_code_to(*, channel_url: str, issue: Callable[[str], str], title: str,
                 purpose: str, rule: str, rules: str) -> str:
    """Check the channel, have `issue(canonical channel)` store a code and return it, and
    deliver it; returns the channel in privacy form. A delivery that fails is refused as
    `rule` of the caller's `rules`."""
    settings = get_notify_settings()
    plugin = check_subscriber_url(channel_url, schemes=settings.notify_subscriber_schemes,
                                  allow_private=settings.notify_allow_private_targets)
    code = issue(canonical_channel(channel_url,
                                   plus_tags=get_code_settings().code_email_plus_tags))
    quiet_apprise()
    try:
        ok = plugin.notify(title=title, body=f"Your one-time code {purpose}: {code} (valid "
                                             f"{int(CODE_TTL.total_seconds() // 60)} minutes).")
    except Exception:
        ok = False
    if not ok:
        raise Refused([Unmet(rule, rules, "url: the code could not be delivered to "
                                          f"{privacy_form(plugin)}; check the address")])
    return str(privacy_form(plugin))


# Aggregated audit of refused guesses ---------------------------------------------------


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def guesses_spent(session: Session, chain: str) -> int:
    """Wrong guesses counted on `chain` so far: what its attempt budget has spent."""
    return int(session.exec(select(func.coalesce(func.sum(CodeGuesses.count), 0)).where(
        CodeGuesses.chain == chain)).one())


def count_guesses(session: Session, *, chain: str, count: int, at: datetime) -> None:
    """Add `count` refused guesses received `at` to `chain`'s count of that minute (or of
    the minute after the last one logged, should `at` be earlier), and log the chain's
    earlier minutes still unlogged. Working state until logged; in the caller's
    transaction, so a refused guess is counted exactly when its attempt is."""
    if count <= 0:
        return
    last_logged = session.exec(select(func.max(CodeGuesses.minute)).where(
        CodeGuesses.chain == chain, col(CodeGuesses.logged_at).is_not(None))).one()
    minute = _minute(at)
    if last_logged is not None and minute <= last_logged:
        minute = last_logged + timedelta(minutes=1)
    _upsert(session, chain=chain, minute=minute, count=count)
    log_counted_guesses(session, chain=chain, before=minute)


def _upsert(session: Session, *, chain: str, minute: datetime, count: int) -> None:
    # One atomic statement: concurrent writers add to the same minute's row.
    from sqlalchemy.dialects import postgresql, sqlite  # deferred: only when guesses come

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = CodeGuesses.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table).values(chain=chain, minute=minute, count=count)
    session.execute(statement.on_conflict_do_update(
        index_elements=["chain", "minute"], set_={"count": table.c.count + count}))


def log_counted_guesses(session: Session, *, chain: str | None = None,
                        before: datetime | None = None, now: datetime | None = None) -> int:
    """Log each unlogged minute of `chain` (every chain if None) earlier than `before`
    (all if None) as one `code_guesses.counted` record with its count; returns how many
    records. A ballot's close logs its last minute before the tally."""
    query = select(CodeGuesses).where(col(CodeGuesses.logged_at).is_(None))
    if chain is not None:
        query = query.where(CodeGuesses.chain == chain)
    if before is not None:
        query = query.where(CodeGuesses.minute < before)
    logged = 0
    for row in session.exec(query.order_by(col(CodeGuesses.minute)).with_for_update()).all():
        when = now or system_now()
        done = session.execute(update(CodeGuesses).where(
            col(CodeGuesses.id) == row.id, col(CodeGuesses.logged_at).is_(None))
            .values(logged_at=when).returning(CodeGuesses.__table__.c.count)).first()  # type: ignore[attr-defined]
        if done is None:  # another writer logged it first
            continue
        publish(session, CaseEvent(
            case_id=row.chain, kind=GUESSES_COUNTED, occurred_at=when,
            body={"minute": utc_timestamp(row.minute),
                  "refused_guesses": int(done[0])}))
        logged += 1
    return logged
