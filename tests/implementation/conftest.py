"""The implementation tests share the programme's fixtures: a decided list's items are the
commonest thing implemented, and the pages are served by the same composed portal."""

from tests.programme.conftest import (  # noqa: F401
    browser,
    client,
    decided_case,
    demo_people,
    make_ballot,
    portal_url,
    quiet_prefect,
)
