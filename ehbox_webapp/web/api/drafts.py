"""/api/v1/drafts: the messages being composed, the same drafts the pages keep.

A draft is kept by `web/pages/drafts.py` as the compose form's fields plus its files, so a
draft saved here opens in the compose page and one saved there is listed here. These views
translate between the API's message JSON (as `POST /messages` takes it) and those fields.
Sending a draft sends it under its PublicationId: sent again after a lost answer, it is
delivered once. The draft is deleted only after a successful send.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from flask import g, jsonify, request

from ...ehealth.ehealthbox.models import new_publication_id
from ...mailbox import rules
from ...mailbox.outgoing import Upload, outgoing_message
from ...mailbox.problems import Invalid, Problem
from ...mailbox.shape import to_json
from ..caller import mailbox
from ..extensions import settings
from ..limits import action_limit, send_limit
from ..pages import drafts as kept_drafts
from ..pages.drafts import Draft, KeptFile
from .blueprint import bp
from .openapi import body_checked
from .problems import ApiProblem

# The form's fields for the API's flags; the receipts are `rules.RECEIPTS`.
FLAGS = {"important": "is_important", "encrypted": "encrypt"}
TEXTS = {"title": "title", "text": "text", "freeText": "free_text", "patientInss": "patient_inss"}
ROW = ("type", "identifier", "quality")  # recipients-<n>-<name>; `send_anyway` is ooOProcessed


@bp.get("/drafts")
def list_drafts():
    return jsonify({"drafts": [draft_json(d) for d in kept_drafts.list_for_user(g.api_caller)]})


@bp.post("/drafts")
@action_limit
def new_draft():
    fields = body_checked(lambda: draft_fields(request.get_json(silent=True)))
    draft = _draft(new_publication_id())
    draft.save_fields([("publication_id", draft.publication_id), *fields])
    return jsonify(draft_json(draft)), 201


@bp.get("/drafts/<publication_id>")
def get_draft(publication_id: str):
    return jsonify(draft_json(_kept(publication_id)))


@bp.post("/drafts/<publication_id>")
@action_limit
def save_draft(publication_id: str):
    """Replace what the draft says; its files, and what only the page knows (a forward), stay."""
    draft = _kept(publication_id)
    fields = body_checked(lambda: draft_fields(request.get_json(silent=True)))
    others = [(k, v) for k, v in draft.fields if not _ours(k)]
    draft.save_fields([*others, *fields])
    return jsonify(draft_json(draft))


@bp.delete("/drafts/<publication_id>")
@action_limit
def delete_draft(publication_id: str):
    _kept(publication_id).delete()
    return "", 204


@bp.post("/drafts/<publication_id>/send")
@send_limit
def send_draft(publication_id: str):
    draft = _kept(publication_id)
    values = _sendable(draft_json(draft))
    with ExitStack() as files:
        document = _upload(draft, draft.document, files) if draft.document else None
        if document is not None:
            values.pop("text", None)  # a kept document wins over a text, as on the page
        outgoing = body_checked(
            lambda: outgoing_message(
                values,
                document=document,
                annexes=[_upload(draft, kept, files) for kept in draft.annexes],
            )
        )
        result = mailbox().send(outgoing)
    draft.delete()
    return jsonify(to_json(result)), 200 if result.replayed else 201


# --- translation --------------------------------------------------------------------------
def draft_json(draft: Draft) -> dict[str, Any]:
    """A kept draft as the API shows it."""
    body: dict[str, Any] = {
        "publicationId": draft.publication_id,
        "changed": draft.changed_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "recipients": _rows(draft),
        **{name: draft.field(field) for name, field in TEXTS.items()},
        **{name: bool(draft.field(field)) for name, field in FLAGS.items()},
        "receipts": [name for name, field in rules.RECEIPTS.items() if draft.field(field)],
        "annexes": [_file_json(f) for f in draft.annexes],
    }
    if draft.document is not None:
        body["document"] = _file_json(draft.document)
    return body


def draft_fields(body: Any) -> list[tuple[str, str]]:
    """The API's draft JSON (checked against the document) as the compose form's fields."""
    if not isinstance(body, dict):
        raise Invalid([Problem("not-an-object", "body")])
    fields: list[tuple[str, str]] = []
    rows = body.get("recipients") if isinstance(body.get("recipients"), list) else []
    for index, row in enumerate(r for r in rows if isinstance(r, dict)):
        values = (row.get("type", ""), row.get("id", ""), row.get("quality", ""))
        fields += [(f"recipients-{index}-{n}", str(v)) for n, v in zip(ROW, values, strict=True)]
        if row.get("ooOProcessed"):
            fields.append((f"recipients-{index}-send_anyway", "y"))
    fields += [(field, str(body.get(name) or "")) for name, field in TEXTS.items()]
    fields += [(field, "y") for name, field in FLAGS.items() if body.get(name)]
    receipts = body.get("receipts") if isinstance(body.get("receipts"), list) else []
    fields += [(field, "y") for name, field in rules.RECEIPTS.items() if name in receipts]
    return fields


def _ours(field: str) -> bool:
    """A field the API's draft JSON sets (and so replaces on a save)."""
    mine = {*TEXTS.values(), *FLAGS.values(), *rules.RECEIPTS.values()}
    return field in mine or field.startswith("recipients-")


def _rows(draft: Draft) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for name, value in draft.fields:
        parts = name.split("-")
        if len(parts) != 3 or parts[0] != "recipients" or not parts[1].isdigit():
            continue
        row = rows.setdefault(int(parts[1]), {"type": "", "id": "", "quality": ""})
        if parts[2] in ROW:
            row["id" if parts[2] == "identifier" else parts[2]] = value
        elif parts[2] == "send_anyway" and value:
            row["ooOProcessed"] = True
    return [row for _, row in sorted(rows.items()) if row["id"]]  # a blank row is no recipient


def _file_json(kept: KeptFile) -> dict[str, Any]:
    return {"filename": kept.filename, "mimeType": kept.mime_type, "size": kept.size}


def _sendable(body: dict[str, Any]) -> dict[str, Any]:
    """The draft as `outgoing_message` takes a send: empty fields left out."""
    values = {k: v for k, v in body.items() if k not in ("changed", "document", "annexes")}
    return {k: v for k, v in values.items() if v not in ("", None)}


def _upload(draft: Draft, kept: KeptFile, files: ExitStack) -> Upload:
    return Upload(files.enter_context(draft.open(kept)), kept.filename, kept.mime_type)


def _draft(publication_id: str) -> Draft:
    """A new draft (room is made for it, as on the page)."""
    return kept_drafts.for_user(publication_id, settings().max_upload_bytes, g.api_caller)


def _kept(publication_id: str) -> Draft:
    """The caller's kept draft, or a 404; looking never creates one nor makes room."""
    try:
        folder = kept_drafts.draft_folder(kept_drafts.owner_folder(g.api_caller), publication_id)
    except ValueError:
        raise ApiProblem(404, "Not found", "No such draft.") from None
    draft = Draft(folder, settings().max_upload_bytes)
    if not draft.exists:
        raise ApiProblem(404, "Not found", "No such draft.")
    return draft
