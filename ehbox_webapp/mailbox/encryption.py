"""Whether a user can send end-to-end encrypted: offered when it can work, said why when not.

A user's box can seal when the site has encryption set up (`Mailbox.keys` and
`Mailbox.directory`), their box has a published encryption key (the sent copy is sealed for
it too) and a keystore of theirs signs (`keys.signing_identity_for`). Sending looks up every
recipient's key first and sends nothing when one is missing (`EncryptedSend`), so this is
only what a form offers: when the box or the key directory cannot be asked now, the option
is offered, and the send checks everything again and says what is wrong.

The answer is a stable code, worded by each entry point in its own language.
"""

from __future__ import annotations

from collections.abc import Callable

from ..ehealth.ehealthbox.models import BoxId
from ..ehealth.etee.directory import DirectoryUnavailable, NoEncryptionKey
from ..ehealth.etee.keys import NoKeystore
from .actions import Mailbox

NOT_SET_UP = "not-set-up"  # the site has no keys or no key directory
NO_PUBLISHED_KEY = "no-published-key"  # the user's box has no published encryption key
NO_KEYSTORE = "no-keystore"  # no keystore of the user's signs here

PROBLEMS = (NOT_SET_UP, NO_PUBLISHED_KEY, NO_KEYSTORE)


def encryption_problem(box: Mailbox, me: BoxId | Callable[[], BoxId | None] | None) -> str | None:
    """None when the user of `box` can send encrypted; otherwise why not (one of `PROBLEMS`).

    `me` is the user's box, or a function that tells it, called only when the site has
    encryption set up (so a site without it asks eHealthBox nothing); None, or a function
    answering None, when the box cannot be asked now: the option is then offered.
    """
    if box.keys is None or box.directory is None:
        return NOT_SET_UP
    mine = me() if callable(me) else me
    if mine is None:
        return None
    try:
        # Cached by the directory for an hour. In the sandbox, this first look-up of a
        # persona's keys is also what issues their keystore.
        box.directory.for_box(mine)
    except NoEncryptionKey:
        return NO_PUBLISHED_KEY
    except DirectoryUnavailable:
        pass
    try:
        box.keys.signing_identity_for(mine)
    except NoKeystore:
        return NO_KEYSTORE
    return None
