"""End-to-end encrypted (ETEE) messages through /api/v1: seal on send, open on read.

The caller's box signs and decrypts with the keys `Services.keys` holds for it
(the organisation keystore, or the user's personal keystore); recipients' keys
come from the ETEE key directory (`Services.directory`). Every failure becomes
a problem document that names what is missing, and nothing is sent half-sealed.
"""

from __future__ import annotations

from flask import Response

from ...ehealth.ehealthbox import EhealthboxClient, Message, NewMessage, SendResult
from ...ehealth.ehealthbox.sealing import (
    EncryptedSend,
    OpenedMessage,
    client_fetch,
    sender_identity,
    unseal_field,
    unseal_message,
)
from ...ehealth.etee.directory import DirectoryUnavailable, NoEncryptionKey
from ...ehealth.etee.errors import EteeError
from ...ehealth.etee.keys import NoKeystore
from ..downloads import content_disposition, safe_mime_type
from ..extensions import services
from .problems import ApiProblem
from .serialize import to_json


def send(client: EhealthboxClient, message: NewMessage) -> SendResult:
    svc = services()
    try:
        return EncryptedSend(client, svc.directory, svc.keys).send(message)
    except NoEncryptionKey as exc:
        raise ApiProblem(422, "No encryption key", f"{exc} Nothing was sent.",
                         invalidParams=[{"name": "recipients", "reason": str(exc)}]) from None
    except NoKeystore as exc:
        raise ApiProblem(422, "No keystore for your box", f"{exc} Nothing was sent.") from None
    except DirectoryUnavailable as exc:
        raise ApiProblem(503, "Key directory unavailable", f"{exc} Nothing was sent.") from None


def _keys(client: EhealthboxClient):
    try:
        return services().keys.decryption_keys_for(client.box_info().box_id)
    except NoKeystore as exc:
        raise ApiProblem(422, "No keystore for your box", str(exc)) from None


def open_message(client: EhealthboxClient, message: Message, folder: str) -> OpenedMessage:
    fetch = client_fetch(client, message.message_id, folder)
    return unseal_message(message, fetch, _keys(client), contents=False)


def sealed_json(opened: OpenedMessage) -> dict:
    """Who sealed the message and whether it holds; never any key material."""
    signer = opened.signer
    return {
        "verdict": opened.verdict,
        "description": opened.describe(),
        "signer": to_json(signer) if signer else None,
        "signingTime": opened.signing_time.isoformat() if opened.signing_time else None,
        "problems": [to_json(p) for p in opened.problems],
        "warnings": list(opened.warnings),
    }


def opened_download(client: EhealthboxClient, message: Message, folder: str,
                    index: int | None) -> Response:
    if index is None:
        part = message.document
        if part is None:
            raise ApiProblem(404, "Not found", "This message has no document.")
        sealed = client.open_document(message.message_id, folder).read()
    else:
        part = next((a for a in message.annexes if a.index == index), None)
        if part is None:
            raise ApiProblem(404, "Not found", "This message has no such annex.")
        sealed = client.open_annex(message.message_id, index, folder).read()
    try:
        content = unseal_field(sealed, _keys(client), sender_identity(message)).content
    except EteeError as exc:
        raise ApiProblem(422, "Cannot be opened", f"This part cannot be opened: {exc}") from None
    response = Response(content, mimetype=safe_mime_type(part.mime_type))
    response.headers["Content-Disposition"] = content_disposition(part.download_file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
