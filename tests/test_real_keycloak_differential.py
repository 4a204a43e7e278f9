"""The same requests to the sandbox realm and to a real Keycloak 26: what differs.

The app under test runs in the sandbox, so both identity providers answer on this
machine: the sandbox's realms at PUBLIC_URL/sandbox/auth, Keycloak's at its own port,
with the same clients, personas and keys. Each is asked the same things:

- the discovery document (the members the app and keycloak-js read);
- the token endpoint's answer (HTTP status and `error`) to each refusal of
  tests/test_real_keycloak.py, and where the authorization endpoint sends a refused
  request (back to the client, or its own error page);
- the headers and claims of the access, ID and refresh tokens of one login, of the
  token exchanged for the eHealthBox, of the M2M token, and of the logout token;
- userinfo.

Every difference found must be one of DIFFERENCES, each listed with its reason in
docs/ehealth-platform.md §1.11; one found that is not (or one listed that is no longer
found) fails the test, with both answers printed.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from keycloak_fixtures import ROOT, KeycloakBrowser, assertion, pkce

from ehbox_webapp.ehealth.iam import ASSERTION_TYPE, IamClient, TokenError
from ehbox_webapp.ehealth.keystore import SigningIdentity

# real_keycloak and kc_app: tests/keycloak_fixtures.py (a plugin: one Keycloak per run).

PROVIDERS = ("sandbox", "keycloak")
DISCOVERY = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "end_session_endpoint",
    "jwks_uri",
    "introspection_endpoint",
    "revocation_endpoint",
    "check_session_iframe",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "frontchannel_logout_supported",
)
DISCOVERY_LISTS = (  # only what the app or keycloak-js relies on must be in both
    ("token_endpoint_auth_methods_supported", ("private_key_jwt", "none")),
    ("code_challenge_methods_supported", ("S256",)),
    ("response_modes_supported", ("query", "fragment")),
    ("response_types_supported", ("code",)),
    (
        "grant_types_supported",
        (
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
    ),
    ("id_token_signing_alg_values_supported", ("RS256",)),
)

# Every difference, by the name the observations give it: the reason is in the docs.
DIFFERENCES = {
    # The local realm's configuration, not a behaviour of the sandbox.
    "access.aud": "V2 exchange needs the eHealthBox among the user token's audiences",
    "access.resource_access": "the role sits on the eHealthBox API's client",
    "access.scope": "Keycloak's default profile scope is named in the token",
    "exchanged.scope": "the same",
    "m2m.aud": "the service account holds the eHealthBox API's role",
    "m2m.resource_access": "the same",
    "m2m.scope": "the same as access.scope",
    "refresh.scope": "Keycloak lists every client scope in its refresh token",
    # What the sandbox does not model.
    "m2m.clientAddress": "a note of the caller's address; nothing reads it",
    "m2m.clientHost": "the same",
    "refresh.aud_x": "Keycloak's refresh-token internals, opaque to clients",
    "refresh.prov": "the same",
    "refresh.reuse_id": "the same",
    "discovery.check_session_iframe": "the sandbox serves no login-status iframe",
    "discovery.frontchannel_logout_supported": "the sandbox has back-channel logout only",
    "discovery.revocation_endpoint": "the sandbox has no revocation endpoint",
}


# -- the two providers ------------------------------------------------------------------
class Provider:
    """One identity provider as the app's clients see it: sandbox or Keycloak."""

    def __init__(self, name: str, kc_app, world):
        self.name = name
        self.kc_app = kc_app
        self.world = world
        self.services = kc_app.app.extensions["services"]

    def issuer(self, realm: str = "healthcare") -> str:
        if self.name == "sandbox":
            return f"{self.kc_app.url}/sandbox/auth/realms/{realm}"
        return self.world.issuer(realm)

    def client(self, realm: str = "healthcare", client_id: str | None = None, identity=None):
        default = "ehbox-webapp" if realm == "healthcare" else "cbe-0899999949"
        return IamClient(
            self.issuer(realm),
            client_id or default,
            http=self.services.http,
            identity=identity or self.services.identity,
            timeout=15,
        )

    def browser(self) -> KeycloakBrowser:
        return KeycloakBrowser(self.kc_app, self.world.persona_password)


def authorize(provider: Provider, browser, client_id="ehbox-webapp", **changes) -> dict:
    verifier, challenge = pkce()
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid ehbox",
        "redirect_uri": f"{provider.kc_app.url}/auth/callback",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }
    query = {k: v for k, v in query.items() if v is not None}
    endpoint = provider.client().endpoint("authorization_endpoint")
    answer = browser.authorize(endpoint, **query)
    answer.update(verifier=verifier, redirect_uri=query["redirect_uri"], nonce=query["nonce"])
    return answer


def where_it_ended(answer: dict) -> tuple:
    """A refused authorization request: back to the client with an error, or an error page."""
    if answer["location"]:
        return ("redirect", answer["query"].get("error"))
    return ("error page", answer["status"])


def token_error(call) -> tuple:
    try:
        call()
    except TokenError as exc:
        return (exc.error,)
    return ("accepted",)


def posted(provider: Provider, realm: str, **form) -> tuple:
    answer = requests.post(provider.client(realm).endpoint("token_endpoint"), data=form, timeout=15)
    body = (
        answer.json()
        if answer.headers.get("Content-Type", "").startswith("application/json")
        else {}
    )
    return (answer.status_code, body.get("error", "accepted" if answer.ok else "?"))


def m2m_form(client_assertion: str, client_id: str = "cbe-0899999949") -> dict:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion,
    }


def decode(token: str) -> tuple[dict, dict]:
    def part(segment: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))

    header, payload = token.split(".")[:2]
    return part(header), part(payload)


def shape(prefix: str, token: str, issuer: str) -> dict[str, Any]:
    """What a token looks like: its header, its claim names, the values that matter."""
    header, claims = decode(token)
    seen: dict[str, Any] = {
        f"{prefix}.header.alg": header.get("alg"),
        f"{prefix}.header.typ": header.get("typ"),
        f"{prefix}.header.kid": "kid" in header,
    }
    for name in sorted(set(claims)):
        value = claims[name]
        if name in ("iat", "exp", "nbf", "auth_time", "jti", "sid", "at_hash", "nonce"):
            value = type(value).__name__  # present, of this type
        elif name == "session_state":
            value = "sid" if value == claims.get("sid") else type(value).__name__
        elif name == "scope":
            value = " ".join(sorted(str(value).split()))
        elif isinstance(value, str) and value.startswith(issuer):
            value = "{issuer}" + value[len(issuer) :]
        elif name == "exp" or name == "iss":
            value = value
        seen[f"{prefix}.{name}"] = value
    return seen


# -- observations -------------------------------------------------------------------------
def observe(provider: Provider) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    issuer = provider.issuer()

    metadata = provider.client().metadata
    for name in DISCOVERY:
        value = metadata.get(name)
        if isinstance(value, str) and value.startswith(issuer):
            value = "{issuer}" + value[len(issuer) :]
        seen[f"discovery.{name}"] = value
    for name, needed in DISCOVERY_LISTS:
        seen[f"discovery.{name}"] = sorted(set(needed) & set(metadata.get(name) or []))

    # One login: the three tokens, userinfo, the exchange, the logout token.
    with provider.browser() as browser:
        answer = authorize(provider, browser, client_id="ehbox-webapp")
        client = provider.client()
        tokens = client.exchange_code(
            answer["query"]["code"], answer["redirect_uri"], answer["verifier"]
        )
        seen["response.keys"] = sorted(tokens.raw) + ["access_token", "id_token", "refresh_token"]
        seen["response.session_state"] = (
            "sid"
            if tokens.raw.get("session_state") == decode(tokens.id_token)[1].get("sid")
            else None
        )
        seen.update(shape("access", tokens.access_token, issuer))
        seen.update(shape("id", tokens.id_token, issuer))
        seen.update(shape("refresh", tokens.refresh_token, issuer))
        info = requests.get(
            client.endpoint("userinfo_endpoint"),
            headers={"Authorization": f"Bearer {tokens.access_token}"},
            timeout=15,
        )
        seen["userinfo.status"] = info.status_code
        seen["userinfo.claims"] = sorted(info.json()) if info.ok else info.text[:100]
        exchanged = client.exchange_token(tokens.access_token, "sandbox-ehealthbox")
        seen.update(shape("exchanged", exchanged.access_token, issuer))
        seen["refresh.reused"] = _reuse(client, tokens.refresh_token)
        seen["code.used_twice"] = token_error(
            lambda: client.exchange_code(
                answer["query"]["code"], answer["redirect_uri"], answer["verifier"]
            )
        )

        # The refusals of tests/test_real_keycloak.py.
        seen["authorize.redirect_uri_unregistered"] = where_it_ended(
            authorize(provider, browser, redirect_uri=f"{provider.kc_app.url}/elsewhere")
        )
        seen["authorize.pkce_missing"] = where_it_ended(
            authorize(provider, browser, code_challenge=None, code_challenge_method=None)
        )
        seen["authorize.unknown_client"] = where_it_ended(
            authorize(provider, browser, client_id="nobody-registered-this")
        )
        other = authorize(provider, browser)
        seen["token.redirect_uri_differs"] = token_error(
            lambda: client.exchange_code(
                other["query"]["code"], f"{provider.kc_app.url}/elsewhere", other["verifier"]
            )
        )
        other = authorize(provider, browser)
        seen["token.pkce_verifier_missing"] = token_error(
            lambda: client._token_request(
                grant_type="authorization_code",
                code=other["query"]["code"],
                redirect_uri=other["redirect_uri"],
            )
        )

    identity = provider.services.identity
    m2m_issuer = provider.issuer("M2M")
    impostor = SigningIdentity(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), identity.certificate
    )
    seen["token.other_key"] = posted(
        provider, "M2M", **m2m_form(assertion(impostor, "cbe-0899999949", m2m_issuer))
    )
    old = int(time.time()) - 600
    seen["token.assertion_expired"] = posted(
        provider,
        "M2M",
        **m2m_form(assertion(identity, "cbe-0899999949", m2m_issuer, iat=old, exp=old + 60)),
    )
    once = assertion(identity, "cbe-0899999949", m2m_issuer)
    posted(provider, "M2M", **m2m_form(once))
    seen["token.assertion_replayed"] = posted(provider, "M2M", **m2m_form(once))
    seen["token.unknown_client"] = posted(
        provider,
        "M2M",
        **m2m_form(
            assertion(identity, "nobody-registered-this", m2m_issuer), "nobody-registered-this"
        ),
    )
    m2m = provider.client("M2M").client_credentials()
    seen.update(shape("m2m", m2m.access_token, m2m_issuer))
    seen["m2m.response.keys"] = sorted(m2m.raw) + ["access_token"]
    seen.update(logout_token(provider))
    return seen


def _reuse(client: IamClient, refresh_token: str) -> tuple:
    client.refresh(refresh_token)
    return token_error(lambda: client.refresh(refresh_token))


def logout_token(provider: Provider) -> dict[str, Any]:
    """The back-channel logout token each posts to the app when its realm session ends."""
    world = provider.world
    with provider.browser() as browser:
        answer = authorize(provider, browser)
        tokens = provider.client().exchange_code(
            answer["query"]["code"], answer["redirect_uri"], answer["verifier"]
        )
        sid = decode(tokens.id_token)[1]["sid"]
        seen = len(world.logout_tokens)
        if provider.name == "keycloak":  # ended at the realm, as an operator would
            world.admin().call("DELETE", f"/healthcare/sessions/{sid}")
        else:
            end = provider.client().end_session_url(tokens.id_token, f"{provider.kc_app.url}/")
            browser.get(end, timeout=15)
        deadline = time.monotonic() + 15
        while len(world.logout_tokens) == seen and time.monotonic() < deadline:
            time.sleep(0.1)
    if len(world.logout_tokens) == seen:
        return {"logout.sent": False}
    token = world.logout_tokens[-1]
    return {"logout.sent": True, **shape("logout", token, provider.issuer())}


@pytest.fixture(scope="module")
def observations(kc_app, real_keycloak) -> dict[str, dict[str, Any]]:
    return {name: observe(Provider(name, kc_app, real_keycloak)) for name in PROVIDERS}


def test_every_difference_is_known_and_documented(observations):
    sandbox, keycloak = observations["sandbox"], observations["keycloak"]
    found = {
        key: {"sandbox": sandbox.get(key, "(absent)"), "keycloak": keycloak.get(key, "(absent)")}
        for key in sorted(set(sandbox) | set(keycloak))
        if sandbox.get(key, "(absent)") != keycloak.get(key, "(absent)")
    }
    report = json.dumps(found, indent=1, ensure_ascii=False, default=str)
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    (ROOT / "tests" / "artifacts" / "keycloak-differences.json").write_text(report)
    assert set(found) == set(DIFFERENCES), report
    docs = (ROOT / "docs" / "ehealth-platform.md").read_text()
    section = docs.split("### 1.11", 1)[1].split("\n## ", 1)[0]
    undocumented = [key for key in DIFFERENCES if f"`{key}`" not in section]
    assert not undocumented, undocumented
