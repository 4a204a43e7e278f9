"""Fixtures for the eHealthBox tests: the sandbox eHealthBox on a real loopback port.

Only the eHealthBox part of the sandbox is mounted (a Flask app with just
`init_ehealthbox`, under /sandbox as in the real app), so these tests do not
depend on the sandbox I.AM realm. Tokens are minted with the same `RealmSigner`
(the key file in the instance folder) the sandbox verifies them with.

Expose the fixtures in a test module with `sandbox = ehbox_fixtures.sandbox` (an
assignment, not an import, so that ruff does not see the test arguments as redefinitions).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from ehbox_webapp.ehealth.ehealthbox import (
    Attachment,
    ContentSpecification,
    EhealthboxClient,
    NewMessage,
    Recipient,
)
from ehbox_webapp.ehealth.http import build_session
from ehbox_webapp.sandbox import SandboxSettings
from ehbox_webapp.sandbox.ehealthbox import init_ehealthbox
from ehbox_webapp.sandbox.ehealthbox.store import Store, box_key
from ehbox_webapp.sandbox.personas import ORGANISATIONS, persona
from ehbox_webapp.sandbox.tokens import RealmSigner

AUDIENCE = "sandbox-ehealthbox"
USER_AGENT = "ehbox-webapp-tests/0.1.0"
FROM = "tests@example.org"
MAX_MESSAGE_BYTES = 2 * 1024 * 1024


@dataclass
class Sandbox:
    """A running sandbox eHealthBox and helpers to call it as a persona or organisation."""

    url: str  # where the sandbox is mounted: http://127.0.0.1:<port>/sandbox
    settings: SandboxSettings
    signer: RealmSigner
    app: Flask
    store: Store
    server: Any
    recorded: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"{self.url}/ehealthbox/v1"

    def token(
        self,
        who: str = "dr-alice",
        *,
        audience: str | None = AUDIENCE,
        expires_in: int = 300,
        issuer: str | None = None,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": [audience],
            "exp": now + expires_in,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "typ": "Bearer",
        }
        org = next((o for o in ORGANISATIONS if o.client_id == who), None)
        if org is not None:
            claims.update(
                iss=self.settings.issuer("M2M"),
                azp=org.client_id,
                sub=f"service-account-{org.client_id}",
            )
        else:
            p = persona(who)
            assert p is not None, who
            claims.update(
                iss=self.settings.issuer("healthcare"),
                azp="ehbox-webapp",
                sub=p.id,
                ssin=p.ssin,
                given_name=p.first_name,
                family_name=p.last_name,
                userProfile={p.profession: {"recognised": True, "nihii11": p.nihii11}},
            )
        if issuer is not None:
            claims["iss"] = issuer
        claims.update(extra)
        return self.signer.sign(claims)

    def session(self, *, record: bool = True) -> requests.Session:
        session = build_session(USER_AGENT, FROM, timeout=10)
        if record:
            session.hooks["response"].append(self._record)
        return session

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        content_type = response.headers.get("Content-Type", "")
        body = response.json() if "json" in content_type else None
        self.recorded.append(
            {
                "method": response.request.method,
                "url": response.url,
                "status": response.status_code,
                "content_type": content_type,
                "body": body,
            }
        )

    def client(
        self,
        who: str = "dr-alice",
        *,
        timeout: float = 5,
        retries: int = 3,
        session: requests.Session | None = None,
    ) -> EhealthboxClient:
        return EhealthboxClient(
            self.api,
            lambda: self.token(who),
            session=session or self.session(),
            timeout=timeout,
            retries=retries,
        )

    def raw(
        self, method: str, path: str, who: str | None = "dr-alice", **kwargs: Any
    ) -> requests.Response:
        """A request with the identifying headers and (unless who=None) a token."""
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers.setdefault("Authorization", f"Bearer {self.token(who)}")
        return self.session().request(method, self.api + path, headers=headers, **kwargs)

    def fault(self, **spec: Any) -> None:
        response = requests.post(f"{self.url}/ehealthbox/_faults", json=spec, timeout=5)
        assert response.status_code == 201, response.text

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/ehealthbox/_faults", timeout=5)

    def box_key(self, who: str) -> str:
        org = next((o for o in ORGANISATIONS if o.client_id == who), None)
        box = org.box if org is not None else persona(who).box  # type: ignore[union-attr]
        return box_key(box)

    def stop(self) -> None:
        self.server.shutdown()


def sandbox_of(live: Any) -> Sandbox:
    """The sandbox embedded in a live app (tests/conftest.py), with these test helpers."""
    sandbox_app = live.app.extensions["sandbox_app"]
    ext = sandbox_app.extensions
    return Sandbox(
        url=live.sandbox(),
        settings=ext["sandbox"]["settings"],
        signer=ext["sandbox"]["signer"],
        app=sandbox_app,
        store=ext["sandbox_ehealthbox"].store,
        server=None,  # the live app owns its server: never stopped from here
    )


def start_sandbox(instance_path: Path, **settings: Any) -> Sandbox:
    """Serve the sandbox eHealthBox on a free loopback port, mounted at /sandbox."""

    def placeholder(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]

    server = make_server("127.0.0.1", 0, placeholder, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}/sandbox"
    config = SandboxSettings(
        base_url=base,
        instance_path=instance_path,
        client_jwks_url=f"{base}/jwks",
        web_client_id="ehbox-webapp",
        redirect_uris=(),
        post_logout_redirect_uris=(),
        public_client_id="ehbox-webapp-public",
        public_redirect_uris=(),
        m2m_client_id=ORGANISATIONS[0].client_id,
        ehbox_audience=AUDIENCE,
        max_message_bytes=settings.pop("max_message_bytes", MAX_MESSAGE_BYTES),
        **settings,
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    signer = RealmSigner(instance_path / "sandbox-realm-key.pem")
    app = Flask("sandbox-ehealthbox-tests", instance_path=str(instance_path))
    store = init_ehealthbox(app, config, signer)
    server.app = DispatcherMiddleware(NotFound(), {"/sandbox": app})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Sandbox(url=base, settings=config, signer=signer, app=app, store=store, server=server)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    """One sandbox per test module (tests in a module share its state: use fresh ids)."""
    box = start_sandbox(tmp_path_factory.mktemp("ehbox") / "instance")
    yield box
    box.stop()


@pytest.fixture(autouse=False)
def no_faults(sandbox: Sandbox) -> Iterator[None]:
    sandbox.clear_faults()
    yield
    sandbox.clear_faults()


def recipient(who: str, **kwargs: Any) -> Recipient:
    p = persona(who)
    if p is not None:
        return Recipient(p.ssin, "INSS", p.quality, **kwargs)
    org = next(o for o in ORGANISATIONS if o.client_id == who)
    return Recipient(org.box["id"], org.box["type"], org.box["quality"], **kwargs)


def pdf_message(
    to: list[Recipient],
    *,
    title: str = "Verslag consultatie cardiologie",
    receipts: bool = True,
    annexes: int = 2,
    **kwargs: Any,
) -> NewMessage:
    """A PDF document with annexes (distinct bytes, so each download can be compared)."""
    from ehbox_webapp.pdf import make_pdf

    spec = ContentSpecification(
        publication_receipt=receipts, received_receipt=receipts, read_receipt=receipts
    )
    return NewMessage(
        recipients=to,
        title=title,
        document=Attachment(make_pdf(title, ["Patiënt: test"]), "verslag.pdf", "application/pdf"),
        annexes=[
            Attachment(
                f"annex {i} ".encode() * (1000 * i),
                f"bijlage-{i}.txt",
                "text/plain",
                title=f"Bijlage {i}",
            )
            for i in range(1, annexes + 1)
        ],
        content_specification=spec,
        **kwargs,
    )


def run_story(sb: Sandbox) -> dict[str, Any]:
    """Dr Alice sends nurse Bram a PDF with two annexes and every receipt; Bram lists,
    reads and downloads it; Alice sees the receipts; Bram bins, restores and deletes it.

    Asserts along the way; returns what it saw. Every call goes through the
    recording session, so the OpenAPI test can validate the answers.
    """
    from ehbox_webapp.ehealth.ehealthbox import CustomMeta, FreeInformation, NotFound

    alice, bram = sb.client("dr-alice"), sb.client("nurse-bram")
    msg = pdf_message(
        [recipient("nurse-bram")],
        patient_inss="56031412372",
        free_information=FreeInformation(text="Graag opvolging."),
        custom_metas=[CustomMeta("dossier", "A-42")],
    )
    msg.annexes[1].filename = "Résultats labo.txt"
    sent = alice.send(msg)
    assert not sent.replayed and len(sent.recipients) == 1

    page = bram.list_messages("INBOX", 1, 20)
    summary = next(m for m in page.messages if m.publication_id == msg.publication_id)
    assert summary.read is False and summary.has_annex and summary.has_free_informations
    assert summary.sender.id == persona("dr-alice").ssin  # type: ignore[union-attr]
    full = bram.get_message(summary.message_id)
    assert full.read and full.patient_inss == "56031412372" and len(full.annexes) == 2
    assert full.free_information is not None and full.free_information.text == "Graag opvolging."

    parts = {}
    with bram.open_document(summary.message_id) as download:
        parts["document"] = (download.filename, download.mime_type, download.read())
    for annex in full.annexes:
        with bram.open_annex(summary.message_id, annex.index) as download:
            parts[annex.index] = (download.filename, download.mime_type, download.read())
    assert parts["document"][2] == msg.document.read_all()  # type: ignore[union-attr]
    for i, attachment in enumerate(msg.annexes, start=1):
        assert parts[i][0] == attachment.filename and parts[i][2] == attachment.read_all()

    acks = alice.acknowledgments(sent.message_id)
    assert len(acks) == 1 and acks[0].published and acks[0].received and acks[0].read
    alice_inbox = alice.list_messages("INBOX", 1, 10).messages
    ack_types = set()
    for item in alice_inbox:
        if item.content_specification.content_type == "ACKNOWLEDGMENT":
            ack = alice.get_message(item.message_id).acknowledgment
            if ack is not None and ack.message_id == sent.message_id:
                ack_types.add(ack.ack_type)
    assert ack_types == {"PUBLISHED", "RECEIVED", "READ"}

    assert bram.move([summary.message_id], "INBOX", "BININBOX") == []
    assert any(m.message_id == summary.message_id for m in bram.list_messages("BININBOX").messages)
    assert bram.move([summary.message_id], "BININBOX", "INBOX") == []
    assert bram.delete([summary.message_id], "INBOX") == []
    try:
        bram.get_message(summary.message_id)
        raise AssertionError("a deleted message is still there")
    except NotFound:
        pass
    return {
        "message": msg,
        "sent": sent,
        "summary": summary,
        "full": full,
        "parts": parts,
        "acks": acks,
    }
