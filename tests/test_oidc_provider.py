"""The app against panva's oidc-provider 9 (OpenID Certified), software nobody here wrote.

tests/oidc_provider/server.mjs serves two realms with Keycloak-like issuers
(`/auth/realms/healthcare`, `/auth/realms/M2M`). The app changes nothing but its
settings (IAM_ISSUER, IAM_M2M_ISSUER, IAM_CLIENT_ID, IAM_M2M_CLIENT_ID, EHBOX_AUDIENCE)
and runs its own code throughout. What is checked against the certified provider:

- Discovery: the app reads both realms' discovery documents and accepts their issuers.
- Web login (authorization code): the app's authorization request carries PKCE S256,
  `state` and `nonce` (the provider requires PKCE of every client); the user signs in
  and consents on the provider's pages; the app redeems the code with `private_key_jwt`
  (RS256, `aud` = the realm issuer), the provider fetching the app's keys from the app's
  own JWKS URL; the app validates the ID token (signature with the provider's JWKS, iss,
  aud, exp, iat, nonce) and shows the user's name, masked SSIN and profession.
- Refresh: with the session's access token about to expire, a request that needs it makes
  the app refresh it at the provider (refresh_token grant, `private_key_jwt`); the ID
  token is kept for the logout hint; the app's `IamClient.refresh` works on its own too.
- Logout: POST /logout sends the user to the provider's `end_session_endpoint` with
  `id_token_hint`, `post_logout_redirect_uri` and `client_id`; once confirmed, the
  provider returns to the app's post-logout URI and its session is gone.
- Back-channel logout: when the user signs out at the provider itself, the provider posts a
  `logout_token` (with the realm session's `sid`) to the app's back-channel logout URI; the
  app validates it and ends the matching session.
- M2M: `client_credentials` in the M2M realm (`private_key_jwt`, `aud` = the M2M issuer)
  gives a token the app can verify with the realm's keys; `flask ehbox m2m token` gets it
  and exchanges it for EHBOX_AUDIENCE.
- Token exchange (RFC 8693): `Services.ehealthbox_token` trades the user's access token for
  one whose `aud` is EHBOX_AUDIENCE, same subject, cached; a target the provider does not
  allow is refused as `invalid_target`.
- Browser (public PKCE) client: a token the provider issued to IAM_PUBLIC_CLIENT_ID (an
  RFC 9068 JWT access token: `client_id`, no Keycloak `azp`) is accepted as
  `Authorization: Bearer` by /api/v1, and the app may exchange it for EHBOX_AUDIENCE.
- Negative interop: a client assertion signed with another key (unknown `kid`, or the
  registered `kid` with a forged signature) and an unknown refresh token are refused by
  the provider and surface in the app as `TokenError` with the provider's error code; an
  authorization code the provider refuses at the callback gives the app's failure page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import oidc_fixtures
import pytest
import requests
from conftest import Browser, page_forms
from cryptography.hazmat.primitives.asymmetric import rsa
from oidc_fixtures import CLIENT_ID, EHBOX_AUDIENCE, M2M_CLIENT_ID, PUBLIC_CLIENT_ID

from ehbox_webapp.ehealth.iam import IamClient, TokenError
from ehbox_webapp.ehealth.keystore import SigningIdentity
from ehbox_webapp.web import login_state

# The shared fixture (tests/oidc_fixtures.py): the app wired to oidc-provider, one per run.
oidc_app = oidc_fixtures.oidc_app

USERNAME = "dr-hanne"  # a user only server.mjs knows, not a sandbox persona
USER_NAME = "Hanne Maes"
USER_SSIN = "79021802145"
USER_NIHII11 = "10987654321"


@pytest.fixture(autouse=True)
def provider_saw_no_errors(oidc_app):
    """After each test: the provider logged no server error and no refused back-channel call."""
    seen = len(oidc_app.op.output)
    yield
    new = "".join(oidc_app.op.output[seen:])
    assert "server_error" not in new and "backchannel.error" not in new, new


@pytest.fixture
def browser(oidc_app):
    with Browser(oidc_app.live) as b:
        yield b


def realm_path(issuer: str, path: str = "") -> str:
    return urlsplit(issuer).path + path


def sign_in(browser: Browser, op_issuer: str, next_path: str = "/") -> requests.Response:
    """Log USERNAME in through the app's /login and oidc-provider's login and consent pages."""
    login_page = browser.get(browser.url(f"/login?next={next_path}"), timeout=10)
    assert login_page.status_code == 200, login_page.text[:500]
    assert urlsplit(login_page.url).path.startswith(realm_path(op_issuer, "/interaction/"))
    consent_page = browser.submit(login_page, "username", {"username": USERNAME})
    assert consent_page.status_code == 200, consent_page.text[:500]
    assert "Authorize" in consent_page.text, consent_page.text[:500]
    return browser.submit(consent_page, "consent", {}, button=("consent", "yes"))


def session_data(oidc_app, browser: Browser) -> tuple[object, str, dict]:
    store = oidc_app.services.store
    key = "session:" + browser.cookies.get("ehbox_session")
    return store, key, store.get(key)


def login_in_progress(oidc_app, browser: Browser) -> dict:
    """The login this browser started (state, nonce, verifier), opened from its sealed cookie
    as the app opens it."""
    sealed = browser.cookies.get(login_state.COOKIE)
    with oidc_app.app.test_request_context(headers={"Cookie": f"{login_state.COOKIE}={sealed}"}):
        return login_state.pending()


# -- discovery ----------------------------------------------------------------------------


def test_the_app_reads_both_realms_discovery_documents(oidc_app):
    services = oidc_app.services
    assert services.iam.issuer == oidc_app.op.issuer
    assert services.iam.metadata["issuer"] == oidc_app.op.issuer
    assert services.iam.endpoint("token_endpoint") == (
        oidc_app.op.issuer + "/protocol/openid-connect/token"
    )
    assert services.m2m.metadata["issuer"] == oidc_app.op.m2m_issuer
    assert "private_key_jwt" in services.iam.metadata["token_endpoint_auth_methods_supported"]


# -- web login ----------------------------------------------------------------------------


def test_the_authorization_request_carries_pkce_state_and_nonce(oidc_app, browser):
    start = browser.get(browser.url("/login"), allow_redirects=False, timeout=10)
    assert start.status_code == 302
    location = urlsplit(start.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        oidc_app.services.iam.endpoint("authorization_endpoint")
    )
    query = parse_qs(location.query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [browser.url("/auth/callback")]
    # The provider does require PKCE of this confidential client (so the app's is exercised).
    del query["code_challenge"], query["code_challenge_method"]
    bare = f"{location.scheme}://{location.netloc}{location.path}?{urlencode(query, doseq=True)}"
    refused = requests.get(bare, allow_redirects=False, timeout=10)
    assert refused.status_code in (302, 303)
    assert parse_qs(urlsplit(refused.headers["Location"]).query)["error"] == ["invalid_request"]


def test_user_logs_in_through_oidc_provider_and_sees_who_they_are(oidc_app, browser):
    landing = sign_in(browser, oidc_app.op.issuer)
    assert landing.url == browser.url("/box/INBOX")  # a login without a destination: the inbox
    home = browser.get(browser.url("/"), timeout=10)
    assert home.status_code == 200, home.text[:500]
    assert USER_NAME in home.text
    assert "•" * 9 + USER_SSIN[-2:] in home.text and USER_SSIN not in home.text
    assert "physician" in home.text and USER_NIHII11 in home.text

    _, _, data = session_data(oidc_app, browser)
    user, tokens = data["user"], data["tokens"]
    assert user["name"] == USER_NAME and user["ssin"] == USER_SSIN
    assert user["userProfile"]["physician"] == {"recognised": True, "nihii11": USER_NIHII11}
    assert tokens["id_token"] and tokens["refresh_token"]
    # The access token is the provider's JWT for the app; the app's own client verifies it.
    claims = oidc_app.services.iam.decode(tokens["access_token"], ["RS256"])
    assert claims["iss"] == oidc_app.op.issuer and claims["sub"] == user["sub"]
    assert claims["client_id"] == CLIENT_ID and "ehbox" in claims["scope"].split()


def test_an_unknown_user_stays_on_the_providers_login_page(oidc_app, browser):
    page = browser.get(browser.url("/login"), timeout=10)
    again = browser.submit(page, "username", {"username": "nobody"})
    assert "Unknown user" in again.text
    assert "Hanne" not in browser.get(browser.url("/"), timeout=10).text


# -- refresh ------------------------------------------------------------------------------


def test_access_token_is_refreshed_at_the_provider_before_it_expires(oidc_app, browser):
    sign_in(browser, oidc_app.op.issuer)
    store, key, data = session_data(oidc_app, browser)
    old = dict(data["tokens"])
    data["tokens"]["expires_at"] = time.time() + 5  # inside the app's refresh margin
    store.set(key, data, 3600)

    # /api/v1/box needs the user's token: the app refreshes it, then exchanges it for the
    # eHealthBox audience. The eHealthBox behind it is still the sandbox's, which trusts
    # only the sandbox realm and refuses the token; what matters here is that the session
    # was not ended (no 401 "Session expired") and holds fresh tokens.
    box = browser.get(
        browser.url("/api/v1/box"), headers={"Accept": "application/json"}, timeout=15
    )
    assert box.status_code != 401, box.text[:500]
    fresh = store.get(key)["tokens"]
    assert fresh["access_token"] != old["access_token"]
    assert fresh["expires_at"] > time.time() + 60
    assert fresh["id_token"]  # kept (or renewed) for the logout hint
    claims = oidc_app.services.iam.decode(fresh["access_token"], ["RS256"])
    assert claims["sub"] == data["user"]["sub"]


def test_the_apps_iam_client_refreshes_on_its_own(oidc_app, browser):
    sign_in(browser, oidc_app.op.issuer)
    _, _, data = session_data(oidc_app, browser)
    tokens = oidc_app.services.iam.refresh(data["tokens"]["refresh_token"])
    assert tokens.access_token != data["tokens"]["access_token"]
    assert tokens.expires_at > time.time() + 60
    claims = oidc_app.services.iam.decode(tokens.access_token, ["RS256"])
    assert claims["sub"] == data["user"]["sub"]


# -- logout -------------------------------------------------------------------------------


def test_logout_ends_the_session_here_and_at_the_provider(oidc_app, browser):
    sign_in(browser, oidc_app.op.issuer)
    _, _, data = session_data(oidc_app, browser)
    id_token = data["tokens"]["id_token"]

    out = browser.post(
        browser.url("/logout"),
        data={"csrf_token": browser.csrf_token()},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302
    location = urlsplit(out.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        oidc_app.services.iam.endpoint("end_session_endpoint")
    )
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == [browser.url("/")]
    assert query["client_id"] == [CLIENT_ID]

    confirm = browser.get(out.headers["Location"], timeout=10)
    assert confirm.status_code == 200, confirm.text[:500]
    assert any("xsrf" in form["fields"] for form in page_forms(confirm.text))
    back = browser.submit(confirm, "logout", {}, button=("logout", "yes"))
    assert back.status_code == 200, back.text[:500]
    assert urlsplit(back.url)._replace(query="").geturl() == browser.url("/")
    assert USER_NAME not in back.text

    # The provider's session is gone too: logging in again asks for the user again.
    again = browser.get(browser.url("/login"), timeout=10)
    assert any("username" in form["fields"] for form in page_forms(again.text)), again.text[:500]


def test_a_logout_at_the_provider_ends_the_apps_session_through_the_back_channel(oidc_app, browser):
    sign_in(browser, oidc_app.op.issuer)
    _, _, data = session_data(oidc_app, browser)
    sid = data["user"].get("sid")
    assert sid, "the ID token carries the realm session id the logout token will name"

    # The user signs out at the realm directly (another app's logout, the realm's account
    # page...): the app's own /logout is never called.
    confirm = browser.get(oidc_app.services.iam.endpoint("end_session_endpoint"), timeout=10)
    done = browser.submit(confirm, "logout", {}, button=("logout", "yes"))
    assert done.status_code == 200, done.text[:500]
    assert oidc_app.op.wait_for_output(f"backchannel.success {CLIENT_ID} sid={sid}"), (
        oidc_app.op.log()
    )
    home = browser.get(browser.url("/"), timeout=10)
    assert USER_NAME not in home.text


# -- M2M ----------------------------------------------------------------------------------


def test_m2m_client_credentials_with_private_key_jwt(oidc_app):
    m2m = oidc_app.services.m2m
    assert m2m is not None and m2m.client_id == M2M_CLIENT_ID
    tokens = m2m.client_credentials()
    assert tokens.access_token and tokens.expires_at > time.time() + 60
    assert tokens.refresh_token is None
    claims = m2m.decode(tokens.access_token, ["RS256"])
    assert claims["iss"] == oidc_app.op.m2m_issuer
    assert claims["client_id"] == M2M_CLIENT_ID and claims["sub"] == M2M_CLIENT_ID

    exchanged = m2m.exchange_token(tokens.access_token, EHBOX_AUDIENCE)
    claims = m2m.decode(exchanged.access_token, ["RS256"])
    assert claims["aud"] == EHBOX_AUDIENCE and claims["sub"] == M2M_CLIENT_ID


def test_m2m_token_command(oidc_app):
    runner = oidc_app.app.test_cli_runner()
    result = runner.invoke(args=["ehbox", "m2m", "--no-token-cache", "token", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["client_id"] == M2M_CLIENT_ID and shown["exchanged_for"] == EHBOX_AUDIENCE
    assert shown["claims"]["iss"] == oidc_app.op.m2m_issuer
    assert shown["claims"]["aud"] == EHBOX_AUDIENCE
    assert shown["expires_in"] > 60


# -- token exchange -----------------------------------------------------------------------


def test_the_users_token_is_exchanged_for_the_ehealthbox_audience(oidc_app, browser):
    sign_in(browser, oidc_app.op.issuer)
    _, _, data = session_data(oidc_app, browser)
    user_token = data["tokens"]["access_token"]
    services = oidc_app.services

    token = services.ehealthbox_token(user_token)
    assert token != user_token
    claims = services.iam.decode(token, ["RS256"])
    assert claims["aud"] == EHBOX_AUDIENCE
    assert claims["iss"] == oidc_app.op.issuer
    assert claims["sub"] == data["user"]["sub"]
    assert claims["client_id"] == CLIENT_ID
    assert services.ehealthbox_token(user_token) == token  # cached until near expiry

    with pytest.raises(TokenError) as refused:
        services.iam.exchange_token(user_token, "an-api-nobody-registered")
    assert refused.value.error == "invalid_target"


# -- the browser's public PKCE client and the API ----------------------------------------


def test_a_public_client_token_is_accepted_by_the_api_and_exchanged(oidc_app, browser):
    """What /public-client/ does in JavaScript, done here with requests."""
    iam = oidc_app.services.iam
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = browser.url("/public-client/")
    state = secrets.token_urlsafe(16)
    query = {
        "client_id": PUBLIC_CLIENT_ID,
        "response_type": "code",
        "scope": "openid ehbox",
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    login_page = browser.get(
        f"{iam.endpoint('authorization_endpoint')}?{urlencode(query)}", timeout=10
    )
    consent_page = browser.submit(login_page, "username", {"username": USERNAME})
    back = browser.submit(consent_page, "consent", {}, button=("consent", "yes"))
    answer = parse_qs(urlsplit(back.url).query)
    assert urlsplit(back.url)._replace(query="").geturl() == redirect_uri
    assert answer["state"] == [state], back.url
    tokens = requests.post(
        iam.endpoint("token_endpoint"),
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": PUBLIC_CLIENT_ID,
            "code_verifier": verifier,
        },
    ).json()
    access_token = tokens["access_token"]

    whoami = requests.get(
        browser.url("/api/v1/whoami"),
        timeout=10,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
    )
    assert whoami.status_code == 200, whoami.text[:500]
    assert whoami.json()["via"] == "bearer"
    assert whoami.json()["claims"]["iss"] == oidc_app.op.issuer

    exchanged = oidc_app.services.ehealthbox_token(access_token)
    assert oidc_app.services.iam.decode(exchanged, ["RS256"])["aud"] == EHBOX_AUDIENCE


# -- negative interop ---------------------------------------------------------------------


def _impostor(services, keep_kid: bool) -> SigningIdentity:
    """Another RSA key with the app's certificate; optionally claiming the app's `kid`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    identity = SigningIdentity(key, services.identity.certificate)
    if keep_kid:
        identity.kid = services.identity.kid
    return identity


@pytest.mark.parametrize("keep_kid", [False, True], ids=["unknown-kid", "forged-signature"])
def test_a_client_assertion_signed_with_another_key_is_refused(oidc_app, keep_kid):
    services = oidc_app.services
    for issuer, client_id in (
        (oidc_app.op.m2m_issuer, M2M_CLIENT_ID),
        (oidc_app.op.issuer, CLIENT_ID),
    ):
        impostor = IamClient(
            issuer, client_id, http=services.http, identity=_impostor(services, keep_kid), timeout=5
        )
        with pytest.raises(TokenError) as refused:
            if client_id == M2M_CLIENT_ID:
                impostor.client_credentials()
            else:
                impostor.refresh("any-refresh-token")
        assert refused.value.error == "invalid_client"
        assert "invalid_client" in str(refused.value)
    # The genuine key still works afterwards.
    assert services.m2m.client_credentials().access_token


def test_a_code_the_provider_refuses_gives_a_clear_failure_page(oidc_app, browser):
    """The code is redeemed behind the app's back first: the provider then refuses it."""
    login_page = browser.get(browser.url("/login"), timeout=10)
    consent_page = browser.submit(login_page, "username", {"username": USERNAME})
    form = next(f for f in page_forms(consent_page.text) if ("consent", "yes") in f["buttons"])
    step = browser.post(
        urljoin(consent_page.url, form["action"]),
        allow_redirects=False,
        data={**form["fields"], "consent": "yes"},
        timeout=10,
    )
    while not step.headers["Location"].startswith(browser.url("/auth/callback")):
        step = browser.get(
            urljoin(step.url, step.headers["Location"]), allow_redirects=False, timeout=10
        )
    callback = step.headers["Location"]
    pending = login_in_progress(oidc_app, browser)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    oidc_app.services.iam.exchange_code(code, browser.url("/auth/callback"), pending["verifier"])

    failed = browser.get(callback, timeout=10)
    assert failed.status_code == 400, failed.text[:500]
    assert "I.AM Connect refused to complete the login" in failed.text
    assert USER_NAME not in browser.get(browser.url("/"), timeout=10).text


def test_an_unknown_refresh_token_is_a_token_error(oidc_app):
    with pytest.raises(TokenError) as refused:
        oidc_app.services.iam.refresh("not-a-refresh-token-of-this-realm")
    assert refused.value.error == "invalid_grant"


def test_a_provider_that_cannot_start_says_how_it_ended_and_what_it_printed(oidc_app):
    """The start-up failure a CI log shows: how the provider ended, and its last words."""
    with pytest.raises(RuntimeError) as failed:
        oidc_fixtures.start_provider(oidc_fixtures.node_executable(), app_url="")
    message = str(failed.value)
    assert message.startswith("oidc-provider did not start: it exited with 1 after")
    assert "appUrl (or APP_URL) is required" in message
