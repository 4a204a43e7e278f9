"""The mailbox's use cases on an eHealthBox in memory (`fake_ehealthbox`): no server, no Flask.

The input rules one by one are `test_mailbox_layer.py`'s; here a use case runs whole: the
input model (`outgoing_message`), then `Mailbox` over its port to an eHealthBox client.
"""

from __future__ import annotations

import inspect
import io
import json
from datetime import date

import pytest
import requests
from fake_ehealthbox import FakeEhealthbox, FakeEhealthboxClient

from ehbox_webapp.ehealth.ehealthbox import errors
from ehbox_webapp.ehealth.ehealthbox.client import EhealthboxClient
from ehbox_webapp.ehealth.ehealthbox.models import (
    Attachment,
    BoxId,
    ContentSpecification,
    NewMessage,
    Recipient,
)
from ehbox_webapp.ehealth.etee.keys import NoKeystore
from ehbox_webapp.mailbox import rules
from ehbox_webapp.mailbox.actions import Mailbox
from ehbox_webapp.mailbox.outgoing import Upload, outgoing_message
from ehbox_webapp.mailbox.ports import EhealthboxPort
from ehbox_webapp.mailbox.problems import Invalid

ALICE = BoxId("85071212390", "INSS", "DOCTOR")
BRAM = BoxId("79031545695", "INSS", "NURSE")
MALLORY = BoxId("90010100131", "INSS", "DOCTOR")  # writes with software of her own
TO_BRAM = {"type": BRAM.type, "id": BRAM.id, "quality": BRAM.quality}
HOSTILE_NAME = "..\\evil\r\n.html"
HOSTILE_TYPE = '"><script>'


@pytest.fixture
def platform() -> FakeEhealthbox:
    return FakeEhealthbox()


@pytest.fixture
def alice(platform) -> Mailbox:
    return Mailbox(platform.box(ALICE, "Alice Peeters"))


@pytest.fixture
def bram(platform) -> Mailbox:
    return Mailbox(platform.box(BRAM, "Bram Janssens"))


def plain(title: str = "Labo", text: str = "Bonjour", **values):
    return outgoing_message({"recipients": [TO_BRAM], "title": title, "text": text, **values})


# --- the port: what the mailbox may ask of a client, and nothing else ----------------------------

PORT_METHODS = sorted(
    name for name, value in vars(EhealthboxPort).items() if callable(value) and name[0] != "_"
)


def _parameters(function) -> list[inspect.Parameter]:
    return list(inspect.signature(function).parameters.values())[1:]  # without self


@pytest.mark.parametrize("implementation", [EhealthboxClient, FakeEhealthboxClient])
@pytest.mark.parametrize("name", PORT_METHODS)
def test_the_client_and_the_fake_satisfy_the_port(implementation, name):
    """Every method of the port exists with the same parameters (name, kind, default);
    a parameter of the implementation's own must be optional."""
    method = getattr(implementation, name, None)
    assert callable(method), f"{implementation.__name__} has no {name}"
    wanted = _parameters(getattr(EhealthboxPort, name))
    given = _parameters(method)
    assert [(p.name, p.kind, p.default) for p in given[: len(wanted)]] == [
        (p.name, p.kind, p.default) for p in wanted
    ]
    assert all(p.default is not inspect.Parameter.empty for p in given[len(wanted) :])


def test_the_port_is_what_the_mailbox_uses():
    assert set(PORT_METHODS) == {
        "box_info",
        "list_messages",
        "iter_messages",
        "get_message",
        "open_document",
        "open_annex",
        "acknowledgments",
        "send",
        "move",
        "delete",
        "out_of_offices",
        "add_out_of_office",
        "delete_out_of_office",
    }


def test_the_mailbox_answers_only_its_own_methods(alice):
    """No call is handed through to the client: what the entry points use is written out."""
    assert "__getattr__" not in vars(Mailbox)
    used = {*PORT_METHODS, "open", "part", "my_box", "decryption_keys"}
    assert all(callable(getattr(Mailbox, name, None)) for name in used)
    with pytest.raises(AttributeError):
        alice.max_message_bytes  # noqa: B018  (a client's attribute, not the mailbox's)


# --- sending ------------------------------------------------------------------------------------


def test_a_plain_message_lands_in_the_recipients_inbox_once_even_sent_twice(platform, alice, bram):
    first = alice.send(plain())
    again = alice.send(plain(publicationId=first.publication_id))  # the answer was lost: resent
    assert not first.replayed and again.replayed
    assert again.message_id == first.message_id
    inbox = bram.list_messages("INBOX")
    assert inbox.total == 1 and inbox.unread == 1
    received = inbox.messages[0]
    assert received.title == "Labo" and received.sender.id == ALICE.id
    assert received.publication_id == first.publication_id
    sent = platform.folder(ALICE, "SENTBOX")
    assert [m.message_id for m in sent] == [first.message_id]
    assert rules.is_message_id(first.message_id) and rules.is_message_id(received.message_id)
    assert received.message_id != first.message_id  # each copy has its own MessageId
    with bram.open_document(received.message_id) as download:
        assert download.read() == b"Bonjour"


def test_a_document_and_an_annex_arrive_as_sent(alice, bram):
    outgoing = outgoing_message(
        {"recipients": [TO_BRAM], "title": "Résultats"},
        document=Upload(io.BytesIO(b"%PDF-1.7"), "labo.pdf", "application/pdf"),
        annexes=[Upload(b"a,b\n1,2\n", "values.csv", "text/csv")],
    )
    alice.send(outgoing)
    message_id = bram.list_messages().messages[0].message_id
    message = bram.get_message(message_id)
    assert (message.document.download_file_name, message.document.mime_type) == (
        "labo.pdf",
        "application/pdf",
    )
    assert [(a.index, a.download_file_name) for a in message.annexes] == [(1, "values.csv")]
    with bram.open_annex(message_id, 1) as annex:
        assert annex.read() == b"a,b\n1,2\n" and annex.mime_type == "text/csv"


def test_an_encrypted_send_without_keys_raises_no_keystore_and_sends_nothing(platform, alice, bram):
    with pytest.raises(NoKeystore):
        alice.send(plain(encrypted=True))
    with_keys_only = Mailbox(alice.client, keys=object())  # keys, but no key directory
    with pytest.raises(NoKeystore):
        with_keys_only.send(plain(encrypted=True))
    assert platform.folder(ALICE, "SENTBOX") == [] and platform.folder(BRAM, "INBOX") == []


def test_invalid_input_says_every_problem_at_once_with_its_code():
    values = {
        "recipients": [TO_BRAM] * (rules.MAX_RECIPIENTS + 1),
        "title": "Labo\x07" + "x" * rules.TITLE_MAX,
    }
    bad_type = Upload(b"%PDF", "labo.pdf", "pdf")
    with pytest.raises(Invalid) as refused:
        outgoing_message(values, document=bad_type)
    assert {(p.field, p.code) for p in refused.value.problems} == {
        ("recipients", "too-many"),
        ("title", "too-long"),
        ("document.mimeType", "bad-mime-type"),
    }
    with pytest.raises(Invalid) as control:
        outgoing_message({"recipients": [TO_BRAM], "title": "La\x07bo", "text": "x"})
    assert {(p.field, p.code) for p in control.value.problems} == {
        ("title", "control-characters"),
    }


def test_a_recipient_without_a_box_is_the_clients_invalid_destination(alice):
    nobody = {"type": "INSS", "id": "85071212390", "quality": "NURSE"}
    with pytest.raises(errors.InvalidDestination) as refused:
        alice.send(outgoing_message({"recipients": [nobody], "title": "T", "text": "x"}))
    assert refused.value.recipients == [BoxId("85071212390", "INSS", "NURSE")]


# --- reading ------------------------------------------------------------------------------------


@pytest.fixture
def hostile(platform, bram) -> str:
    """A message whose names and types a hostile sender chose; its MessageId in Bram's INBOX."""
    mallory = platform.box(MALLORY, "Mallory")
    mallory.send(
        NewMessage(
            recipients=[Recipient(BRAM.id, BRAM.type, BRAM.quality)],
            title="Hello",
            document=Attachment(b"<script>alert(1)</script>", HOSTILE_NAME, HOSTILE_TYPE),
            annexes=[Attachment(b"MZ", "../../CON.exe", "text/html\r\nX-Injected: 1")],
        )
    )
    return bram.list_messages().messages[0].message_id


def test_a_hostile_senders_names_and_types_come_out_safe(platform, bram, hostile):
    stored = platform.folder(BRAM, "INBOX")[0]  # the platform keeps what it was sent
    assert stored.document.download_file_name == HOSTILE_NAME
    assert stored.document.mime_type == HOSTILE_TYPE

    (listed,) = bram.list_messages("INBOX").messages
    (iterated,) = bram.iter_messages("INBOX")
    assert listed.mime_type == iterated.mime_type == "application/octet-stream"

    message = bram.get_message(hostile)
    assert (message.document.download_file_name, message.document.mime_type) == (
        "evil .html",
        "application/octet-stream",
    )
    (annex,) = message.annexes
    assert (annex.download_file_name, annex.mime_type) == ("_CON.exe", "application/octet-stream")

    with bram.open_document(hostile) as document:
        assert (document.filename, document.mime_type) == ("evil .html", "application/octet-stream")
        assert document.read() == b"<script>alert(1)</script>"  # the bytes are the sender's
    with bram.open_annex(hostile, 1) as download:
        assert (download.filename, download.mime_type) == ("_CON.exe", "application/octet-stream")


def test_opening_a_plain_message_marks_it_read(alice, bram):
    alice.send(plain(receipts=["read"]))
    message_id = bram.list_messages().messages[0].message_id
    opened = bram.open(message_id, "INBOX")
    assert opened.sealed is None and opened.message.document.title == "Labo"
    assert bram.list_messages().unread == 0
    with bram.part(opened.message, "INBOX", None) as document:
        assert document.read() == b"Bonjour"
    sent_id = alice.list_messages("SENTBOX").messages[0].message_id
    (receipt,) = alice.acknowledgments(sent_id)
    assert receipt.recipient == BRAM and receipt.read is not None


def test_an_encrypted_message_does_not_open_without_keys(platform, bram):
    mallory = platform.box(MALLORY)
    mallory.send(
        NewMessage(
            recipients=[Recipient(BRAM.id, BRAM.type, BRAM.quality)],
            title="Sealed",
            text="not really sealed",
            content_specification=ContentSpecification(is_encrypted=True),
        )
    )
    message_id = bram.list_messages().messages[0].message_id
    with pytest.raises(NoKeystore):
        bram.open(message_id, "INBOX")


def test_unknown_ids_raise_the_clients_exceptions(alice, bram):
    with pytest.raises(errors.InvalidMessageId):
        bram.get_message("0000000000000")
    with pytest.raises(errors.InvalidMessageId):
        bram.open_document("0000000000000")
    alice.send(plain())
    received = bram.list_messages().messages[0].message_id
    with pytest.raises(errors.NotFound):
        bram.open_annex(received, 1)
    with pytest.raises(errors.NotTheSender):
        bram.acknowledgments(received)
    with pytest.raises(errors.InvalidPaging):
        bram.list_messages("INBOX", 1, 101)


# --- organising ---------------------------------------------------------------------------------


def test_move_and_delete_more_than_a_hundred_messages(alice, bram):
    for number in range(150):
        alice.send(plain(title=f"Labo {number}"))
    ids = [m.message_id for m in bram.iter_messages("INBOX")]
    assert len(ids) == 150 and len(set(ids)) == 150
    gone = "0000000000000"
    assert bram.move([*ids, gone], "INBOX", "BININBOX") == [gone]
    assert bram.list_messages("INBOX").total == 0
    bin_page = bram.list_messages("BININBOX", 1, 100)
    assert bin_page.total == 150 and bin_page.messages[0].title == "Labo 149"  # newest first
    assert bram.delete(ids[:120], "INBOX") == ids[:120]  # not there any more
    assert bram.delete(ids, "BININBOX") == []
    assert bram.list_messages("BININBOX").total == 0
    with pytest.raises(errors.MoveNotAllowed):
        bram.move(ids, "INBOX", "SENTBOX")


class _RecordingSession:
    """The platform's side of move and delete over HTTP: each call recorded, `gone*` left."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def request(self, method, url, *, json=None, **_kwargs) -> requests.Response:
        path = url.rsplit("/messages", 1)[-1]
        self.calls.append((path, list(json["messageIds"])))
        left = [i for i in json["messageIds"] if i.startswith("gone")]
        key = "notMoved" if path == "/move" else "notDeleted"
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = _json_bytes({key: left})
        return response


def _json_bytes(value) -> bytes:
    return json.dumps(value).encode("utf-8")


def test_the_client_moves_and_deletes_in_batches_of_a_hundred():
    """The same use case over the real client: 250 ids go as 100, 100 and 50."""
    session = _RecordingSession()
    client = EhealthboxClient("https://ehealthbox.test", lambda: "token", session=session)
    box = Mailbox(client)
    ids = [f"m{i:012d}" for i in range(249)] + ["gone000000001"]
    assert box.move(ids, "INBOX", "BININBOX") == ["gone000000001"]
    assert box.delete(ids, "BININBOX") == ["gone000000001"]
    assert [(path, len(batch)) for path, batch in session.calls] == [
        ("/move", 100),
        ("/move", 100),
        ("/move", 50),
        ("/delete", 100),
        ("/delete", 100),
        ("/delete", 50),
    ]
    assert [i for _, batch in session.calls[:3] for i in batch] == ids


def test_out_of_office_periods(bram):
    period = bram.add_out_of_office(date(2031, 7, 1), date(2031, 7, 15), [ALICE])
    assert bram.out_of_offices() == [period] and period.substitutes == (ALICE,)
    bram.delete_out_of_office(period.id)
    assert bram.out_of_offices() == []
    with pytest.raises(errors.NotFound):
        bram.delete_out_of_office(period.id)


def test_box_info_is_the_boxs_own(bram):
    assert bram.box_info().box_id == BRAM and bram.my_box() == BRAM
