"""End-to-end encrypted eHealthBox messages over real HTTP, on the sandbox.

The app is served on a loopback port with its sandbox (conftest `serve`): keys come from the
sandbox ETEE JWKS directory (`Services.directory`), personal keystores from the folder the
sandbox exports its personas' to (`Services.keys`), messages go through the sandbox eHealthBox.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from conftest import serve
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from ehbox_fixtures import Sandbox, sandbox_of

from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD, Settings
from ehbox_webapp.ehealth.ehealthbox import (
    Attachment,
    BadRequest,
    BoxId,
    ContentSpecification,
    FreeInformation,
    NewMessage,
    Recipient,
    TableRow,
)
from ehbox_webapp.ehealth.ehealthbox.sealing import (
    EncryptedSend,
    client_fetch,
    is_seal,
    seal_message,
    send_encrypted,
    unseal_message,
)
from ehbox_webapp.ehealth.ehealthbox.unsealing import (
    MIXED,
    NOT_FOR_ME,
    TAMPERED,
    UNEXPECTED_SIGNER,
)
from ehbox_webapp.ehealth.etee import seal
from ehbox_webapp.ehealth.etee.directory import EteeDirectory, NoEncryptionKey, etee_identifier
from ehbox_webapp.ehealth.etee.keys import OrganisationKeys, PersonalKeystores
from ehbox_webapp.ehealth.keystore import EteeKeystore, generate_keystore
from ehbox_webapp.pdf import make_pdf
from ehbox_webapp.sandbox.personas import ORGANISATIONS, persona

ORG = ORGANISATIONS[0]
ALICE, BRAM, CHLOE = persona("dr-alice"), persona("nurse-bram"), persona("dr-chloe")
UNKNOWN_INSS = "56031412372"  # a valid INSS: no persona, so no published key
JWKS = "/etee/v1/pubKeys/cacerts/jwks"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def box(p) -> BoxId:
    return BoxId(p.ssin, "INSS", p.quality)


def to(p) -> Recipient:
    return Recipient(p.ssin, "INSS", p.quality)


ORG_BOX = BoxId(ORG.identifier, "CBE", "INSTITUTION")


@pytest.fixture(scope="module")
def live(tmp_path_factory, sandbox_keystore):
    """One app and sandbox for the module: tests use their own publication ids."""
    app = serve(tmp_path_factory.mktemp("etee"), sandbox_keystore)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def sb(live) -> Sandbox:
    return sandbox_of(live)


@pytest.fixture(scope="module")
def services(live):
    return live.app.extensions["services"]


def depot(live):
    return live.app.extensions["sandbox_app"].extensions["sandbox_etee"]


def story(title: str = "Verslag", **kwargs) -> NewMessage:
    """A document, two annexes whose titles hold patient data, free text and a patient."""
    pdf = make_pdf(title, ["Patiënt: Jan Test, HbA1c 6,1 %"])
    return NewMessage(
        [to(BRAM)],
        title,
        document=Attachment(pdf, "verslag.pdf", "application/pdf"),
        annexes=[
            Attachment(b"labo " * 300, "labo.txt", "text/plain", title="Labo Jan Test"),
            Attachment(
                bytes(range(256)) * 20, "ecg.bin", "application/octet-stream", title="ECG 12/03"
            ),
        ],
        free_information=FreeInformation(text="Graag opvolging van Jan Test."),
        patient_inss="56031412372",
        **kwargs,
    )


def received(sb, who: str, publication_id: str, folder: str = "INBOX"):
    client = sb.client(who)
    summary = next(s for s in client.iter_messages(folder) if s.publication_id == publication_id)
    return client, client.get_message(summary.message_id, folder)


def opened_by(services, sb, who, publication_id, keys=None, folder="INBOX", **kwargs):
    client, message = received(sb, who, publication_id, folder)
    keys = keys if keys is not None else services.keys.decryption_keys_for(box(persona(who)))
    return unseal_message(message, client_fetch(client, message.message_id, folder), keys, **kwargs)


def content_row(sb, publication_id: str):
    with sb.store.connect() as conn:
        return conn.execute(
            "SELECT * FROM contents WHERE publication_id=?", (publication_id,)
        ).fetchone()


def jwks(live, **params) -> requests.Response:
    return requests.get(live.sandbox(JWKS), params=params, timeout=10)


def cert_of(key: dict) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(key["x5c"][0]))


# --- the key directory -------------------------------------------------------------------------
def test_sandbox_jwks_answers_like_ehealth(live, services):
    enc = jwks(live, identifier=ALICE.ssin, type="SSIN", use="enc")
    sig = jwks(live, identifier=ALICE.ssin, type="SSIN", use="sig")
    assert enc.status_code == sig.status_code == 200
    assert enc.headers["Content-Type"].startswith("application/json")
    (enc_key,), (sig_key,) = enc.json()["keys"], sig.json()["keys"]
    for key, use in ((enc_key, "enc"), (sig_key, "sig")):
        assert key["kty"] == "RSA" and key["use"] == use and key["kid"] and key["e"] == "AQAB"
        assert not PRIVATE_MEMBERS & set(key) and len(key["x5c"]) == 1
        der = base64.b64decode(key["x5c"][0])
        digest = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
        assert key["x5t#S256"] == digest
    assert sig_key["alg"] == "RS256"
    enc_cert, auth_cert = cert_of(enc_key), cert_of(sig_key)
    enc_cert.verify_directly_issued_by(auth_cert)  # as eHealth issues them
    assert "SSIN=85071212390" in auth_cert.subject.rfc4514_string()
    # The persona's keystore was issued on that first request and exported under eHealth's name.
    folder = live.instance_path / "sandbox-personas"
    (exported,) = folder.glob(f"SSIN={ALICE.ssin} *.acc-p12")
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    keystore = EteeKeystore.load(exported, SANDBOX_KEYSTORE_PASSWORD)
    assert str(enc_cert.serial_number) in keystore.encryption_entries()

    # The organisation publishes the app's own keystore.
    app_keystore = EteeKeystore.load(live.environ["ETEE_KEYSTORE"], SANDBOX_KEYSTORE_PASSWORD)
    org_enc = jwks(live, identifier=ORG.identifier, type="CBE", use="enc").json()["keys"]
    org_sig = jwks(live, identifier=ORG.identifier, type="CBE", use="sig").json()["keys"]
    assert [cert_of(k) for k in org_enc] == [
        e.certificate for e in app_keystore.encryption_entries().values()
    ]
    assert cert_of(org_sig[0]) == app_keystore.entry("authentication").certificate

    assert jwks(live, identifier=UNKNOWN_INSS, type="SSIN", use="enc").status_code == 404
    assert (
        jwks(
            live, identifier=ALICE.ssin, type="SSIN", use="enc", applicationIdentifier="EHBOX"
        ).status_code
        == 404
    )
    bad = jwks(live, identifier=ALICE.ssin, type="SSIN")
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "use"
    # The app's settings point at it (preset ETEE_JWKS_BASE).
    assert services.directory.for_box(box(ALICE)) == [enc_cert]


def test_box_to_etee_identifier_table():
    assert etee_identifier(box(ALICE)) == ("SSIN", ALICE.ssin)
    assert etee_identifier(BoxId("71000436", "NIHII", "HOSPITAL", "HOSPITAL")) == (
        "NIHII-HOSPITAL",
        "71000436",
    )
    assert etee_identifier(BoxId(ALICE.nihii11, "NIHII", "DOCTOR"))[0] == "NIHII11"
    assert (
        etee_identifier(BoxId("0899999949", "CBE", "TREATMENT_CENTER", "TREATMENT_CENTER"))[0]
        == "CBE-TREAT_CENTER"
    )
    assert etee_identifier(ORG_BOX) == ("CBE", ORG.identifier)
    with pytest.raises(NoEncryptionKey, match="broadcast"):
        etee_identifier(BoxId("ALL", "INSS", "DOCTOR"))


def test_directory_caches_and_names_the_recipient(live):
    calls = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: calls.append(r.url))
    directory = EteeDirectory(live.sandbox(JWKS), session)
    first = directory.for_box(box(CHLOE))
    assert directory.for_box(box(CHLOE)) == first and len(calls) == 1
    with pytest.raises(NoEncryptionKey) as missing:
        directory.for_box(BoxId(UNKNOWN_INSS, "INSS", "DOCTOR"))
    assert missing.value.label == f"INSS {UNKNOWN_INSS}" and UNKNOWN_INSS in str(missing.value)
    directory.forget()
    directory.for_box(box(CHLOE))
    assert len(calls) == 3


def test_settings_presets():
    sandbox = Settings.from_env({})
    assert sandbox.etee_jwks_base == f"http://localhost:5000/sandbox{JWKS}"
    assert sandbox.personal_keystores_path(Path("/r"), Path("/i")) == Path("/i/sandbox-personas")
    acceptance = Settings.from_env(
        {
            "EHBOX_ENV": "acceptance",
            "PUBLIC_URL": "https://x.example",
            "SECRET_KEY": "x" * 40,
            "IAM_CLIENT_ID": "c",
            "ETEE_KEYSTORE": "/k.p12",
            "ETEE_KEYSTORE_PASSWORD": "p",
            "ETEE_IDENTIFIER": "0899999949",
            "EHBOX_API_URL": "https://x.example/ehbox",
            "EHEALTH_FROM": "o@x.example",
            "ETEE_PREVIOUS_KEYSTORES": "old1.p12, /k/old2.p12,",
        }
    )
    assert acceptance.etee_jwks_base == (
        "https://api-acpt.ehealth.fgov.be/etee/v1/pubKeys/cacerts/jwks"
    )
    assert acceptance.etee_previous_keystores == ("old1.p12", "/k/old2.p12")
    assert acceptance.personal_keystores_path(Path("/r"), Path("/i")) is None
    production = acceptance.with_(env="production")
    assert production.etee_jwks_url.startswith("https://api.ehealth.fgov.be/etee/v1/")


# --- a persona to a persona --------------------------------------------------------------------
def test_alice_sends_encrypted_to_bram_who_reads_every_field(live, sb, services):
    message = story("Encrypted story", publication_id="ETEESTORY0001")
    sent = send_encrypted(sb.client("dr-alice"), services.directory, services.keys, message)
    assert not sent.replayed

    # On the platform: the title and names are clear, every Encryptable field is a seal.
    row = content_row(sb, "ETEESTORY0001")
    assert json.loads(row["spec_json"])["isEncrypted"] is True
    assert is_seal(base64.b64decode(row["patient_inss"]))
    assert is_seal(base64.b64decode(json.loads(row["free_json"])["freeText"]))
    document = json.loads(row["document_json"])
    assert document["title"] == "Encrypted story" and document["downloadFileName"] == "verslag.pdf"
    sealed_doc = sb.store.blobs.path(document["blob"]).read_bytes()
    assert is_seal(sealed_doc) and b"Jan Test" not in sealed_doc
    assert document["digest"] == base64.b64encode(hashlib.sha256(sealed_doc).digest()).decode()
    # The seal, not its base64 text, is what must not hold the clear title: random base64
    # of some 5,800 characters holds "Jan" about one time in fifty.
    for annex, sent_annex in zip(json.loads(row["annexes_json"]), message.annexes, strict=True):
        sealed_title = base64.b64decode(annex["title"])
        assert is_seal(sealed_title) and sent_annex.title.encode() not in sealed_title

    opened = opened_by(services, sb, "nurse-bram", "ETEESTORY0001")
    assert opened.ok and opened.verdict == "valid" and opened.encrypted
    assert opened.document == message.document.read_all()
    assert [(a.title, a.content) for a in opened.annexes] == [
        (a.title, a.read_all()) for a in message.annexes
    ]
    assert opened.free_information.text == "Graag opvolging van Jan Test."
    assert opened.patient_inss == "56031412372"
    assert (opened.signer.identifier_type, opened.signer.identifier) == ("SSIN", ALICE.ssin)
    assert "SSIN=85071212390" in opened.describe() and "valid" in opened.describe()

    mine = opened_by(services, sb, "dr-alice", "ETEESTORY0001", folder="SENTBOX")
    assert mine.ok and mine.patient_inss == "56031412372"
    assert mine.document == message.document.read_all()

    # Chloé holds the same message (say, forwarded): nothing opens, and she is told why.
    services.directory.for_box(box(CHLOE))  # her keystore exists
    chloe_keys = services.keys.decryption_keys_for(box(CHLOE))
    theirs = opened_by(services, sb, "nurse-bram", "ETEESTORY0001", keys=chloe_keys)
    assert theirs.verdict == NOT_FOR_ME and theirs.document is None
    assert theirs.patient_inss is None and all(a.content is None for a in theirs.annexes)
    assert {p.kind for p in theirs.problems} == {NOT_FOR_ME}
    assert "not addressed to any of your encryption keys" in theirs.problems[0].reason


def test_table_and_text_document_are_sealed(live, sb, services):
    table = FreeInformation(
        table_title="Labo (titel blijft leesbaar)",
        rows=(TableRow("HbA1c", "6,1 %"), TableRow("LDL", "")),
    )
    message = NewMessage(
        [to(BRAM)],
        "Nota",
        text="Korte nota over Jan Test.",
        free_information=table,
        publication_id="ETEETABLE0001",
    )
    send_encrypted(sb.client("dr-alice"), services.directory, services.keys, message)
    free = json.loads(content_row(sb, "ETEETABLE0001")["free_json"])
    assert free["table"]["title"] == "Labo (titel blijft leesbaar)"
    assert all(
        is_seal(base64.b64decode(r[c]))
        for r in free["table"]["rows"]
        for c in ("leftCell", "rightCell")
    )
    opened = opened_by(services, sb, "nurse-bram", "ETEETABLE0001")
    assert opened.ok and opened.document == b"Korte nota over Jan Test."
    assert opened.free_information == table


# --- what must not open ------------------------------------------------------------------------
def test_a_tampered_seal_is_caught(live, sb, services):
    send_encrypted(
        sb.client("dr-alice"),
        services.directory,
        services.keys,
        story(publication_id="ETEETAMPER001"),
    )
    row = content_row(sb, "ETEETAMPER001")
    annexes = json.loads(row["annexes_json"])
    path = sb.store.blobs.path(annexes[0]["blob"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # in the ciphertext; the platform's digest made to match
    path.write_bytes(bytes(data))
    annexes[0]["digest"] = base64.b64encode(hashlib.sha256(data).digest()).decode()
    inss = row["patient_inss"]
    middle = len(inss) // 2
    tampered_inss = inss[:middle] + ("A" if inss[middle] != "A" else "B") + inss[middle + 1 :]
    with sb.store.write() as conn:
        conn.execute(
            "UPDATE contents SET annexes_json=?, patient_inss=? WHERE content_id=?",
            (json.dumps(annexes), tampered_inss, row["content_id"]),
        )
    document = sb.store.blobs.path(json.loads(row["document_json"])["blob"])
    document.write_bytes(document.read_bytes()[:-1] + b"\x00")  # digest left: caught on download

    opened = opened_by(services, sb, "nurse-bram", "ETEETAMPER001")
    problems = {p.field: p for p in opened.problems}
    assert set(problems) == {"patientInss", "document", "annexes[1]"}
    assert {p.kind for p in problems.values()} == {TAMPERED}
    assert "checksum" in problems["document"].reason
    assert opened.patient_inss is None and opened.document is None
    assert opened.annexes[0].content is None and opened.annexes[1].content is not None
    assert opened.verdict == TAMPERED and not opened.ok


def test_a_seal_signed_by_someone_else_or_for_someone_else(live, sb, services):
    directory, keys = services.directory, services.keys
    bram_certs, chloe_certs = directory.for_box(box(BRAM)), directory.for_box(box(CHLOE))
    alice_certs = directory.for_box(box(ALICE))
    # Alice's box sends a message sealed with Chloé's key: the signer is not the sender.
    forged = seal_message(
        story(publication_id="ETEEFORGED001"),
        sender=keys.signing_identity_for(box(CHLOE)),
        sender_box_certs=alice_certs,
        recipient_certs={to(BRAM): bram_certs},
    )
    sb.client("dr-alice").send(forged)
    opened = opened_by(services, sb, "nurse-bram", "ETEEFORGED001")
    assert opened.verdict == UNEXPECTED_SIGNER and opened.document is None
    assert f"not by SSIN={ALICE.ssin}" in opened.problems[0].reason
    # A seal made for Chloé, delivered to Bram.
    elsewhere = seal_message(
        story(publication_id="ETEEELSEWH001"),
        sender=keys.signing_identity_for(box(ALICE)),
        sender_box_certs=alice_certs,
        recipient_certs={to(BRAM): chloe_certs},
    )
    sb.client("dr-alice").send(elsewhere)
    opened = opened_by(services, sb, "nurse-bram", "ETEEELSEWH001")
    assert opened.verdict == NOT_FOR_ME and opened.patient_inss is None
    # An explicit expected sender is checked too.
    expected = chloe_certs[0]
    other = opened_by(services, sb, "nurse-bram", "ETEESTORY0001", expected_sender=expected)
    assert other.verdict == UNEXPECTED_SIGNER


def test_mixed_messages_are_refused_by_the_sandbox(live, sb, services):
    alice = sb.client("dr-alice")
    sending = EncryptedSend(alice, services.directory, services.keys)
    half = sending.seal(story(publication_id="ETEEMIXED0001"))
    half.free_information = FreeInformation(text="clear text in an encrypted message")
    with pytest.raises(BadRequest) as refused:
        alice.send(half)
    problem = refused.value.problem
    assert refused.value.status == 422
    assert problem["type"] == "urn:problem-type:ehealthbox:encryptionMismatch"
    assert [p["name"] for p in problem["invalidParams"]] == ["content.freeInformations.freeText"]

    sealed = sending.seal(story(publication_id="ETEEMIXED0002"))
    clear = story(publication_id="ETEEMIXED0002")
    clear.document = sealed.document  # sealed bytes in a message marked clear
    clear.annexes[0].title = sealed.annexes[0].title
    with pytest.raises(BadRequest) as refused:
        alice.send(clear)
    names = {p["name"] for p in refused.value.problem["invalidParams"]}
    assert names == {"content.document.contentRef", "content.annexes[0].title"}

    inline = sending.seal(story(publication_id="ETEEMIXED0003"))
    inline.document, inline.text = None, "inline"
    with pytest.raises(BadRequest) as refused:
        alice.send(inline)
    assert "textContent" in refused.value.problem["invalidParams"][0]["name"]
    sentbox = [s.publication_id for s in alice.iter_messages("SENTBOX")]
    assert not {"ETEEMIXED0001", "ETEEMIXED0002", "ETEEMIXED0003"} & set(sentbox)


def test_mixed_messages_are_refused_by_unseal_message(live, sb, services):
    client, message = received(sb, "nurse-bram", "ETEESTORY0001")
    keys = services.keys.decryption_keys_for(box(BRAM))
    fetch = client_fetch(client, message.message_id)
    clear_inss = replace(message, patient_inss="56031412372")
    opened = unseal_message(clear_inss, fetch, keys)
    assert opened.verdict == MIXED and opened.problems[0].field == "patientInss"
    assert opened.document is None and opened.free_information is None  # refused whole
    marked_clear = replace(message, content_specification=ContentSpecification())
    opened = unseal_message(marked_clear, fetch, keys)
    assert opened.verdict == MIXED and opened.patient_inss is None and opened.document is None


def test_a_recipient_without_an_encryption_key_stops_the_send(live, sb, services):
    message = story(publication_id="ETEENOKEY0001")
    message.recipients.append(Recipient(UNKNOWN_INSS, "INSS", "DOCTOR"))
    with pytest.raises(NoEncryptionKey) as missing:
        send_encrypted(sb.client("dr-alice"), services.directory, services.keys, message)
    assert f"INSS {UNKNOWN_INSS}" in str(missing.value)
    sentbox = [s.publication_id for s in sb.client("dr-alice").iter_messages("SENTBOX")]
    assert "ETEENOKEY0001" not in sentbox


# --- renewed keys ------------------------------------------------------------------------------
def test_a_renewed_persona_still_opens_old_mail(live, sb, services, tmp_path):
    send_encrypted(
        sb.client("dr-alice"),
        services.directory,
        services.keys,
        story(publication_id="ETEEOLDKEY001"),
    )
    renewed = depot(live).renew("nurse-bram")
    services.directory.forget()
    assert len(services.directory.for_box(box(BRAM))) == 2  # both certificates are published
    send_encrypted(
        sb.client("dr-alice"),
        services.directory,
        services.keys,
        story(publication_id="ETEENEWKEY001"),
    )
    folder = live.instance_path / "sandbox-personas"
    assert (folder / renewed.name).exists()
    signer = services.keys.signing_identity_for(box(BRAM))
    newest = EteeKeystore.load(folder / renewed.name, SANDBOX_KEYSTORE_PASSWORD)
    assert signer.certificate == newest.entry("authentication").certificate
    assert opened_by(services, sb, "nurse-bram", "ETEEOLDKEY001").ok
    only_new = tmp_path / "only-new"
    only_new.mkdir()
    shutil.copy(folder / renewed.name, only_new / renewed.name)
    new_keys = PersonalKeystores(only_new, SANDBOX_KEYSTORE_PASSWORD).decryption_keys_for(box(BRAM))
    assert opened_by(services, sb, "nurse-bram", "ETEEOLDKEY001", keys=new_keys).verdict == (
        NOT_FOR_ME
    )
    assert opened_by(services, sb, "nurse-bram", "ETEENEWKEY001", keys=new_keys).ok


def test_previous_organisation_keystores_open_old_mail(make_live_app, sandbox_keystore, tmp_path):
    renewed = generate_keystore(
        tmp_path / "CBE=0899999949 renewed.acc-p12",
        SANDBOX_KEYSTORE_PASSWORD,
        identifier=ORG.identifier,
        identifier_type="CBE",
        name=ORG.name,
    )
    app = make_live_app(
        {"ETEE_KEYSTORE": str(renewed), "ETEE_PREVIOUS_KEYSTORES": str(sandbox_keystore)}
    )
    services = app.app.extensions["services"]
    old = EteeKeystore.load(sandbox_keystore, SANDBOX_KEYSTORE_PASSWORD)
    old_certs = [e.certificate for e in old.encryption_entries().values()]
    sandbox = sandbox_of(app)
    # Mail sealed for the organisation's previous certificate, before the renewal.
    message = story(publication_id="ETEEORGOLD001")
    message.recipients = [Recipient(ORG.identifier, "CBE", "INSTITUTION")]
    alice_certs = services.directory.for_box(box(ALICE))  # issues her keystore in the sandbox
    sealed = seal_message(
        message,
        sender=services.keys.signing_identity_for(box(ALICE)),
        sender_box_certs=alice_certs,
        recipient_certs={ORG_BOX: old_certs},
    )
    sandbox.client("dr-alice").send(sealed)
    org = sandbox.client(ORG.client_id)
    summary = next(s for s in org.iter_messages() if s.publication_id == "ETEEORGOLD001")
    shown = app.app.test_cli_runner().invoke(args=["ehbox", "m2m", "get", summary.message_id])
    assert shown.exit_code == 0, shown.output
    assert f"sealed by:   SSIN={ALICE.ssin} (Alice Peeters)" in shown.stdout
    assert "verdict:     valid" in shown.stdout and "patient:     56031412372" in shown.stdout
    current_only = OrganisationKeys(
        "CBE",
        ORG.identifier,
        services.identity,
        [EteeKeystore.load(renewed, SANDBOX_KEYSTORE_PASSWORD)],
    )
    full = org.get_message(summary.message_id)
    opened = unseal_message(
        full, client_fetch(org, full.message_id), current_only.decryption_keys_for(ORG_BOX)
    )
    assert opened.verdict == NOT_FOR_ME


# --- the organisation (M2M CLI) ----------------------------------------------------------------
def m2m(live, *args: str):
    return live.app.test_cli_runner().invoke(args=["ehbox", "m2m", *args])


def test_the_organisation_sends_encrypted_to_alice_and_reads_encrypted_mail(
    live, sb, services, tmp_path
):
    document, annex = tmp_path / "verslag.pdf", tmp_path / "labo.txt"
    document.write_bytes(make_pdf("Verslag", ["Jan Test"]))
    annex.write_bytes(b"HbA1c 6,1 %")
    sent = m2m(
        live,
        "send",
        "--encrypted",
        "--to",
        f"INSS:{ALICE.ssin}:DOCTOR",
        "--title",
        "Verslag",
        "--document",
        str(document),
        "--annex",
        str(annex),
        "--free-text",
        "Graag opvolging.",
        "--patient",
        "56031412372",
        "--publication-id",
        "ETEEM2MSEND01",
    )
    assert sent.exit_code == 0, sent.output
    assert "not encrypted: keep patient data out" in sent.stderr
    opened = opened_by(services, sb, "dr-alice", "ETEEM2MSEND01")
    assert opened.ok and opened.signer.identifier == ORG.identifier
    assert opened.document == document.read_bytes() and opened.patient_inss == "56031412372"
    assert opened.annexes[0].title == "labo.txt" and opened.annexes[0].content == b"HbA1c 6,1 %"
    assert opened.free_information.text == "Graag opvolging."

    refused = m2m(
        live,
        "send",
        "--encrypted",
        "--to",
        f"INSS:{UNKNOWN_INSS}:DOCTOR",
        "--title",
        "x",
        "--text",
        "y",
    )
    assert refused.exit_code == 2 and f"INSS {UNKNOWN_INSS}" in refused.stderr
    assert "Nothing was sent" in refused.stderr and "Traceback" not in refused.output

    # Alice answers, encrypted, to the organisation: `get` unseals, shows signer and verdict.
    answer = story("Antwoord", publication_id="ETEEM2MREAD01")
    answer.recipients = [Recipient(ORG.identifier, "CBE", "INSTITUTION")]
    send_encrypted(sb.client("dr-alice"), services.directory, services.keys, answer)
    org = sb.client(ORG.client_id)
    summary = next(s for s in org.iter_messages() if s.publication_id == "ETEEM2MREAD01")
    shown = m2m(live, "get", summary.message_id, "--save-dir", str(tmp_path / "saved"))
    assert shown.exit_code == 0, shown.output
    assert f"sealed by:   SSIN={ALICE.ssin} (Alice Peeters)" in shown.stdout
    assert "verdict:     valid" in shown.stdout and "free text:   Graag opvolging van Jan" in (
        shown.stdout
    )
    assert "annex 1:     Labo Jan Test" in shown.stdout
    saved = tmp_path / "saved" / summary.message_id
    meta = json.loads((saved / "message.json").read_text())
    assert (saved / meta["files"]["document"]).read_bytes() == answer.document.read_all()
    assert meta["message"]["patientInss"] == "56031412372"
    as_json = json.loads(m2m(live, "get", summary.message_id, "--json").stdout)
    assert as_json["sealed"]["verdict"] == "valid"
    assert as_json["sealed"]["signer"]["identifier"] == ALICE.ssin

    # The poller saves it opened too, never as sealed bytes.
    polled = m2m(
        live, "poll", "--into", str(tmp_path / "polled"), "--once", "--keep", "--interval", "1"
    )
    assert polled.exit_code == 0, polled.output
    folder = tmp_path / "polled" / summary.message_id
    meta = json.loads((folder / "message.json").read_text())
    assert (folder / meta["files"]["document"]).read_bytes() == answer.document.read_all()
    assert meta["message"]["patientInss"] == "56031412372"


def test_the_organisation_refuses_to_show_what_it_cannot_open(live, sb, services):
    certs = services.directory.for_box(box(CHLOE))
    message = story(publication_id="ETEEM2MNOT001")
    message.recipients = [Recipient(ORG.identifier, "CBE", "INSTITUTION")]
    sealed = seal_message(
        message,
        sender=services.keys.signing_identity_for(box(ALICE)),
        sender_box_certs=certs,
        recipient_certs={ORG_BOX: certs},
    )
    sb.client("dr-alice").send(sealed)
    summary = next(
        s for s in sb.client(ORG.client_id).iter_messages() if s.publication_id == "ETEEM2MNOT001"
    )
    shown = m2m(live, "get", summary.message_id)
    assert shown.exit_code == 1 and "verdict:     not-for-me" in shown.stdout
    assert "cannot be opened" in shown.stderr and "56031412372" not in shown.output


def test_seal_bytes_are_what_the_etee_library_opens(services):
    """Sanity: a field sealed here opens with the library's own unseal (no app wrapper)."""
    identity = services.identity
    certs = [
        e.certificate
        for e in EteeKeystore.load(services.settings.etee_keystore, SANDBOX_KEYSTORE_PASSWORD)
        .encryption_entries()
        .values()
    ]
    sealed = seal(b"x", sender=identity, recipients=certs)
    assert is_seal(sealed) and not is_seal(certs[0].public_bytes(serialization.Encoding.DER))


def test_encrypted_messages_follow_the_openapi_contract(live, sb, services):
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from ehbox_webapp.ehealth.ehealthbox import OPENAPI_PATH, rest

    spec = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    registry = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012)
    )

    def errors(schema: str, body) -> list[str]:
        validator = Draft202012Validator(
            {"$ref": f"urn:spec#/components/schemas/{schema}"}, registry=registry
        )
        return [e.message for e in validator.iter_errors(body)]

    sealed = EncryptedSend(sb.client("dr-alice"), services.directory, services.keys).seal(
        story(publication_id="ETEEOPENAPI01")
    )
    assert errors("NewMessage", rest.new_message_to_json(sealed)) == []
    sb.client("dr-alice").send(sealed)
    _, message = received(sb, "nurse-bram", "ETEEOPENAPI01")
    full = sb.raw("GET", f"/messages/{message.message_id}", who="nurse-bram")
    assert full.status_code == 200 and errors("Message", full.json()) == []
    listed = sb.raw("GET", "/messages", who="nurse-bram", params={"endIndex": "5"})
    assert errors("MessagePage", listed.json()) == []
    sealed.free_information = FreeInformation(text="clear")
    refused = sb.raw(
        "POST",
        "/messages",
        who="dr-alice",
        files=[
            ("message", (None, json.dumps(rest.new_message_to_json(sealed)), "application/json")),
            *[
                (ref, (a.filename, a.read_all(), a.mime_type))
                for ref, a in rest.binary_parts(sealed)
            ],
        ],
    )
    assert refused.status_code == 422 and errors("Problem", refused.json()) == []


def test_the_depot_adopts_exported_keystores(tmp_path):
    from ehbox_webapp.sandbox.etee import KeyDepot

    export = tmp_path / "personas"
    first = KeyDepot(tmp_path / "a", SANDBOX_KEYSTORE_PASSWORD, export=export)
    issued = first.published("SSIN", CHLOE.ssin, None)
    again = KeyDepot(tmp_path / "b", SANDBOX_KEYSTORE_PASSWORD, export=export)  # a reset instance
    assert again.published("SSIN", CHLOE.ssin, None) == issued
    assert len(list(export.iterdir())) == 1 and again.published("SSIN", UNKNOWN_INSS, None) is None
