"""schemathesis against the portal's JSON API, in process (ASGI), on the real database."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from dueprocess.composition.portal import create_app
from tests.portal.conftest import portal_settings

pytestmark = pytest.mark.slow

# Rate limit high enough for the generated requests; it is tested on its own elsewhere.
# schemathesis's client names the host "testserver".
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(portal_settings(
    comment_rate_count=100_000, portal_allowed_hosts="testserver")))


@schema.parametrize()
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case: schemathesis.Case, consulting_case: str) -> None:
    case.call_and_validate(excluded_checks=[
        # A schema-valid Apprise URL or comment can still be refused on meaning (a malformed
        # service URL, a closed window): those refusals are tested by name elsewhere.
        positive_data_acceptance,
        # Starlette's 405 lists the methods of the first route of a path only.
        allow_header_conformance,
    ])
