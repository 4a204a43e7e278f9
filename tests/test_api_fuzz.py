"""/api/v1 under schemathesis: every operation, generated inputs, all of its checks, 0 failures.

The app runs on loopback against the sandbox, as in the other API tests; schemathesis reads
the document the app serves and calls it once with the web session (cookie and X-CSRFToken)
and once with a Bearer token from the public client. The seed is fixed (derandomized
Hypothesis), so a failure is found again by the same run.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from conftest import Browser, serve
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from test_api import public_client_token

from ehbox_webapp.web.api.openapi import openapi_document

EXAMPLES = 40  # per operation and way in: every operation, in about a minute
STATEFUL_SCENARIOS = 40  # sequences of up to 6 linked calls, per way in
FAST_LIMITS = {"RATE_LIMIT_SEND": "100000/minute", "RATE_LIMIT_ACTIONS": "100000/minute"}


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory, sandbox_keystore):
    live = serve(tmp_path_factory.mktemp("fuzz"), sandbox_keystore, FAST_LIMITS, {})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def by_session(fuzzed_app):
    """The web login's session: its cookie, and the page's CSRF token in X-CSRFToken.

    The cookie goes as a header, not in a cookie jar, so that schemathesis can leave it out
    to check that a call without it is refused."""
    with Browser(fuzzed_app) as browser:
        browser.login("dr-alice")
        csrf = browser.csrf_token("/")
        cookie = f"ehbox_session={browser.cookies.get('ehbox_session')}"
    with requests.Session() as bare:
        yield bare, {"X-CSRFToken": csrf, "Cookie": cookie}


@pytest.fixture(scope="module")
def by_bearer(fuzzed_app):
    """The public client's access token."""
    token = public_client_token(fuzzed_app, "nurse-bram")
    with Browser(fuzzed_app) as browser:
        yield browser, {"Authorization": f"Bearer {token}"}


schema = schemathesis.openapi.from_dict(openapi_document())


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


# What JSON Schema cannot say: check digits, the identifier type a quality needs, a document
# or a text but not both. A send the document allows may still break one of these rules.
BEYOND_THE_SCHEMA = {
    "check-digits",
    "type-for-quality",
    "sub-type-for-quality",
    "no-sub-type-for-quality",
    "control-characters",
    "one-of",
    "required",  # a text of spaces only
    "bad-mime-type",
    # An out-of-office period: its dates against today and each other, never oneself.
    "end-before-start",
    "in-the-past",
    "too-long-period",
    "substitute-is-self",
}
# The operations whose rules go beyond the schema: a 422 from them must name such a rule.
RULED = {("POST", "/messages"), ("POST", "/out-of-office")}
# A draft may be kept half written (any text where a quality goes); sending it applies a
# send's rules to what it holds: a 422 then names the draft's faults, not the call's.
DRAFT_SEND = ("POST", "/drafts/{publicationId}/send")


# What no document can say of one call: its Idempotency-Key or publicationId was used before
# for a different message (the generator sends the same key with other messages).
REUSED = {"Idempotency-Key reused", "publicationId reused"}


def refused_only_for_rules_beyond_the_schema(ctx, response, case) -> None:
    """A schema-valid call refused with 422 names only rules the document cannot express."""
    if case.meta.generation.mode.is_positive and response.status_code == 422:
        if response.json().get("title") in REUSED:
            return
        codes = {p.get("code") for p in response.json().get("invalidParams", [])}
        assert codes and codes <= BEYOND_THE_SCHEMA, response.text


def the_drafts_faults_are_named(ctx, response, case) -> None:
    """A draft refused at its send names what in it is wrong."""
    if response.status_code == 422:
        assert response.json().get("invalidParams"), response.text


def checks(case) -> dict:
    """Every check, but for a ruled operation the one that a schema-valid call is accepted:
    a check of what the refusal says stands in for it."""
    operation = (case.operation.method.upper(), case.operation.path)
    instead = (
        refused_only_for_rules_beyond_the_schema
        if operation in RULED
        else the_drafts_faults_are_named
        if operation == DRAFT_SEND
        else None
    )
    return {
        "excluded_checks": [positive_data_acceptance] if instead else None,
        "additional_checks": [instead] if instead else None,
    }


def call(case, live, way_in) -> None:
    session, headers = way_in
    case.call_and_validate(
        base_url=f"{live.url}/api/v1", session=session, headers=headers, timeout=30, **checks(case)
    )


def run_stateful(live, way_in) -> None:
    """Sequences of calls that feed one's answer to the next (a draft kept, then read, saved,
    sent; a message listed, then opened, downloaded, moved): what reaches real messages,
    drafts and periods, which generated ids alone never do."""
    session, headers = way_in

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"base_url": f"{live.url}/api/v1", "session": session, "headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            found = checks(case)
            case.validate_response(
                response,
                excluded_checks=found["excluded_checks"],
                additional_checks=found["additional_checks"],
                transport_kwargs=kwargs,
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


@schema.parametrize()
@FUZZ
def test_with_the_web_session(case, fuzzed_app, by_session):
    call(case, fuzzed_app, by_session)


@schema.parametrize()
@FUZZ
def test_with_a_bearer_token(case, fuzzed_app, by_bearer):
    call(case, fuzzed_app, by_bearer)


def test_linked_calls_with_the_web_session(fuzzed_app, by_session):
    run_stateful(fuzzed_app, by_session)


def test_linked_calls_with_a_bearer_token(fuzzed_app, by_bearer):
    run_stateful(fuzzed_app, by_bearer)
