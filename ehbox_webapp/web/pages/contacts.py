"""The user's address book on the pages: kept briefly per user, and the name of a box.

Built by `mailbox.addressbook` (two listings, plus the personas in the sandbox); kept `TTL`
seconds in the server-side store under the same per-user hash as `boxcache`, forgotten with
it when the pages send or move.
"""

from __future__ import annotations

from flask import g

from ...ehealth.ehealthbox import BoxId, EhealthboxError
from ...mailbox.addressbook import Contact, build, name_of
from ..caller import mailbox
from ..directory_contacts import sandbox_contacts
from ..extensions import services
from ..login_checks import LoginRequired
from . import boxcache
from .blueprint import bp
from .qualities import QUALITY_LABELS, TYPE_LABELS

TTL = 300  # seconds: a new correspondent shows within five minutes, or at once after a send
_MEMO = "_mailbox_contacts"


def contacts() -> list[Contact]:
    """The logged-in user's contacts: from this request, from the store, or built."""
    memo = g.get(_MEMO)
    if memo is not None:
        return memo
    key = boxcache.store_key("contacts")
    stored = services().store.get(key)
    if isinstance(stored, dict) and isinstance(stored.get("contacts"), list):
        found = [Contact.from_dict(c) for c in stored["contacts"]]
    else:
        box = mailbox()
        found = build(box, me=boxcache.my_box(box), extra=sandbox_contacts())
        services().store.set(key, {"contacts": [c.to_dict() for c in found]}, TTL)
    setattr(g, _MEMO, found)
    return found


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
