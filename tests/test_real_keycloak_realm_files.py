"""The committed Keycloak realms say what the sandbox says (no Keycloak needed to check).

deploy/keycloak/ is the set-up a vendor starts with `make keycloak`: its users are the
sandbox's personas with the sandbox's claims, its clients the app's default client ids,
its secrets placeholders filled in at run time.
"""

from __future__ import annotations

import json
import re

import pytest
from keycloak_fixtures import ROOT, runner

from ehbox_webapp.config import (
    SANDBOX_CLIENT_ID,
    SANDBOX_EHBOX_AUDIENCE,
    SANDBOX_M2M_CLIENT_ID,
    SANDBOX_PUBLIC_CLIENT_ID,
)
from ehbox_webapp.sandbox.iam.claims import profile_claims, subject_id
from ehbox_webapp.sandbox.personas import PERSONAS

REALMS = ROOT / "deploy" / "keycloak"


def realm(name: str) -> dict:
    return json.loads((REALMS / f"realm-{name}.json").read_text())


def clients(name: str) -> dict[str, dict]:
    return {c["clientId"]: c for c in realm(name)["clients"]}


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_each_persona_is_a_user_with_the_sandboxs_claims(persona):
    users = {u["username"]: u for u in realm("healthcare")["users"]}
    user = users[persona.id]
    assert user["id"] == subject_id(persona.id)  # the same `sub` as in the sandbox
    assert (user["firstName"], user["lastName"]) == (persona.first_name, persona.last_name)
    attributes = {k: v[0] for k, v in user["attributes"].items()}
    expected = profile_claims(persona)
    assert attributes["ssin"] == expected["ssin"]
    assert attributes["locale"] == expected["locale"]
    assert json.loads(attributes["userProfile"]) == expected["userProfile"]
    assert user["credentials"][0]["value"] == "${EHBOX_PERSONA_PASSWORD}"


def test_the_clients_are_the_apps_defaults_with_signed_jwt_from_its_jwks_url():
    healthcare, m2m = clients("healthcare"), clients("M2M")
    for client in (healthcare[SANDBOX_CLIENT_ID], m2m[SANDBOX_M2M_CLIENT_ID]):
        assert client["clientAuthenticatorType"] == "client-jwt"
        assert client["attributes"]["use.jwks.url"] == "true"
        assert client["attributes"]["jwks.url"] == "${EHBOX_APP_URL}/.well-known/jwks.json"
    web, public = healthcare[SANDBOX_CLIENT_ID], healthcare[SANDBOX_PUBLIC_CLIENT_ID]
    assert web["redirectUris"] == ["${EHBOX_APP_URL}/auth/callback"]
    assert web["attributes"]["backchannel.logout.url"] == "${EHBOX_APP_URL}/auth/backchannel-logout"
    assert web["attributes"]["standard.token.exchange.enabled"] == "true"
    assert public["publicClient"] is True
    for client in (web, public):
        assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert SANDBOX_EHBOX_AUDIENCE in healthcare and SANDBOX_EHBOX_AUDIENCE in m2m
    assert runner.EHBOX_AUDIENCE == SANDBOX_EHBOX_AUDIENCE


def test_no_secret_is_committed_and_the_distribution_is_pinned():
    for name in ("healthcare", "M2M"):
        text = (REALMS / f"realm-{name}.json").read_text()
        assert '"secret"' not in text
        assert not re.search(r'"value": "(?!\$\{)', text)
    version, digest, file_name = runner.pinned()
    assert re.fullmatch(r"26\.\d+\.\d+", version)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert file_name == f"keycloak-quarkus-dist-{version}.tar.gz"


def test_a_java_home_is_read_by_its_release_file(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").write_text("")
    assert runner.java_version(tmp_path) is None
    (tmp_path / "release").write_text('JAVA_VERSION="17.0.15"\n')
    assert runner.java_version(tmp_path) == 17
    (tmp_path / "release").write_text('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="25.0.3"\n')
    assert runner.java_version(tmp_path) == 25
