"""The scale-out stack for the module's tests, and the test process pointed at it.

These tests build their own PostgreSQL databases and Redis database whatever the
session's case database is, so they run once: in the default (SQLite) pass of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scaleout.harness import (
    ScaleOut,
    pointed_at,
    scale_out,
    services_missing,
    wait_for_workers,
)


@pytest.fixture(scope="module")
def scaleout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleOut]:
    missing = services_missing()
    if missing:
        pytest.skip(missing)
    with scale_out(tmp_path_factory.mktemp("scaleout")) as stack, \
            pointed_at(stack.cases_url, stack.api_urls[1]):
        wait_for_workers(stack)
        yield stack
