"""The sandbox eHealthBox's read path: reads take no write lock unless they change something.

A listing marks new INBOX messages received and a fetch marks a message read (the
RECEIVED and READ receipts); both are writes, and so is counting an injected fault as
used. Everything else a read does must not queue behind a writer: here another
connection holds the database's write lock while the same calls are repeated, and they
still answer at once. Receipts and faults keep working.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager

import ehbox_fixtures
from ehbox_fixtures import Sandbox, recipient

from ehbox_webapp.ehealth.ehealthbox import ContentSpecification, NewMessage

sandbox = ehbox_fixtures.sandbox
no_faults = ehbox_fixtures.no_faults
FAST = 3.0  # seconds: far below the store's 10 s busy timeout, which a write would wait


@contextmanager
def write_lock(box: Sandbox) -> Iterator[None]:
    """Another process's write transaction, held for the duration of the block."""
    with closing(sqlite3.connect(box.store.db_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")


def _sent_to_bram(box: Sandbox, title: str) -> tuple[str, str]:
    """(Alice's SENTBOX id, Bram's INBOX id) of a new message asking for every receipt."""
    spec = ContentSpecification(received_receipt=True, read_receipt=True)
    message = NewMessage(
        [recipient("nurse-bram")], title, text="Leesbevestiging", content_specification=spec
    )
    sent = box.client("dr-alice").send(message).message_id
    page = box.raw("GET", "/messages", who="nurse-bram", params={"startIndex": 1, "endIndex": 25})
    received = next(m for m in page.json()["messages"] if m["contentInfo"]["title"] == title)
    return sent, received["messageId"]


def _receipt(box: Sandbox, sent_id: str) -> dict:
    answer = box.raw("GET", f"/messages/{sent_id}/acknowledgments", params={"source": "SENTBOX"})
    assert answer.status_code == 200, answer.text
    (receipt,) = answer.json()["acknowledgments"]
    return receipt


def test_reads_answer_while_another_process_writes(sandbox, no_faults):
    sent, inbox_id = _sent_to_bram(sandbox, "Lezen zonder schrijfslot")
    assert "received" in _receipt(sandbox, sent) and "read" not in _receipt(sandbox, sent)
    opened = sandbox.raw("GET", f"/messages/{inbox_id}", who="nurse-bram")
    assert opened.status_code == 200
    assert "read" in _receipt(sandbox, sent)  # the first fetch wrote the READ receipt

    with write_lock(sandbox):
        for _ in range(3):
            started = time.monotonic()
            listing = sandbox.raw(
                "GET",
                "/messages",
                who="nurse-bram",
                params={"startIndex": 1, "endIndex": 25},
                timeout=FAST,
            )
            again = sandbox.raw("GET", f"/messages/{inbox_id}", who="nurse-bram", timeout=FAST)
            info = sandbox.raw("GET", "/boxInfo", who="nurse-bram", timeout=FAST)
            assert listing.status_code == again.status_code == info.status_code == 200
            assert time.monotonic() - started < FAST
    assert again.json()["messageId"] == inbox_id
    assert inbox_id in [m["messageId"] for m in listing.json()["messages"]]


def test_an_armed_fault_still_fires_once(sandbox, no_faults):
    sandbox.fault(operation="get", status=503, times=1)
    listing = sandbox.raw("GET", "/messages", params={"startIndex": 1, "endIndex": 1})
    assert listing.status_code == 200  # a fault for `get` does not touch listings
    message_id = listing.json()["messages"][0]["messageId"]
    assert sandbox.raw("GET", f"/messages/{message_id}").status_code == 503
    assert sandbox.raw("GET", f"/messages/{message_id}").status_code == 200
