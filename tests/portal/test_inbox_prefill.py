"""The inbox form fills in what dueprocess holds and the reviewer types only judgement:
names and units from the register, dates from the case clock, the published comment
window, the opinions and campaign clusters to answer, the organ's roster with its quorum,
the scan's hash; values the client posts for them are ignored. An expert's opinion is
signed over the bytes the server gives (signing-payload); another key is refused and
audited."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlmodel import col, select

from dueprocess.composition.portal import create_app
from dueprocess.db import session_scope
from dueprocess.i18n import gettext
from dueprocess.rules import signatures
from dueprocess.services.administration import register_key_as
from dueprocess.services.identity import set_password
from dueprocess.settings import InboxSettings
from models.evidence import EvidenceItem, Refusal
from models.evidence_schemas import ExpertOpinionEvidence
from portal.comments.clusters import cluster_case_comments
from portal.comments.submission import CommentCreate, submit_comment
from portal.comments.upload import import_comments
from tests.portal.conftest import portal_settings
from tests.support import VALID_STEPS, admin_token, advance_to_step, record_steps, token_for

PASSWORD = "a long inbox password"
JUDGEMENT = {"direct_interest": "false",
             "conclusion": "supports_with_changes",
             "opinion": "Monitor displacement\r\ninto residential lanes."}


@pytest.fixture
def inbox() -> Iterator[TestClient]:
    app = create_app(portal_settings(comment_rate_count=1000))
    app.state.inbox_settings = InboxSettings(cookie_secure=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def login(client: TestClient, handle: str) -> None:
    with session_scope() as session:
        set_password(session, handle=handle, password=PASSWORD)
    form = client.get("/inbox/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/inbox/login", data={"handle": handle, "password": PASSWORD,
                                               "csrf": csrf})
    assert answer.status_code == 200, answer.text


def form_page(client: TestClient, case_id: str, stage: str, lang: str = "") -> tuple[str, str]:
    page = client.get(f"/inbox/cases/{case_id}/stages/{stage}{lang}")
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return page.text, csrf


def known(page: str, name: str) -> str:
    match = re.search(rf'id="k-{name}"><th>[^<]*</th><td class="value">([^<]*)</td>', page)
    assert match, f"{name} is not shown as known"
    return match.group(1)


def stored(case_id: str, stage: str) -> list[EvidenceItem]:
    with session_scope() as session:
        return list(session.exec(select(EvidenceItem).where(
            EvidenceItem.case_id == case_id, EvidenceItem.stage_key == stage)
            .order_by(col(EvidenceItem.id))).all())


def refusal_rules(case_id: str) -> list[str]:
    with session_scope() as session:
        rows = session.exec(select(Refusal).where(Refusal.case_id == case_id)
                            .order_by(col(Refusal.id))).all()
    return [reason["rule"] for r in rows for reason in r.reasons]


def test_the_experts_form_comes_from_the_register_and_the_case_clock(
        inbox: TestClient, consulting_case: str) -> None:
    advance_to_step(consulting_case, "expert_review")  # case clock: 2026-10-12
    login(inbox, "prof.chen")
    page, csrf = form_page(inbox, consulting_case, "expert_review")
    # The page may run the portal's own signing script, and no inline one; others none.
    headers = inbox.get(f"/inbox/cases/{consulting_case}/stages/expert_review").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline'; img" in policy
    assert "x-dueprocess-own-scripts" not in headers  # the page's marker is not sent out
    assert "script-src" not in inbox.get("/").headers["content-security-policy"]
    assert inbox.get("/inbox/sign.js").headers["content-type"].startswith("text/javascript")
    assert known(page, "expert_name") == "Chen Jie"
    assert known(page, "affiliation") == "Beijing Jiaotong University"
    assert known(page, "field_of_expertise") == "traffic engineering"
    assert known(page, "signed_on") == "2026-10-12"
    for shown in ("expert_name", "affiliation", "field_of_expertise", "signed_on",
                  "sealed_scan_sha256"):
        assert f'name="{shown}"' not in page  # nothing to type, nothing read back
    # The signature's only field is the hidden one the page's script fills in.
    assert page.count('name="signature_ed25519"') == 1
    assert 'type="hidden" name="signature_ed25519"' in page
    assert 'name="sealed_scan"' in page and 'name="conclusion"' in page
    # zh-CN by default, from the schema's titles through the catalogue; English on request.
    assert gettext("zh-CN", "Affiliation") in page and ">Affiliation<" not in page
    english, _ = form_page(inbox, consulting_case, "expert_review", "?lang=en")
    assert ">Affiliation<" in english and ">Field of expertise<" in english

    scan = b"%PDF-1.4 signed and sealed opinion of Chen Jie"
    forged = {"expert_name": "Somebody Else", "affiliation": "Nowhere",
              "field_of_expertise": "astrology",
              "signed_on": "2026-09-02", "sealed_scan_sha256": "0" * 64}
    recorded = inbox.post(f"/inbox/cases/{consulting_case}/stages/expert_review",
                          data={**JUDGEMENT, **forged, "csrf": csrf},
                          files={"sealed_scan": ("sealed.pdf", scan, "application/pdf")})
    assert recorded.status_code == 201, recorded.text
    [item] = stored(consulting_case, "expert_review")
    payload = item.payload
    assert (payload["expert_name"], payload["affiliation"], payload["field_of_expertise"],
            payload["signed_on"]) == ("Chen Jie", "Beijing Jiaotong University",
                                      "traffic engineering", "2026-10-12")
    assert payload["sealed_scan_sha256"] == hashlib.sha256(scan).hexdigest()
    assert [d["filename"] for d in payload["documents"]] == ["sealed.pdf"]
    assert payload["opinion"] == "Monitor displacement\ninto residential lanes."


def test_an_opinion_signed_over_the_servers_bytes_is_accepted_another_key_refused(
        inbox: TestClient, consulting_case: str) -> None:
    advance_to_step(consulting_case, "expert_review")
    key, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    register_key_as(handle="dr.zhou", public_key=signatures.public_key_of(key),
                    token=admin_token(), channel="test")
    login(inbox, "dr.zhou")
    _, csrf = form_page(inbox, consulting_case, "expert_review")
    url = f"/inbox/cases/{consulting_case}/stages/expert_review"
    form = {**JUDGEMENT, "conclusion": "opposes", "csrf": csrf,
            "expert_name": "Forged Name"}  # ignored here as on recording

    answer = inbox.post(f"{url}/signing-payload", data=form)
    assert answer.status_code == 200, answer.text
    payload = base64.b64decode(answer.json()["payload"])
    expected = ExpertOpinionEvidence.model_validate({
        "expert_name": "Zhou Lan", "affiliation": "Beijing Transport Institute",
        "field_of_expertise": "public finance", "direct_interest": False,
        "conclusion": "opposes", "opinion": "Monitor displacement\ninto residential lanes.",
        "signed_on": "2026-10-12"}).signed_bytes()
    assert payload == expected and answer.json()["text"] == expected.decode()
    # A bad form is named field by field before anything is signed.
    bad = inbox.post(f"{url}/signing-payload", data={**form, "conclusion": "maybe"})
    assert bad.status_code == 422 and "conclusion" in bad.json()["problems"][0]
    assert inbox.post(f"{url}/signing-payload", data={**form, "csrf": "x"}).status_code == 403

    refused = inbox.post(url, data={**form, "signature_ed25519":
                                    signatures.sign(stranger, payload)})
    assert refused.status_code == 422 and "EX-SIGNED" in refused.text
    assert stored(consulting_case, "expert_review") == []
    assert "EX-SIGNED" in refusal_rules(consulting_case)  # audited
    accepted = inbox.post(url, data={**form, "signature_ed25519": signatures.sign(key, payload)})
    assert accepted.status_code == 201, accepted.text
    [item] = stored(consulting_case, "expert_review")
    assert item.payload["expert_name"] == "Zhou Lan"


def test_the_adoption_statement_lists_each_cluster_and_comment_to_answer(
        inbox: TestClient, consulting_case: str) -> None:
    lines = [{"body": "停车费上涨太多，请重新考虑收费标准。"} for _ in range(12)]
    import_comments(case_id=consulting_case, filename="mail.jsonl", imported_by="li.wei",
                    stream=io.BytesIO("".join(json.dumps(x, ensure_ascii=False) + "\n"
                                              for x in lines).encode()),
                    token=token_for("li.wei"))
    submit_comment(case_id=consulting_case, client="198.51.100.9",
                   comment=CommentCreate(body="地铁站旁的自行车停放区太小，建议扩建。"))
    cluster_case_comments(case_id=consulting_case)
    advance_to_step(consulting_case, "public_participation")  # the window has closed
    login(inbox, "li.wei")
    page, csrf = form_page(inbox, consulting_case, "public_participation")
    assert (known(page, "window_opens"), known(page, "window_closes")) == (
        "2026-09-01", "2026-10-01")
    assert 'name="opinions_received"' not in page and 'name="window_closes"' not in page
    rows = re.findall(r'<tr class="opinion"><td[^>]*>([^<]*)</td><td[^>]*>(\d+)</td>', page)
    assert [int(n) for _, n in rows] == [12, 1]
    assert rows[0][0].startswith("campaign-") and "自行车" in rows[1][0]

    url = f"/inbox/cases/{consulting_case}/stages/public_participation"
    answers = {"csrf": csrf, "published_materials": ["draft", "explanation"],
               "specific_groups_affected": "false", "window_closes": "2026-09-20",
               "opinions_received": "1", "adoption_statement": "13 opinions in 2 rows.",
               "answer.0": "not_adopted", "reason.0": "The fee covers costs."}
    unanswered = inbox.post(url, data=answers)
    assert unanswered.status_code == 422 and "PP-EVERY-OPINION-ANSWERED" in unanswered.text
    recorded = inbox.post(url, data={**answers, "answer.1": "adopted",
                                     "reason.1": "Planned for next year."})
    assert recorded.status_code == 201, recorded.text
    [item] = stored(consulting_case, "public_participation")
    evidence = item.payload
    assert evidence["opinions_received"] == 13 and evidence["window_closes"] == "2026-10-01"
    assert [(r["opinions"], r["response"]) for r in evidence["responses"]] == [
        (12, "not_adopted"), (1, "adopted")]


def test_the_meeting_form_lists_the_organ_with_its_quorum(inbox: TestClient,
                                                          consulting_case: str) -> None:
    record_steps(consulting_case, [s for s in VALID_STEPS if s[0] in (
        "public_participation", "expert_review", "risk_assessment", "legality_review")])
    advance_to_step(consulting_case, "collective_decision")
    login(inbox, "zhao.li")
    page, csrf = form_page(inbox, consulting_case, "collective_decision")
    members = re.findall(r'name="present\.([a-z.]+)"', page)
    assert members == ["guo.deputy", "he.deputy", "ma.director", "lin.mayor"]  # head last
    assert known(page, "head") == "Mayor Lin"
    quorum = re.search(r'id="quorum">([^<]*)<', page).group(1)  # type: ignore[union-attr]
    assert re.findall(r"\d+", quorum) == ["4", "3"]  # zh-CN: at least 3 of the 4 members
    for typed in ("members_present", "statements", "head", "dissent"):
        assert f'name="{typed}"' not in page

    url = f"/inbox/cases/{consulting_case}/stages/collective_decision"
    meeting: dict[str, Any] = {
        "csrf": csrf, "meeting_type": "executive", "held_on": "2026-11-20",
        "materials_received": ["draft", "public_opinion_adoption", "expert_opinion_adoption",
                               "risk_report", "legality_opinion"],
        "expert_opinion_adoption": "Adopted: lane monitoring.", "head_decision": "approve",
        "decision_text": "Approved with a 6-month review.", "head": "ma.director",
        "present.lin.mayor": "on", "position.lin.mayor": "for",
        "statement.lin.mayor": "Approved with a review.",
        "present.guo.deputy": "on", "position.guo.deputy": "for",
        "statement.guo.deputy": "Supports the scheme."}
    short = inbox.post(url, data=meeting)  # 2 of 4 present: no quorum
    assert short.status_code == 422 and "CD-QUORUM" in short.text
    recorded = inbox.post(url, data={
        **meeting, "present.ma.director": "on", "position.ma.director": "against",
        "statement.ma.director": "Too narrow.", "dissent.ma.director": "Too narrow."})
    assert recorded.status_code == 201, recorded.text
    [item] = stored(consulting_case, "collective_decision")
    evidence = item.payload
    assert evidence["head"] == "lin.mayor"  # the register's head, not the posted one
    assert evidence["members_present"] == ["guo.deputy", "ma.director", "lin.mayor"]
    assert evidence["dissent"] == [{"member": "ma.director", "text": "Too narrow."}]


def test_the_legality_review_dates_come_from_dueprocess(inbox: TestClient,
                                                        consulting_case: str) -> None:
    record_steps(consulting_case, [s for s in VALID_STEPS if s[0] in (
        "public_participation", "expert_review", "risk_assessment")])
    advance_to_step(consulting_case, "legality_review")
    login(inbox, "sun.hao")
    page, _ = form_page(inbox, consulting_case, "legality_review")
    assert known(page, "issued_on") == "2026-11-13"
    assert re.fullmatch(r"2026-1\d-\d\d", known(page, "received_on"))
    assert 'name="received_on"' not in page and 'name="issued_on"' not in page
