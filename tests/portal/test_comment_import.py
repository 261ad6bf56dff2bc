"""Bulk comment uploads: only the participation officer of the open stage, every line checked
before anything is stored, stored and logged in batches, and idempotent on a second upload."""

from __future__ import annotations

import io
import json

import pytest
from sqlmodel import col, func, select

from dueprocess.db import session_scope
from dueprocess.errors import Refused
from models.ledger import LogLeaf
from models.notices import Comment, CommentImport
from portal.comments.upload import batch_digest, import_comments
from tests.support import token_for


def jsonl(records: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def upload(case_id: str, data: bytes, *, name: str = "comments.jsonl", handle: str = "li.wei",
           batch_size: int = 100) -> object:
    return import_comments(case_id=case_id, stream=io.BytesIO(data), filename=name,
                           imported_by=handle, token=token_for(handle), batch_size=batch_size)


def stored(case_id: str) -> list[Comment]:
    with session_scope() as session:
        return list(session.exec(select(Comment).where(Comment.case_id == case_id)
                                 .order_by(col(Comment.id))))


def import_leaves(case_id: str) -> list[LogLeaf]:
    with session_scope() as session:
        return [leaf for leaf in session.exec(select(LogLeaf).where(
            LogLeaf.case_id == case_id).order_by(col(LogLeaf.case_seq)))
            if '"comments.imported"' in leaf.record]


CAMPAIGN = "反对停车费上涨，请保留十五分钟免费停车。"


def test_upload_is_stored_in_logged_batches_and_a_second_upload_stores_nothing(
    consulting_case: str,
) -> None:
    records: list[dict[str, object]] = [{"body": CAMPAIGN} for _ in range(150)]
    records += [{"body": f"意见 {n}: 夜间费率请保持不变。", "author": f"居民{n}"}
                for n in range(99)]
    records.append({"id": "REG-0001", "body": "Please publish the\ttraffic study \\ data."})
    data = jsonl(records)

    report = upload(consulting_case, data)
    assert (report.lines, report.stored, report.batches) == (250, 250, 3)  # type: ignore[attr-defined]
    rows = stored(consulting_case)
    assert len(rows) == 250
    assert sum(r.body == CAMPAIGN for r in rows) == 150  # campaign copies are all kept
    assert rows[150].author == "居民0" and rows[-1].source_key == "id:REG-0001"
    assert rows[-1].body == "Please publish the\ttraffic study \\ data."  # stored as sent

    # One log record per batch, whose digest covers the batch's receipts and body digests.
    leaves = import_leaves(consulting_case)
    assert len(leaves) == 3
    first = json.loads(leaves[0].record)
    assert first["digest"] == batch_digest(rows[:100])
    assert first["body"]["count"] == 100

    again = upload(consulting_case, data)
    assert (again.stored, again.already_stored, again.batches) == (0, 250, 0)  # type: ignore[attr-defined]
    # A longer export of the same source: only the added lines are new (two more copies).
    longer = upload(consulting_case, jsonl([*records, {"body": CAMPAIGN}, {"body": CAMPAIGN}]))
    assert longer.stored == 2  # type: ignore[attr-defined]
    assert len(stored(consulting_case)) == 252
    assert len(import_leaves(consulting_case)) == 4


def test_csv_upload_with_a_header(consulting_case: str) -> None:
    data = "id,author,body\nA1,张三,\"多行意见，\n第二行\"\nA2,,同意\n".encode()
    report = upload(consulting_case, data, name="export.csv")
    assert report.stored == 2  # type: ignore[attr-defined]
    rows = stored(consulting_case)
    assert [r.body for r in rows] == ["多行意见，\n第二行", "同意"]
    assert rows[1].author is None


@pytest.mark.parametrize(("line", "expected"), [
    ({"body": "  "}, "line 3, field 'body': empty"),
    ({"author": "x"}, "line 3, field 'body': missing"),
    ({"body": "ok", "email": "a@b"}, "line 3, field 'email': unknown field"),
    ({"body": "bad \x07 bell"}, "line 3, field 'body': contains control characters (U+0007)"),
    ({"body": 5}, "line 3, field 'body': must be text, not int"),
    ({"body": "x" * 5001}, "line 3, field 'body': 5001 characters, over the limit of 5000"),
    ({"body": "ok", "author": "a" * 101}, "line 3, field 'author': 101 characters"),
    ({"id": "A", "body": "dup id"}, "line 3, field 'id': 'A' is also the id on line 1"),
])
def test_a_bad_line_refuses_the_whole_file_naming_line_and_field(
    consulting_case: str, line: dict[str, object], expected: str,
) -> None:
    data = jsonl([{"id": "A", "body": "fine"}, {"body": "also fine"}, line, {"body": "later"}])
    with pytest.raises(Refused) as refused:
        upload(consulting_case, data)
    assert expected in str(refused.value)
    assert stored(consulting_case) == []
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(CommentImport).where(
            CommentImport.case_id == consulting_case)).one() == 0


def test_unreadable_json_and_wrong_suffix_are_refused(consulting_case: str) -> None:
    with pytest.raises(Refused, match=r"line 2, field 'body': not JSON"):
        upload(consulting_case, b'{"body": "ok"}\n{"body": \n')
    with pytest.raises(Exception, match=r"neither \.csv nor \.jsonl"):
        upload(consulting_case, b"{}", name="comments.txt")
    assert stored(consulting_case) == []


def test_only_the_assigned_officer_of_an_open_participation_stage_may_upload(
    case_id: str, consulting_case: str,
) -> None:
    data = jsonl([{"body": "hello"}])
    with pytest.raises(Refused, match=r"'wang\.fang' is not assigned"):
        upload(consulting_case, data, handle="wang.fang")
    assert stored(consulting_case) == []


def test_no_upload_before_the_participation_stage_opens(open_demo_case: object) -> None:
    fresh = open_demo_case()  # type: ignore[operator]
    with pytest.raises(Refused, match="no public-participation stage is open"):
        upload(fresh, jsonl([{"body": "too early"}]))
