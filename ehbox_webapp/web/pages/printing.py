"""The print view of a message: the envelope, then the letter itself.

A message whose document is a PDF prints the PDF's pages (drawn by `ehbox_webapp.pdfpages`:
a picture of each page under its text), after the envelope (sender, recipients, dates,
patient, free text, the list of annexes). A text document prints as text. The view works
without JavaScript (the browser's Print); with it, the print dialog opens by itself.
"""

from __future__ import annotations

import logging

from flask import render_template

from ...ehealth.ehealthbox import DigestMismatch, EhealthboxError, Unauthorized
from ...ehealth.etee.errors import EteeError
from ...pdfpages import CannotDraw, draw
from ..login_checks import login_required
from .blueprint import bp
from .common import MESSAGE
from .encrypted_read import _knowing_my_box
from .message import message_view

log = logging.getLogger(__name__)


@bp.get(f"/{MESSAGE}/print")
@login_required
def print_view(folder: str, message_id: str):
    view = message_view(folder, message_id)
    pages = None
    cannot_draw = False
    if view["show"] == "pdf" and not (view["sealed"] and "document" in view["sealed"].failed):
        try:
            pages = draw(_document_bytes(view))
        except Unauthorized:
            raise
        except (CannotDraw, EhealthboxError, EteeError, DigestMismatch) as exc:
            log.info("print view: the document of %s cannot be drawn: %r", message_id, exc)
            cannot_draw = True
    return render_template("mailbox/print.html", **view, pages=pages, cannot_draw=cannot_draw)


def _document_bytes(view: dict) -> bytes:
    msg, folder = view["raw"], view["folder"]
    if msg.content_specification.is_encrypted:
        return _knowing_my_box(view["client"]).part(msg, folder, None).content
    with view["client"].open_document(msg.message_id, folder) as download:
        return download.read()
