"""The out-of-office page: set a period with substitutes (picked like recipients), list, end.

The rules are `mailbox.absence`'s; this module reads the form and words its problems. The
substitutes are picked by name exactly as the compose page's recipients are (`picking`: the
address book's search, then eHealth's AddressBook, without JavaScript; never one twice), the
rows to type an identifier in folded under them; a search or a Remove keeps everything typed.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, FormField, SubmitField
from wtforms.validators import InputRequired

from ...mailbox.absence import MAX_SUBSTITUTES, Absence, current_and_coming
from ...mailbox.problems import Invalid
from ..caller import mailbox
from ..limits import action_limit
from ..login_checks import login_required
from . import boxcache, contacts, picking
from .blueprint import bp
from .common import localdate
from .forms import ActionForm, RecipientForm
from .wording import forget_absence

log = logging.getLogger(__name__)

SENTENCES = {
    "end-before-start": _l("The last day comes before the first day."),
    "in-the-past": _l("This period is over already."),
    "too-long-period": _l("An absence lasts %(max)s days at most."),
    "too-many": _l("At most %(max)s substitutes."),
    "substitute-is-self": _l("You cannot be your own substitute."),
}


class AbsenceForm(FlaskForm):
    start = DateField(_l("First day"), [InputRequired(_l("Give the first day."))])
    end = DateField(_l("Last day"), [InputRequired(_l("Give the last day."))])
    substitutes = FieldList(FormField(RecipientForm), min_entries=2, max_entries=MAX_SUBSTITUTES)
    add = SubmitField(_l("Set the out-of-office"))


@bp.get("/out-of-office")
@login_required
def out_of_office():
    return _render(AbsenceForm(formdata=None))


@bp.post("/out-of-office")
@login_required
@action_limit
def add_out_of_office():
    form = AbsenceForm()
    # The search's button is the form's first: Enter in a date posts it with nothing to find.
    if picking.asked() and (request.form.get("pick") or picking.search_text().strip()):
        return _find_substitute(form)
    if picking.removing() is not None:
        picking.remove_person(form.substitutes, picking.removing())
        return _render(form)
    rows = [entry.form for entry in form.substitutes if not entry.form.is_blank]
    valid = form.validate()
    valid = all([row.check() for row in rows]) and valid
    if not valid:
        return _render(form, status=422)
    box = mailbox()
    try:
        absence = Absence.checked(
            form.start.data,
            form.end.data,
            [row.recipient().box() for row in rows],
            today=date.today(),
            me=boxcache.my_box(box),
        )
    except Invalid as exc:
        for problem in exc.problems:
            field = form.end if problem.field == "end" else form.substitutes
            field.errors = [*field.errors, str(SENTENCES[problem.code]) % dict(problem.values)]
        return _render(form, status=422)
    box.add_out_of_office(absence.start, absence.end, absence.substitutes)
    forget_absence()
    flash(
        _(
            "Out of office from %(start)s to %(end)s: senders are told so.",
            start=localdate(absence.start),
            end=localdate(absence.end),
        )
    )
    return redirect(url_for("mailbox.out_of_office"))


@bp.post("/out-of-office/<ooo_id>/end")
@login_required
@action_limit
def end_out_of_office(ooo_id: str):
    if not ooo_id.isascii() or not ooo_id.isalnum() or len(ooo_id) > 64:
        return redirect(url_for("mailbox.out_of_office"))
    mailbox().delete_out_of_office(ooo_id)
    forget_absence()
    flash(_("The out-of-office is ended."))
    return redirect(url_for("mailbox.out_of_office"))


def _find_substitute(form: AbsenceForm):
    """The address book's search, as on the compose page: one match becomes a substitute."""
    search = picking.find_person(form.substitutes, MAX_SUBSTITUTES)
    if search.already is not None:
        form.substitutes.errors = [
            _("%(who)s is a substitute already.", who=picking.who(search.already))
        ]
    elif search.full:
        form.substitutes.errors = [str(SENTENCES["too-many"]) % {"max": MAX_SUBSTITUTES}]
    return _render(form, found=search.found, find_text=search.text)


def _render(form: AbsenceForm, status: int = 200, *, found=None, find_text: str = ""):
    periods = current_and_coming(mailbox().out_of_offices(), date.today())
    contacts.name_boxes(s for p in periods for s in p.substitutes)
    picking.ensure_blank_row(form.substitutes, MAX_SUBSTITUTES)
    return render_template(
        "mailbox/out_of_office.html",
        form=form,
        periods=periods,
        end_form=ActionForm(),
        address_book=contacts.offered(),
        found=found,
        find_text=find_text,
    ), status
