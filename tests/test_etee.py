"""ETEE seal/unseal/ETK: round trips, interop with `openssl cms`, tampering, memory use."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ehbox_webapp.ehealth.etee import (
    EteeError,
    InvalidEtk,
    MalformedSeal,
    NotForMe,
    TamperedSeal,
    UnexpectedSigner,
    build_etk,
    decryption_keys,
    parse_etk,
    seal,
    unseal,
)
from ehbox_webapp.ehealth.etee.enveloped import enveloped_data
from ehbox_webapp.ehealth.etee.signed import signed_data
from ehbox_webapp.ehealth.keystore import (
    CertificateIdentity,
    EteeKeystore,
    SigningIdentity,
    generate_keystore,
)

NOW = datetime.now(UTC)
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl CLI is not installed")
TEXT = "Résultats de laboratoire: HbA1c 6,1 %\n".encode()


def keystore(directory: Path, file: str, identifier: str, name: str = "", **options):
    path = generate_keystore(
        directory / f"{file}.p12",
        "pw",
        identifier=identifier,
        identifier_type="CBE",
        name=name or file,
        **options,
    )
    return EteeKeystore.load(path, "pw")


@pytest.fixture(scope="module")
def personas(tmp_path_factory) -> dict[str, EteeKeystore]:
    """A sends; B receives (B_old: B's previous keystore); C is a stranger; A_twin has A's
    subject but other keys (an impostor, or A's next keystore)."""
    directory = tmp_path_factory.mktemp("etee")
    old = {"not_before": NOW - timedelta(days=900), "name": "B"}
    return {
        "A": keystore(directory, "A", "0123456789"),
        "B": keystore(directory, "B", "0987654321"),
        "B_old": keystore(directory, "B_old", "0987654321", **old),
        "C": keystore(directory, "C", "0555555555"),
        "A_twin": keystore(directory, "A_twin", "0123456789", name="A"),
    }


def etk(personas, name: str):
    return build_etk(personas[name])


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def triple(content: bytes, inner, outer, recipients, *, inner_edit=None, envelope_edit=None):
    """A seal built layer by layer, to tamper with a layer and re-sign around it."""
    layer = b"".join(signed_data([content], key=inner.key, certificate=inner.certificate, when=NOW))
    layer = inner_edit(layer) if inner_edit else layer
    envelope = b"".join(enveloped_data([layer], [r.encryption_certificate for r in recipients]))
    envelope = envelope_edit(envelope) if envelope_edit else envelope
    certs = (outer.certificate, *outer.chain)
    return b"".join(
        signed_data(
            [envelope], key=outer.key, certificate=outer.certificate, certificates=certs, when=NOW
        )
    )


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# Round trips ----------------------------------------------------------------------------------


def test_sealed_for_recipient_and_for_self(personas):
    a = personas["A"]
    before = datetime.now(UTC).replace(microsecond=0)  # the signing time is kept to the second
    sealed = seal(TEXT, sender=a.signing_identity(), recipients=[etk(personas, "B"), build_etk(a)])
    after = datetime.now(UTC)
    for reader in ("B", "A"):  # the recipient, and the sender's own copy in its SENTBOX
        result = unseal(sealed, keys=decryption_keys(personas[reader]))
        assert result.content == TEXT
        assert result.signer_certificate == a.entry("authentication").certificate
        assert result.signer_identity == CertificateIdentity("CBE", "0123456789", None, "A")
        assert result.signature_valid and result.trusted is None and not result.reasons
        assert result.recipient_serial in personas[reader].encryption_entries()
        assert before <= result.signing_time <= after  # signed when it was sealed


def test_a_stranger_is_told_whom_the_seal_is_for(personas):
    b = etk(personas, "B")
    sealed = seal(TEXT, sender=personas["A"].signing_identity(), recipients=[b])
    with pytest.raises(NotForMe) as caught:
        unseal(sealed, keys=decryption_keys(personas["C"]))
    assert b.serial in str(caught.value) and len(caught.value.recipients) == 1
    assert caught.value.available == tuple(personas["C"].encryption_entries())


def test_keys_of_a_previous_keystore_still_open_old_mail(personas):
    old_mail = seal(
        TEXT, sender=personas["A"].signing_identity(), recipients=[etk(personas, "B_old")]
    )
    with pytest.raises(NotForMe):
        unseal(old_mail, keys=decryption_keys(personas["B"]))
    keys = decryption_keys(personas["B"], personas["B_old"])
    assert unseal(old_mail, keys=keys).content == TEXT
    # A bare mapping of decimal serial to private key works as well.
    bare = {serial: entry.private_key for serial, entry in keys.items()}
    assert unseal(old_mail, keys=bare).recipient_serial in personas["B_old"].encryption_entries()


def test_keystore_with_two_encryption_keys(tmp_path, personas):
    renewed = keystore(tmp_path, "R", "0444444444", encryption_keys=2)
    serials = list(renewed.encryption_entries())
    for serial in serials:
        token = build_etk(renewed, serial)
        assert token.serial == serial
        sealed = seal(TEXT, sender=personas["A"].signing_identity(), recipients=[token])
        assert unseal(sealed, keys=decryption_keys(renewed)).recipient_serial == serial


def test_pss_signatures_round_trip(personas):
    sealed = seal(
        TEXT, sender=personas["A"].signing_identity(), recipients=[etk(personas, "B")], pss=True
    )
    outer = cms.ContentInfo.load(sealed)["content"]["signer_infos"][0]
    assert outer["signature_algorithm"]["algorithm"].native == "rsassa_pss"
    assert unseal(sealed, keys=decryption_keys(personas["B"])).content == TEXT


def test_large_content_keeps_three_copies_at_most(personas):
    content = os.urandom(50 * 1024 * 1024)
    sender, token = personas["A"].signing_identity(), etk(personas, "B")
    keys = decryption_keys(personas["B"])
    tracemalloc.start()
    try:
        base, started = tracemalloc.get_traced_memory()[0], time.perf_counter()
        tracemalloc.reset_peak()
        sealed = seal(content, sender=sender, recipients=[token])
        seal_peak, seal_time = (
            tracemalloc.get_traced_memory()[1] - base,
            time.perf_counter() - started,
        )
        base, started = tracemalloc.get_traced_memory()[0], time.perf_counter()
        tracemalloc.reset_peak()
        result = unseal(sealed, keys=keys)
        open_peak, open_time = (
            tracemalloc.get_traced_memory()[1] - base,
            time.perf_counter() - started,
        )
    finally:
        tracemalloc.stop()
    assert result.content == content
    # Besides the input: seal adds a ciphertext and the result, unseal a plaintext and the
    # content (measured 2.00x each, about 0.3 s each for 50 MB on the development machine).
    assert seal_peak < 2.2 * len(content), seal_peak / len(content)
    assert open_peak < 2.2 * len(content), open_peak / len(content)
    assert seal_time < 10 and open_time < 10


# ETKs -----------------------------------------------------------------------------------------


def test_etk_is_the_encryption_certificate_signed_and_issued_by_authentication(personas):
    b = personas["B"]
    token = build_etk(b)
    entry = b.encryption_entries()[token.serial]  # the keystore alias is the decimal serial
    assert token.encryption_certificate == entry.certificate
    assert token.authentication_certificate == b.entry("authentication").certificate
    assert token.signer_certificate == token.authentication_certificate
    assert token.identity().identifier == "0987654321" and token.problems() == []
    text = token.base64()
    wrapped = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))  # as in XML
    for encoded in (token.encoded, text, wrapped):
        assert parse_etk(encoded) == token
    with pytest.raises(InvalidEtk, match="not valid now"):
        token.verify(NOW + timedelta(days=40000))


def test_forged_or_damaged_etks_are_refused(personas):
    a, twin = personas["A"], personas["A_twin"]
    # The twin's encryption certificate names A's subject as issuer but A did not sign it.
    forged_content = next(iter(twin.encryption_entries().values())).certificate
    identity = a.signing_identity()
    parts = signed_data(
        [forged_content.public_bytes(serialization.Encoding.DER)],
        key=identity.key,
        certificate=identity.certificate,
        certificates=(identity.certificate,),
        when=NOW,
    )
    with pytest.raises(InvalidEtk, match="not signed by the authentication certificate"):
        parse_etk(b"".join(parts))
    token = build_etk(a).encoded
    for index in (len(token) // 3, len(token) - 20):  # in the certificate, in the signature
        with pytest.raises(InvalidEtk):
            parse_etk(flip(token, index))
    with pytest.raises(InvalidEtk, match="base64"):
        parse_etk("not an ETK!")


# Interoperability with openssl cms ------------------------------------------------------------


def openssl(*args: str | Path) -> bytes:
    command = [OPENSSL, *map(str, args)]
    done = subprocess.run(command, capture_output=True, check=False, timeout=60)  # noqa: S603
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture
def pems(tmp_path, personas) -> dict[str, Path]:
    a, b = personas["A"].signing_identity(), next(iter(personas["B"].encryption_entries().values()))
    files = {
        "a.pem": pem(a.certificate),
        "a.key": key_pem(a.key),
        "ca.pem": pem(a.chain[0]),
        "b.pem": pem(b.certificate),
        "b.key": key_pem(b.private_key),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


@needs_openssl
@pytest.mark.parametrize("pss", [False, True])
def test_openssl_checks_every_layer_of_our_seal(tmp_path, personas, pems, pss):
    sealed = tmp_path / "sealed.der"
    sealed.write_bytes(
        seal(
            TEXT, sender=personas["A"].signing_identity(), recipients=[etk(personas, "B")], pss=pss
        )
    )
    envelope, inner, content = tmp_path / "env.der", tmp_path / "inner.der", tmp_path / "out"
    trust = ("-CAfile", pems["ca.pem"], "-purpose", "any")  # the sandbox CA as trust anchor
    openssl("cms", "-verify", "-inform", "DER", "-in", sealed, *trust, "-out", envelope)
    printed = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", envelope).decode()
    assert "aes-128-cbc" in printed and "rsaEncryption" in printed
    assert "d.issuerAndSerialNumber" in printed
    openssl(
        "cms",
        "-decrypt",
        "-inform",
        "DER",
        "-in",
        envelope,
        "-recip",
        pems["b.pem"],
        "-inkey",
        pems["b.key"],
        "-out",
        inner,
    )
    printed = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", inner).decode()
    assert "certificates:\n      <ABSENT>" in printed  # the inner layer carries none
    openssl(
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        inner,
        "-certfile",
        pems["a.pem"],
        *trust,
        "-out",
        content,
    )
    assert content.read_bytes() == TEXT
    # Also without a trust anchor (signature only).
    openssl("cms", "-verify", "-inform", "DER", "-in", sealed, "-noverify", "-out", envelope)


OPENSSL_VARIANTS = {
    "aes128": ([], ["-aes128"], []),
    "aes256, PSS outer signature": ([], ["-aes256"], ["-keyopt", "rsa_padding_mode:pss"]),
    "BER indefinite lengths": (["-indef"], ["-aes128", "-indef"], ["-indef"]),
    "OAEP, subjectKeyIdentifier": (
        [],
        ["-aes192", "-keyid", "-keyopt", "rsa_padding_mode:oaep"],
        [],
    ),
}


@needs_openssl
@pytest.mark.parametrize("variant", OPENSSL_VARIANTS)
def test_a_seal_made_by_openssl_opens(tmp_path, personas, pems, variant):
    inner_opts, encrypt_opts, outer_opts = OPENSSL_VARIANTS[variant]
    clear, inner, envelope, sealed = (tmp_path / n for n in ("c", "i.der", "e.der", "s.der"))
    clear.write_bytes(TEXT)
    signer = ("-signer", pems["a.pem"], "-inkey", pems["a.key"], "-md", "sha256")
    common = ("-binary", "-outform", "DER")
    openssl(
        "cms",
        "-sign",
        "-nodetach",
        "-nocerts",
        *signer,
        *common,
        *inner_opts,
        "-in",
        clear,
        "-out",
        inner,
    )
    openssl(
        "cms",
        "-encrypt",
        *common,
        "-recip",
        pems["b.pem"],
        *encrypt_opts,  # -keyopt last
        "-in",
        inner,
        "-out",
        envelope,
    )
    openssl(
        "cms",
        "-sign",
        "-nodetach",
        *signer,
        "-certfile",
        pems["ca.pem"],
        *common,
        *outer_opts,
        "-in",
        envelope,
        "-out",
        sealed,
    )
    result = unseal(
        sealed.read_bytes(),
        keys=decryption_keys(personas["B"]),
        trusted=[personas["A"].signing_identity().chain[0]],
    )
    assert result.content == TEXT and result.trusted is True
    assert result.signer_identity.identifier == "0123456789"


# Tampering ------------------------------------------------------------------------------------


def test_any_flipped_byte_of_the_outer_layer_is_caught(personas):
    a = personas["A"].signing_identity()
    sealed = seal(TEXT, sender=a, recipients=[etk(personas, "B")])
    keys = decryption_keys(personas["B"])
    # Chain certificates are not covered by any signature; they are checked against each other,
    # but a flipped byte in the root's own names leaves a certificate that is used for nothing.
    ca = a.chain[0].public_bytes(serialization.Encoding.DER)
    unused = range(sealed.index(ca), sealed.index(ca) + len(ca))
    for index in range(0, len(sealed), 3):
        try:
            result = unseal(flip(sealed, index), keys=keys)
        except (TamperedSeal, UnexpectedSigner, NotForMe):
            continue
        assert index in unused, f"byte {index} was flipped and the seal still opened"
        assert (result.content, result.signer_certificate) == (TEXT, a.certificate)
    with pytest.raises(TamperedSeal, match="outer signature does not verify") as caught:
        unseal(flip(sealed, len(sealed) - 5), keys=keys)  # inside the signature value
    assert caught.value.layer == "outer signature"


def test_tampered_encrypted_layer(personas):
    a, token = personas["A"].signing_identity(), etk(personas, "B")
    keys = decryption_keys(personas["B"])
    reference = triple(TEXT, a, a, [token])
    assert unseal(reference, keys=keys).content == TEXT
    envelope = cms.ContentInfo.load(reference)["content"]["encap_content_info"]["content"].native
    parsed = cms.ContentInfo.load(envelope)["content"]
    wrapped_key = parsed["recipient_infos"][0].chosen["encrypted_key"].native
    iv = parsed["encrypted_content_info"]["content_encryption_algorithm"]["parameters"].native
    targets = {
        "wrapped key": envelope.index(wrapped_key) + 100,
        "IV": envelope.index(iv) + 3,
        "first block": len(envelope) - 150,
        "last block": len(envelope) - 2,
    }
    for where, index in targets.items():
        forged = triple(TEXT, a, a, [token], envelope_edit=lambda e, i=index: flip(e, i))
        with pytest.raises(TamperedSeal) as caught:
            unseal(forged, keys=keys)
        assert caught.value.layer in ("encryption", "inner signature"), where
    for index in range(0, len(envelope), 7):  # anywhere else: an error, never content
        forged = triple(TEXT, a, a, [token], envelope_edit=lambda e, i=index: flip(e, i))
        with pytest.raises(EteeError):
            unseal(forged, keys=keys)


def test_tampered_inner_layer(personas):
    a, token = personas["A"].signing_identity(), etk(personas, "B")
    keys = decryption_keys(personas["B"])
    inner = b"".join(signed_data([TEXT], key=a.key, certificate=a.certificate, when=NOW))
    for index, reason in (
        (inner.index(TEXT) + 4, "content does not match"),
        (len(inner) - 9, "inner signature does not verify"),
    ):
        forged = triple(TEXT, a, a, [token], inner_edit=lambda d, i=index: flip(d, i))
        with pytest.raises(TamperedSeal, match=reason) as caught:
            unseal(forged, keys=keys)
        assert caught.value.layer == "inner signature"
    for index in range(0, len(inner), 5):
        forged = triple(TEXT, a, a, [token], inner_edit=lambda d, i=index: flip(d, i))
        with pytest.raises((TamperedSeal, UnexpectedSigner)):
            unseal(forged, keys=keys)


def test_garbage_and_truncation_are_malformed(personas):
    sealed = seal(TEXT, sender=personas["A"].signing_identity(), recipients=[etk(personas, "B")])
    keys = decryption_keys(personas["B"])
    for data in (b"", b"hello", os.urandom(300), sealed[:-1], sealed + b"\0", TEXT):
        with pytest.raises(MalformedSeal):
            unseal(data, keys=keys)
    assert issubclass(MalformedSeal, TamperedSeal)


# Signers --------------------------------------------------------------------------------------


def test_outer_signer_other_than_inner_signer(personas):
    a, c = personas["A"].signing_identity(), personas["C"].signing_identity()
    relabelled = triple(TEXT, a, c, [etk(personas, "B")])  # C re-signs A's content as its own
    with pytest.raises(UnexpectedSigner, match="cannot be bound to the content"):
        unseal(relabelled, keys=decryption_keys(personas["B"]))


def test_inner_layer_carrying_another_certificate(personas):
    a, c = personas["A"].signing_identity(), personas["C"].signing_identity()

    def with_c_certificate(_: bytes) -> bytes:
        parts = signed_data(
            [TEXT], key=c.key, certificate=c.certificate, certificates=(c.certificate,), when=NOW
        )
        return b"".join(parts)

    forged = triple(TEXT, a, a, [etk(personas, "B")], inner_edit=with_c_certificate)
    with pytest.raises(UnexpectedSigner):
        unseal(forged, keys=decryption_keys(personas["B"]))


def test_expected_sender_is_checked_before_decryption(personas):
    a, c = personas["A"], personas["C"]
    sealed = seal(TEXT, sender=c.signing_identity(), recipients=[etk(personas, "B")])
    a_cert = a.entry("authentication").certificate
    for expected in (a_cert, CertificateIdentity("CBE", "0123456789", None, None)):
        with pytest.raises(UnexpectedSigner):  # not NotForMe: nothing was decrypted
            unseal(sealed, keys=decryption_keys(a), expected_sender=expected)
    c_identity = CertificateIdentity("CBE", "0555555555", None, None)
    result = unseal(sealed, keys=decryption_keys(personas["B"]), expected_sender=c_identity)
    assert result.content == TEXT
    # Same subject, other key (A_twin): the certificate, not the name, is what is compared.
    twin = seal(TEXT, sender=personas["A_twin"].signing_identity(), recipients=[etk(personas, "B")])
    with pytest.raises(UnexpectedSigner):
        unseal(twin, keys=decryption_keys(personas["B"]), expected_sender=a_cert)


def test_trust_anchors(personas):
    a = personas["A"].signing_identity()
    sealed = seal(TEXT, sender=a, recipients=[etk(personas, "B")])
    keys = decryption_keys(personas["B"])
    assert unseal(sealed, keys=keys, trusted=[a.chain[0]]).trusted is True
    other = unseal(sealed, keys=keys, trusted=[personas["C"].signing_identity().chain[0]])
    assert other.trusted is False and "does not chain" in other.reasons[0]
    assert other.content == TEXT  # trust is reported; the content is authentic either way


def test_an_ecdsa_sender_without_ehealth_identifier(personas):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "no eHealth identifier")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    sealed = seal(TEXT, sender=SigningIdentity(key, cert), recipients=[etk(personas, "B")])
    result = unseal(sealed, keys=decryption_keys(personas["B"]))
    assert result.content == TEXT and result.signer_identity is None
    assert result.reasons == ("the sender's certificate carries no eHealth identifier",)
