"""Public participation, Decree 713 Art. 14–18."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import timedelta

from dueprocess.rules.engine import RuleContext, evidence_rule, gate_rule
from dueprocess.rules.facts import HearingFact, WindowFact
from models.evidence_schemas import Hearing, OpinionResponse, PublicParticipationEvidence

KIND = "public_participation"


NO_WINDOW = "dueprocess published no comment window for this case (the call for comments)"


def _window(ctx: RuleContext) -> WindowFact | None:
    return ctx.facts.comment_window


@evidence_rule(id="PP-WINDOW-LENGTH", kind=KIND, article="Art. 15",
               summary="The comment window dueprocess published is at least 30 days, or "
                       "shorter with its reason published with the call")
def window_length(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    window = _window(ctx)
    if window is None:
        yield NO_WINDOW
        return
    # Counted in published days (the opening day to the last day, which is open until
    # 24:00) and never less than that many times 24 hours.
    days = (ctx.facts.last_day(window.closes_at) - ctx.facts.local_date(window.opens_at)).days
    minimum = ctx.params.min_comment_days
    if days >= minimum and window.closes_at - window.opens_at >= timedelta(days=minimum):
        return
    if not (window.shortened_reason or "").strip():  # only what was published counts
        yield (f"the published comment window is {days} days, shorter than {minimum}, "
               "and no reason for shortening it was published with the call for comments")


@evidence_rule(id="PP-WINDOW-AS-PUBLISHED", kind=KIND, article="Art. 15",
               summary="The typed call and window dates are those of the window dueprocess "
                       "published")
def window_as_published(evidence: PublicParticipationEvidence,
                        ctx: RuleContext) -> Iterator[str]:
    window = _window(ctx)
    if window is None:
        return  # PP-WINDOW-LENGTH names the missing window
    opens, closes = ctx.facts.local_date(window.opens_at), ctx.facts.last_day(window.closes_at)
    for field, typed, published in (("call_published_on", evidence.call_published_on, opens),
                                    ("window_opens", evidence.window_opens, opens),
                                    ("window_closes", evidence.window_closes, closes)):
        if typed != published:
            yield (f"{field} {typed} contradicts the comment window dueprocess published: "
                   f"{opens} to {closes}")


def _quoted(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


@evidence_rule(id="PP-SHORTENED-REASON-AS-PUBLISHED", kind=KIND, article="Art. 15",
               summary="A typed reason for a shorter window is the one dueprocess published "
                       "with the call for comments")
def shortened_reason_as_published(evidence: PublicParticipationEvidence,
                                  ctx: RuleContext) -> Iterator[str]:
    window = _window(ctx)
    if window is None:
        return  # PP-WINDOW-LENGTH names the missing window
    typed = (evidence.shortened_reason or "").strip()
    published = (window.shortened_reason or "").strip()
    if typed and not published:
        yield (f"shortened_reason {_quoted(typed)} contradicts the call for comments "
               "dueprocess published: it published no reason for shortening the window")
    elif typed and typed != published:
        yield (f"shortened_reason {_quoted(typed)} is not the reason dueprocess published "
               f"with the call for comments: {_quoted(published)}")
    if evidence.shortened_reason_published and not published:
        yield ("shortened_reason_published is true, but dueprocess published no reason for "
               "shortening the window with the call for comments")


@evidence_rule(id="PP-CALL-MATERIALS", kind=KIND, article="Art. 15",
               summary="The call for comments publishes the draft and its explanation")
def call_materials(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    missing = [m for m in ("draft", "explanation") if m not in evidence.published_materials]
    if missing:
        yield f"the call for comments did not publish the {' and the '.join(missing)}"


@evidence_rule(id="PP-GROUPS-CONSULTED", kind=KIND, article="Art. 14",
               summary="A matter touching specific groups is discussed with their "
                       "organisations and representatives")
def groups_consulted(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    if evidence.specific_groups_affected and not [g for g in evidence.groups_consulted
                                                  if g.strip()]:
        yield "specific groups are affected but groups_consulted names none"


def _announced(hearing: Hearing, ctx: RuleContext) -> HearingFact | None:
    """The hearing dueprocess announced for the day the evidence names."""
    return next((h for h in reversed(ctx.facts.hearings) if h.held_on == hearing.held_on), None)


@evidence_rule(id="PP-HEARING-ANNOUNCED", kind=KIND, article="Art. 16",
               summary="A hearing was announced by dueprocess in advance, publishing its "
                       "selection method and participant list; the typed dates and "
                       "participants are those it published")
def hearing_announced(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    hearing = evidence.hearing
    if hearing is None:
        return
    announced = _announced(hearing, ctx)
    if announced is None:
        yield (f"hearing of {hearing.held_on}: dueprocess announced no hearing on that day "
               "(announce it with `dueprocess notices hearing`, which publishes the selection "
               "method and the participants)")
        return
    published = ctx.facts.local_date(announced.announced_at)
    for field in ("selection_method_published_on", "participants_published_on"):
        typed = getattr(hearing, field)
        if typed is not None and typed != published:
            yield (f"hearing.{field} {typed} contradicts the announcement dueprocess "
                   f"published on {published}")
    if sorted(hearing.participants) != sorted(announced.participants):
        yield (f"hearing.participants are not those announced: "
               f"{', '.join(announced.participants)}")


@evidence_rule(id="PP-HEARING-MATERIALS", kind=KIND, article="Art. 16",
               summary="Hearing materials were delivered by dueprocess to every participant "
                       "at least 7 days before the hearing")
def hearing_materials(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    hearing = evidence.hearing
    announced = None if hearing is None else _announced(hearing, ctx)
    if hearing is None or announced is None:
        return  # PP-HEARING-ANNOUNCED names the missing announcement
    days = ctx.params.hearing_notice_days
    latest = hearing.held_on - timedelta(days=days)
    if announced.recipients == 0 or announced.delivered < announced.recipients:
        yield (f"hearing of {hearing.held_on}: the materials reached "
               f"{announced.delivered} of {len(announced.participants)} participants' "
               "channels (the rest are not sent yet or failed)")
        return
    assert announced.last_delivered_at is not None
    reached = ctx.facts.local_date(announced.last_delivered_at)
    if reached > latest:
        yield (f"hearing of {hearing.held_on}: the materials reached the last participant on "
               f"{reached}, less than {days} days before (by {latest})")
    if hearing.materials_sent_on is not None and hearing.materials_sent_on != reached:
        yield (f"hearing.materials_sent_on {hearing.materials_sent_on} contradicts the "
               f"delivery dueprocess recorded: the last participant received them on {reached}")


@evidence_rule(id="PP-HEARING-RECORD-SIGNED", kind=KIND, article="Art. 17",
               summary="Every hearing participant signs the hearing record")
def hearing_signed(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    hearing = evidence.hearing
    if hearing is None:
        return
    unsigned = [p for p in hearing.participants if p not in hearing.record_signed_by]
    if unsigned:
        yield f"hearing record not signed by: {', '.join(unsigned)}"


@evidence_rule(id="PP-RESPONSE-REASONS", kind=KIND, article="Art. 18",
               summary="Each opinion or cluster is answered adopted, partly adopted or not "
                       "adopted, with a reason")
def response_reasons(evidence: PublicParticipationEvidence, ctx: RuleContext) -> Iterator[str]:
    for index, response in enumerate(evidence.responses):
        if not response.reason.strip():
            yield f"responses.{index} ('{response.cluster}'): {response.response} without a reason"


# A response answers a mass-comment campaign by naming its cluster key (portal.comments.clusters).
CLUSTER_KEY = re.compile(r"campaign-[A-Z0-9][A-Z0-9-]*[A-Z0-9]")
LISTED = 10  # unanswered clusters named in a message; the rest are counted


def _cluster_problems(clusters: Mapping[str, int],
                      responses: list[OpinionResponse]) -> Iterator[str]:
    """Each campaign cluster is answered by a response naming its key, and that answer
    covers exactly its members: a dishonest count cannot hide unique opinions in it."""
    named: set[str] = set()
    for index, response in enumerate(responses):
        keys = list(dict.fromkeys(CLUSTER_KEY.findall(response.cluster)))
        unknown = [k for k in keys if k not in clusters]
        if unknown:
            yield (f"responses.{index} names {', '.join(unknown)}, not a campaign cluster of "
                   "this case's comments (run `dueprocess comments clusters`)")
            continue
        if keys:
            members = sum(clusters[k] for k in keys)
            named.update(keys)
            if response.opinions != members:
                yield (f"responses.{index} answers {response.opinions} opinions for "
                       f"{', '.join(keys)}, which has {members} comments: a cluster's "
                       "answer covers exactly its members")
    unanswered = sorted((k for k in clusters if k not in named),
                        key=lambda k: (-clusters[k], k))
    if unanswered:
        listed = ", ".join(f"{k} ({clusters[k]} comments)" for k in unanswered[:LISTED])
        more = f" and {len(unanswered) - LISTED} more" if len(unanswered) > LISTED else ""
        yield (f"{len(unanswered)} campaign clusters have no response naming them: {listed}"
               f"{more}; answer each cluster (its answer covers all its copies)")


# An evidence rule, so an incomplete statement is refused when recorded (and, re-checked
# at the gate, blocks a stored one that the portal's later count contradicts).
@evidence_rule(id="PP-EVERY-OPINION-ANSWERED", kind=KIND, article="Art. 18",
               summary="The adoption statement answers every opinion received; each campaign "
                       "cluster is answered by a response naming it, covering its members")
def every_opinion_answered(evidence: PublicParticipationEvidence,
                           ctx: RuleContext) -> Iterator[str]:
    portal = ctx.facts.public_comments  # comments the public portal received and stored
    yield from _cluster_problems(ctx.facts.comment_clusters, evidence.responses)
    answered = sum(r.opinions for r in evidence.responses)
    received = evidence.opinions_received
    if received < len(portal):
        yield (f"opinions_received is {received}, but the portal received {len(portal)} "
               f"comments (receipts {portal[0]} to {portal[-1]}): every one is an "
               "opinion the adoption statement answers")
    if answered < received:
        yield (f"{received - answered} of {received} opinions received are left without "
               "a response")
    elif answered > received:
        yield f"responses answer {answered} opinions, but {received} were received"


@evidence_rule(id="PP-PROPOSALS-ANSWERED", kind=KIND, article="Art. 18",
               summary="A programme list's statement counts and answers each proposal of "
                       "its year that dueprocess holds")
def proposals_answered(evidence: PublicParticipationEvidence,
                       ctx: RuleContext) -> Iterator[str]:
    held = ctx.facts.held_proposals
    if not held:
        return
    least = len(held) + len(ctx.facts.public_comments)
    if evidence.opinions_received < least:
        yield (f"opinions_received is {evidence.opinions_received}, but dueprocess holds "
               f"{len(held)} proposals of the year and {len(ctx.facts.public_comments)} "
               "comments on the draft list: each is an opinion")
    named = {int(n) for r in evidence.responses for n in re.findall(r"#(\d+)\b", r.cluster)}
    unnamed = [p for p in held if p not in named]
    if unnamed:
        shown = ", ".join(f"#{p}" for p in unnamed[:LISTED])
        more = f" and {len(unnamed) - LISTED} more" if len(unnamed) > LISTED else ""
        yield (f"no response names proposal(s) {shown}{more}: each proposal of the year is "
               "answered by a response naming it (e.g. 'Proposal #12')")


@gate_rule(id="PP-WINDOW-CLOSED", kind=KIND, article="Art. 15",
           summary="The comment window dueprocess published has closed on the system clock "
                   "before the stage completes")
def window_closed(ctx: RuleContext) -> Iterator[str]:
    window = _window(ctx)
    if window is None:
        yield NO_WINDOW
    elif window.closes_at > ctx.now:
        yield (f"the published comment window is open until "
               f"{ctx.facts.closing_time(window.closes_at)} ({window.closes_at.isoformat()}; "
               f"case clock: {ctx.now.isoformat()})")
