"""The user's address book on the pages: kept briefly per user, and the name of a box.

Built by `mailbox.addressbook` (two listings, plus the personas in the sandbox); kept
`TTL` seconds in the server-side store by the user's `mailbox.memory.BoxMemory` (the one
`boxcache` holds for the request), under the same per-user hash as the box info and the
counts, and forgotten with them when the pages send or move.
"""

from __future__ import annotations

from flask import g

from ...ehealth.ehealthbox import BoxId, EhealthboxError
from ...mailbox.addressbook import Contact, build, name_of
from ...mailbox.memory import CONTACTS_TTL
from ..caller import mailbox
from ..directory_contacts import sandbox_contacts
from ..login_checks import LoginRequired
from . import boxcache
from .blueprint import bp
from .qualities import QUALITY_LABELS, TYPE_LABELS

TTL = CONTACTS_TTL  # seconds (`mailbox.memory`)


def contacts() -> list[Contact]:
    """The logged-in user's contacts: from this request, from the store, or built."""

    def built() -> list[Contact]:
        box = mailbox()
        return build(box, me=boxcache.my_box(box), extra=sandbox_contacts())

    return boxcache.memory().contacts(built)


@bp.app_template_global()
def box_name(box: BoxId) -> str:
    """The name the user knows a box by, for showing people by name ("" when unknown)."""
    if g.get("user") is None or box is None:
        return ""
    name = getattr(box, "name", "") and getattr(box, "display_name", "")
    if name:
        return name
    try:
        return name_of(contacts(), box)
    except (EhealthboxError, LoginRequired):
        return ""


@bp.app_template_global()
def quality_label(quality: str) -> str:
    """A quality in the page's language (the code when it has no name here)."""
    return str(QUALITY_LABELS.get(quality, quality))


@bp.app_template_global()
def identifier_type_label(box_type: str) -> str:
    return str(TYPE_LABELS.get(box_type, box_type))
