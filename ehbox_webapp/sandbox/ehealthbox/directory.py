"""The sandbox's boxes by name: `GET /ehealthbox/_directory`, for the app's address book.

The eHealthBox has no directory a client may search. The sandbox offers this one, beside
its faults endpoint and outside the modelled contract, so that the app (which reaches the
sandbox over HTTP only, as it reaches eHealth) can offer the personas by name before the
user has corresponded with them. Made-up people: nothing here is personal data.
"""

from __future__ import annotations

from flask import Blueprint, Response

from ..personas import ORGANISATIONS, PERSONAS
from .problems import json_response

directory_bp = Blueprint("ehealthbox_directory", __name__)


@directory_bp.get("")
def directory() -> Response:
    boxes = [{**p.box, "name": p.name} for p in PERSONAS]
    boxes += [{**o.box, "name": o.name} for o in ORGANISATIONS if o.box]
    return json_response({"boxes": boxes})
