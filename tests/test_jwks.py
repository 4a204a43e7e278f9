"""The JWKS URL: the certificate's public key, never anything private."""

import base64
import hashlib

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import KeySet

from ehbox_webapp import ConfigError, create_app
from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD
from ehbox_webapp.ehealth.keystore import EteeKeystore, generate_keystore

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def test_jwks_serves_the_authentication_key_only_public(live_app, sandbox_keystore):
    response = requests.get(f"{live_app.url}/.well-known/jwks.json", timeout=5)
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert not PRIVATE_MEMBERS & set(key)
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
    assert key["kid"] and key["n"] and key["e"] == "AQAB"
    cert = x509.load_der_x509_certificate(base64.b64decode(key["x5c"][0]))
    entry = EteeKeystore.load(sandbox_keystore, SANDBOX_KEYSTORE_PASSWORD).entry("authentication")
    assert cert == entry.certificate
    thumb = (
        base64.urlsafe_b64encode(
            hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
        )
        .rstrip(b"=")
        .decode()
    )
    assert key["x5t#S256"] == thumb


def test_a_client_assertion_verifies_with_the_published_key(live_app):
    services = live_app.app.extensions["services"]
    assertion = services.iam.identity.sign_jwt({"iss": "x", "sub": "x", "aud": "y"})
    keys = KeySet.import_key_set(
        requests.get(f"{live_app.url}/.well-known/jwks.json", timeout=5).json()
    )
    token = jwt.decode(assertion, keys, algorithms=["RS256"])
    assert token.header["kid"] == services.identity.kid
    assert token.claims["iss"] == "x"


def test_next_certificate_is_published_for_rotation(make_live_app, tmp_path):
    renewed = generate_keystore(
        tmp_path / "renewed.acc-p12",
        "renewed",
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
    )
    live = make_live_app(
        {"ETEE_NEXT_KEYSTORE": str(renewed), "ETEE_NEXT_KEYSTORE_PASSWORD": "renewed"}
    )
    keys = requests.get(f"{live.url}/.well-known/jwks.json", timeout=5).json()["keys"]
    assert len(keys) == 2 and keys[0]["kid"] != keys[1]["kid"]
    assert all(not PRIVATE_MEMBERS & set(k) for k in keys)


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"ETEE_KEYSTORE_PASSWORD": "not-the-password-42"}, "ETEE_KEYSTORE_PASSWORD"),
        ({"ETEE_KEY_ALIAS": "signing"}, "ETEE_KEY_ALIAS"),
    ],
)
def test_keystore_problems_stop_start_up_with_a_clear_line(
    tmp_path, sandbox_keystore, change, variable
):
    environ = {"EHBOX_ENV": "sandbox", "ETEE_KEYSTORE": str(sandbox_keystore), **change}
    with pytest.raises(ConfigError) as caught:
        create_app({"INSTANCE_PATH": str(tmp_path)}, environ=environ)
    assert caught.value.variable == variable
    assert "not-the-password-42" not in str(caught.value)  # a password is never echoed
    if variable == "ETEE_KEY_ALIAS":
        assert "authentication" in str(caught.value)  # lists the aliases that exist


def test_sandbox_keystore_is_generated_when_missing(tmp_path):
    path = tmp_path / "certs" / "sandbox.acc-p12"
    create_app(
        {"INSTANCE_PATH": str(tmp_path / "i")},
        environ={"EHBOX_ENV": "sandbox", "ETEE_KEYSTORE": str(path)},
    )
    store = EteeKeystore.load(path, SANDBOX_KEYSTORE_PASSWORD)
    assert "authentication" in store.entries
    assert store.encryption_entries()


def test_kid_can_be_the_one_ehealth_publishes(make_live_app):
    live = make_live_app({"ETEE_KEY_ID": "E1757512889"})
    keys = requests.get(f"{live.url}/.well-known/jwks.json", timeout=5).json()["keys"]
    assert keys[0]["kid"] == "E1757512889"
    assertion = live.app.extensions["services"].identity.sign_jwt({"iss": "x"})
    assert jwt.decode(assertion, KeySet.import_key_set({"keys": keys})).header["kid"] == (
        "E1757512889"
    )
