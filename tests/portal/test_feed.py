"""Atom feeds: `tag:` ids that survive a move of the portal, links to the case page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

ATOM = {"a": "http://www.w3.org/2005/Atom"}
# RFC 4151: tag:authority,date:specific
TAG_URI = re.compile(r"^tag:[a-z0-9.@-]+,\d{4}(-\d{2}){0,2}:[\x21-\x7e]+$")


def feed_of(client: TestClient, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200
    return ET.fromstring(response.content)


def ids(feed: ET.Element) -> tuple[str, list[str]]:
    return (feed.findtext("a:id", namespaces=ATOM) or "",
            [e.findtext("a:id", namespaces=ATOM) or "" for e in feed.findall("a:entry", ATOM)])


def link(element: ET.Element, rel: str) -> str:
    [found] = [x.get("href") or "" for x in element.findall("a:link", ATOM)
               if x.get("rel", "alternate") == rel]
    return found


def test_feed_and_entry_ids_are_tag_uris_that_do_not_move_with_the_portal(
    client: TestClient, consulting_case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    case_path = f"/cases/{consulting_case}/feed.atom"
    case_feed, all_feed = feed_of(client, case_path), feed_of(client, "/feed.atom")
    case_id, case_entries = ids(case_feed)
    all_id, all_entries = ids(all_feed)
    assert case_id == f"tag:dueprocess,2019-09-01:case/{consulting_case}/notices"
    assert all_id == "tag:dueprocess,2019-09-01:notices"
    [entry_id] = case_entries
    assert TAG_URI.match(entry_id) and entry_id in all_entries  # one notice, one id
    assert re.fullmatch(rf"tag:dueprocess,2019-09-01:case/{consulting_case}/notice/\d+",
                        entry_id)

    monkeypatch.setenv("DUEPROCESS_PORTAL_URL", "https://decisions.example.gov.cn/portal")
    moved = feed_of(client, case_path)
    assert ids(moved) == (case_id, case_entries)  # same ids at the new address
    assert link(moved, "self") == f"https://decisions.example.gov.cn/portal{case_path}"
    [moved_entry] = moved.findall("a:entry", ATOM)
    assert link(moved_entry, "alternate") == (
        f"https://decisions.example.gov.cn/portal/cases/{consulting_case}")


def test_the_case_feed_links_to_the_case_page(client: TestClient, consulting_case: str) -> None:
    case_feed = feed_of(client, f"/cases/{consulting_case}/feed.atom")
    assert link(case_feed, "alternate") == f"http://127.0.0.1:8000/cases/{consulting_case}"
    assert link(feed_of(client, "/feed.atom"), "alternate") == "http://127.0.0.1:8000/"


def test_the_tag_authority_is_a_setting(
    client: TestClient, consulting_case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUEPROCESS_FEED_TAG_AUTHORITY", "bjhd.gov.cn")
    monkeypatch.setenv("DUEPROCESS_FEED_TAG_DATE", "2026-01")
    feed_id, [entry_id] = ids(feed_of(client, f"/cases/{consulting_case}/feed.atom"))
    assert feed_id == f"tag:bjhd.gov.cn,2026-01:case/{consulting_case}/notices"
    assert entry_id.startswith(f"tag:bjhd.gov.cn,2026-01:case/{consulting_case}/notice/")


def test_the_feed_title_follows_the_page_language(
    client: TestClient, consulting_case: str,
) -> None:
    zh = feed_of(client, f"/cases/{consulting_case}/feed.atom")
    assert (zh.findtext("a:title", namespaces=ATOM) or "").startswith("重大行政决策公开平台")
    en = feed_of(client, f"/cases/{consulting_case}/feed.atom?lang=en")
    assert (en.findtext("a:title", namespaces=ATOM) or "").startswith(
        "Major administrative decisions")
    assert en.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
