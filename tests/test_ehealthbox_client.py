"""The eHealthBox client against the sandbox: the story, errors, retries, lost answers."""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

import ehbox_fixtures
import pytest
import requests
from ehbox_fixtures import FROM, USER_AGENT, pdf_message, recipient, run_story

from ehbox_webapp.ehealth import http
from ehbox_webapp.ehealth.ehealthbox import (
    Attachment,
    BadRequest,
    BoxId,
    DigestMismatch,
    EhealthboxClient,
    InvalidBox,
    InvalidDestination,
    MessageTooLarge,
    NewMessage,
    NotFound,
    QualityNotAllowed,
    Recipient,
    RecipientsOutOfOffice,
    SendOutcomeUnknown,
    Unauthorized,
    Unavailable,
    rest,
)
from ehbox_webapp.sandbox.personas import persona

# The shared fixtures (tests/ehbox_fixtures.py; no conftest of our own).
sandbox = ehbox_fixtures.sandbox
no_faults = ehbox_fixtures.no_faults

ALICE = persona("dr-alice")


def _in_inbox(sandbox, who: str, publication_id: str) -> int:
    page = sandbox.client(who).list_messages("INBOX", 1, 50)
    return sum(m.publication_id == publication_id for m in page.messages)


def test_two_persona_story(sandbox):
    seen = run_story(sandbox)
    assert seen["parts"][2][0] == "Résultats labo.txt"
    assert seen["parts"]["document"][1] == "application/pdf"


def test_organisation_box(sandbox):
    org = sandbox.client("cbe-0899999949")
    info = org.box_info()
    assert info.box_id == BoxId("0899999949", "CBE", "INSTITUTION") and 0 < info.usage < 1
    result = org.send(NewMessage([recipient("dr-alice")], "Facturatie", text="Overzicht"))
    full = sandbox.client("dr-alice").get_message(
        next(
            m.message_id
            for m in sandbox.client("dr-alice").list_messages().messages
            if m.publication_id == result.publication_id
        )
    )
    assert full.sender.name == "Sandbox Medical Software NV" and full.document.mime_type == (
        "text/plain"
    )


# --- errors arrive as the right exception ----------------------------------------------------
def test_error_classes(sandbox):
    alice = sandbox.client("dr-alice")
    with pytest.raises(BadRequest) as bad:
        alice.list_messages("INBOX", 1, 150)
    assert bad.value.status == 400 and bad.value.invalid_params and bad.value.request_id
    with pytest.raises(BadRequest):
        alice.list_messages("TRASH")
    with pytest.raises(NotFound):
        alice.get_message("AAAAAAAAAAAAA")
    with pytest.raises(NotFound):
        alice.open_annex("AAAAAAAAAAAAA", 1)

    unknown = Recipient("85071212309", "INSS", "DOCTOR")
    with pytest.raises(InvalidDestination) as invalid:
        alice.send(NewMessage([recipient("nurse-bram"), unknown], "Test", text="x"))
    assert invalid.value.code == "802" and invalid.value.recipients == [unknown.box()]
    with pytest.raises(InvalidDestination) as invalid:
        alice.send(NewMessage([Recipient(ALICE.ssin, "INSS", "NURSE")], "Test", text="x"))
    assert invalid.value.code == "803" and "NURSE" in invalid.value.detail
    with pytest.raises(InvalidDestination) as invalid:
        alice.send(NewMessage([Recipient("71012314", "NIHII", "HOSPITAL")], "Test", text="x"))
    assert invalid.value.code == "805"
    with pytest.raises(QualityNotAllowed):
        alice.send(NewMessage([Recipient("ALL", "INSS", "DOCTOR")], "Test", text="x"))

    tampered = pdf_message([recipient("nurse-bram")], annexes=1)
    tampered.annexes[0].digest = tampered.document.digest  # type: ignore[union-attr]
    with pytest.raises(DigestMismatch) as mismatch:
        alice.send(tampered)
    assert mismatch.value.code == "816" and mismatch.value.status == 422

    big = Attachment(
        b"\0" * (sandbox.settings.max_message_bytes + 1), "big.bin", "application/octet-stream"
    )
    with pytest.raises(MessageTooLarge) as too_large:
        alice.send(NewMessage([recipient("nurse-bram")], "Big", document=big))
    assert too_large.value.code == "801" and too_large.value.status == 413

    wrong_profession = EhealthboxClient(
        sandbox.api,
        lambda: sandbox.token("dr-alice", userProfile={"nurse": {}}),
        session=sandbox.session(),
    )
    with pytest.raises(InvalidBox) as no_box:
        wrong_profession.box_info()
    assert no_box.value.code == "810" and str(no_box.value).startswith("There is no eHealthBox")
    expired = EhealthboxClient(
        sandbox.api, lambda: sandbox.token("dr-alice", expires_in=-5), session=sandbox.session()
    )
    with pytest.raises(Unauthorized) as unauthorized:
        expired.box_info()
    assert "log in again" in str(unauthorized.value)


def test_out_of_office_round_trip(sandbox):
    bram, alice = sandbox.client("nurse-bram"), sandbox.client("dr-alice")
    substitute = BoxId(persona("dr-chloe").ssin, "INSS", "DOCTOR")
    ooo = bram.add_out_of_office(date.today(), date.today() + timedelta(days=3), [substitute])
    try:
        assert bram.out_of_offices() == [ooo]
        message = NewMessage([recipient("nurse-bram")], "Afwezig?", text="Ben je er?")
        with pytest.raises(RecipientsOutOfOffice) as absent:
            alice.send(message)
        outcome = absent.value.recipients[0]
        assert absent.value.code == "826" and outcome.substitutes == (substitute,)
        assert outcome.absent_to == ooo.end_date
        assert _in_inbox(sandbox, "nurse-bram", message.publication_id) == 0
        message.recipients = [recipient("nurse-bram", ooo_processed=True)]
        result = alice.send(message)
        assert result.recipients[0].absent_from == ooo.start_date
        assert _in_inbox(sandbox, "nurse-bram", message.publication_id) == 1
    finally:
        bram.delete_out_of_office(ooo.id)
    assert bram.out_of_offices() == []


# --- retries and lost answers ---------------------------------------------------------------
def test_reads_are_retried_honouring_retry_after(sandbox, no_faults):
    sandbox.fault(operation="list", status=503, retryAfter=1, times=1)
    started = time.monotonic()
    page = sandbox.client("dr-alice").list_messages("INBOX", 1, 5)
    assert len(page.messages) == 5 and time.monotonic() - started >= 1.0
    assert requests.get(f"{sandbox.url}/ehealthbox/_faults", timeout=5).json()["faults"] == []


def test_reads_give_up_after_the_attempts(sandbox, no_faults):
    sandbox.fault(operation="get", status=503, retryAfter=0, times=3)
    summary = sandbox.client("dr-alice").list_messages("INBOX", 1, 1).messages[0]
    with pytest.raises(Unavailable) as unavailable:
        sandbox.client("dr-alice", retries=2).get_message(summary.message_id)
    assert unavailable.value.status == 503


def test_send_is_never_retried(sandbox, no_faults):
    sandbox.fault(operation="send", status=503, times=1)
    message = NewMessage([recipient("nurse-bram")], "Niet opnieuw", text="eenmaal")
    with pytest.raises(Unavailable):
        sandbox.client("dr-alice").send(message)
    # A retry would have succeeded (the fault fired once) and delivered the message.
    assert _in_inbox(sandbox, "nurse-bram", message.publication_id) == 0


def test_lost_answer_then_resend_is_delivered_once(sandbox, no_faults):
    sandbox.fault(operation="send", delay=1.5, times=1)
    document = io.BytesIO(b"%PDF-1.4 lost answer")
    message = NewMessage(
        [recipient("nurse-bram")],
        "Verloren antwoord",
        document=Attachment(document, "a.pdf", "application/pdf"),
    )
    client = sandbox.client("dr-alice", timeout=0.5)
    with pytest.raises(SendOutcomeUnknown) as unknown:
        client.send(message)
    assert unknown.value.publication_id == message.publication_id
    assert "safe" in str(unknown.value)
    result = client.send(message)  # the same NewMessage: same publicationId, rewound file
    assert result.replayed and result.publication_id == message.publication_id
    assert _in_inbox(sandbox, "nurse-bram", message.publication_id) == 1


def test_unreachable_platform(sandbox):
    session = http.build_session(USER_AGENT, FROM, timeout=2)
    client = EhealthboxClient(
        "http://127.0.0.1:9/ehealthbox/v1", lambda: "t", session=session, retries=1
    )
    with pytest.raises(Unavailable):
        client.box_info()
    with pytest.raises(Unavailable):  # never connected: known not sent
        client.send(NewMessage([recipient("nurse-bram")], "x", text="x"))


# --- paging and downloads -------------------------------------------------------------------
def test_iter_messages_deduplicates_when_mail_arrives(sandbox):
    bram = sandbox.client("nurse-bram")
    before = [m.message_id for m in bram.iter_messages(page_size=5)]
    assert len(before) == len(set(before)) > 5
    seen = []
    for i, summary in enumerate(bram.iter_messages(page_size=5)):
        seen.append(summary.message_id)
        if i == 0:  # new mail shifts every index by one between the pages
            sandbox.client("dr-chloe").send(
                NewMessage([recipient("nurse-bram")], "Nieuw", text="tussendoor")
            )
    assert len(seen) == len(set(seen)) and seen == before


def test_download_is_checked_against_its_digest(sandbox):
    alice = sandbox.client("dr-alice")
    message = NewMessage(
        [recipient("nurse-bram")],
        "Beschadigd",
        document=Attachment(b"unique bytes for tampering 42", "b.txt", "text/plain"),
    )
    alice.send(message)
    bram = sandbox.client("nurse-bram")
    summary = next(
        m for m in bram.list_messages().messages if m.publication_id == message.publication_id
    )
    full = bram.get_message(summary.message_id)
    blob = sandbox.store.blobs.path(__import__("base64").b64decode(full.document.digest).hex())  # type: ignore[union-attr]
    blob.write_bytes(b"unique bytes for tampering 43")
    with bram.open_document(summary.message_id) as download, pytest.raises(DigestMismatch):
        download.read()


def test_non_seekable_attachment_is_spooled(sandbox):
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes):
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    attachment = Attachment(Pipe(b"streamed " * 10_000), "s.txt", "text/plain")
    assert attachment.size == 90_000 and attachment.read_all() == b"streamed " * 10_000
    result = sandbox.client("dr-alice").send(
        NewMessage([recipient("nurse-bram")], "Stream", document=attachment)
    )
    assert not result.replayed


# --- unit tests of the shared HTTP helpers and the mapping -----------------------------------
class _Response:
    def __init__(self, status: int, retry_after: str | None = None):
        self.status_code = status
        self.headers = {"Retry-After": retry_after} if retry_after else {}
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_call_with_retries_statuses_and_errors():
    waits: list[float] = []
    answers = [requests.ConnectionError("reset"), _Response(503, "2"), _Response(200)]

    def send():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    response = http.call_with_retries(send, http.RetryPolicy(attempts=3), sleep=waits.append)
    assert response.status_code == 200 and len(waits) == 2 and waits[1] == 2.0

    gave_up = http.call_with_retries(
        lambda: _Response(503), http.RetryPolicy(attempts=2), sleep=waits.append
    )
    assert gave_up.status_code == 503
    too_long = http.call_with_retries(
        lambda: _Response(429, "60"), http.RetryPolicy(attempts=5, max_total=10), sleep=waits.append
    )
    assert too_long.status_code == 429  # Retry-After beyond the time budget: no retry
    assert http.call_with_retries(lambda: _Response(400), sleep=waits.append).status_code == 400


def test_retry_after_parsing():
    assert http.retry_after_seconds("3") == 3.0
    assert http.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10.0
    assert http.retry_after_seconds("soon") is None and http.retry_after_seconds(None) is None


def test_build_session_identifies_the_app():
    session = http.build_session("Vendor/product/1.0", "ops@example.org", timeout=3)
    assert session.headers["User-Agent"] == "Vendor/product/1.0"
    assert session.headers["From"] == "ops@example.org" and session.default_timeout == 3
    with pytest.raises(ValueError):
        http.build_session("", "ops@example.org")


def test_multipart_body_is_streamed_with_a_length():
    parts = [
        ("message", None, "application/json", lambda: iter([b"{}"]), 2),
        ("document", "document", "text/plain", lambda: iter([b"ab", b"c"]), 3),
    ]
    body = http.MultipartBody(parts)
    data = b"".join(body)
    assert len(body) == len(data) and body.boundary in body.content_type
    assert b'name="document"; filename="document"' in data


def test_download_filename_forms():
    assert (
        rest.download_filename(
            "attachment; filename*=UTF-8''R%C3%A9sultats.pdf; filename=\"R?sultats.pdf\""
        )
        == "Résultats.pdf"
    )
    assert rest.download_filename('attachment; filename="a b.pdf"') == "a b.pdf"
    assert rest.download_filename("attachment; filename=plain.txt") == "plain.txt"
    assert rest.download_filename(None) == "download"


def test_error_mapping_without_problem_body():
    assert isinstance(rest.error_from_response(502, {}, None), Unavailable)
    assert isinstance(rest.error_from_response(418, {}, None), Exception)
    error = rest.error_from_response(422, {"X-Request-Id": "r1"}, {"code": "804", "detail": "d"})
    assert isinstance(error, InvalidDestination) and error.request_id == "r1"


def test_new_message_needs_one_body():
    with pytest.raises(ValueError):
        NewMessage([recipient("nurse-bram")], "x")
    with pytest.raises(ValueError):
        NewMessage([], "x", text="x")
    assert len(NewMessage([recipient("nurse-bram")], "x", text="x").publication_id) == 13


def test_no_web_framework_in_the_client_package():
    import ast
    from pathlib import Path

    import ehbox_webapp.ehealth.ehealthbox as package

    files = [*Path(package.__file__).parent.glob("*.py"), Path(http.__file__)]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert not any(n.split(".")[0] in ("flask", "werkzeug") for n in names), path


def test_lazy_package_exports():
    import ehbox_webapp.ehealth.ehealthbox as package

    assert package.EhealthboxClient is EhealthboxClient
    assert set(package.__all__) == {"OPENAPI_PATH", *package._MODULE_OF} <= set(dir(package))
    with pytest.raises(AttributeError):
        package.NoSuchThing  # noqa: B018
