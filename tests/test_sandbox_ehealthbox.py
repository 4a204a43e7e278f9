"""The sandbox eHealthBox enforces the (modelled) platform rules, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, timedelta

import ehbox_fixtures
import pytest
import requests
from ehbox_fixtures import FROM, USER_AGENT, pdf_message, recipient
from urllib3.util import SKIP_HEADER

from ehbox_webapp.ehealth.ehealthbox import new_publication_id
from ehbox_webapp.ehealth.ehealthbox.identifiers import is_valid_inss
from ehbox_webapp.sandbox.personas import persona

# The shared fixtures (tests/ehbox_fixtures.py; no conftest of our own).
sandbox = ehbox_fixtures.sandbox

ALICE, BRAM, CHLOE = (persona(p) for p in ("dr-alice", "nurse-bram", "dr-chloe"))


def _digest(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _multipart(message: dict, parts: dict[str, bytes] | None = None) -> dict:
    files = {"message": (None, json.dumps(message), "application/json")}
    for name, data in (parts or {}).items():
        files[name] = (name, data, "application/octet-stream")
    return {"files": files}


def _message(to: list[dict], data: bytes = b"hello", **overrides) -> dict:
    body = {
        "publicationId": new_publication_id(),
        "destinationContexts": to,
        "content": {
            "document": {
                "title": "Test",
                "downloadFileName": "t.txt",
                "mimeType": "text/plain",
                "digest": _digest(data),
                "contentRef": "document",
            }
        },
        "contentSpecification": {"contentType": "DOCUMENT"},
    }
    body.update(overrides)
    return body


def _to(p, **extra) -> dict:
    return {"id": p.ssin, "type": "INSS", "quality": p.quality, **extra}


def _problem(response: requests.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    if code:
        assert body["code"] == code
    return body


# --- seed -------------------------------------------------------------------------------------
def test_seeded_boxes(sandbox):
    first = sandbox.raw("GET", "/messages", params={"startIndex": 1, "endIndex": 100}).json()
    second = sandbox.raw("GET", "/messages", params={"startIndex": 101, "endIndex": 200}).json()
    assert first["total"] > 100 and len(first["messages"]) == 100
    assert 0 < len(second["messages"]) == first["total"] - 100
    messages = first["messages"] + second["messages"]
    dates = [m["messageInfo"]["publicationDate"] for m in messages]
    assert dates == sorted(dates, reverse=True)  # newest first
    types = {m["contentSpecification"]["contentType"] for m in messages}
    assert {"DOCUMENT", "ACKNOWLEDGMENT", "ERROR"} <= types
    assert any(m["contentSpecification"].get("isImportant") for m in messages)
    assert {m["contentInfo"]["mimeType"] for m in messages} >= {"application/pdf", "text/plain"}
    assert all(
        is_valid_inss(m["contentInfo"]["patientInss"])
        for m in messages
        if "patientInss" in m["contentInfo"]
    )
    for folder in ("SENTBOX", "BININBOX"):
        assert sandbox.raw("GET", "/messages", params={"source": folder}).json()["messages"]
    table = next(m for m in messages if m["contentInfo"]["title"].endswith("URGENT"))
    full = sandbox.raw("GET", f"/messages/{table['messageId']}").json()
    assert full["contentContext"]["content"]["freeInformations"]["table"]["rows"]
    error = next(m for m in messages if m["contentSpecification"]["contentType"] == "ERROR")
    full = sandbox.raw("GET", f"/messages/{error['messageId']}").json()
    assert full["contentContext"]["content"]["error"]["code"] == "802"
    pdf = next(m for m in messages if m["contentInfo"]["mimeType"] == "application/pdf")
    document = sandbox.raw("GET", f"/messages/{pdf['messageId']}/document")
    assert document.content.startswith(b"%PDF-1.4") and document.content.rstrip().endswith(b"%%EOF")


def test_every_persona_and_the_organisation_have_mail(sandbox):
    for who in ("nurse-bram", "dr-chloe", "cbe-0899999949"):
        info = sandbox.raw("GET", "/boxInfo", who=who).json()
        assert info["currentSize"] > 0 and info["maxSize"] == 100 * 1024 * 1024
        assert sandbox.raw("GET", "/messages", who=who).json()["messages"]


# --- authentication and headers ---------------------------------------------------------------
def test_missing_token(sandbox):
    response = sandbox.raw("GET", "/boxInfo", who=None)
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expires_in": -10},
        {"audience": "another-api"},
        {"issuer": "https://api-acpt.ehealth.fgov.be/auth/realms/healthcare"},
    ],
)
def test_bad_tokens(sandbox, kwargs):
    token = sandbox.token("dr-alice", **kwargs)
    response = sandbox.raw("GET", "/boxInfo", headers={"Authorization": f"Bearer {token}"})
    _problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_with_foreign_signature(sandbox, tmp_path):
    from ehbox_webapp.sandbox.tokens import RealmSigner

    token = RealmSigner(tmp_path / "other.pem").sign(
        {
            "iss": sandbox.settings.issuer("healthcare"),
            "aud": ["sandbox-ehealthbox"],
            "exp": 2**31,
            "ssin": ALICE.ssin,
        }
    )
    response = sandbox.raw("GET", "/boxInfo", headers={"Authorization": f"Bearer {token}"})
    _problem(response, 401)


def test_no_box_for_identity(sandbox):
    token = sandbox.token("dr-alice", userProfile={"dentist": {"recognised": True}})
    body = _problem(
        sandbox.raw("GET", "/boxInfo", headers={"Authorization": f"Bearer {token}"}), 403, "810"
    )
    assert "no eHealthBox" in body["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"From": None},
        {"User-Agent": SKIP_HEADER},  # no User-Agent at all
        {"User-Agent": None},  # requests' and urllib3's defaults do not identify the product
        {"User-Agent": "python-requests/2.32.0"},
    ],
)
def test_identifying_headers_required(sandbox, headers):
    response = sandbox.raw("GET", "/boxInfo", headers=headers)
    body = _problem(response, 400)
    assert body["detail"] == "User-Agent and From headers are required."
    assert body["invalidParams"][0]["in"] == "header"


def test_request_id_on_every_answer(sandbox):
    ok = sandbox.raw("GET", "/boxInfo")
    bad = sandbox.raw("GET", "/messages", params={"source": "TRASH"})
    assert ok.headers["X-Request-Id"] and bad.json()["instance"].endswith(
        bad.headers["X-Request-Id"]
    )


# --- listing ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"startIndex": 1, "endIndex": 101},
        {"startIndex": 5, "endIndex": 4},
        {"startIndex": 0},
        {"endIndex": "x"},
        {"source": "TRASH"},
        {"source": "HISTORY"},
    ],
)
def test_bad_listing(sandbox, params):
    body = _problem(sandbox.raw("GET", "/messages", params=params), 400)
    assert body["invalidParams"]


def test_bad_message_id_and_unknown_message(sandbox):
    _problem(sandbox.raw("GET", "/messages/short"), 400)
    _problem(sandbox.raw("GET", "/messages/AAAAAAAAAAAAA"), 404)
    _problem(sandbox.raw("GET", "/messages/AAAAAAAAAAAAA/annexes/1"), 404)


# --- sending ----------------------------------------------------------------------------------
def test_send_text_content_and_several_destinations(sandbox):
    text = "Korte nota / note courte"
    body = _message([_to(BRAM), _to(CHLOE), _to(BRAM)])
    body["content"]["document"] = {
        "title": "Nota",
        "downloadFileName": "nota.txt",
        "mimeType": "text/plain",
        "textContent": text,
        "digest": _digest(text.encode()),
    }
    response = sandbox.raw("POST", "/messages", **_multipart(body))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert [r["id"] for r in answer["recipients"]] == [BRAM.ssin, CHLOE.ssin]  # one copy each
    sent = sandbox.raw(
        "GET", f"/messages/{answer['messageId']}", params={"source": "SENTBOX"}
    ).json()
    assert sent["publicationId"] == body["publicationId"]
    for who in ("nurse-bram", "dr-chloe"):
        inbox = sandbox.raw("GET", "/messages", who=who, params={"endIndex": 5}).json()
        copies = [m for m in inbox["messages"] if m.get("publicationId") == body["publicationId"]]
        assert len(copies) == 1 and copies[0]["messageId"] != answer["messageId"]


def test_duplicate_publication_id_is_delivered_once(sandbox):
    body = _message([_to(BRAM)])
    first = sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"hello"}))
    again = sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"hello"}))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    inbox = sandbox.raw("GET", "/messages", who="nurse-bram").json()["messages"]
    assert sum(m.get("publicationId") == body["publicationId"] for m in inbox) == 1
    # Another sender may use the same publicationId.
    other = sandbox.raw(
        "POST", "/messages", who="dr-chloe", **_multipart(body, {"document": b"hello"})
    )
    assert other.status_code == 201


def test_digest_mismatch(sandbox):
    body = _message([_to(BRAM)], data=b"what I said")
    response = sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"what I sent"}))
    problem = _problem(response, 422, "816")
    assert problem["invalidParams"][0]["name"] == "content.document.digest"


def test_too_large_by_content_length_and_by_stream(sandbox):
    big = b"x" * (sandbox.settings.max_message_bytes + 300 * 1024)
    body = _message([_to(BRAM)], data=big)
    _problem(sandbox.raw("POST", "/messages", **_multipart(body, {"document": big})), 413, "801")

    def chunks():  # no Content-Length: counted while streaming
        yield from (big[i : i + 65536] for i in range(0, len(big), 65536))

    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n'
        f"Content-Type: application/json\r\n\r\n{json.dumps(body)}\r\n--{boundary}\r\n"
        'Content-Disposition: form-data; name="document"; filename="document"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def stream():
        yield head
        yield from chunks()
        yield f"\r\n--{boundary}--\r\n".encode()

    response = sandbox.raw(
        "POST",
        "/messages",
        data=stream(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    _problem(response, 413, "801")


def test_parts_and_json_are_checked(sandbox):
    body = _message([_to(BRAM)])
    _problem(sandbox.raw("POST", "/messages", **_multipart(body)), 400)  # missing part
    unused = sandbox.raw(
        "POST", "/messages", **_multipart(body, {"document": b"hello", "extra": b"?"})
    )
    _problem(unused, 400)
    bad = _message([_to(BRAM)], publicationId="this is far too long")
    bad["contentSpecification"] = {"contentType": "ACKNOWLEDGMENT"}
    bad["content"]["patientInss"] = "12345678901"
    problem = _problem(sandbox.raw("POST", "/messages", **_multipart(bad, {"document": b"x"})), 400)
    names = {p["name"] for p in problem["invalidParams"]}
    assert {"publicationId", "contentSpecification.contentType", "content.patientInss"} <= names
    _problem(sandbox.raw("POST", "/messages", json=body), 415)


@pytest.mark.parametrize(
    "destination,code",
    [
        ({"id": "85071212309", "type": "INSS", "quality": "DOCTOR"}, "802"),  # unknown person
        ({"id": "85071212391", "type": "INSS", "quality": "DOCTOR"}, "802"),  # bad check digits
        ({"id": ALICE.ssin, "type": "INSS", "quality": "NURSE"}, "803"),  # not her quality
        ({"id": ALICE.ssin, "type": "INSS", "quality": "SURGEON"}, "803"),
        ({"id": "0899999949", "type": "CBE", "quality": "NURSE"}, "804"),
        ({"id": "71012314", "type": "NIHII", "quality": "HOSPITAL"}, "805"),
    ],
)
def test_bad_destinations(sandbox, destination, code):
    body = _message([_to(BRAM), destination])
    problem = _problem(
        sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"hello"})), 422, code
    )
    assert problem["recipients"] == [destination]
    assert problem["invalidParams"][0]["name"].startswith("destinationContexts[1].")
    inbox = sandbox.raw("GET", "/messages", who="nurse-bram").json()["messages"]
    assert not any(m.get("publicationId") == body["publicationId"] for m in inbox)


def test_broadcast_not_allowed(sandbox):
    body = _message([{"id": "ALL", "type": "INSS", "quality": "DOCTOR"}])
    _problem(
        sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"hello"})), 403, "814"
    )


def test_out_of_office(sandbox):
    today = date.today()
    substitute = {"id": ALICE.ssin, "type": "INSS", "quality": "DOCTOR"}
    created = sandbox.raw(
        "POST",
        "/outOfOffices",
        who="dr-chloe",
        json={
            "startDate": (today - timedelta(days=1)).isoformat(),
            "endDate": (today + timedelta(days=7)).isoformat(),
            "substitutes": [substitute],
        },
    )
    assert created.status_code == 201, created.text
    ooo = created.json()
    try:
        listed = sandbox.raw("GET", "/outOfOffices", who="dr-chloe").json()["outOfOffices"]
        assert [o["id"] for o in listed] == [ooo["id"]]
        body = _message([_to(BRAM), _to(CHLOE)])
        problem = _problem(
            sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"hello"})), 409, "826"
        )
        assert [r["id"] for r in problem["recipients"]] == [CHLOE.ssin]
        assert problem["recipients"][0]["substitutes"] == [substitute]
        assert problem["recipients"][0]["absentTo"] == ooo["endDate"]
        bram_inbox = sandbox.raw("GET", "/messages", who="nurse-bram").json()["messages"]
        assert not any(m.get("publicationId") == body["publicationId"] for m in bram_inbox)

        body["destinationContexts"][1]["ooOProcessed"] = True
        sent = sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"hello"}))
        assert sent.status_code == 201
        assert sent.json()["recipients"][1]["absentFrom"] == ooo["startDate"]
    finally:
        assert (
            sandbox.raw("DELETE", f"/outOfOffices/{ooo['id']}", who="dr-chloe").status_code == 204
        )
    _problem(sandbox.raw("DELETE", f"/outOfOffices/{ooo['id']}", who="dr-chloe"), 404)


def test_quota_and_stand_by(sandbox):
    key = sandbox.box_key("dr-chloe")
    info = sandbox.raw("GET", "/boxInfo", who="dr-chloe").json()
    sandbox.store.set_max_size(key, info["currentSize"])  # full
    try:
        body = _message([_to(CHLOE)])
        answer = sandbox.raw("POST", "/messages", **_multipart(body, {"document": b"hello"}))
        assert answer.json()["recipients"][0]["standBy"] is True
        info = sandbox.raw("GET", "/boxInfo", who="dr-chloe").json()
        assert info["nbrMessagesInStandBy"] == 1
        inbox = sandbox.raw("GET", "/messages", who="dr-chloe").json()["messages"]
        assert not any(m.get("publicationId") == body["publicationId"] for m in inbox)

        sandbox.store.set_max_size(key, info["currentSize"] + 1024)
        oldest = sandbox.raw("GET", "/messages", who="dr-chloe").json()["messages"][-1]
        deleted = sandbox.raw(
            "POST",
            "/messages/delete",
            who="dr-chloe",
            json={"source": "INBOX", "messageIds": [oldest["messageId"]]},
        )
        assert deleted.json() == {"notDeleted": []}
        assert sandbox.raw("GET", "/boxInfo", who="dr-chloe").json()["nbrMessagesInStandBy"] == 0
        inbox = sandbox.raw("GET", "/messages", who="dr-chloe").json()["messages"]
        assert any(m.get("publicationId") == body["publicationId"] for m in inbox)
    finally:
        sandbox.store.set_max_size(key, 100 * 1024 * 1024)


# --- organising -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source,destination",
    [
        ("INBOX", "SENTBOX"),
        ("INBOX", "BINSENTBOX"),
        ("SENTBOX", "BININBOX"),
        ("INBOX", "INBOX"),
    ],
)
def test_forbidden_moves(sandbox, source, destination):
    body = {"source": source, "destination": destination, "messageIds": ["AAAAAAAAAAAAA"]}
    _problem(sandbox.raw("POST", "/messages/move", json=body), 400)


def test_at_most_100_ids(sandbox):
    ids = [f"A{i:012d}" for i in range(101)]
    _problem(
        sandbox.raw(
            "POST",
            "/messages/move",
            json={"source": "INBOX", "destination": "BININBOX", "messageIds": ids},
        ),
        400,
    )
    _problem(
        sandbox.raw("POST", "/messages/delete", json={"source": "INBOX", "messageIds": ids}), 400
    )
    _problem(
        sandbox.raw("POST", "/messages/delete", json={"source": "INBOX", "messageIds": []}), 400
    )


def test_move_and_delete_report_unknown_ids(sandbox):
    answer = sandbox.raw(
        "POST",
        "/messages/move",
        json={"source": "SENTBOX", "destination": "BINSENTBOX", "messageIds": ["AAAAAAAAAAAAA"]},
    )
    assert answer.json() == {"notMoved": ["AAAAAAAAAAAAA"], "code": "813"}
    mine = sandbox.raw("GET", "/messages", who="nurse-bram").json()["messages"][0]["messageId"]
    # Another box's message cannot be touched.
    answer = sandbox.raw("POST", "/messages/delete", json={"source": "INBOX", "messageIds": [mine]})
    assert answer.json() == {"notDeleted": [mine], "code": "815"}


# --- downloads and history --------------------------------------------------------------------
def test_download_headers_and_history(sandbox):
    client = sandbox.client("dr-alice")
    msg = pdf_message([recipient("nurse-bram")], annexes=1)
    msg.annexes[0].filename = "Résultats été.txt"
    sent = client.send(msg)
    bram = sandbox.client("nurse-bram")
    summary = next(
        m for m in bram.list_messages().messages if m.publication_id == msg.publication_id
    )
    response = sandbox.raw("GET", f"/messages/{summary.message_id}/annexes/1", who="nurse-bram")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Digest"] == f"SHA-256={msg.annexes[0].digest}"
    assert response.headers["ETag"] and "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''R%C3%A9sultats" in response.headers["Content-Disposition"]
    assert int(response.headers["Content-Length"]) == msg.annexes[0].size
    bram.get_message(summary.message_id)
    history = sandbox.raw(
        "GET", f"/messages/{sent.message_id}/history", params={"source": "SENTBOX"}
    ).json()
    assert history["messageIds"][0] == sent.message_id and len(history["messageIds"]) == 4


def test_faults_endpoint_validates(sandbox):
    url = f"{sandbox.url}/ehealthbox/_faults"
    for bad in (
        {"operation": "nope", "status": 503},
        {"operation": "list"},
        {"operation": "list", "status": 200},
        {"delay": "x", "status": 503},
    ):
        assert requests.post(url, json=bad, timeout=5).status_code == 400
    assert requests.delete(url, timeout=5).status_code == 204


def test_mounted_by_create_sandbox_app(tmp_path):
    """The real sandbox app (with the I.AM realms) mounts the eHealthBox at /ehealthbox/v1."""
    pytest.importorskip("ehbox_webapp.sandbox.iam")
    from ehbox_webapp.sandbox import create_sandbox_app

    settings = sandbox_settings(tmp_path)
    app = create_sandbox_app(settings)
    response = app.test_client().get(
        "/ehealthbox/v1/boxInfo", headers={"User-Agent": USER_AGENT, "From": FROM}
    )
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def sandbox_settings(tmp_path):
    from ehbox_webapp.sandbox import SandboxSettings

    base = "http://127.0.0.1:9/sandbox"
    return SandboxSettings(
        base_url=base,
        instance_path=tmp_path / "instance",
        client_jwks_url=f"{base}/jwks",
        web_client_id="ehbox-webapp",
        redirect_uris=("http://127.0.0.1:9/auth/callback",),
        post_logout_redirect_uris=("http://127.0.0.1:9/",),
        public_client_id="ehbox-public",
        public_redirect_uris=(),
        m2m_client_id="cbe-0899999949",
        ehbox_audience="sandbox-ehealthbox",
    )


def test_sandbox_does_not_load_the_client_mapping():
    """The sandbox is the reference of the modelled contract: it must not use rest.py."""
    import subprocess
    import sys

    code = (
        "import sys, ehbox_webapp.sandbox.ehealthbox as s; "
        "print(sorted(m for m in sys.modules if m.startswith('ehbox_webapp.ehealth')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],  # noqa: S603 - our own code
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ehealthbox.rest" not in loaded and "ehealthbox.client" not in loaded
    # Nor the app's recipient checks: the sandbox states the platform's (recipients.py).
    assert "ehealthbox.identifiers" not in loaded
