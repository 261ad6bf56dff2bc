"""The canonical channel a one-time code's pseudonym is the hash of (a pure function), and
the code's `<locator>-<secret>` form."""

from __future__ import annotations

import pytest

from notifications.one_time_codes import canonical_channel, code_text, parse_code
from notifications.transport.channels import InvalidChannel

ONE_MAILBOX = ("mailto://alice@example.com", "mailto://Alice@Example.COM",
               "mailtos://alice@example.com", "mailto://alice@example.com?format=text",
               "mailto://alice+vote2@example.com", "mailtos://ALICE+x@EXAMPLE.com/?cto=30",
               "mailto://user:secret@smtp.example.org?to=alice@example.com")


def test_the_issues_five_ways_to_type_one_mailbox_are_one_channel() -> None:
    assert {canonical_channel(url) for url in ONE_MAILBOX} == {"mailto://alice@example.com"}


@pytest.mark.parametrize(("urls", "canonical"), [
    (("json://host/same", "json://host/same/", "jsons://HOST/same//?method=GET",
      "json://host:80/same", "jsons://host:443/same#x"), "json://host/same"),
    (("json://host:8080/a/b", "jsons://Host:8080/a/b/"), "json://host:8080/a/b"),
    (("ntfy://ntfy.sh/Topic", "ntfys://ntfy.sh/Topic/"), "ntfy://ntfy.sh/Topic"),
    (("xml://user:pw@host/hook", "xmls://user:other@host/hook/"), "xml://user@host/hook"),
])
def test_a_webhook_is_one_channel_whatever_its_scheme_slash_query_or_password(
    urls: tuple[str, ...], canonical: str,
) -> None:
    assert {canonical_channel(url) for url in urls} == {canonical}


def test_what_tells_channels_apart_is_kept() -> None:
    distinct = ["mailto://alice@example.com", "mailto://alice@example.org",
                "mailto://bob@example.com", "json://host/same", "json://host/Same",
                "json://host/same/more", "json://host:8080/same", "json://other/same",
                "form://host/same", "xml://host/same"]
    assert len({canonical_channel(url) for url in distinct}) == len(distinct)


def test_plus_tags_are_kept_where_configured_and_case_folded() -> None:
    assert canonical_channel("mailto://Alice+Vote2@example.com", plus_tags="keep") == \
        "mailto://alice+vote2@example.com"
    assert canonical_channel("mailto://Alice+Vote2@example.com") == "mailto://alice@example.com"


@pytest.mark.parametrize("url", [*ONE_MAILBOX, "jsons://HOST:8443//a//b/?x=1",
                                 "discord://123/AbC", "ntfys://ntfy.sh/Topic"])
def test_canonicalising_twice_changes_nothing(url: str) -> None:
    once = canonical_channel(url)
    assert canonical_channel(once) == once


@pytest.mark.parametrize(("url", "message"), [
    ("", r"url: an Apprise URL is required"),
    ("alice@example.com", r"url: not an Apprise URL"),
    ("gopher://host/x", r"url: 'gopher://' is not an Apprise notification scheme"),
])
def test_a_channel_that_is_no_channel_is_refused_naming_the_field(url: str,
                                                                   message: str) -> None:
    with pytest.raises(InvalidChannel, match=message):
        canonical_channel(url)


def test_a_code_reads_locator_dash_secret() -> None:
    text = code_text(locator=17, secret="04935821")
    assert text == "17-04935821"
    assert parse_code(f"  {text} ") == (17, "04935821") == parse_code("17 - 04935821")
    for bad in ("04935821", "17-4935821", "x-04935821", "17-049358210", ""):
        assert parse_code(bad) is None
