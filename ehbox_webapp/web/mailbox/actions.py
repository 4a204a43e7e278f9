"""Organising the box: to the bin and back, and delete for good after a confirmation.

The CSRF token of these POSTs is checked by CSRFProtect before the view runs.

eHealthBox allows only INBOX<->BININBOX and SENTBOX<->BINSENTBOX (cookbook
UC-405), so "move" needs no destination from the browser: it is the other side.
A delete is physical and final (UC-404): the cookbook advises to warn first,
hence the confirmation page.
"""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..auth import login_required
from ..caller import mailbox
from ..limits import action_limit
from . import boxcache, bp
from .forms import ActionForm
from .pages import BINS, FOLDER_LABELS, MESSAGE, OTHER_SIDE, check_message_id

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
