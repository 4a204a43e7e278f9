"""/api/v1: the browser-to-server token hand-off, over real HTTP against the sandbox.

The public-client flow is driven from Python the way static/public-client.js
does it: PKCE in the "browser", the token kept by the caller, then /api/v1 with
`Authorization: Bearer`. The server validates the token and exchanges it.
"""

from __future__ import annotations

import time
import uuid
from datetime import date

import pytest
import requests
from conftest import Browser
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from openapi_check import OpenApiChecker

from ehbox_webapp.sandbox import loopback
from ehbox_webapp.web.api.openapi import openapi_document

BRAM = {"type": "INSS", "id": "79031545695", "quality": "NURSE"}
HEADERS = {"Accept": "application/json"}


def public_client_token(live, persona: str = "dr-alice", *, full: bool = False):
    """Log in as the public client: what the page's JavaScript does, step by step.

    The access token, or with `full` the whole token response.
    """
    with Browser(live) as browser:
        tokens = loopback.public_client_login(browser, live.url, persona)
        return tokens if full else tokens["access_token"]


@pytest.fixture
def checker():
    return OpenApiChecker(openapi_document(), "/api/v1")


class Api:
    """Calls /api/v1 with a Bearer token and checks every answer against the OpenAPI."""

    def __init__(self, live, token: str | None, checker: OpenApiChecker):
        self.live, self.token, self.checker = live, token, checker

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {**HEADERS, **kwargs.pop("headers", {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = requests.request(
            method, f"{self.live.url}/api/v1{path}", headers=headers, timeout=15, **kwargs
        )
        self.checker.check(method, f"/api/v1{path}", response)
        return response


@pytest.fixture
def alice(live_app, checker):
    return Api(live_app, public_client_token(live_app, "dr-alice"), checker)


def send_text(api: Api, title: str, key: str | None = None, **extra) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    message = {"recipients": [BRAM], "title": title, "text": "Bonjour Bram", **extra}
    import json

    return api(
        "POST",
        "/messages",
        headers=headers,
        files={"message": (None, json.dumps(message), "application/json")},
    )


def test_public_client_reads_and_sends_with_its_bearer_token(live_app, alice, checker):
    who = alice("GET", "/whoami").json()
    assert who["via"] == "bearer" and who["claims"]["azp"] == "ehbox-webapp-public"
    assert any("exchanged" in c for c in who["checks"])
    box = alice("GET", "/box").json()
    assert box["boxId"] == {"id": "85071212390", "type": "INSS", "quality": "DOCTOR"}
    page = alice("GET", "/messages?folder=INBOX&pageSize=10").json()
    assert len(page["messages"]) == 10 and page["total"] > 100 and "next" in page
    dates = [m["publicationDate"] for m in page["messages"]]
    assert dates == sorted(dates, reverse=True)
    second = alice("GET", page["next"].removeprefix("/api/v1")).json()
    assert not {m["messageId"] for m in second["messages"]} & {
        m["messageId"] for m in page["messages"]
    }
    with_doc = next(
        m for m in page["messages"] if m["contentSpecification"]["contentType"] == "DOCUMENT"
    )
    message = alice("GET", f"/messages/{with_doc['messageId']}?folder=INBOX").json()
    assert message["messageId"] == with_doc["messageId"]
    document = alice("GET", f"/messages/{with_doc['messageId']}/document?folder=INBOX")
    assert document.status_code == 200 and document.content
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    if message.get("annexes"):
        annex = alice("GET", f"/messages/{with_doc['messageId']}/annexes/1?folder=INBOX")
        assert annex.status_code == 200


def test_retried_send_with_the_same_idempotency_key_is_delivered_once(live_app, alice, checker):
    bram = Api(live_app, public_client_token(live_app, "nurse-bram"), checker)
    before = bram("GET", "/messages?folder=INBOX&pageSize=1").json()["total"]
    key = str(uuid.uuid4())
    first = send_text(alice, "Labo resultaten", key)
    assert first.status_code == 201, first.text
    retry = send_text(alice, "Labo resultaten", key)
    assert retry.status_code == 200 and retry.json()["replayed"] is True
    assert retry.json()["publicationId"] == first.json()["publicationId"]
    assert bram("GET", "/messages?folder=INBOX&pageSize=1").json()["total"] == before + 1
    newest = bram("GET", "/messages?folder=INBOX&pageSize=1").json()["messages"][0]
    assert newest["title"] == "Labo resultaten"
    acks = alice("GET", f"/messages/{first.json()['messageId']}/acknowledgments")
    assert acks.status_code == 200


def test_move_and_delete(live_app, alice, checker):
    bram = Api(live_app, public_client_token(live_app, "nurse-bram"), checker)
    send_text(alice, "À déplacer")
    message_id = bram("GET", "/messages?pageSize=1").json()["messages"][0]["messageId"]
    moved = bram(
        "POST",
        "/messages/move",
        json={"folder": "INBOX", "destination": "BININBOX", "messageIds": [message_id]},
    )
    assert moved.json() == {"notMoved": []}
    refused = bram(
        "POST",
        "/messages/move",
        json={"folder": "BININBOX", "destination": "SENTBOX", "messageIds": [message_id]},
    )
    assert refused.status_code == 422
    assert bram("DELETE", f"/messages/{message_id}?folder=BININBOX").status_code == 204
    gone = bram("GET", f"/messages/{message_id}?folder=BININBOX")
    assert gone.status_code == 404
    assert gone.headers["Content-Type"].startswith("application/problem+json")
    many = bram("POST", "/messages/delete", json={"folder": "BININBOX", "messageIds": [message_id]})
    assert many.json() == {"notDeleted": [message_id]}


def test_bad_sends_are_refused_with_the_fields_named(alice):
    bad = send_text(
        alice,
        "",
        recipients=[{"type": "INSS", "id": "123", "quality": "NURSE"}],
        patientInss="85071212391",
    )
    assert bad.status_code == 422
    names = {p["name"] for p in bad.json()["invalidParams"]}
    assert {"title", "recipients[0].id", "patientInss"} <= names
    unknown = send_text(
        alice,
        "Pour personne",
        recipients=[{"type": "INSS", "id": "70020234512", "quality": "NURSE"}],
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "802"


def test_paging_and_folder_errors(alice):
    assert alice("GET", "/messages?pageSize=101").status_code == 400
    assert alice("GET", "/messages?page=0").status_code == 400
    assert alice("GET", "/messages?folder=DRAFTS").status_code == 400


# -- refused Bearer tokens ------------------------------------------------------


@pytest.fixture
def forge(live_app):
    """Make variants of a real public-client token, signed by the realm or by a stranger."""
    signer = live_app.app.extensions["sandbox_app"].extensions["sandbox"]["signer"]
    genuine = public_client_token(live_app)
    claims = jwt.decode(genuine, signer.key).claims

    def make(key=None, kid=None, **change):
        body = {**claims, **change}
        body = {k: v for k, v in body.items() if v is not None}
        if key is None:
            return signer.sign(body)
        return jwt.encode({"alg": "RS256", "kid": kid or "stranger"}, body, key)

    return make


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"aud": ["sandbox-ehealthbox"]}, 401, "not meant for this application"),
        ({"exp": int(time.time()) - 120}, 401, "expired"),
        ({"azp": "someone-else", "aud": ["someone-else"]}, 401, "client this API does not accept"),
        ({"iss": "https://elsewhere.example/realms/healthcare"}, 401, "another issuer"),
        ({"scope": "openid profile"}, 403, "ehbox"),
    ],
)
def test_wrong_bearer_tokens_are_refused(live_app, forge, checker, change, status, reason):
    response = Api(live_app, forge(**change), checker)("GET", "/box")
    assert response.status_code == status
    problem = response.json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert problem["status"] == status and reason in problem["detail"]
    error = "insufficient_scope" if status == 403 else "invalid_token"
    assert f'error="{error}"' in response.headers["WWW-Authenticate"]


def test_token_signed_by_an_unknown_key_is_refused(live_app, forge, checker):
    stranger = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    response = Api(live_app, forge(key=stranger), checker)("GET", "/box")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_no_credentials_is_a_401_problem(live_app, checker):
    response = Api(live_app, None, checker)("GET", "/box")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["title"] == "Authentication required"


def test_browser_token_never_reaches_ehealthbox(live_app, alice, monkeypatch):
    """eHealthBox sees only the exchanged token (its own audience)."""
    seen = []
    services = live_app.app.extensions["services"]
    original = services.ehealthbox_token
    monkeypatch.setattr(
        services, "ehealthbox_token", lambda subject: seen.append(subject) or original(subject)
    )
    alice("GET", "/box")
    assert seen == [alice.token]
    exchanged = services.exchanger.token_for(alice.token, "sandbox-ehealthbox")
    assert exchanged != alice.token
    signer = live_app.app.extensions["sandbox_app"].extensions["sandbox"]["signer"]
    assert jwt.decode(exchanged, signer.key).claims["aud"] == "sandbox-ehealthbox"


# -- the web session as a way in --------------------------------------------------


def test_session_caller_needs_the_csrf_header_on_unsafe_methods(live_app, browser):
    browser.login("dr-alice")
    assert browser.get(browser.url("/api/v1/box"), headers=HEADERS).status_code == 200
    body = {"folder": "INBOX", "destination": "BININBOX", "messageIds": ["x" * 13]}
    refused = browser.post(browser.url("/api/v1/messages/move"), json=body, headers=HEADERS)
    assert refused.status_code == 403 and "CSRF" in refused.json()["title"]
    token = browser.csrf_token("/")
    allowed = browser.post(
        browser.url("/api/v1/messages/move"), json=body, headers={**HEADERS, "X-CSRFToken": token}
    )
    assert allowed.status_code == 200 and allowed.json() == {"notMoved": ["x" * 13]}


def test_cors_only_for_configured_origins(make_live_app, checker):
    live = make_live_app({"CORS_ORIGINS": "https://app.example.be"})
    token = public_client_token(live)
    ok = requests.get(
        f"{live.url}/api/v1/box",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Origin": "https://app.example.be"},
    )
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.be"
    other = requests.get(
        f"{live.url}/api/v1/box",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = requests.options(
        f"{live.url}/api/v1/messages",
        timeout=10,
        headers={"Origin": "https://app.example.be", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.ok  # Flask answers OPTIONS itself; the CORS headers are ours
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]


def test_every_operation_is_exercised_and_conforms(live_app, alice, checker):
    """The implementation provably follows /api/v1/openapi.json, operation by operation."""
    spec = requests.get(f"{live_app.url}/api/v1/openapi.json", timeout=5).json()
    assert spec == openapi_document()
    Api(live_app, None, checker)("GET", "/openapi.json")
    Api(live_app, None, checker)("GET", "/")  # the index, for a program asking for JSON
    alice("GET", "/whoami")
    alice("GET", "/box")
    page = alice("GET", "/messages?pageSize=30").json()
    with_annex = next(m for m in page["messages"] if m["hasAnnex"])
    mid = with_annex["messageId"]
    alice("GET", f"/messages/{mid}")
    alice("GET", f"/messages/{mid}/document")
    alice("GET", f"/messages/{mid}/annexes/1")
    sent = send_text(alice, "Conformité").json()
    alice("GET", f"/messages/{sent['messageId']}/acknowledgments")
    alice(
        "POST",
        "/messages/move",
        json={"folder": "SENTBOX", "destination": "BINSENTBOX", "messageIds": [sent["messageId"]]},
    )
    alice(
        "POST", "/messages/delete", json={"folder": "BINSENTBOX", "messageIds": [sent["messageId"]]}
    )
    send_text(alice, "Encore")
    again = alice("GET", "/messages?folder=SENTBOX&pageSize=1").json()["messages"][0]
    alice("DELETE", f"/messages/{again['messageId']}?folder=SENTBOX")
    send_text(alice, "Cherchez-moi")
    found = alice("GET", "/messages/search?q=cherchez&folder=SENTBOX").json()
    assert found["complete"] and [m["title"] for m in found["messages"]] == ["Cherchez-moi"]
    book = alice("GET", "/contacts?q=bram").json()["contacts"]
    assert [c["name"] for c in book] == ["Bram Janssens"]
    today = date.today().isoformat()
    period = alice(
        "POST",
        "/out-of-office",
        json={"startDate": today, "endDate": today, "substitutes": [book[0]["box"]]},
    ).json()
    listed = alice("GET", "/out-of-office").json()["outOfOffices"]
    assert [p["id"] for p in listed] == [period["id"]]
    alice("DELETE", f"/out-of-office/{period['id']}")
    draft = alice("POST", "/drafts", json={"title": "Later"}).json()["publicationId"]
    alice("GET", "/drafts")
    alice("GET", f"/drafts/{draft}")
    alice("POST", f"/drafts/{draft}", json={"recipients": [BRAM], "title": "Nu", "text": "Hoi"})
    assert alice("POST", f"/drafts/{draft}/send").json()["publicationId"] == draft
    alice("DELETE", f"/drafts/{draft}")  # sent, so already gone: a 404, as documented
    assert checker.unseen() == set()


def test_concurrent_first_calls_make_one_token_exchange(live_app, monkeypatch):
    """Four requests arriving together for a new token ask the realm once, not four times."""
    import threading

    services = live_app.app.extensions["services"]
    token = public_client_token(live_app)
    calls = []
    original = services.iam.exchange_token

    def counting(subject, audience):
        calls.append(audience)
        time.sleep(0.2)  # a slow realm: the others arrive while this one waits
        return original(subject, audience)

    monkeypatch.setattr(services.iam, "exchange_token", counting)
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(services.exchanger.token_for(token, "sandbox-ehealthbox"))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1 and len(set(results)) == 1 and len(results) == 4


def test_a_token_whose_realm_session_ended_is_the_callers_401_not_an_outage(live_app):
    """Logged out at I.AM Connect: the exchange is refused, and the API says 401, not 502."""
    tokens = public_client_token(live_app, full=True)
    realm = live_app.sandbox("/auth/realms/healthcare/protocol/openid-connect/logout")
    ended = requests.get(realm, params={"id_token_hint": tokens["id_token"]}, timeout=10)
    assert ended.status_code == 200
    answer = requests.get(
        f"{live_app.url}/api/v1/box",
        headers={**HEADERS, "Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert "Log in again" in answer.json()["detail"]


def test_the_request_check_is_built_once_whatever_host_the_caller_names(alice):
    # The checker was built (a quarter of a second, kept for ever) for each `Host` a
    # caller sent: any caller could make the server build and keep one per name.
    from ehbox_webapp.web.api import openapi

    for host in ("a.example", "b.example", "c.example:8443"):
        answer = alice("GET", "/messages?folder=INBOX&pageSize=0", headers={"Host": host})
        assert answer.status_code == 400  # checked, under whatever name
        assert answer.json()["invalidParams"][0]["name"] == "pageSize"
    assert openapi.checker.cache_info().currsize == 1


def test_a_read_checked_once_is_not_a_pass_for_other_parameters(alice):
    # Valid reads are remembered (checking them again costs as much as the call); the
    # same path with other parameters is checked afresh.
    for _ in range(2):
        assert alice("GET", "/messages?folder=INBOX&pageSize=5").status_code == 200
    assert alice("GET", "/messages?folder=INBOX&pageSize=0").status_code == 400
    assert alice("GET", "/messages?folder=INBOX&pageSize=5&page=x").status_code == 400
