"""/api/v1: search a folder, the address book, out-of-office periods.

Thin as the other views: the rules are the mailbox's (`mailbox.search`, `mailbox.addressbook`,
`mailbox.absence`); a rule's problems become a 422 listing `invalidParams`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request

from ...mailbox.absence import Absence, current_and_coming
from ...mailbox.addressbook import Book, Contact, build, find
from ...mailbox.outgoing import folder, page_number, recipient
from ...mailbox.problems import Invalid, Problem
from ...mailbox.search import SEARCH_CAP, Query, search
from ...mailbox.shape import to_json
from ..caller import addressbook, mailbox
from ..directory_contacts import sandbox_contacts
from ..limits import action_limit
from .blueprint import bp
from .openapi import body_checked
from .problems import ApiProblem


@bp.get("/messages/search")
def search_messages():
    where = folder(request.args.get("folder"), default="INBOX")
    cap = page_number(request.args.get("cap"), "cap", SEARCH_CAP, SEARCH_CAP)
    query = Query.of(
        request.args.get("q", ""),
        request.args.get("sender", ""),
        request.args.get("patientInss", ""),
    )
    found = search(mailbox(), where, query, cap)
    return jsonify(
        {
            "folder": where,
            "searched": found.searched,
            "total": found.total,
            "complete": found.complete,
            "messages": to_json(list(found.messages)),
        }
    )


@bp.get("/contacts")
def contacts():
    """The caller's address book (whom the box corresponded with); with `q`, whom `q` names:
    those first, then eHealth's AddressBook, each box once (`mailbox.addressbook.find`, the
    use case of the pages' find-by-name). `lang`: the language of organisations' names."""
    box = mailbox()
    me = box.my_box()
    book = Book(
        build(box, me=me, extra=sandbox_contacts()),
        directory=addressbook(),
        language=request.args.get("lang"),
        me=me,
    )
    text = request.args.get("q")
    chosen = find(book, text) if text is not None else book
    return jsonify({"contacts": [_contact(c) for c in chosen]})


def _contact(contact: Contact) -> dict[str, Any]:
    return {
        "name": contact.name,
        "box": to_json(contact.box),
        "profession": contact.profession,
        "organisation": contact.organisation,
        "language": contact.language,
    }


@bp.get("/out-of-office")
def out_of_offices():
    periods = current_and_coming(mailbox().out_of_offices(), date.today())
    return jsonify({"outOfOffices": to_json(periods)})


@bp.post("/out-of-office")
@action_limit
def add_out_of_office():
    box = mailbox()
    absence = body_checked(lambda: _absence(request.get_json(silent=True), box.my_box()))
    period = box.add_out_of_office(absence.start, absence.end, absence.substitutes)
    return jsonify(to_json(period)), 201


@bp.delete("/out-of-office/<ooo_id>")
@action_limit
def end_out_of_office(ooo_id: str):
    if not ooo_id.isascii() or not ooo_id.isalnum() or len(ooo_id) > 64:
        raise ApiProblem(404, "Not found", "No such out-of-office period.")
    mailbox().delete_out_of_office(ooo_id)
    return "", 204


def _absence(body: Any, me) -> Absence:
    if not isinstance(body, dict):
        raise Invalid([Problem("not-an-object", "body")])
    dates = {}
    for name in ("startDate", "endDate"):
        try:
            dates[name] = date.fromisoformat(str(body.get(name, "")))
        except ValueError:
            raise Invalid([Problem("pattern", name, {"pattern": "YYYY-MM-DD"})]) from None
    raw = body.get("substitutes") or []
    if not isinstance(raw, list):
        raise Invalid([Problem("not-a-list", "substitutes")])
    subs = [recipient(s, f"substitutes[{i}]").box() for i, s in enumerate(raw)]
    try:
        return Absence.checked(
            dates["startDate"], dates["endDate"], subs, today=date.today(), me=me
        )
    except Invalid as exc:
        fields = {"end": "endDate", "start": "startDate"}
        raise Invalid(
            [Problem(p.code, fields.get(p.field, p.field), p.values) for p in exc.problems]
        ) from None
