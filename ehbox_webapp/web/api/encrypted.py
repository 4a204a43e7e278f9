"""End-to-end encrypted (ETEE) messages through /api/v1: seal on send, open on read.

The caller's box signs and decrypts with the keys `Services.keys` holds for it
(the organisation keystore, or the user's personal keystore); recipients' keys
come from the ETEE key directory (`Services.directory`). Every failure becomes
a problem document that names what is missing, and nothing is sent half-sealed.
"""

from __future__ import annotations

from flask import Response

from ...ehealth.ehealthbox import EhealthboxClient, Message, NewMessage, SendResult
from ...ehealth.ehealthbox.opening import NoSuchPart, open_fields, open_part
from ...ehealth.ehealthbox.sealing import EncryptedSend, OpenedMessage
from ...ehealth.etee.directory import DirectoryUnavailable, NoEncryptionKey
from ...ehealth.etee.errors import EteeError
from ...ehealth.etee.keys import NoKeystore
from ..downloads import content_download
from ..extensions import services
from .problems import ApiProblem
from .serialize import to_json


def send(client: EhealthboxClient, message: NewMessage) -> SendResult:
    svc = services()
    try:
        return EncryptedSend(client, svc.directory, svc.keys).send(message)
    except NoEncryptionKey as exc:
        raise ApiProblem(
            422,
            "No encryption key",
            f"{exc} Nothing was sent.",
            invalidParams=[{"name": "recipients", "reason": str(exc)}],
        ) from None
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
    return open_fields(client, message, folder, _keys(client))


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


def opened_download(
    client: EhealthboxClient, message: Message, folder: str, index: int | None
) -> Response:
    try:
        part = open_part(client, message, folder, index, _keys(client))
    except NoSuchPart as exc:
        raise ApiProblem(404, "Not found", str(exc)) from None
    except EteeError as exc:
        raise ApiProblem(422, "Cannot be opened", f"This part cannot be opened: {exc}") from None
    return content_download(part.content, part.download_file_name, part.mime_type)
