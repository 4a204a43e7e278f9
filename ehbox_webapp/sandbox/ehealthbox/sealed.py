"""End-to-end encryption in the sandbox eHealthBox: the all-or-nothing rule (notes §3.7).

When `contentSpecification.isEncrypted` is true every "Encryptable" field is sealed on its own:
the document and annex contents are the sealed bytes; the patient INSS, the free text, both
cells of every table row and the annex titles are the base64 of their seal. The document title,
file names, MIME types and the table title stay clear. A message that mixes the two is refused
with a 422 naming every field at fault, as is a sealed field in a message marked clear.

A seal is recognised by its shape, the way any reader would try it: a CMS ContentInfo of
SignedData whose content is a ContentInfo of EnvelopedData. The sandbox cannot open it (it has
no recipient's key), and does not need to. A signed-only document (a .p7m) is not a seal.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from asn1crypto import cms

from .problems import ApiProblem

SIGNED_DATA, ENVELOPED_DATA = "1.2.840.113549.1.7.2", "1.2.840.113549.1.7.3"
MAX_SEALED_TEXT = 64 * 1024  # base64 of a sealed title or cell: a few KB per recipient


def is_seal(data: bytes) -> bool:
    """True when `data` is shaped like an ETEE seal (signed, then enveloped, content)."""
    if not data or data[0] != 0x30:
        return False
    try:
        outer = cms.ContentInfo.load(data)
        if outer["content_type"].dotted != SIGNED_DATA:
            return False
        inner = outer["content"]["encap_content_info"]["content"]
        payload = inner.native if inner is not None else None
        if isinstance(payload, cms.ContentInfo):
            return payload["content_type"].dotted == ENVELOPED_DATA
        return bool(payload) and cms.ContentInfo.load(payload)["content_type"].dotted == (
            ENVELOPED_DATA
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return False


def is_sealed_text(value: Any) -> bool:
    """True when a JSON string is the base64 of a seal."""
    if not isinstance(value, str) or not value:
        return False
    try:
        return is_seal(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return False


def text_fields(content: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) of every Encryptable text field present in a message's content."""
    found: list[tuple[str, Any]] = []
    if content.get("patientInss") is not None:
        found.append(("content.patientInss", content["patientInss"]))
    info = content.get("freeInformations") or {}
    if "freeText" in info:
        found.append(("content.freeInformations.freeText", info["freeText"]))
    for i, row in enumerate((info.get("table") or {}).get("rows", [])):
        where = f"content.freeInformations.table.rows[{i}]"
        found += [
            (f"{where}.leftCell", row.get("leftCell")),
            (f"{where}.rightCell", row.get("rightCell")),
        ]
    for i, annex in enumerate(content.get("annexes", [])):
        found.append((f"content.annexes[{i}].title", annex.get("title")))
    return found


def _blob_is_seal(path: Path) -> bool:
    with path.open("rb") as handle:
        if handle.read(1) != b"\x30":  # a PDF, a text, an image: no need to read it all
            return False
    return is_seal(path.read_bytes())


def check_sealing(
    encrypted: bool, content: dict[str, Any], parts: list[tuple[str, Path | None]]
) -> None:
    """Refuse a message whose fields are not all sealed (isEncrypted) or all clear (422).

    `parts`: (field name, stored blob path) of the document and of every annex, in order; a
    path of None is a document sent inline as `textContent`.
    """
    invalid: list[dict[str, str]] = []

    def wrong(name: str, sealed: bool, where: str = "body") -> None:
        if sealed and not encrypted:
            reason = "sealed, but contentSpecification.isEncrypted is false"
        elif encrypted and not sealed:
            reason = "clear, but contentSpecification.isEncrypted is true: seal every field"
        else:
            return
        invalid.append({"in": where, "name": name, "reason": reason})

    for name, value in text_fields(content):
        wrong(name, is_sealed_text(value))
    for name, path in parts:
        if path is None:
            if encrypted:
                invalid.append(
                    {
                        "in": "body",
                        "name": f"{name}.textContent",
                        "reason": "a sealed document is sent as a binary part "
                        "(contentRef), not as textContent",
                    }
                )
            continue
        wrong(f"{name}.contentRef", _blob_is_seal(path), "multipart")
    if invalid:
        names = ", ".join(p["name"] for p in invalid)
        kind = "encrypted" if encrypted else "clear"
        raise ApiProblem(
            422,
            f"A message is encrypted all or nothing: this {kind} message has fields that "
            f"are not: {names}.",
            type_="urn:problem-type:ehealthbox:encryptionMismatch",
            title="Sealed and clear fields mixed",
            invalidParams=invalid,
        )
