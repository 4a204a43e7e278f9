"""Sending end-to-end encrypted from the compose page: offered when it can work, explained when not.

The form offers "Encrypt end to end" when the user's box can seal here (decided by
`mailbox.encryption`): their box has a published encryption key (the sent copy is sealed
for it too) and a keystore of theirs signs (`Services.keys.signing_identity_for`). Sending
looks up every recipient's key first and sends nothing when one is missing
(`EncryptedSend`); the failure is put on the form, at the top and next to the recipient it
names, and the form comes back filled in with its files.
The PublicationId is kept, so a send whose answer was lost is delivered once when sent again.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...ehealth.ehealthbox import BoxId, EhealthboxError
from ...ehealth.etee.directory import DirectoryUnavailable, NoEncryptionKey
from ...ehealth.etee.errors import EteeError
from ...ehealth.etee.keys import NoKeystore
from ...mailbox.actions import Mailbox
from ...mailbox.encryption import NO_KEYSTORE, NO_PUBLISHED_KEY, NOT_SET_UP, encryption_problem
from ...mailbox.failures import failure_of
from ..login_checks import LoginRequired
from .boxcache import my_box
from .forms import ComposeForm

log = logging.getLogger(__name__)

# sealing.CLEAR_FIELDS_WARNING, in the page's language.
CLEAR_FIELDS_WARNING = _l(
    "The title, the file names and the MIME types are not encrypted: keep patient data out of them."
)


def encryption_unavailable(box: Mailbox) -> str | None:
    """None when the user can send encrypted from here; otherwise why not, to show instead.

    Decided by `mailbox.encryption.encryption_problem`. When the box or the key directory
    cannot be asked now, the option is offered: the send checks everything again and says
    what is wrong.
    """

    def me() -> BoxId | None:
        try:
            return my_box(box)
        except (EhealthboxError, LoginRequired):
            return None

    problem = encryption_problem(box, me)
    if problem == NOT_SET_UP:
        return _("End-to-end encryption is not set up on this site.")
    if problem == NO_PUBLISHED_KEY:
        return _("Your box has no published encryption key, so you cannot send encrypted messages.")
    if problem == NO_KEYSTORE:
        return _("You have no keystore for encryption here, so you cannot send encrypted messages.")
    return None


def explain(form: ComposeForm, exc: EteeError) -> int:
    """Put an encryption failure on the form (top, and the recipient's row); the HTTP status."""
    log.info("encrypted send stopped: %s", type(exc).__name__)
    nothing_sent = _("Nothing was sent.")
    if isinstance(exc, NoEncryptionKey):
        form.top_errors.append(
            _(
                "No encryption key is published for %(box)s: an encrypted message cannot be "
                "sent to it.",
                box=exc.label,
            )
            + " "
            + nothing_sent
        )
        box = exc.recipient
        for row in form.filled_rows():
            if hasattr(box, "quality") and row.matches(box.id, box.type, box.quality):
                row.identifier.errors.append(
                    _(
                        "This recipient has no published encryption key: remove it, or send "
                        "without encryption."
                    )
                )
    elif isinstance(exc, NoKeystore):
        form.top_errors.append(_("You have no keystore for encryption here.") + " " + nothing_sent)
    elif isinstance(exc, DirectoryUnavailable):
        form.top_errors.append(
            _(
                "The key directory is unavailable: the recipients' encryption keys could not "
                "be looked up. Try again in a moment."
            )
            + " "
            + nothing_sent
        )
    else:
        form.top_errors.append(_("The message could not be encrypted.") + " " + nothing_sent)
    return failure_of(exc).status  # the failure table's, as the API answers
