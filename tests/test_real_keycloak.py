"""The app against a real Keycloak 26 set up as I.AM Connect's realms (`make keycloak`).

The app changes nothing but IAM_ISSUER and IAM_M2M_ISSUER (README, "Against a real
Keycloak"); its eHealthBox stays the sandbox's, which trusts the realms' keys. Checked:

- both realms' discovery documents, as the app reads them;
- the web login, in Chromium and over plain HTTP: code + PKCE S256 + the signed client
  assertion, which Keycloak checks with the keys it reads from the app's JWKS URL; then a
  mailbox page and an /api/v1 call, behind the token exchanged for the eHealthBox;
- the token exchange to the eHealthBox audience, both ways Keycloak offers: the standard
  V2 exchange of the confidential client (the app's server side), the legacy V1 exchange
  of the public client under its fine-grained permission (eHealth's browser sample);
- M2M: client credentials with the signed assertion, and `ehbox m2m list` behind it;
- the refusals, each with Keycloak's own answer: an assertion signed by another key, an
  expired assertion, a replayed assertion `jti`, a code used twice, a redirect URI not
  registered, PKCE missing, an unknown `client_id`.
"""

from __future__ import annotations

import secrets
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from keycloak_fixtures import KeycloakBrowser, assertion, pkce

from ehbox_webapp.ehealth.iam import ASSERTION_TYPE, TOKEN_EXCHANGE, IamClient, TokenError
from ehbox_webapp.ehealth.keystore import SigningIdentity

# real_keycloak and kc_app: tests/keycloak_fixtures.py (a plugin: one Keycloak per run).

ALICE = "Alice Peeters"
ALICE_SSIN = "85071212390"
EHBOX_AUDIENCE = "sandbox-ehealthbox"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture
def browser(kc_app, real_keycloak):
    with KeycloakBrowser(kc_app, real_keycloak.persona_password) as b:
        yield b


def services(kc_app):
    return kc_app.app.extensions["services"]


def session_tokens(kc_app, browser) -> dict:
    store = services(kc_app).store
    return store.get("session:" + browser.cookies.get("ehbox_session"))


def code_request(kc_app, client_id: str = "ehbox-webapp", **changes: str) -> dict[str, str]:
    """The authorization request the app's confidential client sends, with `changes`."""
    verifier, challenge = pkce()
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid ehbox",
        "redirect_uri": f"{kc_app.url}/auth/callback",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "verifier": verifier,
        **changes,
    }
    return {k: v for k, v in query.items() if v is not None}


def authorize(browser, kc_app, **query) -> dict:
    query = dict(query)
    query.pop("verifier", None)
    return browser.authorize(services(kc_app).iam.endpoint("authorization_endpoint"), **query)


# -- discovery ---------------------------------------------------------------------------


def test_the_app_reads_both_realms_of_keycloak(kc_app, real_keycloak):
    svc = services(kc_app)
    for client, realm in ((svc.iam, "healthcare"), (svc.m2m, "M2M")):
        metadata = client.metadata
        assert metadata["issuer"] == real_keycloak.issuer(realm)
        assert (
            metadata["token_endpoint"]
            == f"{real_keycloak.issuer(realm)}/protocol/openid-connect/token"
        )
        assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
        assert "S256" in metadata["code_challenge_methods_supported"]
    assert svc.iam.metadata["backchannel_logout_supported"] is True


# -- the web login -------------------------------------------------------------------------


def test_a_persona_logs_in_at_keycloak_and_reads_the_inbox(kc_app, real_keycloak, browser):
    inbox = browser.login("dr-alice")
    assert inbox.status_code == 200
    assert ALICE in inbox.text
    # Keycloak checked the app's signed assertion with keys read from the app's JWKS URL.
    assert real_keycloak.jwks_hits

    data = session_tokens(kc_app, browser)
    claims = services(kc_app).iam.decode(data["tokens"]["id_token"], ["RS256"])
    assert claims["iss"] == real_keycloak.issuer()
    assert claims["ssin"] == ALICE_SSIN
    assert claims["sid"] and claims["azp"] == "ehbox-webapp"

    box = browser.get(browser.url("/box/INBOX"), timeout=15)
    assert box.status_code == 200, box.text[:500]
    api = browser.get(
        browser.url("/api/v1/box"), headers={"Accept": "application/json"}, timeout=15
    )
    assert api.status_code == 200, api.text[:500]
    assert api.json()["boxId"]["id"] == ALICE_SSIN


def test_the_web_login_end_to_end_in_chromium(kc_app, real_keycloak, page):
    page.goto(f"{kc_app.url}/login")
    assert page.url.startswith(real_keycloak.issuer())  # Keycloak's own login page
    page.fill("#username", "nurse-bram")
    page.fill("#password", real_keycloak.persona_password)
    page.click("#kc-login")
    page.wait_for_url(f"{kc_app.url}/**")
    assert "Bram Janssens" in page.content()
    assert real_keycloak.jwks_hits, "Keycloak never read the app's JWKS URL"

    page.goto(f"{kc_app.url}/box/INBOX")
    assert page.locator("main").count() == 1
    answer = page.goto(f"{kc_app.url}/api/v1/box")
    assert answer.status == 200, answer.text()[:500]
    assert answer.json()["boxId"]["id"] == "79031545695"


# -- token exchange --------------------------------------------------------------------------


def test_v2_exchange_of_the_confidential_client_for_the_ehealthbox(kc_app, real_keycloak, browser):
    browser.login("dr-alice")
    svc = services(kc_app)
    user_token = session_tokens(kc_app, browser)["tokens"]["access_token"]
    token = svc.ehealthbox_token(user_token)
    claims = svc.iam.decode(token, ["RS256"])
    original = svc.iam.decode(user_token, ["RS256"])
    assert claims["aud"] == EHBOX_AUDIENCE  # V2 narrows the audience to what was asked
    assert claims["azp"] == "ehbox-webapp"
    assert claims["sub"] == original["sub"] and claims["ssin"] == ALICE_SSIN
    assert claims["iss"] == real_keycloak.issuer()

    with pytest.raises(TokenError) as refused:
        svc.iam.exchange_token(user_token, "an-api-nobody-registered")
    assert refused.value.error == "invalid_client"
    assert refused.value.description == "Audience not found"


def public_client_token(browser, kc_app) -> str:
    """What /public-client/ does in JavaScript: code + PKCE as the public client."""
    query = code_request(
        kc_app, "ehbox-webapp-public", redirect_uri=f"{kc_app.url}/public-client/", nonce=None
    )
    verifier = query["verifier"]
    answer = authorize(browser, kc_app, **query)
    assert "code" in answer["query"], answer
    tokens = requests.post(
        services(kc_app).iam.endpoint("token_endpoint"),
        timeout=15,
        data={
            "grant_type": "authorization_code",
            "client_id": "ehbox-webapp-public",
            "code": answer["query"]["code"],
            "redirect_uri": query["redirect_uri"],
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["access_token"]


def test_v1_exchange_of_the_public_client_as_in_ehealths_sample(kc_app, browser):
    """eHealth's browser sample exchanges from its public client: Keycloak's legacy V1."""
    svc = services(kc_app)
    access_token = public_client_token(browser, kc_app)
    answer = requests.post(
        svc.iam.endpoint("token_endpoint"),
        timeout=15,
        data={
            "grant_type": TOKEN_EXCHANGE,
            "client_id": "ehbox-webapp-public",
            "subject_token": access_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "requested_token_type": ACCESS_TOKEN_TYPE,
            "audience": EHBOX_AUDIENCE,
        },
    )
    assert answer.status_code == 200, answer.text
    exchanged = answer.json()["access_token"]
    claims = svc.iam.decode(exchanged, ["RS256"])
    assert EHBOX_AUDIENCE in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert claims["ssin"] == ALICE_SSIN
    # The sandbox eHealthBox takes it as eHealth's would.
    box = requests.get(
        svc.settings.ehbox_api_url + "/boxInfo",
        timeout=15,
        headers={
            "Authorization": f"Bearer {exchanged}",
            "User-Agent": "ehbox-webapp-tests/1.0",
            "From": "tests@example.org",
        },
    )
    assert box.status_code == 200, box.text[:500]

    # Without the permission (another audience), V1 refuses the public client.
    other = requests.post(
        svc.iam.endpoint("token_endpoint"),
        timeout=15,
        data={
            "grant_type": TOKEN_EXCHANGE,
            "client_id": "ehbox-webapp-public",
            "subject_token": access_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": "ehbox-webapp",
        },
    )
    assert other.status_code == 403, other.text
    assert other.json()["error"] == "access_denied"


def test_a_public_client_token_is_accepted_by_the_api_and_exchanged(kc_app, browser):
    access_token = public_client_token(browser, kc_app)
    box = requests.get(
        f"{kc_app.url}/api/v1/box",
        timeout=15,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
    )
    assert box.status_code == 200, box.text[:500]
    assert box.json()["boxId"]["id"] == ALICE_SSIN


# -- M2M -------------------------------------------------------------------------------------


def test_m2m_client_credentials_and_the_organisations_box(kc_app, real_keycloak):
    svc = services(kc_app)
    tokens = svc.m2m.client_credentials()
    claims = svc.m2m.decode(tokens.access_token, ["RS256"])
    assert claims["iss"] == real_keycloak.issuer("M2M")
    assert claims["azp"] == "cbe-0899999949"
    assert "ehbox" in claims["scope"].split()

    result = kc_app.app.test_cli_runner().invoke(args=["ehbox", "m2m", "list"])
    assert result.exit_code == 0, result.output
    assert "message(s) of" in result.output and "in INBOX" in result.output


# -- refusals --------------------------------------------------------------------------------


def m2m_token_request(kc_app, client_assertion: str, client_id: str = "cbe-0899999949"):
    return requests.post(
        services(kc_app).m2m.endpoint("token_endpoint"),
        timeout=15,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion,
        },
    )


def test_refused_an_assertion_signed_by_another_key(kc_app, real_keycloak):
    svc = services(kc_app)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor = IamClient(
        real_keycloak.issuer("M2M"),
        "cbe-0899999949",
        http=svc.http,
        identity=SigningIdentity(key, svc.identity.certificate),
        timeout=10,
    )
    with pytest.raises(TokenError) as refused:
        impostor.client_credentials()
    # Keycloak looked for the assertion's kid at the app's JWKS URL and found no such key.
    assert (refused.value.error, refused.value.description) == (
        "invalid_client",
        "Unable to load public key",
    )
    assert svc.m2m.client_credentials().access_token  # the genuine key still works


def test_refused_an_expired_assertion(kc_app, real_keycloak):
    svc = services(kc_app)
    old = int(time.time()) - 600
    answer = m2m_token_request(
        kc_app,
        assertion(
            svc.identity, "cbe-0899999949", real_keycloak.issuer("M2M"), iat=old, exp=old + 60
        ),
    )
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "invalid_client", "error_description": "Token is not active"}


def test_refused_a_replayed_assertion_jti(kc_app, real_keycloak):
    svc = services(kc_app)
    once = assertion(svc.identity, "cbe-0899999949", real_keycloak.issuer("M2M"))
    assert m2m_token_request(kc_app, once).status_code == 200
    again = m2m_token_request(kc_app, once)
    assert again.status_code == 400, again.text
    assert again.json() == {"error": "invalid_client", "error_description": "Token reuse detected"}


def test_refused_a_code_used_twice(kc_app, browser):
    svc = services(kc_app)
    query = code_request(kc_app)
    answer = authorize(browser, kc_app, **query)
    code = answer["query"]["code"]
    first = svc.iam.exchange_code(code, query["redirect_uri"], query["verifier"])
    assert first.access_token
    with pytest.raises(TokenError) as refused:
        svc.iam.exchange_code(code, query["redirect_uri"], query["verifier"])
    assert (refused.value.error, refused.value.description) == ("invalid_grant", "Code not valid")


def test_refused_a_redirect_uri_not_registered(kc_app, browser):
    query = code_request(kc_app, redirect_uri=f"{kc_app.url}/elsewhere")
    answer = authorize(browser, kc_app, **query)
    # Keycloak never sends the browser to an unregistered URI: it shows its error page.
    assert answer["status"] == 400 and not answer["location"]
    assert "Invalid parameter: redirect_uri" in answer["page"]

    # At the token endpoint: a code asked for the registered URI, redeemed with another.
    query = code_request(kc_app)
    code = authorize(browser, kc_app, **query)["query"]["code"]
    with pytest.raises(TokenError) as refused:
        services(kc_app).iam.exchange_code(code, f"{kc_app.url}/elsewhere", query["verifier"])
    assert (refused.value.error, refused.value.description) == (
        "invalid_grant",
        "Incorrect redirect_uri",
    )


def test_refused_pkce_missing(kc_app, browser):
    query = code_request(kc_app, code_challenge=None, code_challenge_method=None)
    answer = authorize(browser, kc_app, **query)
    assert answer["query"]["error"] == "invalid_request"
    assert answer["query"]["error_description"] == "Missing parameter: code_challenge_method"

    # A code asked with PKCE and redeemed without the verifier.
    query = code_request(kc_app)
    code = authorize(browser, kc_app, **query)["query"]["code"]
    with pytest.raises(TokenError) as refused:
        services(kc_app).iam._token_request(
            grant_type="authorization_code", code=code, redirect_uri=query["redirect_uri"]
        )
    assert (refused.value.error, refused.value.description) == (
        "invalid_grant",
        "PKCE code verifier not specified",
    )


def test_refused_an_unknown_client_id(kc_app, real_keycloak, browser):
    answer = authorize(browser, kc_app, **code_request(kc_app, "nobody-registered-this"))
    assert answer["status"] == 400 and not answer["location"]
    assert "Client not found" in answer["page"]

    svc = services(kc_app)
    refused = m2m_token_request(
        kc_app,
        assertion(svc.identity, "nobody-registered-this", real_keycloak.issuer("M2M")),
        client_id="nobody-registered-this",
    )
    assert refused.status_code == 401, refused.text
    assert refused.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client or Invalid client credentials",
    }
