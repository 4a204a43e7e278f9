"""ID-token validation: every check that keeps a forged identity out.

The realm is the sandbox on loopback (its JWKS is fetched over HTTP); the
tokens are crafted here, signed by the realm's key or by keys nobody trusts.
"""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from ehbox_webapp.ehealth.iam import InvalidToken

NONCE = "n-0S6_WzA2Mj"


@pytest.fixture
def realm(live_app):
    services = live_app.app.extensions["services"]
    signer = live_app.app.extensions["sandbox_app"].extensions["sandbox"]["signer"]
    return services.iam, signer


def claims(iam, **change):
    now = int(time.time())
    base = {
        "iss": iam.issuer,
        "sub": "f1c2",
        "aud": iam.client_id,
        "azp": iam.client_id,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "name": "Alice Peeters",
    }
    base.update(change)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_id_token_passes(realm):
    iam, signer = realm
    assert iam.validate_id_token(signer.sign(claims(iam)), nonce=NONCE)["name"] == "Alice Peeters"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"iss": "https://other.example/realms/healthcare"}, "issuer"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": ["ehbox-webapp", "someone-else"], "azp": "someone-else"}, "azp"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iat": None}, "iat"),
        ({"nonce": "another-login"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"sub": None}, "sub"),  # OpenID Connect Core §2: REQUIRED
        ({"sub": ""}, "sub"),
    ],
)
def test_wrong_claims_are_refused(realm, change, reason):
    iam, signer = realm
    with pytest.raises(InvalidToken) as caught:
        iam.validate_id_token(signer.sign(claims(iam, **change)), nonce=NONCE)
    assert reason in caught.value.reason


def test_tampered_payload_is_refused(realm):
    iam, signer = realm
    header, _, signature = signer.sign(claims(iam)).split(".")
    forged = f"{header}.{b64(claims(iam, name='Mallory'))}.{signature}"
    with pytest.raises(InvalidToken, match="signature"):
        iam.validate_id_token(forged, nonce=NONCE)


def test_token_signed_by_another_key_with_the_realms_kid_is_refused(realm):
    iam, signer = realm
    other = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    token = jwt.encode({"alg": "RS256", "kid": signer.kid}, claims(iam), other)
    with pytest.raises(InvalidToken, match="signature"):
        iam.validate_id_token(token, nonce=NONCE)


def test_unknown_kid_refetches_the_jwks_once_then_refuses(realm, monkeypatch):
    iam, signer = realm
    other = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    fetches = []
    original = iam.jwks._fetch
    monkeypatch.setattr(iam.jwks, "_fetch", lambda uri: fetches.append(uri) or original(uri))
    iam.validate_id_token(signer.sign(claims(iam)), nonce=NONCE)  # warms the cache
    before = len(fetches)
    token = jwt.encode({"alg": "RS256", "kid": "rotated-key"}, claims(iam), other)
    with pytest.raises(InvalidToken):
        iam.validate_id_token(token, nonce=NONCE)
    with pytest.raises(InvalidToken):
        iam.validate_id_token(token, nonce=NONCE)
    assert len(fetches) - before <= 1


def rotate(signer) -> RSAKey:
    """The realm rolls its key over: it signs and publishes (at /certs) a new one only."""
    signer.key = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    signer.kid = signer.key.thumbprint()
    return signer.key


def counting_fetches(iam, monkeypatch) -> list[str]:
    fetches: list[str] = []
    original = iam.jwks._fetch
    monkeypatch.setattr(iam.jwks, "_fetch", lambda uri: fetches.append(uri) or original(uri))
    return fetches


def test_a_new_kid_after_a_key_rollover_is_fetched_once_and_accepted(realm, monkeypatch):
    iam, signer = realm
    iam.validate_id_token(signer.sign(claims(iam)), nonce=NONCE)  # the old key, cached
    monkeypatch.setattr("ehbox_webapp.ehealth.iam.JWKS_MIN_REFETCH", 0)
    fetches = counting_fetches(iam, monkeypatch)
    rotate(signer)
    assert iam.validate_id_token(signer.sign(claims(iam)), nonce=NONCE)["sub"] == "f1c2"
    assert len(fetches) == 1
    iam.validate_id_token(signer.sign(claims(iam)), nonce=NONCE)
    assert len(fetches) == 1  # known now


def test_a_token_without_kid_from_a_rotated_key_is_accepted_after_one_refetch(realm, monkeypatch):
    iam, signer = realm
    iam.validate_id_token(signer.sign(claims(iam)), nonce=NONCE)
    monkeypatch.setattr("ehbox_webapp.ehealth.iam.JWKS_MIN_REFETCH", 0)
    fetches = counting_fetches(iam, monkeypatch)
    new_key = rotate(signer)
    token = jwt.encode({"alg": "RS256"}, claims(iam), new_key)  # no kid, as some realms do
    assert iam.validate_id_token(token, nonce=NONCE)["name"] == "Alice Peeters"
    assert len(fetches) == 1


def test_refetches_for_failed_tokens_without_kid_are_rate_limited(realm, monkeypatch):
    iam, signer = realm
    iam.validate_id_token(signer.sign(claims(iam)), nonce=NONCE)  # fetched just now
    fetches = counting_fetches(iam, monkeypatch)
    other = RSAKey.import_key(rsa.generate_private_key(65537, 2048))
    forged = jwt.encode({"alg": "RS256"}, claims(iam), other)
    for _ in range(5):
        with pytest.raises(InvalidToken, match="signature"):
            iam.validate_id_token(forged, nonce=NONCE)
    assert fetches == []  # within JWKS_MIN_REFETCH of the last fetch: no new request
    monkeypatch.setattr("ehbox_webapp.ehealth.iam.JWKS_MIN_REFETCH", 0)
    with pytest.raises(InvalidToken, match="signature"):
        iam.validate_id_token(forged, nonce=NONCE)
    assert len(fetches) == 1  # one look at the realm's current keys, then refused


def test_alg_none_is_refused(realm):
    iam, _ = realm
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(iam))}."
    with pytest.raises(InvalidToken, match="algorithm"):
        iam.validate_id_token(token, nonce=NONCE)


def test_hmac_signed_with_the_public_key_is_refused(realm):
    """The classic algorithm-confusion forgery: HS256 keyed with the realm's public key."""
    iam, signer = realm
    public_pem = signer.key.as_pem(private=False)
    signing_input = f"{b64({'alg': 'HS256', 'kid': signer.kid})}.{b64(claims(iam))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(InvalidToken, match="algorithm"):
        iam.validate_id_token(token, nonce=NONCE)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "....."])
def test_garbage_is_refused(realm, garbage):
    iam, _ = realm
    with pytest.raises(InvalidToken):
        iam.validate_id_token(garbage, nonce=NONCE)
