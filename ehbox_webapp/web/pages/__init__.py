"""The mailbox pages, the doctors' entry point: folders, messages, compose, bin and delete.

Thin Flask views over the framework-neutral mailbox (`ehbox_webapp/mailbox/`, obtained from
`web.caller.mailbox()` for the logged-in user). One module per concern:

- `folders`: the folder list with counts, quota and paging;
- `message`: one message, its document (inline or download) and annexes, its neighbours;
- `printing`: a message's print view, the letter itself after the envelope;
- `compose`: new message, reply, forward, send (with `forms` and `drafts`);
- `absence`: the out-of-office page;
- `picking`: people picked by name on a form (compose's recipients, the substitutes),
  through `contacts`, the user's address book;
- `actions`: move to the bin and back, delete for good;
- `encrypted_send`, `encrypted_read`: end-to-end encryption, offered on compose, opened
  on the message page and on download;
- `boxcache`: the box info and the folder counts, kept briefly per user;
- `common`: shared names, template filters and the error pages of the blueprint;
- `rate_limited`: the blueprint's 429 (the compose form as typed for a send).
"""

from . import (  # noqa: F401  (routes and error handlers register on bp)
    absence,
    actions,
    common,
    compose,
    contacts,
    folders,
    message,
    printing,
    rate_limited,
    wording,
)
from .blueprint import bp

__all__ = ["bp"]
