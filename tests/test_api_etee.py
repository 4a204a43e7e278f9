"""/api/v1 with end-to-end encryption: sealed on send, opened on read, over real HTTP."""

from __future__ import annotations

import json

import pytest
from test_api import Api, public_client_token

from ehbox_webapp.web.api.openapi import openapi_document

BRAM = {"type": "INSS", "id": "79031545695", "quality": "NURSE"}


@pytest.fixture
def api(live_app):
    from openapi_check import OpenApiChecker

    checker = OpenApiChecker(openapi_document(), "/api/v1")
    return lambda who: Api(live_app, public_client_token(live_app, who), checker)


def send(api_of, **message):
    body = {
        "recipients": [BRAM],
        "title": "Bilan (chiffré)",
        "text": "Texte confidentiel",
        "freeText": "Note privée",
        "patientInss": "70020234512",
        "encrypted": True,
        **message,
    }
    return api_of(
        "POST", "/messages", files={"message": (None, json.dumps(body), "application/json")}
    )


def test_encrypted_message_is_sealed_on_the_way_and_opened_by_the_recipient(live_app, api):
    alice, bram = api("dr-alice"), api("nurse-bram")
    sent = send(alice)
    assert sent.status_code == 201, sent.text
    # What the platform stores is sealed: the sandbox sees no clear patient INSS.
    store_view = bram("GET", "/messages?pageSize=1").json()["messages"][0]
    assert store_view["contentSpecification"]["isEncrypted"] is True
    assert store_view.get("patientInss") != "70020234512"
    message = bram("GET", f"/messages/{store_view['messageId']}").json()
    assert message["sealed"]["verdict"] == "valid"
    assert message["sealed"]["signer"]["identifier"] == "85071212390"
    assert message["patientInss"] == "70020234512"
    assert message["freeInformation"]["text"] == "Note privée"
    document = bram("GET", f"/messages/{store_view['messageId']}/document")
    assert document.status_code == 200 and document.content == b"Texte confidentiel"
    # The sender's SENTBOX copy stays readable: it was sealed for her own box too.
    own = alice("GET", f"/messages/{sent.json()['messageId']}?folder=SENTBOX").json()
    assert own["sealed"]["verdict"] == "valid" and own["patientInss"] == "70020234512"


def test_recipient_without_an_encryption_key_stops_the_send(live_app, api):
    alice, bram = api("dr-alice"), api("nurse-bram")
    before = bram("GET", "/messages?pageSize=1").json()["total"]
    nobody = {"type": "INSS", "id": "70020234512", "quality": "DOCTOR"}
    refused = send(alice, recipients=[BRAM, nobody])
    assert refused.status_code == 422
    assert (
        "70020234512" in refused.json()["detail"]
        and "Nothing was sent" in (refused.json()["detail"])
    )
    assert bram("GET", "/messages?pageSize=1").json()["total"] == before
