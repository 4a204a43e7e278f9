"""/api/v1 resources: box info, messages, documents and annexes, send, move, delete.

Each view only translates: the request (already checked against the OpenAPI document by
`check_request`) into the mailbox's input model, the result into JSON. The rules are the
mailbox's (`ehbox_webapp/mailbox/`); their problems become a 422 listing `invalidParams`.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request, url_for

from ...mailbox import rules
from ...mailbox.idempotency import KeyReused, SendOnce
from ...mailbox.outgoing import (
    Outgoing,
    Upload,
    delete_request,
    folder,
    move_request,
    outgoing_message,
    page_number,
)
from ...mailbox.shape import sealed_json, to_json
from ..caller import mailbox
from ..downloads import part_download
from ..extensions import services, settings
from ..limits import action_limit, send_limit
from .blueprint import bp
from .openapi import MESSAGE_PART_MAX, body_checked, bounded_json, message_part, openapi_document
from .problems import ApiProblem


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/box")
def box_info():
    return jsonify(to_json(mailbox().box_info()))


@bp.get("/messages")
def list_messages():
    where = folder(request.args.get("folder"), default="INBOX")
    page = page_number(request.args.get("page"), "page", 1, rules.MAX_PAGE)
    size = page_number(request.args.get("pageSize"), "pageSize", 25, rules.MAX_PAGE_SIZE)
    start = (page - 1) * size + 1
    result = mailbox().list_messages(where, start, start + size - 1)
    body: dict[str, Any] = {
        "folder": where,
        "page": page,
        "pageSize": size,
        "total": result.total,
        "unread": result.unread,
        "messages": to_json(list(result.messages)),
    }
    if result.total is not None and start + size - 1 < result.total and page < rules.MAX_PAGE:
        body["next"] = url_for("api.list_messages", folder=where, page=page + 1, pageSize=size)
    return jsonify(body)


def _folder() -> str:
    return folder(request.args.get("folder"), default="INBOX")


@bp.get("/messages/<string(length=13):message_id>")
def get_message(message_id: str):
    opened = mailbox().open(message_id, _folder())
    body = to_json(opened.message)
    if opened.sealed is not None:
        body["sealed"] = sealed_json(opened.sealed)
    return jsonify(body)


@bp.get("/messages/<string(length=13):message_id>/document")
def document(message_id: str):
    return _download(message_id, None)


@bp.get("/messages/<string(length=13):message_id>/annexes/<int:index>")
def annex(message_id: str, index: int):
    return _download(message_id, index)


def _download(message_id: str, index: int | None):
    box, where = mailbox(), _folder()
    message = box.get_message(message_id, where)
    return part_download(box.part(message, where, index))


@bp.get("/messages/<string(length=13):message_id>/acknowledgments")
def acknowledgments(message_id: str):
    rows = mailbox().acknowledgments(message_id)
    return jsonify({"messageId": message_id, "acknowledgments": to_json(rows)})


@bp.post("/messages")
@send_limit
def send():
    """Send a message: multipart with a `message` JSON part, `document` and `annex` files.

    A retried send is delivered once: the same `Idempotency-Key` (or the same
    `publicationId`) always maps to the same eHealthBox PublicationId, on which
    the platform de-duplicates (`mailbox/idempotency.py`); the same key or
    `publicationId` with a different message is a 422.
    """
    spec = _message_json()
    upload = request.files.get("document")
    g.body_problems = [*(g.get("body_problems") or []), *_unreadable_files()]
    outgoing = body_checked(
        lambda: outgoing_message(
            spec,
            document=_upload(upload) if upload is not None else None,
            annexes=[_upload(f) for f in request.files.getlist("annex")],
        )
    )
    _publication_id(outgoing, from_client=spec.get("publicationId") is not None)
    result = mailbox().send(outgoing)
    return jsonify(to_json(result)), 200 if result.replayed else 201


def _message_json() -> dict:
    """The `message` part, parsed (its schema was checked against the OpenAPI document)."""
    spec = bounded_json(message_part(request) or b"", max_bytes=MESSAGE_PART_MAX, where="message")
    if not isinstance(spec, dict):
        raise ApiProblem(422, "Bad JSON", "The 'message' part must be a JSON object.")
    return spec


def _unreadable_files() -> list[dict[str, str]]:
    """The `document` and `annex` parts that came as text: a file name holding a bare CR
    or LF breaks the part's header, so Werkzeug reads no file name and keeps the bytes as
    a field. Such a file would otherwise be dropped without a word: it is refused, named."""
    return [
        {
            "name": name,
            "reason": "a file part without a readable file name (a line break in it?): "
            "send it again under a name without CR or LF",
            "code": "unreadable-file-part",
        }
        for name in ("document", "annex")
        for _ in request.form.getlist(name)
    ]


def _upload(upload) -> Upload:
    return Upload(upload.stream, upload.filename, upload.mimetype)


def _publication_id(outgoing: Outgoing, *, from_client: bool) -> None:
    """The send's PublicationId: the client's own, or the one its Idempotency-Key carries
    (else the fresh one the message came with). Either used before for another message: 422."""
    once = SendOnce(services().store, settings().secret_key)
    key = request.headers.get("Idempotency-Key")
    try:
        if from_client:
            once.claim(g.api_caller, outgoing)
        elif key:
            outgoing.message.publication_id = once.publication_id(g.api_caller, key, outgoing)
    except KeyReused as exc:
        raise ApiProblem(
            422,
            f"{exc.what} reused",
            f"This {exc.what} was already used for a different message. "
            "A new message needs a new one; a retry must send the same message.",
        ) from None


@bp.post("/messages/move")
@action_limit
def move():
    wanted = body_checked(lambda: move_request(request.get_json(silent=True)))
    not_moved = mailbox().move(wanted.message_ids, wanted.source, wanted.destination)
    return jsonify({"notMoved": not_moved})


@bp.post("/messages/delete")
@action_limit
def delete_many():
    wanted = body_checked(lambda: delete_request(request.get_json(silent=True)))
    return jsonify({"notDeleted": mailbox().delete(wanted.message_ids, wanted.folder)})


@bp.delete("/messages/<string(length=13):message_id>")
@action_limit
def delete_one(message_id: str):
    if mailbox().delete([message_id], _folder()):
        raise ApiProblem(404, "Not found", "No such message in that folder.")
    return "", 204
