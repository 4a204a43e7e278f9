"""What the reading pages say about people, receipts, absences and the platform's errors.

Template globals: the translated sentence of an ERROR message's code (through the failure
table, `mailbox.failures`), the user's current out-of-office period for the banner on her
own pages (kept `ABSENCE_TTL` seconds per user, forgotten when the out-of-office page
changes it), and a sent message's receipt state in words, with real plurals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import g
from flask_babel import gettext as _

from ...ehealth.ehealthbox import EhealthboxError
from ...mailbox.absence import current_and_coming
from ...mailbox.addressbook import Contact
from ...mailbox.delivery import Delivery
from ...mailbox.failures import failure_of_code
from ..caller import mailbox
from ..login_checks import LoginRequired
from . import boxcache, contacts
from .blueprint import bp

ABSENCE_TTL = 300  # seconds; the out-of-office page forgets it at once when it changes


@bp.app_template_global()
def platform_error_sentence(code: str | None) -> str:
    """An ERROR message's code as a sentence in the page's language."""
    return _(failure_of_code(code).message)


@dataclass(frozen=True)
class Away:
    """The user's out-of-office period running today, its substitutes by name."""

    id: str
    start_date: date
    end_date: date
    substitutes: tuple[Contact, ...] = ()


@bp.app_template_global()
def current_absence() -> Away | None:
    """The user's out-of-office period running today, if any (for the banner); its
    substitutes named as the address book or eHealth's AddressBook name them, once."""
    if g.get("user") is None:
        return None
    memory = boxcache.memory()
    key = memory.key("absence")
    kept = memory.store.get(key)
    if kept is None:
        try:
            periods = mailbox().out_of_offices()
            today = date.today()
            now = [p for p in current_and_coming(periods, today) if p.start_date <= today]
            kept = {"period": None}
            if now:
                first = now[0]
                subs = contacts.name_boxes(first.substitutes)
                dates = [first.start_date.isoformat(), first.end_date.isoformat()]
                kept["period"] = [first.id, *dates]
                kept["substitutes"] = [c.to_dict() for c in subs]
        except (EhealthboxError, LoginRequired):
            return None
        memory.store.set(key, kept, ABSENCE_TTL)
    period = kept.get("period")
    if not period:
        return None
    try:
        subs = tuple(Contact.from_dict(c) for c in kept.get("substitutes") or ())
        start, end = date.fromisoformat(period[1]), date.fromisoformat(period[2])
        return Away(period[0], start, end, subs)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        return None


def forget_absence() -> None:
    """The out-of-office periods changed through the pages."""
    memory = boxcache.memory()
    memory.store.delete(memory.key("absence"))


@bp.app_template_global()
def delivery_words(delivery: Delivery | None) -> str:
    """A sent message's receipt state: "Read by all", "Received by 1 of 3", "Published"."""
    if delivery is None:
        return _("Receipts unknown")
    total, count = delivery.total, delivery.count
    state = delivery.state
    if state == "pending" or total == 0:
        return _("Not published yet")
    if delivery.by_all:
        if total == 1:
            return {"read": _("Read"), "received": _("Received"), "published": _("Published")}[
                state
            ]
        return {
            "read": _("Read by all"),
            "received": _("Received by all"),
            "published": _("Published to all"),
        }[state]
    return {
        "read": _("Read by %(num)s of %(total)s", num=count, total=total),
        "received": _("Received by %(num)s of %(total)s", num=count, total=total),
        "published": _("Published to %(num)s of %(total)s", num=count, total=total),
    }[state]
