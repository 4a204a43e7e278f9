"""The per-user memory of the box (`mailbox.memory.BoxMemory`) on an eHealthBox in memory.

No Flask, no server: the in-process store of `ehbox_webapp.stores`, the fake eHealthBox of
`fake_ehealthbox`, and a clock the tests move. Each `BoxMemory` made here is one request.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from types import SimpleNamespace

import pytest
from fake_ehealthbox import FakeEhealthbox

from ehbox_webapp import stores
from ehbox_webapp.ehealth.ehealthbox.models import BoxId
from ehbox_webapp.mailbox.actions import Mailbox
from ehbox_webapp.mailbox.addressbook import Contact, build
from ehbox_webapp.mailbox.memory import CONTACTS_TTL, TTL, BoxMemory
from ehbox_webapp.mailbox.outgoing import outgoing_message

ALICE = BoxId("85071212390", "INSS", "DOCTOR")
BRAM = BoxId("79031545695", "INSS", "NURSE")
TO_ALICE = {"type": ALICE.type, "id": ALICE.id, "quality": ALICE.quality}
FOLDERS = ("INBOX", "SENTBOX", "BININBOX", "BINSENTBOX")
SUB = "alice-sub"


class Clock:
    """The time of the store's expiry and of the counts' own expiry, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Asked:
    """A box that notes what it was asked (the memory's whole point is asking less)."""

    def __init__(self, box: Mailbox) -> None:
        self.box, self.calls = box, []

    def box_info(self):
        self.calls.append("box_info")
        return self.box.box_info()

    def list_messages(self, folder: str = "INBOX", start: int = 1, end: int = 100):
        self.calls.append(f"list {folder} {start}-{end}")
        return self.box.list_messages(folder, start, end)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(stores, "time", SimpleNamespace(monotonic=clock))
    return clock


@pytest.fixture
def store(clock) -> stores.MemoryStore:
    return stores.MemoryStore()


@pytest.fixture
def alice() -> Mailbox:
    """Alice's box: three messages from Bram in her INBOX, the newest read, one sent."""
    platform = FakeEhealthbox()
    alice = Mailbox(platform.box(ALICE, "Alice Peeters"))
    bram = Mailbox(platform.box(BRAM, "Bram Janssens"))
    for title in ("Een", "Twee", "Drie"):
        bram.send(outgoing_message({"recipients": [TO_ALICE], "title": title, "text": "."}))
    alice.get_message(alice.list_messages("INBOX").messages[0].message_id)
    to_bram = {"type": BRAM.type, "id": BRAM.id, "quality": BRAM.quality}
    alice.send(outgoing_message({"recipients": [to_bram], "title": "Antwoord", "text": "."}))
    return alice


@pytest.fixture
def asked(alice) -> Asked:
    return Asked(alice)


def request(store, clock) -> BoxMemory:
    """Alice's memory as one page request makes it."""
    return BoxMemory(store, SUB, clock=clock)


def inbox_page(alice: Mailbox):
    return alice.list_messages("INBOX", 1, 100)


# --- the keys ----------------------------------------------------------------------------------


def test_the_keys_are_those_a_running_version_wrote(store, clock, asked):
    digest = hashlib.sha256(SUB.encode("utf-8")).hexdigest()[:32]
    memory = request(store, clock)
    assert memory.key("counts") == f"mailbox:{digest}:counts"
    memory.box_info(asked)
    assert store.get(f"mailbox:{digest}:box")["box_id"]["id"] == ALICE.id


def test_each_user_has_their_own_memory(store, clock, asked, alice):
    request(store, clock).folder_counts(asked, inbox_page(alice), FOLDERS)
    asked.calls.clear()
    BoxMemory(store, "bram-sub", clock=clock).folder_counts(asked, inbox_page(alice), FOLDERS)
    assert len(asked.calls) == 3


# --- the box info ------------------------------------------------------------------------------


def test_the_box_info_is_asked_once_and_kept_within_the_ttl(store, clock, asked):
    first = request(store, clock)
    assert first.my_box(asked) == ALICE
    assert first.box_info(asked) is first.box_info(asked)
    clock.now += TTL - 1
    assert request(store, clock).my_box(asked) == ALICE
    assert asked.calls == ["box_info"]

    clock.now += 2  # expired: asked again
    assert request(store, clock).box_info(asked).box_id == ALICE
    assert asked.calls == ["box_info", "box_info"]


def test_one_request_asks_the_box_info_once_even_when_the_store_lost_it(store, clock, asked):
    memory = request(store, clock)
    memory.box_info(asked)
    store.delete(memory.key("box"))
    memory.box_info(asked)
    assert asked.calls == ["box_info"]


@pytest.mark.parametrize(
    "stored",
    [
        {"box_id": {"identifier": ALICE.id}},  # another shape of the address
        {"box_id": asdict(ALICE), "current_size": "a lot", "max_size": 1,
         "nbr_messages_in_standby": 0},
        {"box": "85071212390"},
    ],
)  # fmt: skip
def test_a_box_info_written_by_another_version_is_asked_again(store, clock, asked, stored):
    memory = request(store, clock)
    store.set(memory.key("box"), stored, TTL)
    assert memory.my_box(asked) == ALICE
    assert asked.calls == ["box_info"]
    assert store.get(memory.key("box"))["box_id"]["id"] == ALICE.id  # and kept in this shape


# --- the folder counts -------------------------------------------------------------------------


def test_the_counts_are_asked_once_then_reused_within_the_ttl(store, clock, asked, alice):
    counts = request(store, clock).folder_counts(asked, inbox_page(alice), FOLDERS)
    assert counts == {"INBOX": (3, 2), "SENTBOX": (1, 0), "BININBOX": (0, 0), "BINSENTBOX": (0, 0)}
    assert asked.calls == ["list SENTBOX 1-1", "list BININBOX 1-1", "list BINSENTBOX 1-1"]

    asked.calls.clear()
    clock.now += TTL - 1
    sent = alice.list_messages("SENTBOX", 1, 100)
    again = request(store, clock).folder_counts(asked, sent, FOLDERS)
    assert again == counts and asked.calls == []  # INBOX's counts kept, SENTBOX's live


def test_the_counts_expire_with_the_entry_however_often_a_folder_is_listed(
    store, clock, asked, alice
):
    request(store, clock).folder_counts(asked, inbox_page(alice), FOLDERS)
    clock.now += TTL - 5
    request(store, clock).folder_counts(asked, inbox_page(alice), FOLDERS)
    asked.calls.clear()
    clock.now += 6  # past the first listing's expiry, though the INBOX was listed since
    request(store, clock).folder_counts(asked, inbox_page(alice), FOLDERS)
    assert asked.calls == ["list SENTBOX 1-1", "list BININBOX 1-1", "list BINSENTBOX 1-1"]

    # The entry's own expiry holds even when the store would keep it longer.
    memory = request(store, clock)
    entry = store.get(memory.key("counts"))
    store.set(memory.key("counts"), {**entry, "expires": clock.now - 1}, TTL)
    asked.calls.clear()
    assert memory.inbox_unread(asked) == 2 and asked.calls == ["list INBOX 1-1"]


def test_counts_written_by_another_version_are_asked_again(store, clock, asked, alice):
    memory = request(store, clock)
    store.set(memory.key("counts"), {"expires": "later", "folders": {"SENTBOX": [9, 9]}}, TTL)
    counts = memory.folder_counts(asked, inbox_page(alice), FOLDERS)
    assert counts["SENTBOX"] == (1, 0) and len(asked.calls) == 3
    store.set(memory.key("counts"), {"expires": clock.now + TTL, "folders": ["INBOX"]}, TTL)
    assert request(store, clock).inbox_unread(asked) == 2


def test_a_message_page_reads_the_kept_counts_once(store, clock, asked, alice):
    """Marked read, its neighbours, the header's unread count: one read of the entry."""
    page = inbox_page(alice)
    request(store, clock).folder_counts(asked, page, FOLDERS)
    reads = []
    store_get = store.get
    store.get = lambda key: reads.append(key) or store_get(key)
    memory = request(store, clock)
    unread = [m for m in page.messages if not m.read]
    memory.opened("INBOX", unread[0].message_id)
    assert memory.around("INBOX", page.messages[1].message_id, 2) == [
        m.message_id for m in page.messages[:3]
    ]
    assert memory.inbox_unread(asked) == 1
    assert reads == [memory.key("counts")]
    assert request(store, clock).inbox_unread(asked) == 1  # as written to the store


def test_the_inbox_unread_count_is_the_kept_one_or_one_small_listing(store, clock, asked, alice):
    memory = request(store, clock)
    assert memory.inbox_unread(asked) == 2
    assert asked.calls == ["list INBOX 1-1"]
    assert request(store, clock).inbox_unread(asked) == 2  # kept
    assert asked.calls == ["list INBOX 1-1"]

    clock.now += TTL + 1
    asked.calls.clear()
    request(store, clock).folder_counts(asked, inbox_page(alice), FOLDERS)  # lists the INBOX
    asked.calls.clear()
    assert request(store, clock).inbox_unread(asked) == 2 and asked.calls == []


def test_opening_a_message_the_listing_showed_unread_takes_one_off(store, clock, asked, alice):
    page = inbox_page(alice)
    request(store, clock).folder_counts(asked, page, FOLDERS)
    unread = [m.message_id for m in page.messages if not m.read]
    read = [m.message_id for m in page.messages if m.read]
    asked.calls.clear()

    memory = request(store, clock)
    memory.opened("INBOX", read[0])  # read already: nothing changes
    assert memory.inbox_unread(asked) == 2
    memory.opened("INBOX", unread[0])
    memory.opened("INBOX", unread[0])  # twice is still one
    assert memory.inbox_unread(asked) == 1
    assert request(store, clock).folder_counts(asked, alice.list_messages("SENTBOX"), FOLDERS)[
        "INBOX"
    ] == (3, 1)
    assert asked.calls == []


def test_opening_a_message_the_listing_did_not_show_drops_its_folders_counts(
    store, clock, asked, alice
):
    memory = request(store, clock)
    memory.folder_counts(asked, alice.list_messages("INBOX", 1, 2), FOLDERS)  # two of three
    oldest = alice.list_messages("INBOX", 3, 3).messages[0].message_id
    memory.opened("INBOX", oldest)  # whether it was unread is not known
    assert "INBOX" not in store.get(memory.key("counts"))["folders"]
    assert "SENTBOX" in store.get(memory.key("counts"))["folders"]
    asked.calls.clear()
    assert memory.inbox_unread(asked) == 2
    assert asked.calls == ["list INBOX 1-1"]


def test_opening_a_message_when_nothing_is_kept_keeps_nothing(store, clock):
    memory = request(store, clock)
    memory.opened("INBOX", "AAAAAAAAAAAA1")
    assert store.get(memory.key("counts")) is None


# --- the contacts ------------------------------------------------------------------------------


def test_the_contacts_are_built_once_and_kept(store, clock, alice):
    builds = []

    def built() -> list[Contact]:
        builds.append(1)
        return build(alice, me=ALICE)

    first = request(store, clock)
    contacts = first.contacts(built)
    assert [c.box.id for c in contacts] == [BRAM.id] and contacts[0].name == "Bram Janssens"
    assert first.contacts(built) is contacts
    clock.now += CONTACTS_TTL - 1
    assert request(store, clock).contacts(built) == contacts
    assert len(builds) == 1

    clock.now += 2
    assert request(store, clock).contacts(built) == contacts
    assert len(builds) == 2


def test_contacts_written_by_another_version_are_built_again(store, clock, alice):
    memory = request(store, clock)
    store.set(memory.key("contacts"), {"contacts": [{"identifier": BRAM.id}]}, CONTACTS_TTL)
    assert [c.box.id for c in memory.contacts(lambda: build(alice, me=ALICE))] == [BRAM.id]
    assert store.get(memory.key("contacts"))["contacts"][0]["id"] == BRAM.id


# --- after a change ----------------------------------------------------------------------------


def test_forget_drops_everything_kept(store, clock, asked, alice):
    memory = request(store, clock)
    memory.folder_counts(asked, inbox_page(alice), FOLDERS)
    memory.box_info(asked)
    memory.contacts(lambda: build(alice, me=ALICE))
    memory.forget()
    for kind in ("box", "counts", "contacts"):
        assert store.get(memory.key(kind)) is None, kind

    asked.calls.clear()
    memory.box_info(asked)  # this request's box info is forgotten too
    memory.inbox_unread(asked)
    assert asked.calls == ["box_info", "list INBOX 1-1"]
    rebuilt = []
    request(store, clock).contacts(lambda: rebuilt.append(1) or [])
    assert rebuilt == [1]
