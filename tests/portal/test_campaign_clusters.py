"""Mass-comment campaigns: clustering accuracy on a labelled set, true counts, the cluster
log record, and the participation gate answering each cluster (Art. 18)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from dueprocess.db import session_scope
from dueprocess.demo.submissions import PARTICIPATION
from dueprocess.errors import Refused
from dueprocess.services.progress import advance_case
from dueprocess.services.recording import record_evidence
from models.ledger import LogLeaf
from portal.comments.clusters import (
    campaign_counts,
    cluster_case_comments,
    find_clusters,
    normalise,
    stance,
)
from portal.comments.submission import CommentCreate, submit_comment
from portal.comments.upload import import_comments
from tests.portal.labelled_comments import (
    SHORT_PAIRS,
    STANCE_PAIRS,
    TEMPLATES,
    labelled_set,
    opposites_together,
    pair_scores,
    stance_set,
)
from tests.support import advance_to_step, token_for

STAGE = "public_participation"


@pytest.mark.parametrize("seed", [18, 19, 20])
def test_clusters_match_the_labelled_campaigns(seed: int) -> None:
    items = labelled_set(seed=seed, unique=400)
    labels = [label for _, label in items]
    result = find_clusters(list(enumerate(text for text, _ in items)))
    predicted: list[object] = [result.leader_of.get(i) for i in range(len(items))]
    precision, recall = pair_scores(labels, predicted)
    print(f"present set, seed {seed}: precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= 0.99, precision
    assert recall >= 0.97, recall
    # True counts: unique comments and campaigns are counted within a few of the truth.
    true_unique = sum(label.startswith("u") for label in labels)
    predicted_unique = sum(p is None for p in predicted)
    assert abs(predicted_unique - true_unique) <= 0.03 * true_unique
    assert 8 <= len(set(result.leader_of.values())) <= 16


@pytest.mark.parametrize("seed", [18, 19, 20])
def test_opposite_stances_never_share_a_cluster(seed: int) -> None:
    """The present set with stance pairs and short texts added: each side of a pair is a
    campaign of its own, and no cluster holds both sides."""
    items = stance_set(seed=seed, unique=400)
    labels = [label for _, label in items]
    result = find_clusters(list(enumerate(text for text, _ in items)))
    predicted: list[object] = [result.leader_of.get(i) for i in range(len(items))]
    precision, recall = pair_scores(labels, predicted)
    print(f"with stance pairs and short texts, seed {seed}: precision {precision:.4f}, "
          f"recall {recall:.4f}")
    assert opposites_together(labels, predicted) == []
    assert precision >= 0.99, precision
    assert recall >= 0.97, recall
    sides = {label for label in labels if label.startswith(("ts", "tq"))}
    clustered = {labels[i] for i in result.leader_of}
    assert sides <= clustered  # every side is found as a campaign, not left unclustered


@pytest.mark.parametrize("pair", STANCE_PAIRS + SHORT_PAIRS)
def test_a_sentence_and_its_opposite_differ_in_stance(pair: tuple[str, str]) -> None:
    one, other = pair
    assert stance(one) != stance(other)
    signed = "谢谢！" if len(one) > 10 else "！"  # a short text's copies vary by a mark
    copies = [one, one + signed, other, other + signed, other.upper()]
    leaders = find_clusters(enumerate(copies)).leader_of
    assert leaders.get(0) is not None and leaders.get(0) != leaders.get(2), leaders


def test_stance_markers_are_words_not_letters_inside_words() -> None:
    assert stance("Nothing is known about notices") == (0, 0, 0)
    assert stance("We do NOT support it") == stance("We don’t support it") == (1, 0, 1)
    assert stance("没有车库") == stance("没的有车库") == (0, 0, 1)  # 没有 is one negation
    assert stance("我不同意，坚决反对") == (1, 1, 1)


def test_a_marker_broken_by_an_edit_keeps_the_copy_in_its_campaign() -> None:
    """A copy that lost its marker to an edit ("反的对") leans neither way: it may join
    its campaign, but it never bridges a campaign and its opposite."""
    base = "将A区高峰时段停车费提高到每小时10元，这会加重通勤居民的负担，请保留现行收费标准。"
    texts = ["反对" + base, "反对" + base + "谢谢", "反的对" + base, "支持" + base,
             "支持" + base + "谢谢"]
    leaders = find_clusters(enumerate(texts)).leader_of
    assert leaders[0] == leaders[1] == leaders[2] and leaders[3] == leaders[4] != leaders[0]


def test_pair_scores_punish_a_wrong_clustering() -> None:
    """The measure itself: lumping everything together or splitting everything fails."""
    items = labelled_set(unique=50)
    labels = [label for _, label in items]
    lumped_precision, _ = pair_scores(labels, [0] * len(items))
    _, split_recall = pair_scores(labels, [None] * len(items))
    assert lumped_precision < 0.5 and split_recall == 0.0


def test_exact_copies_differ_only_in_spacing_width_and_punctuation() -> None:
    variants = ["请保留十五分钟免费停车！", "请保留 十五分钟 免费停车!", "请保留十五分钟免费停车",
                "ＡＢＣ请保留十五分钟免费停车。", "abc请保留十五分钟免费停车"]
    assert normalise(variants[0]) == normalise(variants[1]) == normalise(variants[2])
    assert normalise(variants[3]) == normalise(variants[4])
    result = find_clusters(enumerate(variants))
    assert len(set(result.leader_of.values())) == 1 and len(result.leader_of) == 5
    # Two unrelated opinions on the same subject are not a campaign.
    unrelated = ["支持提高停车费。", "反对在学校门口设置收费停车位，孩子上学不安全。"]
    assert find_clusters(enumerate(unrelated)).leader_of == {}


def test_word_shingles_with_jieba_when_installed() -> None:
    pytest.importorskip("jieba")
    items = labelled_set(unique=100)
    result = find_clusters(list(enumerate(t for t, _ in items)), words=True)
    precision, recall = pair_scores([lb for _, lb in items],
                                    [result.leader_of.get(i) for i in range(len(items))])
    assert precision >= 0.95 and recall >= 0.9


def participation(opinions: int, responses: list[dict[str, Any]]) -> dict[str, Any]:
    return {**PARTICIPATION, "opinions_received": opinions,
            "adoption_statement": "Opinions sorted into campaigns and unique opinions.",
            "responses": responses}


def blocked_by(case_id: str, rule: str) -> list[str]:
    progress = advance_case(case_id=case_id)
    return [u.message for u in progress.blocked.get(STAGE, []) if u.rule == rule]


def test_each_cluster_is_answered_once_and_its_answer_covers_its_members(
    consulting_case: str, client: TestClient,
) -> None:
    lines = [{"body": TEMPLATES[0] + ("谢谢！" if n % 3 else "")} for n in range(40)]
    lines += [{"body": TEMPLATES[1]} for _ in range(25)]
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    import_comments(case_id=consulting_case, stream=io.BytesIO(data), filename="mail.jsonl",
                    imported_by="li.wei", token=token_for("li.wei"))
    submit_comment(case_id=consulting_case, client="198.51.100.9",
                   comment=CommentCreate(body="地铁站旁的自行车停放区太小，建议扩建。"))

    run = cluster_case_comments(case_id=consulting_case)
    assert (run.comments, run.clusters, run.clustered) == (66, 2, 65)
    with session_scope() as session:
        counts = campaign_counts(session, case_id=consulting_case)
        leaf = session.exec(select(LogLeaf).where(LogLeaf.case_id == consulting_case)
                            .order_by(col(LogLeaf.case_seq).desc())).first()
    assert (counts.comments, counts.unique, counts.campaign_copies, counts.campaigns,
            counts.distinct_opinions, counts.unclustered) == (66, 1, 65, 2, 3, 0)
    assert "66 comments were received: 1 unique comments and 65 copies" in counts.statement
    big, small = counts.clusters
    assert (big.size, small.size) == (40, 25) and big.key.startswith("campaign-I")
    assert leaf is not None and json.loads(leaf.record)["digest"] == run.digest

    # The JSON API shows the same counts.
    shown = client.get(f"/api/cases/{consulting_case}/campaigns").json()
    assert (shown["unique"], shown["campaign_copies"]) == (1, 65)

    unique_answer = {"cluster": "Bicycle parking", "opinions": 1, "response": "adopted",
                     "reason": "Planned for next year."}

    def answer(key: str, opinions: int) -> dict[str, Any]:
        return {"cluster": f"{key}: campaign", "opinions": opinions,
                "response": "not_adopted", "reason": "The fee covers costs."}

    def refused(responses: list[dict[str, Any]]) -> str:
        """The statement is refused when recorded (Art. 18): nothing is stored."""
        with pytest.raises(Refused) as info:
            record_evidence(case_id=consulting_case, stage_key=STAGE, recorded_by="li.wei",
                            channel="test", token=token_for("li.wei"),
                            evidence=participation(66, responses))
        [message] = [p.message for p in info.value.problems
                     if p.rule == "PP-EVERY-OPINION-ANSWERED"]
        return message

    advance_to_step(consulting_case, STAGE)  # the published window has closed
    # Counted right in total, but the campaigns are not answered by name.
    message = refused([unique_answer, {**answer("all", 65), "cluster": "Campaigns"}])
    assert f"2 campaign clusters have no response naming them: {big.key} (40 comments)" in message

    # A cluster's answer claiming more than its members hides unique opinions: refused.
    message = refused([answer(big.key, 41), answer(small.key, 25)])
    assert f"answers 41 opinions for {big.key}, which has 40 comments" in message

    record_evidence(case_id=consulting_case, stage_key=STAGE, recorded_by="li.wei",
                    channel="test", token=token_for("li.wei"), evidence=participation(66, [
                        unique_answer, answer(big.key, 40), answer(small.key, 25)]))
    assert blocked_by(consulting_case, "PP-EVERY-OPINION-ANSWERED") == []


def test_the_adoption_statement_counts_a_cluster_per_stance(consulting_case: str) -> None:
    for_, against = STANCE_PAIRS[0]
    lines = [{"body": for_ + ("谢谢！" if n % 2 else "")} for n in range(30)]
    lines += [{"body": against + ("望采纳。" if n % 2 else "")} for n in range(20)]
    lines += [{"body": "同意！"} for _ in range(5)] + [{"body": "不同意。"} for _ in range(4)]
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    import_comments(case_id=consulting_case, stream=io.BytesIO(data), filename="mail.jsonl",
                    imported_by="li.wei", token=token_for("li.wei"))
    run = cluster_case_comments(case_id=consulting_case)
    with session_scope() as session:
        counts = campaign_counts(session, case_id=consulting_case)
    assert (run.comments, run.clusters, run.clustered) == (59, 4, 59)
    assert [c.size for c in counts.clusters] == [30, 20, 5, 4]
    assert [c.sample[:3] for c in counts.clusters] == ["同意将", "不同意", "同意！", "不同意"]
    assert "59 comments were received: 0 unique comments and 59 copies in 4 campaign " \
           "clusters" in counts.statement


def test_comments_after_the_clustering_are_counted_as_unclustered(consulting_case: str) -> None:
    for body in ("同意。", "同意！", "另一个意见：公交优先。"):
        submit_comment(case_id=consulting_case, client="198.51.100.9",
                       comment=CommentCreate(body=body))
    cluster_case_comments(case_id=consulting_case)
    submit_comment(case_id=consulting_case, client="198.51.100.9",
                   comment=CommentCreate(body="同意"))
    with session_scope() as session:
        counts = campaign_counts(session, case_id=consulting_case)
    assert (counts.comments, counts.campaign_copies, counts.unclustered) == (4, 2, 1)
    cluster_case_comments(case_id=consulting_case)  # a second run replaces the first
    with session_scope() as session:
        counts = campaign_counts(session, case_id=consulting_case)
    assert (counts.comments, counts.campaign_copies, counts.unclustered) == (4, 3, 0)


def test_comment_lists_are_paged(consulting_case: str, client: TestClient) -> None:
    receipts = [submit_comment(case_id=consulting_case, client="198.51.100.7",
                               comment=CommentCreate(body=f"意见 {n}")).receipt_number
                for n in range(5)]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        query = "limit=2" + (f"&after={after}" if after is not None else "")
        page = client.get(f"/api/cases/{consulting_case}/comments?{query}").json()
        assert page["count"] == 5 and len(page["comments"]) <= 2
        seen += [c["receipt_number"] for c in page["comments"]]
        pages += 1
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == receipts and pages == 3
    assert client.get(f"/api/cases/{consulting_case}/comments?limit=501").status_code == 422
