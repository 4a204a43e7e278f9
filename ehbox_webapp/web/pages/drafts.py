"""The logged-in user's drafts, as the pages reach them (the store is `mailbox/drafts.py`).

When a send fails (eHealthBox unavailable, answer lost, a recipient out of office...) the
form comes back filled in; browsers cannot refill file inputs, so the files already uploaded
are kept in the draft and listed as "kept: name (size)". The Drafts page lists the drafts.
"""

from __future__ import annotations

from flask import abort, g
from flask_babel import format_number
from flask_babel import gettext as _

from ...mailbox.drafts import BadDraftKey, Draft, DraftStore
from ..extensions import services


def store() -> DraftStore:
    return services().drafts


def mine(publication_id: str | None) -> Draft:
    """The user's draft under this key (created on its first write); a 400 for any other key."""
    try:
        return store().open(g.user["sub"], publication_id or "")
    except BadDraftKey:
        abort(400, _("This form is not one this site issued. Open “Write a message” again."))


def megabytes(size: int) -> str:
    """An upload limit as people read it, in the page's language: "10 MB", "800 bytes"."""
    if size >= 1024 * 1024:
        return f"{format_number(round(size / (1024 * 1024)))} MB"
    return _("%(num)s bytes", num=format_number(size))
