"""The eHealth keystore: real PKCS#12 files, read and written, checked against OpenSSL and Java."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from ehbox_webapp.ehealth.keystore import (
    AliasNotFound,
    CertificateIdentity,
    CertificateNotValid,
    EteeKeystore,
    KeystoreError,
    KeystoreFormatError,
    SigningIdentity,
    WrongPassword,
    build_jwks,
    certificate_identity,
    generate_keystore,
    jwk_thumbprint,
)
from ehbox_webapp.ehealth.keystore_generate import ehealth_subject

PASSWORD = "s3cret-Keystore"
OPENSSL = shutil.which("openssl")
KEYTOOL = shutil.which("keytool")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not on PATH")
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")
PEM_KEY = r"-----BEGIN PRIVATE KEY-----.+?-----END PRIVATE KEY-----"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a trusted local tool (openssl, keytool) and fail the test with its stderr."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert result.returncode == 0, f"{args[0]} failed: {result.stderr}"
    return result


def openssl_pkcs12(*args: str | Path) -> str:
    """`openssl pkcs12 ARGS` with the test password; returns stdout and stderr together."""
    password_flag = "-passout" if "-export" in args else "-passin"
    result = run(OPENSSL, "pkcs12", *map(str, args), password_flag, f"pass:{PASSWORD}")
    return result.stdout + result.stderr


def public_der(holder) -> bytes:
    return holder.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def self_signed(subject: x509.Name, key, days: int = 30) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def small_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - speed


@pytest.fixture(scope="module")
def sandbox_path(tmp_path_factory) -> Path:
    """A modern keystore like the sandbox one: CBE with application id, two encryption keys."""
    return generate_keystore(
        tmp_path_factory.mktemp("ks") / "CBE=0899999949 20261128-091500.acc-p12",
        PASSWORD,
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
        application_id="EHBOX",
        encryption_keys=2,
    )


@pytest.fixture(scope="module")
def legacy_path(tmp_path_factory) -> Path:
    return generate_keystore(
        tmp_path_factory.mktemp("ks") / "legacy.p12",
        PASSWORD,
        identifier="71000436",
        identifier_type="NIHII-HOSPITAL",
        name="AZ Sandbox",
        legacy=True,
        key_size=1024,
    )


@pytest.fixture(scope="module")
def sandbox(sandbox_path) -> EteeKeystore:
    return EteeKeystore.load(sandbox_path, PASSWORD)


@pytest.fixture(scope="module")
def identity(sandbox) -> SigningIdentity:
    return sandbox.signing_identity()


# --------------------------------------------------------------------- structure


def test_generated_keystore_has_the_ehealth_structure(sandbox):
    aliases = list(sandbox.entries)
    assert aliases[0] == "authentication" and len(aliases) == 3
    auth = sandbox.entry("authentication")
    encryption = sandbox.encryption_entries()
    assert sorted(encryption) == sorted(aliases[1:])
    for serial, entry in encryption.items():
        assert entry.alias == serial == str(entry.certificate.serial_number)
        assert serial.isdigit()
        assert entry.certificate.issuer == auth.certificate.subject
        entry.certificate.verify_directly_issued_by(auth.certificate)
        assert entry.chain[0] == auth.certificate
    for entry in sandbox.entries.values():
        assert public_der(entry.private_key) == public_der(entry.certificate)
    assert auth.chain and auth.chain[0].subject == auth.certificate.issuer  # the sandbox CA


def test_encryption_key_decrypts_for_its_certificate(sandbox):
    entry = next(iter(sandbox.encryption_entries().values()))
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    secret = entry.certificate.public_key().encrypt(b"a symmetric key", oaep)
    assert entry.private_key.decrypt(secret, oaep) == b"a symmetric key"


def test_generated_file_is_private_to_its_owner(sandbox_path):
    assert sandbox_path.stat().st_mode & 0o777 == 0o600


def test_legacy_keystore_loads(legacy_path):
    keystore = EteeKeystore.load(legacy_path, PASSWORD)
    assert list(keystore.entries)[0] == "authentication"
    assert len(keystore.encryption_entries()) == 1
    assert keystore.signing_identity().identity().identifier_type == "NIHII-HOSPITAL"


def test_alias_lookup_ignores_case_like_java(sandbox):
    assert sandbox.entry("Authentication") is sandbox.entry("authentication")


# --------------------------------------------------------------------- interoperability


@needs_openssl
@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("sandbox_path", ["MAC: sha256", "PBES2, PBKDF2, AES-256-CBC", "hmacWithSHA256"]),
        ("legacy_path", ["MAC: sha1", "pbeWithSHA1And3-KeyTripleDES-CBC"]),
    ],
)
def test_openssl_reads_what_we_write(request, fixture, expected):
    path = request.getfixturevalue(fixture)
    keystore = EteeKeystore.load(path, PASSWORD)
    info = openssl_pkcs12("-info", "-nokeys", "-in", path)
    for alias in keystore.entries:
        assert f"friendlyName: {alias}" in info
    for marker in expected:
        assert marker in info
    pems = re.findall(PEM_KEY, openssl_pkcs12("-nocerts", "-nodes", "-in", path), re.DOTALL)
    opened = {public_der(serialization.load_pem_private_key(p.encode(), None)) for p in pems}
    assert opened == {public_der(e.private_key) for e in keystore.entries.values()}


def test_cryptography_reads_what_we_write(sandbox_path, sandbox):
    loaded = crypto_pkcs12.load_pkcs12(sandbox_path.read_bytes(), PASSWORD.encode())
    assert loaded.key is not None and loaded.cert is not None
    assert public_der(loaded.key) == public_der(loaded.cert.certificate)
    found = {c.certificate for c in [loaded.cert, *loaded.additional_certs]}
    assert {e.certificate for e in sandbox.entries.values()} <= found


@needs_openssl
@pytest.mark.parametrize(
    "options",
    [[], ["-legacy"], ["-keypbe", "NONE", "-certpbe", "NONE"]],
    ids=["modern", "legacy", "unencrypted-bags"],
)
def test_keystore_made_by_openssl_loads(tmp_path, small_key, options):
    cert = self_signed(ehealth_subject("CBE", "0406798006", "Some Hospital"), small_key)
    (tmp_path / "key.pem").write_bytes(
        small_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    target = tmp_path / "made-by-openssl.p12"
    openssl_pkcs12(
        "-export",
        *options,
        "-name",
        "authentication",
        "-inkey",
        tmp_path / "key.pem",
        "-in",
        tmp_path / "cert.pem",
        "-out",
        target,
    )
    keystore = EteeKeystore.load(target, PASSWORD)
    assert list(keystore.entries) == ["authentication"]
    signer = keystore.signing_identity()
    assert signer.certificate == cert
    assert signer.identity().identifier == "0406798006"


@pytest.mark.skipif(KEYTOOL is None or OPENSSL is None, reason="keytool or openssl missing")
def test_java_legacy_keystore_with_two_keys_loads(tmp_path, small_key):
    """Java-merged keystores hold both keys; their certificates are RC2-40 encrypted."""
    enc_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    sources = []
    for alias, key in (("authentication", small_key), ("12345678901234567890", enc_key)):
        single = tmp_path / f"{alias}.p12"
        single.write_bytes(
            crypto_pkcs12.serialize_key_and_certificates(
                alias.encode(),
                key,
                self_signed(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, alias)]), key),
                None,
                serialization.BestAvailableEncryption(PASSWORD.encode()),
            )
        )
        sources.append(single)
    merged = tmp_path / "java.p12"
    stores = f"-srcstoretype PKCS12 -deststoretype PKCS12 -srcstorepass {PASSWORD}"
    stores += f" -deststorepass {PASSWORD}"
    for single in sources:  # -legacy: RC2-40 certificates, 3DES keys, HMAC-SHA1 (Java 8 style)
        run(
            KEYTOOL,
            "-J-Dkeystore.pkcs12.legacy",
            "-importkeystore",
            "-noprompt",
            *stores.split(),
            "-srckeystore",
            str(single),
            "-destkeystore",
            str(merged),
        )
    assert "40BitRC2" in openssl_pkcs12("-info", "-legacy", "-noout", "-in", merged)
    keystore = EteeKeystore.load(merged, PASSWORD)
    assert set(keystore.entries) == {"authentication", "12345678901234567890"}
    assert public_der(keystore.entry("12345678901234567890").certificate) == public_der(enc_key)
    assert public_der(keystore.entry("authentication").private_key) == public_der(small_key)


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize("fixture", ["sandbox_path", "legacy_path"])
def test_wrong_password(request, fixture):
    path = request.getfixturevalue(fixture)
    with pytest.raises(WrongPassword) as caught:
        EteeKeystore.load(path, "not-the-password")
    assert str(caught.value) == f"The keystore password is wrong for {path.name}."
    assert "not-the-password" not in repr(caught.value)


def test_missing_alias_lists_the_aliases(sandbox):
    with pytest.raises(AliasNotFound) as caught:
        sandbox.signing_identity("signing")
    message = str(caught.value)
    assert "'signing'" in message
    for alias in sandbox.entries:
        assert f"'{alias}'" in message
    assert caught.value.available == tuple(sandbox.entries)


def test_expired_and_not_yet_valid_certificates(sandbox):
    cert = sandbox.entry("authentication").certificate
    with pytest.raises(CertificateNotValid) as expired:
        sandbox.signing_identity(now=cert.not_valid_after_utc + timedelta(days=1))
    assert expired.value.expired
    assert f"expired on {cert.not_valid_after_utc:%Y-%m-%d}" in str(expired.value)
    with pytest.raises(CertificateNotValid) as early:
        sandbox.signing_identity(now=cert.not_valid_before_utc - timedelta(days=1))
    assert not early.value.expired
    assert f"not before {cert.not_valid_before_utc:%Y-%m-%d}" in str(early.value)


def test_generated_validity_dates_are_honoured(tmp_path):
    path = generate_keystore(
        tmp_path / "old.p12",
        PASSWORD,
        identifier="0899999949",
        identifier_type="CBE",
        name="Old",
        encryption_keys=0,
        not_before=datetime(2020, 1, 1),
        not_after=datetime(2023, 1, 1),
        key_size=1024,
    )
    with pytest.raises(CertificateNotValid, match="expired on 2023-01-01"):
        EteeKeystore.load(path, PASSWORD).signing_identity()


@pytest.mark.parametrize(
    "content",
    [b"", b"definitely not a keystore\n", bytes(range(256)) * 8, b"-----BEGIN CERTIFICATE-----"],
    ids=["empty", "text", "binary", "pem"],
)
def test_garbage_is_a_format_error(tmp_path, content):
    path = tmp_path / "broken.p12"
    path.write_bytes(content)
    with pytest.raises(KeystoreFormatError, match="broken.p12"):
        EteeKeystore.load(path, PASSWORD)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(KeystoreError, match="nowhere.p12"):
        EteeKeystore.load(tmp_path / "nowhere.p12", PASSWORD)


def test_no_key_material_in_reprs(sandbox, identity):
    d = sandbox.entry("authentication").private_key.private_numbers().d
    for text in (repr(sandbox), repr(sandbox.entry("authentication")), repr(identity)):
        assert str(d) not in text and format(d, "x") not in text and "PRIVATE" not in text


# --------------------------------------------------------------------- JWK, JWKS, JWT


def test_public_jwk_has_public_members_only(identity):
    jwk = identity.public_jwk()
    assert not set(PRIVATE_MEMBERS) & set(jwk)
    assert jwk["kty"] == "RSA" and jwk["use"] == "sig" and jwk["alg"] == "RS256"
    numbers = identity.certificate.public_key().public_numbers()
    assert int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=="), "big") == numbers.n
    assert jwk["e"] == "AQAB"


def test_kid_is_the_rfc7638_thumbprint(identity):
    jwk = identity.public_jwk()
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"))
    assert jwk["kid"] == identity.kid == b64url(hashlib.sha256(canonical.encode()).digest())
    assert identity.kid == RSAKey.import_key(jwk).thumbprint()


def test_thumbprint_matches_the_rfc7638_example():
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
        "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
        "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    thumbprint = jwk_thumbprint({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "x"})
    assert thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_x5c_and_x5t_describe_the_certificate(identity):
    jwk = identity.public_jwk()
    der = identity.certificate.public_bytes(serialization.Encoding.DER)
    assert base64.b64decode(jwk["x5c"][0]) == der  # standard base64, not base64url
    assert [x509.load_der_x509_certificate(base64.b64decode(c)) for c in jwk["x5c"][1:]] == list(
        identity.chain
    )
    assert jwk["x5t#S256"] == b64url(hashlib.sha256(der).digest())


def test_jwks_deduplicates_by_kid(sandbox, identity):
    encryption = next(iter(sandbox.encryption_entries().values()))
    other = SigningIdentity(encryption.private_key, encryption.certificate)
    jwks = build_jwks([identity, sandbox.signing_identity(), other])
    assert [k["kid"] for k in jwks["keys"]] == [identity.kid, other.kid]


def test_signed_jwt_verifies_with_the_published_key(identity):
    claims = {"iss": "cbe-0899999949", "sub": "cbe-0899999949", "jti": "1", "exp": 4102444800}
    token = identity.sign_jwt(claims, headers={"jku": "https://example.test/jwks", "alg": "none"})
    public = RSAKey.import_key(build_jwks([identity])["keys"][0])
    decoded = jwt.decode(token, public, algorithms=["RS256"])
    assert decoded.claims == claims
    assert decoded.header["kid"] == identity.kid
    assert decoded.header["typ"] == "JWT" and decoded.header["alg"] == "RS256"
    assert decoded.header["jku"] == "https://example.test/jwks"


def test_ec_keys_sign_es256(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(ehealth_subject("EHP", "1990001916", "Test"), key)
    data = crypto_pkcs12.serialize_key_and_certificates(
        b"authentication", key, cert, None, serialization.BestAvailableEncryption(b"pw")
    )
    signer = EteeKeystore.from_bytes(data, "pw").signing_identity()
    jwk = signer.public_jwk()
    assert signer.alg == jwk["alg"] == "ES256" and jwk["crv"] == "P-256" and "d" not in jwk
    assert signer.kid == ECKey.import_key(jwk).thumbprint()
    decoded = jwt.decode(signer.sign_jwt({"a": 1}), ECKey.import_key(jwk), algorithms=["ES256"])
    assert decoded.claims == {"a": 1} and decoded.header["kid"] == signer.kid


def test_days_left(identity):
    expiry = identity.certificate.not_valid_after_utc
    assert identity.days_left(now=expiry - timedelta(days=10, hours=1)) == 10
    assert identity.days_left(now=expiry + timedelta(days=2)) < 0


# --------------------------------------------------------------------- certificate identity


def test_identity_round_trips_through_generate_keystore(identity):
    assert identity.identity() == CertificateIdentity(
        "CBE", "0899999949", "EHBOX", "Sandbox Medical Software NV"
    )


@pytest.mark.parametrize(
    ("identifier_type", "identifier", "application_id", "name"),
    [
        ("SSIN", "85071212390", None, "Alice Peeters"),
        ("NIHII-HOSPITAL", "71000436", None, "AZ Sandbox"),
        ("CBE", "0809394427", "PSEUDONYMISATION", "eHealth"),
    ],
)
def test_identity_round_trips_the_subject(
    small_key, identifier_type, identifier, application_id, name
):
    subject = ehealth_subject(identifier_type, identifier, name, application_id)
    found = certificate_identity(self_signed(subject, small_key))
    assert found == CertificateIdentity(identifier_type, identifier, application_id, name)


def _name(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


COUNTRY, ORG, UNIT, COMMON = (
    NameOID.COUNTRY_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.COMMON_NAME,
)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (  # a real eHealth application certificate (egelke's .NET client tests)
            _name(
                (COUNTRY, "BE"),
                (ORG, "Federal Government"),
                (UNIT, "VITALINKGATEWAY"),
                (UNIT, "EHP=1990001916"),
                (UNIT, "VLAAMS AGENTSCHAP ZORG EN GEZONDHEID"),
                (UNIT, "eHealth-platform Belgium"),
                (COMMON, "EHP=1990001916, VITALINKGATEWAY"),
            ),
            ("EHP", "1990001916", "VITALINKGATEWAY", "VLAAMS AGENTSCHAP ZORG EN GEZONDHEID"),
        ),
        (  # a person
            _name(
                (COUNTRY, "BE"),
                (ORG, "Federal Government"),
                (UNIT, "SSIN=85071212390"),
                (UNIT, "Alice Peeters"),
                (UNIT, "eHealth-platform Belgium"),
                (COMMON, "SSIN=85071212390"),
            ),
            ("SSIN", "85071212390", None, "Alice Peeters"),
        ),
        (  # identifier only in the CN, a serial number that is not an SSIN
            _name(
                (COUNTRY, "BE"),
                (ORG, "Federal Government"),
                (UNIT, "eHealth-platform Belgium"),
                (COMMON, "NIHII-PHARMACY=12345678"),
                (NameOID.SERIAL_NUMBER, "12345678"),
            ),
            ("NIHII-PHARMACY", "12345678", None, None),
        ),
    ],
    ids=["ehp-application", "person", "cn-only"],
)
def test_identity_parses_real_ehealth_subjects(small_key, subject, expected):
    assert certificate_identity(self_signed(subject, small_key)) == CertificateIdentity(*expected)


def test_identity_of_a_non_ehealth_certificate_is_an_error(small_key):
    cert = self_signed(_name((COMMON, "www.example.test")), small_key)
    with pytest.raises(KeystoreError, match="no eHealth identifier"):
        certificate_identity(cert)
