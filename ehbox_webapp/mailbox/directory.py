"""Boxes by name from a directory served over HTTP: in the sandbox, its personas.

`GET <url>` answers `{"boxes": [{"id", "type", "quality", "name"}, ...]}`; the sandbox serves
it at `/sandbox/ehealthbox/_directory`. eHealth itself has no such directory, so outside the
sandbox nothing calls this. The contacts it gives go to `addressbook.build(extra=...)`.
Framework-neutral: the caller keeps the answer (web/directory_contacts.py).
"""

from __future__ import annotations

import requests

from ..ehealth.ehealthbox.models import BoxId
from .addressbook import Contact

TIMEOUT = 5.0  # seconds: the address book must not wait long for a convenience
MAX_BOXES = 1000
KEYS = ("id", "type", "quality", "name")  # of each box; all four non-empty strings


class DirectoryUnavailable(Exception):
    """The directory did not answer, or not with a list of boxes."""


def fetch(http: requests.Session, url: str) -> list[Contact]:
    """The directory's boxes as contacts; entries that are not a named box are left out."""
    try:
        response = http.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        boxes = response.json().get("boxes")
    except (requests.RequestException, ValueError, AttributeError) as exc:
        raise DirectoryUnavailable(f"{url}: {exc}") from None
    if not isinstance(boxes, list):
        raise DirectoryUnavailable(f"{url}: no list of boxes")
    found = []
    for entry in boxes[:MAX_BOXES]:
        values = [entry.get(k) if isinstance(entry, dict) else None for k in KEYS]
        if all(isinstance(v, str) and v for v in values):
            box_id, box_type, quality, name = values
            found.append(Contact(BoxId(box_id, box_type, quality), name))
    return found
