"""Consultation codes 806-815 (INFERRED from eJustBox): sandbox emits, client maps.

Each case is driven over real HTTP against the sandbox eHealthBox; what the sandbox
answered is then read by the client's one mapping (`rest.error_from_response`), or the
client call itself raises the mapped class.
"""

from __future__ import annotations

import ehbox_fixtures
import pytest
from ehbox_fixtures import pdf_message, recipient

from ehbox_webapp.ehealth.ehealthbox import (
    BadRequest,
    Forbidden,
    InvalidMessageId,
    InvalidPaging,
    MoveNotAllowed,
    NotFound,
    NotTheSender,
    rest,
)

sandbox = ehbox_fixtures.sandbox
UNKNOWN_ID = "ZZZZZZZZZZZZZ"  # well formed, nobody's message


def mapped(response):
    """What the client makes of a sandbox answer: its exception, with code and status."""
    return rest.error_from_response(response.status_code, response.headers, response.json())


def a_received_message(sandbox) -> str:
    """A message Bram sent to Alice: its id in Alice's INBOX."""
    sent = sandbox.client("nurse-bram").send(pdf_message([recipient("dr-alice")], annexes=0))
    alice = sandbox.client("dr-alice")
    return next(
        m.message_id for m in alice.iter_messages() if m.publication_id == sent.publication_id
    )


def test_806_an_unknown_message_id(sandbox):
    with pytest.raises(InvalidMessageId) as caught:
        sandbox.client("dr-alice").get_message(UNKNOWN_ID)
    assert (caught.value.code, caught.value.status) == ("806", 404)
    assert isinstance(caught.value, NotFound)  # pages and API treat it as "not found"


@pytest.mark.parametrize(
    "query, code",
    [
        ("startIndex=5&endIndex=2", "807"),  # EndIndex smaller than StartIndex
        ("startIndex=1&endIndex=101", "808"),  # more than 100 messages asked
    ],
)
def test_807_808_paging_outside_the_rules(sandbox, query, code):
    response = sandbox.raw("GET", f"/messages?source=INBOX&{query}")
    assert response.status_code == 400 and response.json()["code"] == code
    error = mapped(response)
    assert isinstance(error, InvalidPaging) and isinstance(error, BadRequest)
    assert error.code == code


def test_808_more_than_100_ids_in_one_move(sandbox):
    ids = [f"A{n:012d}" for n in range(101)]
    response = sandbox.raw(
        "POST",
        "/messages/move",
        json={"source": "INBOX", "destination": "BININBOX", "messageIds": ids},
    )
    assert response.json()["code"] == "808" and isinstance(mapped(response), InvalidPaging)


def test_809_receipts_of_a_message_the_caller_did_not_send(sandbox):
    received = a_received_message(sandbox)
    with pytest.raises(NotTheSender) as caught:
        sandbox.client("dr-alice").acknowledgments(received)
    assert (caught.value.code, caught.value.status) == ("809", 403)
    assert isinstance(caught.value, Forbidden)


def test_812_a_move_between_inbox_and_sentbox(sandbox):
    received = a_received_message(sandbox)
    response = sandbox.raw(
        "POST",
        "/messages/move",
        json={"source": "INBOX", "destination": "SENTBOX", "messageIds": [received]},
    )
    assert response.status_code == 400 and response.json()["code"] == "812"
    assert isinstance(mapped(response), MoveNotAllowed)
    assert received in [m.message_id for m in sandbox.client("dr-alice").iter_messages("INBOX")]


def test_813_not_all_messages_moved(sandbox):
    received = a_received_message(sandbox)
    body = {"source": "INBOX", "destination": "BININBOX", "messageIds": [received, UNKNOWN_ID]}
    answer = sandbox.raw("POST", "/messages/move", json=body)
    assert answer.status_code == 200
    assert answer.json() == {"notMoved": [UNKNOWN_ID], "code": "813"}
    # The client returns what was left behind.
    assert sandbox.client("dr-alice").move([UNKNOWN_ID], "BININBOX", "INBOX") == [UNKNOWN_ID]
    everything = sandbox.raw(
        "POST",
        "/messages/move",
        json={"source": "BININBOX", "destination": "INBOX", "messageIds": [received]},
    )
    assert everything.json() == {"notMoved": []}  # no code when all moved


def test_815_not_all_messages_deleted(sandbox):
    received = a_received_message(sandbox)
    body = {"source": "INBOX", "messageIds": [received, UNKNOWN_ID]}
    answer = sandbox.raw("POST", "/messages/delete", json=body)
    assert answer.status_code == 200
    assert answer.json() == {"notDeleted": [UNKNOWN_ID], "code": "815"}
    assert sandbox.client("dr-alice").delete([UNKNOWN_ID], "INBOX") == [UNKNOWN_ID]
