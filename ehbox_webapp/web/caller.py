"""The eHealthBox of whoever called this request: its client, its mailbox, its address book.

A web page acts for the logged-in user (the session's access token); an API call
acts for the Bearer token it carried. Either way the eHealthBox (and the AddressBook)
sees only a token exchanged for its own audience, never the caller's token as is.
"""

from __future__ import annotations

from flask import g

from ..ehealth.addressbook import AddressBookClient
from ..ehealth.ehealthbox.client import EhealthboxClient
from ..mailbox.actions import Mailbox
from .extensions import services
from .login_checks import access_token


def _subject_token() -> str:
    """The caller's own token, to exchange: the API's Bearer token, else the session's."""
    return g.get("api_token") or access_token()


def ehealthbox() -> EhealthboxClient:
    """An eHealthBox client acting for the caller of this request."""
    svc = services()

    def token() -> str:
        return svc.ehealthbox_token(_subject_token())

    return svc.ehealthbox(token)


def mailbox() -> Mailbox:
    """The caller's mailbox: the client, with the site's end-to-end encryption keys."""
    if "mailbox" not in g:
        svc = services()
        g.mailbox = Mailbox(ehealthbox(), keys=svc.keys, directory=svc.directory)
    return g.mailbox


def addressbook() -> AddressBookClient:
    """An AddressBook client acting for the caller of this request."""
    svc = services()

    def token() -> str:
        return svc.addressbook_token(_subject_token())

    return svc.addressbook(token)
