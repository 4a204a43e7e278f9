"""People picked by name on a form: the compose page's recipients, the out-of-office substitutes.

One way for both pages. The search is the address book's (`mailbox.addressbook.find`: past
correspondents first, then eHealth's AddressBook, each box once), posted as `find` with the
`add_found` button, or as the `pick` button of one of the choices it offered: plain form
posts, so it works without JavaScript. One match fills a blank row of the form's list of
`RecipientForm`s (or a new one), never the same person twice; a `remove_recipient` button
takes a row off. The rows are shown by `templates/mailbox/_people.html`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from wtforms import FieldList

from ...ehealth.ehealthbox import BoxId
from ...mailbox.addressbook import Contact, find
from . import contacts

REMOVE = "remove_recipient"  # the Remove button of a picked person: its row's index


@dataclass(frozen=True)
class Search:
    """What a search did: the choices to offer (`found`, None when there is nothing to
    choose), the text searched, the person added, or why none was (`already`, `full`)."""

    found: list[Contact] | None = None
    text: str = ""
    added: BoxId | None = None
    already: BoxId | None = None
    full: bool = False


def asked() -> bool:
    """The form was posted by the search's button or one of its choices."""
    return bool(request.form.get("add_found") or request.form.get("pick"))


def search_text() -> str:
    return request.form.get("find", "")


def removing() -> str | None:
    """The index of the row whose Remove button was pressed (None: none was)."""
    return request.form.get(REMOVE)


def find_person(rows: FieldList, max_rows: int) -> Search:
    """The posted search on `rows`: one match fills a blank row; several are offered."""
    book = contacts.contacts()
    pick = request.form.get("pick", "")
    text = search_text()
    if pick:
        found = [c for c in book if c.key == pick]
    else:  # a suggestion taken as offered is that person; any other text is searched
        offered = contacts.offered_as(book, text)
        found = [offered] if offered is not None else find(book, text)
    if len(found) != 1:
        return Search(found=found, text=text)
    box = found[0].box
    forms = [entry.form for entry in rows]
    if any(r.matches(box.id, box.type, box.quality) for r in forms):  # never added twice
        return Search(already=box)
    row = next((r for r in forms if r.is_blank), None)
    if row is None and len(rows) < max_rows:
        row = rows.append_entry().form
    if row is None:
        return Search(full=True)
    row.type.data, row.identifier.data, row.quality.data = box.type, box.id, box.quality
    return Search(added=box)


def remove_person(rows: FieldList, index: str) -> None:
    """Take the row `index` (as its field names number it) off `rows`."""
    rows.entries = [
        entry
        for entry in rows.entries
        if entry.form.is_blank or entry.name.rpartition("-")[2] != index
    ]


def ensure_blank_row(rows: FieldList, max_rows: int) -> None:
    """One row at least to type an identifier in, while there is room."""
    if all(not e.form.is_blank for e in rows) and len(rows) < max_rows:
        rows.append_entry()


def who(box: BoxId) -> str:
    """A person's name for a sentence (the identifier when no name is known)."""
    return contacts.box_name(box) or box.id
