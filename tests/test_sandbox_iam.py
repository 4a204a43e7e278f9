"""The sandbox I.AM Connect, driven over real HTTP on loopback as the app drives eHealth's.

The sandbox runs on a werkzeug server in a thread, mounted at `/sandbox` as the app
mounts it. A second small server plays the relying party: it publishes the
client's JWKS (for `private_key_jwt`) and receives back-channel logout tokens.
Only the I.AM part of the sandbox is built here, so these tests do not depend on
the sandbox eHealthBox.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from ehbox_webapp.sandbox import TEMPLATES, SandboxSettings
from ehbox_webapp.sandbox.iam import authorize as authorize_module
from ehbox_webapp.sandbox.iam import init_iam
from ehbox_webapp.sandbox.tokens import RealmSigner

WEB, PUBLIC, M2M = "ehbox-webapp", "ehbox-webapp-public", "cbe-0899999949"
AUDIENCE = "sandbox-ehealthbox"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


# -- loopback servers ------------------------------------------------------------------------


class Loopback:
    """A WSGI app served on 127.0.0.1 by a threaded werkzeug server."""

    def __init__(self, app=None):
        self.server = make_server("127.0.0.1", 0, app or Flask("placeholder"), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def rsa_key(kid: str) -> RSAKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return RSAKey.import_key(pem, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class RelyingParty:
    """The app's side: its JWKS URL, its callback pages and its back-channel logout receiver."""

    def __init__(self):
        self.key = rsa_key("client-key-1")
        self.logout_tokens: list[str] = []
        app = Flask("relying-party")

        @app.get("/jwks.json")
        def jwks():
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.post("/auth/backchannel-logout")
        def backchannel_logout():
            self.logout_tokens.append(request.form["logout_token"])
            return "", 200

        self.server = Loopback(app)
        self.url = self.server.url
        self.callback = f"{self.url}/auth/callback"
        self.public_callback = f"{self.url}/static/public-client.html"
        self.home = f"{self.url}/"


@pytest.fixture(scope="module")
def relying_party() -> Iterator[RelyingParty]:
    rp = RelyingParty()
    yield rp
    rp.server.close()


# -- the sandbox and a client that drives it -------------------------------------------------


def build_sandbox(settings: SandboxSettings) -> Flask:
    """The sandbox app as `create_sandbox_app` builds it, with the I.AM realms only."""
    app = Flask("sandbox-iam-under-test", template_folder=str(TEMPLATES), static_folder=None)
    init_iam(app, settings, RealmSigner(settings.instance_path / "sandbox-realm-key.pem"))
    return app


class Sandbox:
    """The sandbox on loopback, and the client moves of the app against it."""

    def __init__(self, instance: Path, rp: RelyingParty):
        self.rp = rp
        self.server = Loopback()
        self.settings = SandboxSettings(
            base_url=f"{self.server.url}/sandbox",
            instance_path=instance,
            client_jwks_url=f"{rp.url}/jwks.json",
            web_client_id=WEB,
            redirect_uris=(rp.callback,),
            post_logout_redirect_uris=(rp.home,),
            public_client_id=PUBLIC,
            public_redirect_uris=(rp.public_callback,),
            m2m_client_id=M2M,
            ehbox_audience=AUDIENCE,
            backchannel_logout_uri=f"{rp.url}/auth/backchannel-logout",
        )
        self.restart()

    def restart(self) -> None:
        """A fresh sandbox app on the same instance folder: what a server restart does."""
        self.server.server.app = DispatcherMiddleware(
            Flask("root"), {"/sandbox": build_sandbox(self.settings)}
        )

    def issuer(self, realm: str = "healthcare") -> str:
        return self.settings.issuer(realm)

    def endpoint(self, name: str, realm: str = "healthcare") -> str:
        return f"{self.issuer(realm)}/protocol/openid-connect/{name}"

    def assertion(
        self,
        client_id: str = WEB,
        realm: str = "healthcare",
        *,
        key: RSAKey | None = None,
        header: dict | None = None,
        **claims,
    ) -> str:
        """A private_key_jwt client assertion, as the eHealth samples build it."""
        key = key or self.rp.key
        now = int(time.time())
        body = {
            "iss": client_id,
            "sub": client_id,
            "aud": self.issuer(realm),
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 60,
            **claims,
        }
        head = {"alg": "RS256", "typ": "JWT", "kid": key.kid, **(header or {})}
        # A None override leaves the claim or header out.
        return jwt.encode(
            {k: v for k, v in head.items() if v is not None},
            {k: v for k, v in body.items() if v is not None},
            key,
        )

    def token(
        self,
        data: dict,
        client_id: str = WEB,
        realm: str = "healthcare",
        assertion: str | None = None,
    ) -> requests.Response:
        """POST to the token endpoint; confidential clients authenticate with an assertion."""
        form = {"client_id": client_id, **data}
        if client_id != PUBLIC:
            form.update(
                client_assertion_type=JWT_BEARER,
                client_assertion=assertion or self.assertion(client_id, realm),
            )
        return requests.post(self.endpoint("token", realm), data=form, timeout=10)

    def refresh(self, refresh_token: str, client_id: str = WEB) -> requests.Response:
        return self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, client_id
        )

    def logout(self, id_token: str, **params) -> requests.Response:
        return requests.get(
            self.endpoint("logout"),
            params={"id_token_hint": id_token, **params},
            allow_redirects=False,
            timeout=10,
        )

    def authorize(
        self, client_id: str = WEB, redirect_uri: str | None = None, **params
    ) -> tuple[requests.Response, str]:
        """GET the authorization endpoint with PKCE S256; return the response and verifier."""
        verifier = secrets.token_urlsafe(48)
        query = {
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid ehbox",
            "redirect_uri": redirect_uri
            or (self.rp.public_callback if client_id == PUBLIC else self.rp.callback),
            "state": "st-" + secrets.token_hex(4),
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": challenge_of(verifier),
            "code_challenge_method": "S256",
            **params,
        }
        query = {k: v for k, v in query.items() if v is not None}
        page = requests.get(self.endpoint("auth"), params=query, allow_redirects=False, timeout=10)
        return page, verifier

    def submit(self, page: requests.Response, **fields) -> requests.Response:
        """Post the login form of `page` as a browser would, with `fields` added."""
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        return requests.post(
            urljoin(page.url, action), data={**hidden, **fields}, allow_redirects=False, timeout=10
        )

    def login(
        self, username: str = "dr-alice", client_id: str = WEB, **params
    ) -> tuple[dict[str, str], str]:
        """Authorize and pick a persona: the callback's query parameters and the verifier."""
        page, verifier = self.authorize(client_id, **params)
        assert page.status_code == 200, page.text
        callback = self.submit(page, username=username)
        assert callback.status_code == 302, callback.text
        return callback_params(callback), verifier

    def tokens(self, username: str = "dr-alice", client_id: str = WEB, **params) -> dict:
        """A complete code flow: the token response."""
        query, verifier = self.login(username, client_id, **params)
        response = self.token(
            {
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": self.rp.public_callback
                if client_id == PUBLIC
                else self.rp.callback,
                "code_verifier": verifier,
            },
            client_id,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def decode(self, token: str, realm: str = "healthcare") -> tuple[dict, dict]:
        """Header and claims, verified against the realm's published JWKS like a client would."""
        jwks = requests.get(self.endpoint("certs", realm), timeout=10).json()
        decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
        return decoded.header, decoded.claims


@pytest.fixture(scope="module")
def realm_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One realm key for the module's sandboxes: generating RSA keys is the slow part."""
    key_file = tmp_path_factory.mktemp("realm") / "sandbox-realm-key.pem"
    RealmSigner(key_file)
    return key_file.read_bytes()


@pytest.fixture
def sandbox(tmp_path: Path, relying_party: RelyingParty, realm_key: bytes) -> Iterator[Sandbox]:
    relying_party.logout_tokens.clear()
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "sandbox-realm-key.pem").write_bytes(realm_key)
    box = Sandbox(instance, relying_party)
    yield box
    box.server.close()


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def callback_params(response: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def location_base(response: requests.Response) -> str:
    parts = urlsplit(response.headers["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


def assert_oauth_error(response: requests.Response, error: str, status: int = 400) -> None:
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert response.headers["Cache-Control"] == "no-store"


# -- discovery and keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "realm, grants",
    [
        # Keycloak's list: every grant of the server, in each realm.
        (
            "healthcare",
            {"authorization_code", "refresh_token", "client_credentials", TOKEN_EXCHANGE},
        ),
        ("M2M", {"authorization_code", "refresh_token", "client_credentials", TOKEN_EXCHANGE}),
    ],
)
def test_discovery_describes_the_realm_in_keycloak_layout(sandbox: Sandbox, realm, grants):
    url = f"{sandbox.issuer(realm)}/.well-known/openid-configuration"
    document = requests.get(url, timeout=10).json()

    oidc = f"{sandbox.issuer(realm)}/protocol/openid-connect"
    assert document["issuer"] == sandbox.issuer(realm)
    assert document["authorization_endpoint"] == f"{oidc}/auth"
    assert document["token_endpoint"] == f"{oidc}/token"
    assert document["userinfo_endpoint"] == f"{oidc}/userinfo"
    assert document["jwks_uri"] == f"{oidc}/certs"
    assert document["end_session_endpoint"] == f"{oidc}/logout"
    assert document["introspection_endpoint"] == f"{oidc}/token/introspect"
    assert set(document["grant_types_supported"]) == grants
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["token_endpoint_auth_methods_supported"] == [
        "private_key_jwt",
        "client_secret_basic",
        "client_secret_post",
    ]
    assert document["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["subject_types_supported"] == ["public"]
    assert {"openid", "ehbox"} <= set(document["scopes_supported"])
    assert {"ssin", "userProfile", "sid"} <= set(document["claims_supported"])
    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True
    keys = requests.get(document["jwks_uri"], timeout=10).json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
    assert "d" not in keys[0]


# -- the code flow ----------------------------------------------------------------------------


def test_a_doctor_logs_in_with_the_code_flow_and_gets_ehealth_shaped_tokens(sandbox: Sandbox):
    page, verifier = sandbox.authorize(state="xyz", nonce="n-0S6")
    assert page.status_code == 200
    assert "Choose how to identify" in page.text and "Alice Peeters" in page.text
    assert "85.07.12-***.90" in page.text and "85071212390" not in page.text
    assert "script" not in page.text.lower()
    assert "style-src 'self'" in page.headers["Content-Security-Policy"]
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text).group(1)
    assert stylesheet.startswith("/sandbox/")  # mounted: links go through the mount point
    css = requests.get(urljoin(page.url, stylesheet), timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")

    callback = sandbox.submit(page, username="dr-alice")
    assert callback.status_code == 302
    assert location_base(callback) == sandbox.rp.callback
    query = callback_params(callback)
    assert query["state"] == "xyz"
    assert query["iss"] == sandbox.issuer()
    response = sandbox.token(
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": sandbox.rp.callback,
            "code_verifier": verifier,
        }
    )

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300 and 0 < body["refresh_expires_in"] <= 1800
    assert body["scope"] == "openid ehbox"
    assert body["session_state"] == query["session_state"]
    header, access = sandbox.decode(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    sub = str(access["sub"])
    assert uuid.UUID(sub)
    assert access["iss"] == sandbox.issuer()
    assert access["aud"] == WEB and access["azp"] == WEB and access["typ"] == "Bearer"
    assert access["sid"] == query["session_state"] and access["scope"] == "openid ehbox"
    assert access["exp"] - access["iat"] == 300 and access["auth_time"] <= access["iat"]
    assert access["jti"]
    assert (access["ssin"], access["name"], access["given_name"], access["family_name"]) == (
        "85071212390",
        "Alice Peeters",
        "Alice",
        "Peeters",
    )
    assert (access["preferred_username"], access["locale"]) == ("dr-alice", "nl")
    assert access["userProfile"] == {
        "lastName": "Peeters",
        "firstName": "Alice",
        "ssin": "85071212390",
        "physician": {"recognised": True, "nihii11": "12345625004"},
    }
    assert access["resource_access"] == {WEB: {"roles": ["ehbox-user"]}}
    assert access["allowed-origins"] == [sandbox.rp.url]  # Keycloak's "+": the redirect URI's

    _, id_token = sandbox.decode(body["id_token"])
    assert id_token["typ"] == "ID" and id_token["nonce"] == "n-0S6"
    assert id_token["aud"] == WEB and id_token["azp"] == WEB
    assert id_token["sub"] == sub and id_token["sid"] == access["sid"]
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert id_token["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert id_token["userProfile"] == access["userProfile"]

    userinfo = requests.get(
        sandbox.endpoint("userinfo"),
        timeout=10,
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == sub and userinfo.json()["ssin"] == "85071212390"


def test_the_same_persona_keeps_the_same_subject_and_another_persona_gets_another(sandbox):
    first = sandbox.decode(sandbox.tokens("dr-alice")["access_token"])[1]
    again = sandbox.decode(sandbox.tokens("dr-alice")["access_token"])[1]
    nurse = sandbox.decode(sandbox.tokens("nurse-bram")["access_token"])[1]
    assert first["sub"] == again["sub"] != nurse["sub"]
    assert first["sid"] != again["sid"]
    assert nurse["userProfile"]["nurse"] == {"recognised": True, "nihii11": "23456776401"}


def test_the_public_client_needs_no_assertion(sandbox: Sandbox):
    body = sandbox.tokens(client_id=PUBLIC)
    access = sandbox.decode(body["access_token"])[1]
    assert access["azp"] == PUBLIC and access["aud"] == PUBLIC


def test_the_public_clients_page_may_call_the_token_endpoint_from_its_origin(sandbox: Sandbox):
    origin = sandbox.rp.url
    response = requests.post(
        sandbox.endpoint("token"),
        data={"client_id": PUBLIC},
        timeout=10,
        headers={"Origin": origin},
    )
    assert response.headers["Access-Control-Allow-Origin"] == origin
    foreign = requests.post(
        sandbox.endpoint("token"),
        data={"client_id": PUBLIC},
        timeout=10,
        headers={"Origin": "https://evil.example"},
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_without_openid_scope_there_is_no_id_token(sandbox: Sandbox):
    body = sandbox.tokens(scope="ehbox")
    assert "id_token" not in body and body["scope"] == "ehbox"


def test_a_wrong_pkce_verifier_is_refused_and_burns_the_code(sandbox: Sandbox):
    query, verifier = sandbox.login()
    wrong = sandbox.token(
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": sandbox.rp.callback,
            "code_verifier": secrets.token_urlsafe(48),
        }
    )
    assert_oauth_error(wrong, "invalid_grant")
    right = sandbox.token(
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": sandbox.rp.callback,
            "code_verifier": verifier,
        }
    )
    assert_oauth_error(right, "invalid_grant")


@pytest.mark.parametrize(
    "params",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"code_challenge": None},
        {"code_challenge": "too-short"},
    ],
)
def test_authorization_without_s256_pkce_goes_back_with_an_error(sandbox: Sandbox, params):
    response, _ = sandbox.authorize(state="s1", **params)
    assert response.status_code == 302
    assert location_base(response) == sandbox.rp.callback
    query = callback_params(response)
    assert query["error"] == "invalid_request" and query["state"] == "s1"
    assert query["iss"] == sandbox.issuer() and "code" not in query


def test_an_unknown_scope_goes_back_as_invalid_scope(sandbox: Sandbox):
    response, _ = sandbox.authorize(scope="openid admin")
    assert callback_params(response)["error"] == "invalid_scope"


def test_a_replayed_code_is_refused_and_revokes_what_the_first_use_got(sandbox: Sandbox):
    query, verifier = sandbox.login()
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": sandbox.rp.callback,
        "code_verifier": verifier,
    }
    first = sandbox.token(exchange)
    assert first.status_code == 200
    assert_oauth_error(sandbox.token(exchange), "invalid_grant")

    tokens = first.json()
    refresh = sandbox.refresh(tokens["refresh_token"])
    assert_oauth_error(refresh, "invalid_grant")
    userinfo = requests.get(
        sandbox.endpoint("userinfo"),
        timeout=10,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert userinfo.status_code == 401


def test_a_code_sent_five_times_at_once_is_redeemed_once(sandbox: Sandbox):
    query, verifier = sandbox.login()
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": sandbox.rp.callback,
        "code_verifier": verifier,
    }
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(lambda _: sandbox.token(exchange).status_code, range(5)))
    assert statuses == [200, 400, 400, 400, 400]


def test_an_expired_code_is_refused(sandbox: Sandbox, monkeypatch):
    monkeypatch.setattr(authorize_module, "CODE_SECONDS", -1)
    query, verifier = sandbox.login()
    response = sandbox.token(
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": sandbox.rp.callback,
            "code_verifier": verifier,
        }
    )
    assert_oauth_error(response, "invalid_grant")
    assert "expired" in response.json()["error_description"]


def test_the_code_needs_the_same_redirect_uri_as_the_request(sandbox: Sandbox):
    query, verifier = sandbox.login()
    response = sandbox.token(
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": sandbox.rp.home,
            "code_verifier": verifier,
        }
    )
    assert_oauth_error(response, "invalid_grant")


@pytest.mark.parametrize("suffix", ["/", "/../callback", "?next=/admin", "x", "#frag"])
def test_a_redirect_uri_not_exactly_registered_gets_an_error_page_not_a_redirect(sandbox, suffix):
    response, _ = sandbox.authorize(redirect_uri=sandbox.rp.callback + suffix)
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Invalid redirect URI" in response.text
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_unknown_client_gets_an_error_page(sandbox: Sandbox):
    response, _ = sandbox.authorize(client_id="intruder")
    assert response.status_code == 400 and "Location" not in response.headers
    assert "Unknown client" in response.text


def test_cancel_on_the_login_page_returns_access_denied(sandbox: Sandbox):
    page, _ = sandbox.authorize(state="s2")
    response = sandbox.submit(page, cancel="1")
    query = callback_params(response)
    assert (query["error"], query["state"]) == ("access_denied", "s2")


def test_the_login_form_needs_its_csrf_token_and_works_once(sandbox: Sandbox):
    page, _ = sandbox.authorize()
    forged = sandbox.submit(page, username="dr-alice", csrf_token="forged")
    assert forged.status_code == 400 and "Location" not in forged.headers
    assert sandbox.submit(page, username="dr-alice").status_code == 302
    again = sandbox.submit(page, username="dr-alice")
    assert again.status_code == 400 and "Login expired" in again.text


# -- client authentication (private_key_jwt) --------------------------------------------------


def m2m_token(sandbox: Sandbox, assertion: str | None = None) -> requests.Response:
    return sandbox.token({"grant_type": "client_credentials"}, M2M, "M2M", assertion)


def test_an_organisation_gets_an_m2m_token_with_client_credentials(sandbox: Sandbox):
    response = m2m_token(sandbox)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body and "id_token" not in body
    assert body["expires_in"] == 300 and body["token_type"] == "Bearer"
    claims = sandbox.decode(body["access_token"], "M2M")[1]
    assert claims["iss"] == sandbox.issuer("M2M")
    assert (claims["azp"], claims["client_id"], claims["aud"]) == (M2M, M2M, M2M)
    assert claims["preferred_username"] == f"service-account-{M2M}"
    assert uuid.UUID(claims["sub"]) and claims["typ"] == "Bearer" and claims["scope"] == "ehbox"
    assert claims["exp"] - claims["iat"] == 300 and claims["jti"]


def test_the_token_endpoint_url_is_accepted_as_assertion_audience(sandbox: Sandbox):
    assertion = sandbox.assertion(M2M, "M2M", aud=sandbox.endpoint("token", "M2M"))
    assert m2m_token(sandbox, assertion).status_code == 200


def test_the_web_client_may_not_use_client_credentials_in_healthcare(sandbox: Sandbox):
    response = sandbox.token({"grant_type": "client_credentials"})
    assert_oauth_error(response, "unauthorized_client")


def test_an_unsupported_grant_type_is_named(sandbox: Sandbox):
    assert_oauth_error(sandbox.token({"grant_type": "password"}), "unsupported_grant_type")


def test_a_replayed_client_assertion_is_refused(sandbox: Sandbox):
    assertion = sandbox.assertion(M2M, "M2M")
    assert m2m_token(sandbox, assertion).status_code == 200
    # Keycloak: 400 for an assertion of a known client that fails its checks.
    assert_oauth_error(m2m_token(sandbox, assertion), "invalid_client", 400)


def other_key_assertion(sandbox: Sandbox, kid: str) -> str:
    return sandbox.assertion(M2M, "M2M", key=rsa_key(kid))


def at(offset: int) -> int:
    """A time `offset` seconds from now, computed when the test runs (not when collected)."""
    return int(time.time()) + offset


def bad_assertions() -> list:
    """Each bad assertion, and the words of the reason the sandbox must give for refusing it."""
    prod = "https://api.ehealth.fgov.be/auth/realms/M2M"
    cases = {
        "other-realm-aud": (lambda s: s.assertion(M2M, "M2M", aud=s.issuer()), "aud"),
        "production-aud": (lambda s: s.assertion(M2M, "M2M", aud=prod), "aud"),
        "expired": (lambda s: s.assertion(M2M, "M2M", iat=at(-120), exp=at(-60)), "expired"),
        "exp-an-hour-ahead": (lambda s: s.assertion(M2M, "M2M", exp=at(3600)), "10 minutes"),
        "lived-too-long": (lambda s: s.assertion(M2M, "M2M", iat=at(-700), exp=at(10)), "iat"),
        "no-exp": (lambda s: s.assertion(M2M, "M2M", exp=None), "no exp"),
        "no-jti": (lambda s: s.assertion(M2M, "M2M", jti=None), "no jti"),
        "iss-not-client": (lambda s: s.assertion(M2M, "M2M", iss=WEB), "iss and sub"),
        "other-key-same-kid": (lambda s: other_key_assertion(s, "client-key-1"), "signature"),
        "other-key-unknown-kid": (lambda s: other_key_assertion(s, "unknown-kid"), "signature"),
        "other-key-no-kid": (
            lambda s: s.assertion(M2M, "M2M", header={"kid": None}, key=rsa_key("x")),
            "signature",
        ),
        "alg-none": (lambda s: unsigned({"alg": "none", "typ": "JWT"}, jwt_claims(s)), "RS256"),
        "alg-hs256": (
            lambda s: jwt.encode(
                {"alg": "HS256"}, jwt_claims(s), OctKey.import_key(secrets.token_bytes(32))
            ),
            "RS256",
        ),
        "garbage": (lambda s: "not-a-jwt", "not a JWT"),
    }
    return [pytest.param(make, reason, id=name) for name, (make, reason) in cases.items()]


def jwt_claims(sandbox: Sandbox) -> dict:
    now = int(time.time())
    return {
        "iss": M2M,
        "sub": M2M,
        "aud": sandbox.issuer("M2M"),
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 60,
    }


@pytest.mark.parametrize("make, reason", bad_assertions())
def test_a_bad_client_assertion_is_refused_as_invalid_client(sandbox: Sandbox, make, reason):
    response = m2m_token(sandbox, make(sandbox))
    # Keycloak answers 400 to a known client's assertion that fails its checks; one that
    # cannot even be read names no client, and is 401.
    unreadable = reason in ("RS256", "not a JWT")
    assert_oauth_error(response, "invalid_client", 401 if unreadable else 400)
    assert reason in response.json()["error_description"]


def test_a_confidential_client_without_assertion_is_refused(sandbox: Sandbox):
    response = requests.post(
        sandbox.endpoint("token", "M2M"),
        timeout=10,
        data={"grant_type": "client_credentials", "client_id": M2M},
    )
    assert_oauth_error(response, "invalid_client", 401)


def test_an_assertion_for_another_client_id_is_refused(sandbox: Sandbox):
    response = requests.post(
        sandbox.endpoint("token", "M2M"),
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": "cbe-0000000097",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": sandbox.assertion(M2M, "M2M"),
        },
    )
    assert_oauth_error(response, "invalid_client", 401)


# -- refresh, logout -------------------------------------------------------------------------


def test_refresh_tokens_rotate_and_an_old_one_ends_the_family(sandbox: Sandbox):
    first = sandbox.tokens(nonce="n-1")
    response = sandbox.refresh(first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    first_sid, second_sid = (sandbox.decode(t["id_token"])[1]["sid"] for t in (first, second))
    assert first_sid == second_sid

    replay = sandbox.refresh(first["refresh_token"])
    assert_oauth_error(replay, "invalid_grant")
    # Two parties held the same token: the newer one dies with it.
    after = sandbox.refresh(second["refresh_token"])
    assert_oauth_error(after, "invalid_grant")


def test_a_refresh_token_is_bound_to_its_client(sandbox: Sandbox):
    tokens = sandbox.tokens()
    response = sandbox.refresh(tokens["refresh_token"], PUBLIC)
    assert_oauth_error(response, "invalid_grant")


def test_logout_ends_the_session_and_notifies_the_app_on_the_back_channel(sandbox: Sandbox):
    tokens = sandbox.tokens()
    id_claims = sandbox.decode(tokens["id_token"])[1]
    response = sandbox.logout(
        tokens["id_token"], post_logout_redirect_uri=sandbox.rp.home, state="bye"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"{sandbox.rp.home}?state=bye"
    refresh = sandbox.refresh(tokens["refresh_token"])
    assert_oauth_error(refresh, "invalid_grant")
    [logout_token] = sandbox.rp.logout_tokens
    header, claims = sandbox.decode(logout_token)
    assert header["typ"] == "logout+jwt"
    assert claims["iss"] == sandbox.issuer() and claims["aud"] == WEB
    assert (claims["sid"], claims["sub"]) == (id_claims["sid"], id_claims["sub"])
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert claims["exp"] - claims["iat"] == 120 and claims["jti"]
    assert "nonce" not in claims

    sandbox.logout(tokens["id_token"])
    assert len(sandbox.rp.logout_tokens) == 1  # an ended session is not announced twice


@pytest.mark.parametrize("uri", ["https://evil.example/", "{home}evil", None])
def test_logout_refuses_a_post_logout_uri_not_registered_for_the_client(sandbox: Sandbox, uri):
    tokens = sandbox.tokens()
    params = {"post_logout_redirect_uri": (uri or sandbox.rp.home).format(home=sandbox.rp.home)}
    if uri is not None:
        params["id_token_hint"] = tokens["id_token"]
    response = requests.get(
        sandbox.endpoint("logout"), params=params, allow_redirects=False, timeout=10
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert sandbox.rp.logout_tokens == []


def test_logout_without_redirect_shows_a_page(sandbox: Sandbox):
    tokens = sandbox.tokens()
    response = requests.post(
        sandbox.endpoint("logout"), data={"id_token_hint": tokens["id_token"]}, timeout=10
    )
    assert response.status_code == 200 and "You are logged out" in response.text


# -- token exchange (RFC 8693) ---------------------------------------------------------------


def exchange(
    sandbox: Sandbox,
    subject: str,
    client_id: str = WEB,
    realm: str = "healthcare",
    audience: str = AUDIENCE,
) -> requests.Response:
    return sandbox.token(
        {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": audience,
        },
        client_id,
        realm,
    )


@pytest.mark.parametrize("login_client", [WEB, PUBLIC])
def test_the_web_client_exchanges_a_user_token_for_the_ehealthbox(sandbox: Sandbox, login_client):
    tokens = sandbox.tokens(client_id=login_client)
    response = exchange(sandbox, tokens["access_token"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE and "refresh_token" not in body
    subject = sandbox.decode(tokens["access_token"])[1]
    exchanged = sandbox.decode(body["access_token"])[1]
    assert exchanged["aud"] == AUDIENCE and exchanged["azp"] == WEB
    assert exchanged["resource_access"] == {AUDIENCE: {"roles": ["ehbox-user"]}}
    for name in ("iss", "sub", "sid", "scope", "ssin", "name", "userProfile", "preferred_username"):
        assert exchanged[name] == subject[name], name
    assert exchanged["jti"] != subject["jti"]


def test_the_public_client_exchanges_its_own_token(sandbox: Sandbox):
    tokens = sandbox.tokens(client_id=PUBLIC)
    response = exchange(sandbox, tokens["access_token"], PUBLIC)
    assert response.status_code == 200, response.text
    assert sandbox.decode(response.json()["access_token"])[1]["azp"] == PUBLIC


def test_the_public_client_may_not_exchange_the_web_clients_token(sandbox: Sandbox):
    tokens = sandbox.tokens(client_id=WEB)
    assert_oauth_error(exchange(sandbox, tokens["access_token"], PUBLIC), "access_denied", 403)


def test_an_organisation_exchanges_its_m2m_token(sandbox: Sandbox):
    m2m = m2m_token(sandbox).json()["access_token"]
    response = exchange(sandbox, m2m, M2M, "M2M")
    assert response.status_code == 200, response.text
    claims = sandbox.decode(response.json()["access_token"], "M2M")[1]
    assert (claims["aud"], claims["azp"], claims["client_id"]) == (AUDIENCE, M2M, M2M)


def test_exchange_to_an_audience_not_granted_is_refused(sandbox: Sandbox):
    tokens = sandbox.tokens()
    response = exchange(sandbox, tokens["access_token"], audience="nihdi-uhmep-fhir-hcp")
    assert_oauth_error(response, "access_denied", 403)


def test_exchange_of_a_tampered_or_foreign_subject_token_is_refused(sandbox: Sandbox):
    access = sandbox.tokens()["access_token"]
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["ssin"] = "79031545695"
    forged = unsigned({"alg": "RS256"}, claims).rsplit(".", 1)[0] + "." + signature
    assert_oauth_error(exchange(sandbox, forged), "invalid_request")
    # A token of the other realm, and an ID token, are no subject tokens here.
    m2m = m2m_token(sandbox).json()["access_token"]
    assert_oauth_error(exchange(sandbox, m2m), "invalid_request")
    # An ID token verifies but is no access token: Keycloak's invalid_token.
    assert_oauth_error(exchange(sandbox, sandbox.tokens()["id_token"]), "invalid_token")


def test_exchange_after_logout_is_refused(sandbox: Sandbox):
    tokens = sandbox.tokens()
    sandbox.logout(tokens["id_token"])
    assert_oauth_error(exchange(sandbox, tokens["access_token"]), "invalid_token")


# -- introspection and persistence ---------------------------------------------------------------


def test_introspection_says_whether_a_token_is_still_active(sandbox: Sandbox):
    tokens = sandbox.tokens()

    def introspect(token: str) -> dict:
        assertion = sandbox.assertion(WEB, aud=sandbox.endpoint("token/introspect"))
        return requests.post(
            sandbox.endpoint("token/introspect"),
            timeout=10,
            data={
                "token": token,
                "client_assertion_type": JWT_BEARER,
                "client_assertion": assertion,
            },
        ).json()

    active = introspect(tokens["access_token"])
    assert active["active"] is True and active["client_id"] == WEB and active["ssin"]
    assert introspect(tokens["refresh_token"])["token_type"] == "Refresh"
    sandbox.logout(tokens["id_token"])
    assert introspect(tokens["access_token"]) == {"active": False}
    assert introspect(tokens["refresh_token"]) == {"active": False}


def test_sessions_and_tokens_survive_a_restart(sandbox: Sandbox):
    tokens = sandbox.tokens()
    page, verifier = sandbox.authorize()
    used = sandbox.assertion(M2M, "M2M")
    assert m2m_token(sandbox, used).status_code == 200

    sandbox.restart()

    response = sandbox.refresh(tokens["refresh_token"])
    assert response.status_code == 200, response.text
    assert exchange(sandbox, tokens["access_token"]).status_code == 200
    assert sandbox.submit(page, username="dr-alice").status_code == 302
    assert_oauth_error(m2m_token(sandbox, used), "invalid_client", 400)
