"""A key (or a publicationId) used again for a different message is refused, never "replayed".

The platform de-duplicates on the PublicationId alone: a second send under it answers the
first send's result. Without a check of our own, a client reusing an `Idempotency-Key`
for a new message got 200 "replayed" and the new message was silently not sent.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from test_api import BRAM, Api, checker, public_client_token, send_text  # noqa: F401

from ehbox_webapp.ehealth.ehealthbox.models import NewMessage, Recipient
from ehbox_webapp.mailbox import rules
from ehbox_webapp.mailbox.idempotency import (
    KeyReused,
    SendOnce,
    fingerprint,
    publication_id_for,
)
from ehbox_webapp.mailbox.outgoing import Outgoing
from ehbox_webapp.stores import MemoryStore


@pytest.fixture
def alice(live_app, checker):  # noqa: F811
    return Api(live_app, public_client_token(live_app, "dr-alice"), checker)


def inbox_total(api: Api) -> int:
    return api("GET", "/messages?folder=INBOX&pageSize=1").json()["total"]


def test_a_key_used_again_for_another_message_is_a_422_and_sends_nothing(
    live_app,
    alice,
    checker,  # noqa: F811
):
    bram = Api(live_app, public_client_token(live_app, "nurse-bram"), checker)
    before = inbox_total(bram)
    key = str(uuid.uuid4())
    assert send_text(alice, "Labo resultaten", key).status_code == 201
    other = send_text(alice, "Een ander bericht", key)
    assert other.status_code == 422, other.text
    assert other.json()["title"] == "Idempotency-Key reused"
    assert "different message" in other.json()["detail"]
    assert send_text(alice, "Labo resultaten", key).status_code == 200  # the retry still is
    assert inbox_total(bram) == before + 1


def test_a_publication_id_used_again_for_another_message_is_a_422(live_app, alice):
    chosen = "Mine" + uuid.uuid4().hex[:9]
    assert send_text(alice, "Eerste", publicationId=chosen).status_code == 201
    assert send_text(alice, "Eerste", publicationId=chosen).status_code == 200  # a retry
    again = send_text(alice, "Tweede", publicationId=chosen)
    assert again.status_code == 422 and again.json()["title"] == "publicationId reused"


def test_the_same_key_with_the_same_file_is_a_retry_and_with_another_file_is_refused(
    live_app, alice
):
    key = str(uuid.uuid4())
    message = json.dumps({"recipients": [BRAM], "title": "Verslag"})

    def send(document: bytes) -> requests.Response:
        files = {
            "message": (None, message, "application/json"),
            "document": ("verslag.txt", document, "text/plain"),
        }
        return alice("POST", "/messages", headers={"Idempotency-Key": key}, files=files)

    assert send(b"versie 1").status_code == 201
    assert send(b"versie 1").status_code == 200
    assert send(b"versie 2").status_code == 422


def test_a_key_gives_the_same_publication_id_everywhere_and_none_other_does():
    secret = "a-secret-shared-by-every-instance"
    first = publication_id_for(secret, "alice", "key-1")
    assert rules.is_publication_id(first) and len(first) == 13
    assert publication_id_for(secret, "alice", "key-1") == first  # any instance, any time
    assert publication_id_for(secret, "bram", "key-1") != first
    assert publication_id_for(secret, "alice", "key-2") != first
    assert publication_id_for("another-secret", "alice", "key-1") != first


def test_an_empty_store_still_gives_the_key_its_publication_id():
    """What a restarted, emptied Redis means: the PublicationId, hence the platform's
    de-duplication, does not depend on the store."""

    def outgoing(title: str) -> Outgoing:
        return Outgoing(NewMessage([Recipient("79031545695", "INSS", "NURSE")], title, text="x"))

    before_restart = SendOnce(MemoryStore(), "secret").publication_id("alice", "k", outgoing("A"))
    after_restart = SendOnce(MemoryStore(), "secret").publication_id("alice", "k", outgoing("A"))
    assert before_restart == after_restart
    kept = SendOnce(MemoryStore(), "secret")
    kept.publication_id("alice", "k", outgoing("A"))
    with pytest.raises(KeyReused):
        kept.publication_id("alice", "k", outgoing("B"))
    assert fingerprint(outgoing("A")) == fingerprint(outgoing("A"))
    assert fingerprint(outgoing("A")) != fingerprint(Outgoing(outgoing("A").message, True))
