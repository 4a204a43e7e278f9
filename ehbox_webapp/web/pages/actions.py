"""Organising the box: to the bin and back, and delete for good after a confirmation.

The CSRF token of these POSTs is checked by CSRFProtect before the view runs.

eHealthBox allows only INBOX<->BININBOX and SENTBOX<->BINSENTBOX (cookbook
UC-405), so "move" needs no destination from the browser: it is the other side.
A delete is physical and final (UC-404): the cookbook advises to warn first,
hence the confirmation page.
"""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ...ehealth.ehealthbox import EhealthboxError, MessageSummary
from ...mailbox.rules import MAX_IDS_PER_CALL
from ...mailbox.search import chosen_ids
from ..caller import mailbox
from ..limits import action_limit
from ..login_checks import login_required, safe_next
from . import boxcache
from .blueprint import bp
from .common import BINS, FOLDER, FOLDER_LABELS, MESSAGE, OTHER_SIDE, check_message_id
from .forms import ActionForm

log = logging.getLogger(__name__)


@bp.post(f"/{MESSAGE}/move")
@login_required
@action_limit
def move(folder: str, message_id: str):
    check_message_id(message_id)
    destination = OTHER_SIDE[folder]
    try:
        not_moved = mailbox().move([message_id], folder, destination)
    finally:  # even a failed call may have moved it: both folders' counts are in doubt
        boxcache.forget()
    if not_moved:
        flash(_("The message could not be moved: it is no longer in this folder."), "error")
        return redirect(url_for("mailbox.folder", folder=folder))
    if destination in BINS:
        flash(_("Message moved to %(folder)s.", folder=FOLDER_LABELS[destination]))
        offer_undo(destination, [message_id], url_for("mailbox.folder", folder=folder))
        return redirect(url_for("mailbox.folder", folder=folder))
    flash(_("Message restored to %(folder)s.", folder=FOLDER_LABELS[destination]))
    return redirect(url_for("mailbox.message", folder=destination, message_id=message_id))


@bp.get(f"/{MESSAGE}/delete")
@login_required
def confirm_delete(folder: str, message_id: str):
    check_message_id(message_id)
    msg = mailbox().get_message(message_id, folder)
    return render_template(
        "mailbox/confirm_delete.html", folder=folder, message=msg, form=ActionForm()
    )


@bp.post(f"/{MESSAGE}/delete")
@login_required
@action_limit
def delete(folder: str, message_id: str):
    check_message_id(message_id)
    try:
        not_deleted = mailbox().delete([message_id], folder)
    finally:  # the folder's counts and the box's size are in doubt
        boxcache.forget()
    if not_deleted:
        flash(_("The message could not be deleted: it is no longer in this folder."), "error")
    else:
        flash(_("Message deleted for good."))
    return redirect(url_for("mailbox.folder", folder=folder))


@bp.post(f"/{FOLDER}/selected")
@login_required
@action_limit
def selected(folder: str):
    """The ticked messages of a folder page moved or deleted in one action.

    One platform call per action (a page holds fewer than its 100 ids per call). Deleting
    asks first, as for one message: the confirmation page posts the same ids back.
    """
    try:
        ids = chosen_ids(request.form.getlist("ids"))
    except ValueError:
        abort(400)
    back = _back_to_folder(folder)
    if not ids:
        flash(_("Tick the messages first."), "error")
        return redirect(back)
    action = request.form.get("action")
    if action == "delete" and request.form.get("confirm") != "1":
        return render_template(
            "mailbox/confirm_delete_selected.html",
            folder=folder,
            ids=ids,
            named=_named(folder, ids),
            back=back,
            form=ActionForm(),
        )
    if action not in ("move", "delete"):
        abort(400)
    try:
        if action == "move":
            failed = mailbox().move(ids, folder, OTHER_SIDE[folder])
        else:
            failed = mailbox().delete(ids, folder)
    finally:  # even a failed call may have changed them: the counts are in doubt
        boxcache.forget()
    done = len(ids) - len(failed)
    if action == "move":
        flash(
            ngettext(
                "%(num)s message moved to %(folder)s.",
                "%(num)s messages moved to %(folder)s.",
                done,
                folder=FOLDER_LABELS[OTHER_SIDE[folder]],
            )
        )
        if done and OTHER_SIDE[folder] in BINS:
            moved = [i for i in ids if i not in set(failed)]
            offer_undo(OTHER_SIDE[folder], moved, back)
    else:
        flash(
            ngettext(
                "%(num)s message deleted for good.",
                "%(num)s messages deleted for good.",
                done,
            )
        )
    if failed:
        flash(
            ngettext(
                "%(num)s message was no longer in this folder.",
                "%(num)s messages were no longer in this folder.",
                len(failed),
            ),
            "error",
        )
    return redirect(back)


_UNDO = "undo"  # in the session: the last move to a bin, until the next page shows its Undo


def offer_undo(bin_folder: str, ids: list[str], back: str) -> None:
    """The next page offers to move `ids` back out of `bin_folder`, then to `back`."""
    session[_UNDO] = {"bin": bin_folder, "ids": ids[:MAX_IDS_PER_CALL], "back": back}


@bp.app_template_global()
def take_undo() -> dict | None:
    """The Undo of the last move to a bin, once (None when there is none)."""
    undo = session.pop(_UNDO, None)
    if not isinstance(undo, dict) or undo.get("bin") not in BINS:
        return None
    return undo


def _named(folder: str, ids: list[str]) -> list[tuple[str, MessageSummary | None]]:
    """The messages to delete, by title and sender: found in the folder's newest 100 (one
    call; a selection comes from a folder page); None for one not among them."""
    try:
        listed = {
            m.message_id: m for m in mailbox().list_messages(folder, 1, MAX_IDS_PER_CALL).messages
        }
    except EhealthboxError:
        listed = {}
    return [(i, listed.get(i)) for i in ids]


def _back_to_folder(folder: str) -> str:
    """The folder page the action came from (its page, search and sort), else the folder."""
    back = safe_next(request.form.get("back"))
    prefix = url_for("mailbox.folder", folder=folder)
    other = url_for("mailbox.folder", folder=OTHER_SIDE[folder])  # an Undo goes back there
    for allowed in (prefix, other):
        if back == allowed or back.startswith(allowed + "?"):
            return back
    return prefix
