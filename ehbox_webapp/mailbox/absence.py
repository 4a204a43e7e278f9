"""Out of office: the period and substitutes a box owner sets, checked once for every entry point.

The eHealthBox keeps the periods (insertOoO, getOoOList, deleteOoO); a sender to a box that
is out of office gets its period and substitutes back (code 826) and chooses to send
anyway or to a substitute. This module holds the rules of a new period; the pages, the API
and the M2M CLI word its problems (`problems.Problem`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..ehealth.ehealthbox.models import BoxId, OutOfOffice
from .problems import Invalid, Problem

MAX_SUBSTITUTES = 10  # this application's choice: a handful of colleagues, not a list
MAX_DAYS = 366  # a year at most; longer is a closed practice, not an absence


@dataclass(frozen=True)
class Absence:
    """A period to set: from `start` to `end` (both included), with `substitutes`."""

    start: date
    end: date
    substitutes: tuple[BoxId, ...] = ()

    @classmethod
    def checked(
        cls, start: date, end: date, substitutes: Iterable[BoxId], *, today: date, me: BoxId | None
    ) -> Absence:
        """The period, or Invalid with every problem (fields: start, end, substitutes)."""
        subs = tuple(dict.fromkeys(substitutes))
        problems = []
        if end < start:
            problems.append(Problem("end-before-start", "end"))
        elif end < today:
            problems.append(Problem("in-the-past", "end"))
        elif (end - start).days + 1 > MAX_DAYS:
            problems.append(Problem("too-long-period", "end", {"max": MAX_DAYS}))
        if len(subs) > MAX_SUBSTITUTES:
            problems.append(Problem("too-many", "substitutes", {"max": MAX_SUBSTITUTES}))
        if me is not None and any((s.id, s.type) == (me.id, me.type) for s in subs):
            problems.append(Problem("substitute-is-self", "substitutes"))
        if problems:
            raise Invalid(problems)
        return cls(start, end, subs)


def current_and_coming(periods: Iterable[OutOfOffice], today: date) -> list[OutOfOffice]:
    """The periods not over yet, the soonest first."""
    return sorted((p for p in periods if p.end_date >= today), key=lambda p: p.start_date)
