"""Hostile input (issue 25): no request the app or its sandbox reads ends in a 500 or a hang.

Every JSON either of them reads is sent nested 100,000 brackets deep and 1,000 valid levels
deep; tokens come with an `alg` outside Latin-1 or holding a `"`; text holds lone UTF-16
surrogates; paths hold Unicode digits; an annex's file name holds a bare CR. Each gets a
clean 4xx, at once, and nothing is sent.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from conftest import Browser, serve
from openapi_check import OpenApiChecker
from test_api import BRAM, public_client_token
from test_instances import redis_url, start_instances  # noqa: F401  (fixtures)

from ehbox_webapp.mailbox import rules
from ehbox_webapp.web.api.openapi import openapi_document

OPEN_BRACKETS = "[" * 100_000
VALID_LEVELS = "[" * 1000 + "]" * 1000
NESTED = pytest.mark.parametrize(
    "nested", [OPEN_BRACKETS, VALID_LEVELS], ids=["100000-open-brackets", "1000-valid-levels"]
)
FAST_LIMITS = {"RATE_LIMIT_SEND": "100000/minute", "RATE_LIMIT_ACTIONS": "100000/minute"}
AGENT = {"User-Agent": "hostile-input-test/1.0", "From": "tests@example.be"}
TIMEOUT = 20  # a hang fails here, not at the end of the run
# Whatever the token held: nothing of it in a header (Latin-1 only; a `"` adds parameters).
REFUSED_CHALLENGE = (
    'Bearer error="invalid_token", error_description="The access token is not valid."'
)


@pytest.fixture(scope="module")
def live(tmp_path_factory, sandbox_keystore):
    app = serve(tmp_path_factory.mktemp("hostile"), sandbox_keystore, FAST_LIMITS, {})
    yield app
    app.stop()


@pytest.fixture(scope="module")
def token(live) -> str:
    return public_client_token(live, "dr-alice")


@pytest.fixture(scope="module")
def box_token(live, token) -> str:
    """What the app sends the eHealthBox for Alice: her token, exchanged."""
    return live.app.extensions["services"].ehealthbox_token(token)


def api(live, method: str, path: str, token: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(
        method, f"{live.url}/api/v1{path}", headers=headers, timeout=TIMEOUT, **kwargs
    )


def segment(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_with(header: str = '{"alg":"RS256","typ":"JWT"}', payload: str = '{"sub":"x"}') -> str:
    return f"{segment(header)}.{segment(payload)}.{segment(b'not a signature')}"


def refused(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    return response.json()


# -- the app's JSON ------------------------------------------------------------------------

JSON_BODIES = [
    "/messages/move",
    "/messages/delete",
    "/drafts",
    "/drafts/ABCDEFGHIJKLM",
    "/out-of-office",
]


@NESTED
@pytest.mark.parametrize("path", JSON_BODIES)
def test_nested_json_bodies_are_a_400(live, token, path, nested):
    response = api(
        live, "POST", path, token, data=nested, headers={"Content-Type": "application/json"}
    )
    body = refused(response, 400)
    assert body["invalidParams"] == [
        {"name": "body", "code": "too-deep", "reason": "it is nested more than 32 levels deep"}
    ]


@NESTED
@pytest.mark.parametrize("as_file", [False, True], ids=["field", "file-part"])
def test_a_nested_message_part_is_a_400_and_nothing_is_sent(live, token, nested, as_file):
    part = ("message.json", nested, "application/json") if as_file else (None, nested)
    response = api(live, "POST", "/messages", token, files={"message": part})
    assert refused(response, 400)["invalidParams"][0]["name"] == "message"


def test_a_message_part_within_bounds_still_sends(live, token):
    """32 levels of an unknown field are refused by the schema, not by the depth bound."""
    message = {"recipients": [BRAM], "title": "Within bounds", "text": "Hallo"}
    response = api(live, "POST", "/messages", token, files={"message": (None, json.dumps(message))})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "text",
    [
        '{"recipients": [], "title\\ud800": "a"}',  # a lone surrogate in a key
        '{"recipients": [], "title": "a\\udc00b"}',  # ... in a value
    ],
    ids=["key", "value"],
)
def test_lone_surrogates_in_the_message_part_are_a_400(live, token, text):
    response = api(live, "POST", "/messages", token, files={"message": (None, text)})
    assert refused(response, 400)["invalidParams"][0]["code"] == "not-unicode"


def test_a_body_that_is_not_utf8_is_a_400(live, token):
    raw = b'{"folder": "INBOX", "messageIds": ["\xed\xa0\x80"]}'  # a surrogate, UTF-8 encoded
    response = api(
        live, "POST", "/messages/delete", token, data=raw,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert refused(response, 400)["invalidParams"][0]["code"] == "not-unicode"


# -- tokens the app is handed --------------------------------------------------------------

BAD_TOKENS = {
    # A header is at most 8 kB in most servers: 3,000 brackets fit, and still overflow a parser
    # that recurses (the standard library's, at a recursion limit of 1,000).
    "header-open-brackets": jwt_with(header="[" * 3000),
    "header-1000-levels": jwt_with(header=VALID_LEVELS),
    "payload-1000-levels": jwt_with(payload=VALID_LEVELS),
    "alg-snowman": jwt_with(header='{"alg":"☃","typ":"JWT"}'),
    "alg-snowman-escaped": jwt_with(header='{"alg":"\\u2603"}'),
    "alg-with-a-quote": jwt_with(header='{"alg":"RS256\\", error=\\"none"}'),
    "lone-surrogate": jwt_with(header='{"alg":"\\ud800"}'),
    "header-not-base64": "%%%." + segment("{}") + ".sig",
}


@pytest.mark.parametrize("bad", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_bearer_token_is_a_clean_401_with_a_fixed_challenge(live, bad):
    response = api(live, "GET", "/box", bad)
    refused(response, 401)
    assert response.headers["WWW-Authenticate"] == REFUSED_CHALLENGE
    assert bad not in response.text


@pytest.mark.parametrize(
    "bad",
    [jwt_with(header=OPEN_BRACKETS), jwt_with(header=VALID_LEVELS), jwt_with(payload=VALID_LEVELS)],
    ids=["header-open-brackets", "header-1000-levels", "payload-1000-levels"],
)
def test_a_nested_logout_token_is_a_400(live, bad):
    response = requests.post(
        f"{live.url}/auth/backchannel-logout", data={"logout_token": bad}, timeout=TIMEOUT
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def resigned(live, token: str, **change) -> str:
    """`token`'s own claims with `change`, signed again by the sandbox realm's key."""
    signer = live.app.extensions["sandbox_app"].extensions["sandbox"]["signer"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return signer.sign({**claims, **change})


@pytest.mark.parametrize(
    "change",
    [{"nbf": 600}, {"iat": 1_000_000}, {"nbf": "soon"}],
    ids=["nbf-in-10-minutes", "iat-in-11-days", "nbf-not-a-time"],
)
def test_a_token_not_valid_yet_is_refused(live, token, change):
    now = int(time.time())
    bad = resigned(
        live, token, **{k: v + now if isinstance(v, int) else v for k, v in change.items()}
    )
    body = refused(api(live, "GET", "/whoami", bad), 401)
    assert "nbf" in body["detail"] or "iat" in body["detail"]


def test_a_token_a_little_ahead_of_our_clock_is_accepted(live, token):
    """Within the leeway for clocks that disagree: issued 30 s 'in the future'."""
    now = int(time.time())
    ahead = resigned(live, token, iat=now + 30, nbf=now + 30)
    assert api(live, "GET", "/whoami", ahead).status_code == 200


def test_a_token_expired_seconds_ago_is_a_401_not_a_502(live, token):
    """Inside the app's leeway but past the realm's: the exchange is refused, the caller's
    to renew."""
    expired = resigned(live, token, exp=int(time.time()) - 20)
    response = api(live, "GET", "/box", expired)
    refused(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


# -- paths and parts -----------------------------------------------------------------------


def test_unicode_digits_are_no_annex_index_in_the_api(live, token):
    message_id = api(live, "GET", "/messages?pageSize=1", token).json()["messages"][0]["messageId"]
    assert api(live, "GET", f"/messages/{message_id}/annexes/0", token).status_code != 404
    for digit in ("%EF%BC%91", "%D9%A1", "%E0%A5%A7"):  # full-width, Arabic-Indic, Devanagari 1
        assert api(live, "GET", f"/messages/{message_id}/annexes/{digit}", token).status_code == 404


def test_unicode_digits_are_no_annex_index_on_the_pages(live, token):
    message_id = api(live, "GET", "/messages?pageSize=1", token).json()["messages"][0]["messageId"]
    with Browser(live) as browser:
        browser.login("dr-alice")
        base = browser.url(f"/box/INBOX/{message_id}/annexes")
        assert browser.get(f"{base}/%EF%BC%91", timeout=TIMEOUT).status_code == 404
        assert browser.get(f"{base}/%EF%BC%91/inline", timeout=TIMEOUT).status_code == 404


def test_an_annex_whose_name_holds_a_bare_cr_is_refused_by_name(live, token):
    sent_before = api(live, "GET", "/messages?folder=SENTBOX&pageSize=1", token).json()["total"]
    message = json.dumps({"recipients": [BRAM], "title": "A bare CR", "text": "Hallo"})
    boundary = "hostile-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n{message}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="annex"; '
        f'filename="report\rfinal.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    response = api(
        live, "POST", "/messages", token, data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    problems = refused(response, 422)["invalidParams"]
    named = [(p["name"], p["code"]) for p in problems]
    assert ("annex", "unreadable-file-part") in named, problems
    sent_after = api(live, "GET", "/messages?folder=SENTBOX&pageSize=1", token).json()["total"]
    assert sent_after == sent_before


# -- the document says what the app answers ------------------------------------------------


def test_every_operation_documents_413():
    """Any request may carry a body larger than the limit, even one no operation expects."""
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "delete") and operation.get("security") != []:
                assert "413" in operation["responses"], f"{method.upper()} {path}"


def test_a_get_with_an_oversized_body_is_a_documented_413(live, token):
    limit = live.app.config["MAX_CONTENT_LENGTH"]
    response = api(live, "GET", "/box", token, data=b"x" * (limit + 1))
    OpenApiChecker(openapi_document(), "/api/v1").check("GET", "/api/v1/box", response)
    assert response.status_code == 413


def test_a_body_over_the_request_limit_is_a_documented_413(live, token):
    limit = live.app.config["MAX_CONTENT_LENGTH"]
    response = api(
        live, "POST", "/messages/move", token, data=b" " * (limit + 1),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    OpenApiChecker(openapi_document(), "/api/v1").check("POST", "/api/v1/messages/move", response)
    assert response.status_code == 413


def test_drafts_are_listed_under_ids_their_schema_allows(live, token):
    """The `Draft` schema and the drafts store take their PublicationId pattern from one rule."""
    document = openapi_document()
    assert (
        document["components"]["schemas"]["Draft"]["properties"]["publicationId"]["pattern"]
        == rules.PUBLICATION_ID_PATTERN
    )
    sub = api(live, "GET", "/whoami", token).json()["claims"]["sub"]
    live.app.extensions["services"].drafts.open(sub, "ABCDEFGHIJKL").save(
        {"recipients": [], "title": "Twelve", "text": "x"}
    )
    response = api(live, "GET", "/drafts", token)
    OpenApiChecker(document, "/api/v1").check("GET", "/api/v1/drafts", response)
    assert "ABCDEFGHIJKL" in {d["publicationId"] for d in response.json()["drafts"]}
    assert api(live, "GET", "/drafts/ABCDEFGHIJKL", token).status_code == 200


# -- the sandbox's JSON and tokens -----------------------------------------------------------


def box(live, method: str, path: str, token: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **AGENT, **kwargs.pop("headers", {})}
    return requests.request(
        method, live.sandbox(f"/ehealthbox/v1{path}"), headers=headers, timeout=TIMEOUT, **kwargs
    )


@NESTED
@pytest.mark.parametrize("path", ["/messages/move", "/messages/delete", "/outOfOffices"])
def test_the_sandbox_refuses_nested_bodies(live, box_token, path, nested):
    json_type = {"Content-Type": "application/json"}
    response = box(live, "POST", path, box_token, data=nested, headers=json_type)
    assert response.status_code == 400, response.text[:300]


@NESTED
def test_the_sandbox_refuses_a_nested_message_part(live, box_token, nested):
    response = box(live, "POST", "/messages", box_token, files={"message": (None, nested)})
    assert response.status_code == 400, response.text[:300]


def test_the_sandbox_refuses_lone_surrogates_in_a_message(live, box_token):
    text = '{"title\\ud800": "x"}'
    response = box(live, "POST", "/messages", box_token, files={"message": (None, text)})
    assert response.status_code == 400, response.text[:300]


@NESTED
@pytest.mark.parametrize("path", ["/ehealthbox/_faults", "/auth/_faults"])
def test_the_sandbox_fault_injection_refuses_nested_bodies(live, path, nested):
    response = requests.post(
        live.sandbox(path), data=nested, headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert response.status_code == 400, response.text[:300]


@pytest.mark.parametrize("bad", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_the_sandbox_ehealthbox_refuses_bad_tokens_cleanly(live, bad):
    response = box(live, "GET", "/boxInfo", bad)
    assert response.status_code == 401, response.text[:300]
    response.headers["WWW-Authenticate"].encode("latin-1")
    assert "☃" not in response.headers["WWW-Authenticate"]
    assert "error=\\" not in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "bad",
    [jwt_with(header=OPEN_BRACKETS), jwt_with(header=VALID_LEVELS), jwt_with(payload=VALID_LEVELS)],
    ids=["header-open-brackets", "header-1000-levels", "payload-1000-levels"],
)
def test_the_sandbox_realm_refuses_nested_tokens(live, bad):
    realm = live.sandbox("/auth/realms/healthcare/protocol/openid-connect")
    assertion = requests.post(
        f"{realm}/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": bad,
        },
        timeout=TIMEOUT,
    )
    assert assertion.status_code in (400, 401) and assertion.json()["error"] == "invalid_client"
    logout = requests.post(f"{realm}/logout", data={"id_token_hint": bad}, timeout=TIMEOUT)
    assert logout.status_code == 400, logout.text[:300]


def test_gunicorn_answers_a_token_with_a_foreign_alg_with_a_clean_401(start_instances):  # noqa: F811
    """gunicorn refuses a header outside Latin-1 with a raw 500 of its own: the challenge
    must hold nothing of the token."""
    first, _ = start_instances()
    for bad in (BAD_TOKENS["alg-snowman"], BAD_TOKENS["alg-with-a-quote"]):
        response = requests.get(
            f"{first}/api/v1/box",
            headers={"Authorization": f"Bearer {bad}", "Accept": "application/json"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 401, response.text[:300]
        assert response.headers["WWW-Authenticate"] == REFUSED_CHALLENGE
        assert response.headers["Content-Type"].startswith("application/problem+json")
