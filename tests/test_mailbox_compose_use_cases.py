"""Drafts, sending a draft, reply and forward, and the text preview: use cases on a fake.

No server and no Flask: the drafts store on a temporary folder, the Mailbox over the
in-memory eHealthBox of `fake_ehealthbox`. The pages and `/api/v1/drafts` only translate
to and from these calls (their HTTP tests are test_drafts.py, test_api_drafts.py and
test_same_answers.py).
"""

# ruff: noqa: F811  (the fixtures alice, bram and platform come from test_mailbox_use_cases)
from __future__ import annotations

import io
import threading

import pytest
from test_mailbox_use_cases import ALICE, BRAM, TO_BRAM, alice, bram, platform  # noqa: F401

from ehbox_webapp.ehealth.ehealthbox.models import BoxId
from ehbox_webapp.mailbox import rules
from ehbox_webapp.mailbox.actions import Mailbox
from ehbox_webapp.mailbox.drafts import MAX_DRAFTS_PER_USER, BadDraftKey, DraftStore
from ehbox_webapp.mailbox.outgoing import Upload, outgoing_message
from ehbox_webapp.mailbox.problems import Invalid
from ehbox_webapp.mailbox.reading import TEXT_PREVIEW_LIMIT, document_text
from ehbox_webapp.mailbox.replies import forward_values, reply_values
from ehbox_webapp.mailbox.sending import draft_problems, send_draft

CHLOE = BoxId("90010178911", "INSS", "DOCTOR")


@pytest.fixture
def store(tmp_path) -> DraftStore:
    return DraftStore(tmp_path / "drafts", limit=1024)


def inbox(box: Mailbox) -> list[str]:
    return [m.title for m in box.list_messages("INBOX").messages]


# --- the store ----------------------------------------------------------------------------
def test_a_draft_keeps_an_api_messages_values_and_its_files(store):
    draft = store.open("alice", "A1B2C3D4E5F6G")
    draft.save({"recipients": [TO_BRAM], "title": "Wondzorg", "unknown": "dropped"})
    draft.keep(io.BytesIO(b"verband"), "zorg.txt", "text/plain", "annex")
    again = store.find("alice", "A1B2C3D4E5F6G")
    assert again.values == {"recipients": [TO_BRAM], "title": "Wondzorg"}
    assert [(f.filename, f.mime_type, f.size) for f in again.annexes] == [
        ("zorg.txt", "text/plain", 7)
    ]
    assert [d.publication_id for d in store.list("alice")] == ["A1B2C3D4E5F6G"]
    assert store.list("bram") == [] and store.find("bram", "A1B2C3D4E5F6G") is None


@pytest.mark.parametrize("key", ["..", "A/..", "A\\..", "A/../../../..", "Ä", "A\x00", "", None])
def test_a_key_that_is_not_a_publication_id_names_no_draft(store, key):
    with pytest.raises(BadDraftKey):
        store.open("alice", key)
    assert store.find("alice", key) is None
    assert not store.root.exists() or not any(store.root.rglob("meta.json"))


@pytest.mark.parametrize(
    "name, mime_type, code",
    [
        ("", "text/plain", "no-file-name"),
        ("x" * (rules.FILENAME_MAX + 1), "text/plain", "file-name-too-long"),
        ("a.txt", "not a type", "bad-mime-type"),
    ],
)
def test_a_file_that_cannot_be_sent_is_not_kept(store, name, mime_type, code):
    draft = store.open("alice", "AAAAAAAAAAAAA")
    with pytest.raises(Invalid) as refused:
        draft.keep(io.BytesIO(b"x"), name, mime_type, "document")
    assert [(p.code, p.field) for p in refused.value.problems] == [(code, "document")]
    assert draft.files == []


def test_files_over_the_limit_are_refused_and_nothing_of_them_stays(store):
    draft = store.open("alice", "AAAAAAAAAAAAA")
    draft.keep(io.BytesIO(b"a" * 1000), "a.bin", "application/octet-stream", "annex")
    with pytest.raises(Invalid) as refused:
        draft.keep(io.BytesIO(b"b" * 100), "b.bin", "application/octet-stream", "annex")
    assert refused.value.problems[0].code == "files-too-large"
    kept = sorted(p.name for p in draft.folder.iterdir() if not p.name.startswith("."))
    assert kept == ["f1.bin", "meta.json"]


def test_concurrent_saves_never_mix_nor_fail(store):
    draft = store.open("alice", "AAAAAAAAAAAAA")
    errors = []

    def save(n: int) -> None:
        try:
            for i in range(20):
                store.open("alice", "AAAAAAAAAAAAA").save({"title": f"{n}-{i}"})
        except Exception as exc:  # noqa: BLE001  (any failure is the finding)
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.find("alice", draft.publication_id).values["title"].endswith("-19")
    left = [p.name for p in draft.folder.iterdir() if p.name.endswith(".tmp")]
    assert left == []  # no temporary file left behind


def test_a_user_keeps_at_most_the_limit_the_oldest_go(store):
    for n in range(MAX_DRAFTS_PER_USER + 2):
        store.open("alice", f"D{n:012d}").save({"title": str(n)})
    kept = store.list("alice")
    assert len(kept) == MAX_DRAFTS_PER_USER
    assert store.find("alice", "D000000000000") is None


def test_a_draft_of_the_form_field_layout_is_read_as_values(store):
    draft = store.open("alice", "AAAAAAAAAAAAA")
    draft.folder.mkdir(parents=True)
    (draft.folder / "meta.json").write_text(
        '{"files": [], "fields": [["recipients-0-type", "INSS"], '
        '["recipients-0-identifier", "79031545695"], ["recipients-0-quality", "NURSE"], '
        '["recipients-0-send_anyway", "y"], ["title", "Oud"], ["free_text", "Nota"], '
        '["read_receipt", "y"], ["forward_folder", "INBOX"], '
        '["forward_message_id", "ABCDEFGHIJKLM"], ["include_original", "y"]]}'
    )
    values = store.find("alice", "AAAAAAAAAAAAA").values
    assert values["recipients"] == [{**TO_BRAM, "ooOProcessed": True}]
    assert (values["title"], values["freeText"], values["receipts"]) == ("Oud", "Nota", ["read"])
    assert values["forward"] == {
        "folder": "INBOX",
        "messageId": "ABCDEFGHIJKLM",
        "includeOriginal": True,
    }


# --- sending a draft ----------------------------------------------------------------------
def test_a_draft_is_sent_once_under_its_publication_id_and_then_deleted(store, alice, bram):
    draft = store.open("alice", "ONCE000000001")
    draft.save({"recipients": [TO_BRAM], "title": "Eén keer", "text": "Dag Bram"})
    first = send_draft(alice, draft)
    assert first.publication_id == "ONCE000000001" and not draft.exists
    again = store.open("alice", "ONCE000000001")  # the form sent again after a lost answer
    again.save({"recipients": [TO_BRAM], "title": "Eén keer", "text": "Dag Bram"})
    assert send_draft(alice, again).replayed
    assert inbox(bram).count("Eén keer") == 1


def test_a_draft_that_cannot_be_sent_stays_with_every_problem(store, alice, bram):
    draft = store.open("alice", "BAD0000000001")
    draft.save({"recipients": [{**TO_BRAM, "id": "79031545696"}], "title": "T\x07", "text": ""})
    with pytest.raises(Invalid) as refused:
        send_draft(alice, draft)
    found = {(p.field, p.code) for p in refused.value.problems}
    assert found == {
        ("recipients[0].id", "check-digits"),
        ("title", "control-characters"),
        ("document", "one-of"),
    }
    assert {(p.field, p.code) for p in draft_problems(draft)} == found
    assert draft.exists and inbox(bram) == []


def test_a_forward_carries_the_original_document_first_then_the_new_annexes(
    store, alice, bram, platform
):
    chloe = Mailbox(platform.box(CHLOE, "Chloé Dubois"))
    letter = outgoing_message(
        {"recipients": [TO_BRAM], "title": "Verslag"},
        document=Upload(b"%PDF-1.4 verslag", "verslag.pdf", "application/pdf"),
        annexes=[Upload(b"labo", "labo.txt", "text/plain")],
    )
    sent = chloe.send(letter)
    original = bram.get_message(bram.list_messages("INBOX").messages[0].message_id, "INBOX")
    values = forward_values(original, "INBOX")
    assert values["title"] == "Fwd: Verslag" and values["forward"]["messageId"]
    draft = store.open("bram", "FWD0000000001")
    draft.save({**values, "recipients": [{"type": "INSS", "id": ALICE.id, "quality": "DOCTOR"}]})
    draft.keep(io.BytesIO(b"nota"), "nota.txt", "text/plain", "annex")
    send_draft(bram, draft)
    got = alice.get_message(alice.list_messages("INBOX").messages[0].message_id, "INBOX")
    assert got.document.download_file_name == "verslag.pdf"
    assert [a.download_file_name for a in got.annexes] == ["labo.txt", "nota.txt"]
    assert sent.publication_id != draft.publication_id


def test_a_reply_to_all_names_the_sender_and_the_others_never_me(alice, bram, platform):
    chloe = Mailbox(platform.box(CHLOE, "Chloé Dubois"))
    to_both = [TO_BRAM, {"type": "INSS", "id": ALICE.id, "quality": "DOCTOR"}]
    chloe.send(outgoing_message({"recipients": to_both, "title": "Overleg", "text": "a\nb"}))
    original = bram.get_message(bram.list_messages("INBOX").messages[0].message_id, "INBOX")
    one = reply_values(original, heading="Chloé schreef:")
    assert one["title"] == "Re: Overleg" and [r["id"] for r in one["recipients"]] == [CHLOE.id]
    everyone = reply_values(original, heading="Chloé schreef:", me=BRAM, everyone=True)
    assert [r["id"] for r in everyone["recipients"]] == [CHLOE.id, ALICE.id]
    outgoing_message({**everyone, "text": "ok"})  # a reply's values are a valid message


# --- reading --------------------------------------------------------------------------------
def test_a_short_text_document_reads_as_text_in_its_charset(alice, bram):
    letter = outgoing_message(
        {"recipients": [TO_BRAM], "title": "Latin-1"},
        document=Upload("Brûlure".encode("latin-1"), "n.txt", "text/plain; charset=latin-1"),
    )
    alice.send(letter)
    message = bram.get_message(bram.list_messages("INBOX").messages[0].message_id, "INBOX")
    assert document_text(bram, message, "INBOX") == "Brûlure"


def test_a_long_or_binary_document_is_not_read_as_text(alice, bram):
    big = b"x" * (TEXT_PREVIEW_LIMIT + 1)
    alice.send(
        outgoing_message(
            {"recipients": [TO_BRAM], "title": "Groot"},
            document=Upload(big, "groot.txt", "text/plain"),
        )
    )
    message = bram.get_message(bram.list_messages("INBOX").messages[0].message_id, "INBOX")
    assert document_text(bram, message, "INBOX") is None
