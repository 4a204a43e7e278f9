"""`POST /messages`: publish a message sent as multipart/form-data.

Part `message` carries the JSON; every binary document or annex is a part named
by its `contentRef`. The size limit is checked on Content-Length before the body
is read, then enforced while the body streams in.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, request
from werkzeug.datastructures import MultiDict

from .. import json_input
from . import faults
from .api import bp, ctx
from .blobs import StoredBlob
from .problems import ApiProblem, bad_request, json_response
from .publish import publish
from .sealed import check_sealing
from .store import Store
from .validation import check_message

# Room for the JSON part and the multipart framing on top of the files themselves.
MULTIPART_ALLOWANCE = 256 * 1024


def _too_large(limit: int) -> ApiProblem:
    return ApiProblem(413, f"The message exceeds the maximum size of {limit} bytes.", code="801")


@bp.post("/messages")
def send_message() -> Response:
    context = ctx()
    store, limit = context.store, context.settings.max_message_bytes
    fault = faults.before(store, "send")
    allowance = limit + MULTIPART_ALLOWANCE
    if request.content_length is not None and request.content_length > allowance:
        raise _too_large(limit)
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(
            415, "Send the message as multipart/form-data.", title="Unsupported Media Type"
        )
    request.max_content_length = allowance
    request.max_form_memory_size = allowance
    form, files = request.form, request.files  # parsing streams; too large -> 801 handler
    if "message" in form:
        raw: Any = form["message"]
    elif "message" in files:
        raw = files["message"].read()
    else:
        raise bad_request(
            "The part `message` (the JSON of the message) is missing.",
            ("message", "required"),
            where="multipart",
        )
    try:
        msg = check_message(json_input.loads(raw, max_bytes=allowance))
    except ValueError:
        raise bad_request(
            "The part `message` is not valid JSON.", ("message", "JSON"), where="multipart"
        ) from None

    document, annexes, size = _store_parts(store, msg["content"], files, limit)
    _check_sealing(store, msg, document, annexes)
    with store.connect() as conn:
        sender = _sender(store.box(conn, g.box_key))
    status, answer = publish(store, g.box_key, sender, msg, document, annexes, size)
    faults.after(fault)
    return json_response(answer, status)


def _sender(box: Any) -> dict[str, Any]:
    sender = {"id": box["id"], "type": box["type"], "quality": box["quality"], "name": box["name"]}
    if box["sub_type"]:
        sender["subType"] = box["sub_type"]
    if box["first_name"]:
        sender["firstName"] = box["first_name"]
    return sender


def _store_parts(
    store: Store, content: dict[str, Any], files: MultiDict, limit: int
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """Store every part as a blob, checking digests (816) and the total size (801)."""
    described = [("content.document", content["document"])]
    described += [(f"content.annexes[{i}]", a) for i, a in enumerate(content.get("annexes", []))]
    used: set[str] = set()
    stored: list[dict[str, Any]] = []
    total = 0
    for where, part in described:
        if "textContent" in part:
            blob = store.blobs.put_bytes(part["textContent"].encode("utf-8"))
        else:
            ref = part["contentRef"]
            upload = files.get(ref)
            if upload is None or ref in used:
                raise bad_request(
                    f"The part {ref!r} named by {where}.contentRef is missing or used twice.",
                    (f"{where}.contentRef", "one part per ref"),
                )
            used.add(ref)
            blob = store.blobs.put_stream(upload.stream)
        _check_digest(blob, part["digest"], where)
        total += blob.size
        if total > limit:
            raise _too_large(limit)
        stored.append(
            {
                "title": part["title"],
                "downloadFileName": part["downloadFileName"],
                "mimeType": part["mimeType"],
                "digest": blob.digest,
                "size": blob.size,
                "blob": blob.sha256_hex,
            }
        )
    unused = sorted(set(files) - used - {"message"})
    if unused:
        raise bad_request(
            "Some parts are not referenced by any contentRef.",
            *[(name, "not referenced") for name in unused],
            where="multipart",
        )
    document, annexes = stored[0], stored[1:]
    for index, annex in enumerate(annexes, start=1):
        annex["index"] = index
    return document, annexes, total


def _check_sealing(
    store: Store, msg: dict[str, Any], document: dict[str, Any], annexes: list[dict[str, Any]]
) -> None:
    """ETEE all-or-nothing (sealed.py): every Encryptable field sealed, or none."""
    content = msg["content"]
    inline = "textContent" in content["document"]
    parts = [("content.document", None if inline else store.blobs.path(document["blob"]))]
    parts += [(f"content.annexes[{i}]", store.blobs.path(a["blob"])) for i, a in enumerate(annexes)]
    check_sealing(msg["contentSpecification"].get("isEncrypted") is True, content, parts)


def _check_digest(blob: StoredBlob, declared: str, where: str) -> None:
    if blob.digest != declared:
        raise ApiProblem(
            422,
            f"The digest of {where} does not match its bytes.",
            code="816",
            invalidParams=[
                {
                    "in": "body",
                    "name": f"{where}.digest",
                    "reason": "base64 of the SHA-256 of the bytes sent",
                }
            ],
        )
