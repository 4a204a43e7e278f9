"""/api/v1/drafts: the messages being composed, the same drafts the pages keep.

A draft (`mailbox/drafts.py`) holds the same values as an `/api/v1` message, so a draft saved
here opens in the compose page and one saved there is listed here; these views only read and
write those values. Sending a draft is the pages' send too (`mailbox.sending.send_draft`):
under its PublicationId, so sent again after a lost answer it is delivered once; the draft is
deleted only after a successful send.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from ...ehealth.ehealthbox.models import new_publication_id
from ...mailbox.drafts import Draft, KeptFile
from ...mailbox.problems import Invalid, Problem
from ...mailbox.sending import send_draft as send_a_draft
from ...mailbox.shape import to_json
from ..caller import mailbox
from ..extensions import services
from ..limits import action_limit, send_limit
from .blueprint import bp
from .openapi import body_checked
from .problems import ApiProblem

# The values a draft's JSON shows, with what a value not kept yet reads as.
SHOWN = {
    "title": "",
    "text": "",
    "freeText": "",
    "patientInss": "",
    "important": False,
    "encrypted": False,
    "receipts": [],
}


@bp.get("/drafts")
def list_drafts():
    return jsonify({"drafts": [draft_json(d) for d in services().drafts.list(g.api_caller)]})


@bp.post("/drafts")
@action_limit
def new_draft():
    values = body_checked(lambda: draft_values(request.get_json(silent=True)))
    draft = services().drafts.open(g.api_caller, new_publication_id())
    draft.save(values)
    return jsonify(draft_json(draft)), 201


@bp.get("/drafts/<publication_id>")
def get_draft(publication_id: str):
    return jsonify(draft_json(_kept(publication_id)))


@bp.post("/drafts/<publication_id>")
@action_limit
def save_draft(publication_id: str):
    """Replace what the draft says; its files, and what only the page knows (a forward), stay."""
    draft = _kept(publication_id)
    values = body_checked(lambda: draft_values(request.get_json(silent=True)))
    kept = {k: v for k, v in draft.values.items() if k not in SHOWN and k != "recipients"}
    draft.save({**kept, **values})
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
    result = body_checked(lambda: send_a_draft(mailbox(), draft))
    return jsonify(to_json(result)), 200 if result.replayed else 201


# --- translation --------------------------------------------------------------------------
def draft_json(draft: Draft) -> dict[str, Any]:
    """A kept draft as the API shows it."""
    values = draft.values
    body: dict[str, Any] = {
        "publicationId": draft.publication_id,
        "changed": draft.changed_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "recipients": [_row(r) for r in values.get("recipients") or () if _shown_row(r)],
        **{name: values.get(name, default) for name, default in SHOWN.items()},
        "annexes": [_file_json(f) for f in draft.annexes],
    }
    if draft.document is not None:
        body["document"] = _file_json(draft.document)
    return body


def draft_values(body: Any) -> dict[str, Any]:
    """The API's draft JSON (checked against the document) as a draft's values."""
    if not isinstance(body, dict):
        raise Invalid([Problem("not-an-object", "body")])
    values = {name: body[name] for name in SHOWN if name in body}
    rows = body.get("recipients") if isinstance(body.get("recipients"), list) else []
    values["recipients"] = [_row(r) for r in rows if isinstance(r, dict)]
    return values


def _row(raw: dict[str, Any]) -> dict[str, Any]:
    row = {name: str(raw.get(name) or "") for name in ("type", "id", "quality")}
    if raw.get("ooOProcessed"):
        row["ooOProcessed"] = True
    return row


def _shown_row(raw: Any) -> bool:
    return isinstance(raw, dict) and bool(raw.get("id"))  # a blank row is no recipient


def _file_json(kept: KeptFile) -> dict[str, Any]:
    return {"filename": kept.filename, "mimeType": kept.mime_type, "size": kept.size}


def _kept(publication_id: str) -> Draft:
    """The caller's kept draft, or a 404; looking never creates one nor makes room."""
    draft = services().drafts.find(g.api_caller, publication_id)
    if draft is None:
        raise ApiProblem(404, "Not found", "No such draft.")
    return draft
