"""In the sandbox, its personas for the address book, fetched over HTTP and kept a while.

Only when `EHBOX_ENV=sandbox`: eHealth has no directory. The sandbox's answer is the same for
every user (made-up people), so it is kept once, `TTL` seconds, in the server-side store.
An unreachable sandbox is never fatal: the address book is then built from the mail alone,
and the directory is asked again after `RETRY` seconds.
"""

from __future__ import annotations

import logging

from ..mailbox.addressbook import Contact
from ..mailbox.directory import DirectoryUnavailable, fetch
from .extensions import services, settings

log = logging.getLogger(__name__)

TTL = 3600
RETRY = 60
STORE_KEY = "sandbox:directory"


def directory_url(ehbox_api_url: str) -> str:
    """`…/sandbox/ehealthbox/v1` → `…/sandbox/ehealthbox/_directory`."""
    return ehbox_api_url.rstrip("/").rsplit("/", 1)[0] + "/_directory"


def sandbox_contacts() -> list[Contact]:
    """The sandbox's personas as contacts; [] outside the sandbox or when it is unreachable."""
    cfg = settings()
    if not cfg.is_sandbox:
        return []
    store = services().store
    kept = store.get(STORE_KEY)
    if isinstance(kept, dict) and isinstance(kept.get("contacts"), list):
        return [Contact.from_dict(c) for c in kept["contacts"]]
    try:
        found, ttl = fetch(services().http, directory_url(cfg.ehbox_api_url)), TTL
    except DirectoryUnavailable as exc:
        log.warning("sandbox directory unavailable, address book from the mail only: %s", exc)
        found, ttl = [], RETRY
    store.set(STORE_KEY, {"contacts": [c.to_dict() for c in found]}, ttl)
    return found
