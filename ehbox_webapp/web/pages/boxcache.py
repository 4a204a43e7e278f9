"""The pages' short per-user memory of the box info and the folder counts, so they ask less.

The memory itself is `mailbox.memory.BoxMemory` (what is kept, for how long, and how
opening, sending, moving and deleting keep it true). Here it is the logged-in user's, over
the server-side store (`Services.store`, shared by every process): one `BoxMemory` per
request, kept on `g`, so one boxInfo serves the whole request however often it is needed.
The functions below are the pages' names for its use cases.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g

from ...ehealth.ehealthbox import BoxId, BoxInfo, MessagePage
from ...mailbox.memory import TTL, AskedBox, BoxMemory, Counts
from ..extensions import services

__all__ = [
    "TTL",
    "around",
    "box_info",
    "folder_counts",
    "forget",
    "inbox_unread",
    "memory",
    "my_box",
    "opened",
    "sent",
    "shown",
    "shown_unsealed",
    "store_key",
]

_MEMORY = "_mailbox_memory"  # on `g`: the logged-in user's BoxMemory for this request


def memory() -> BoxMemory:
    """The logged-in user's memory, one per request."""
    sub = g.user["sub"]
    kept = g.get(_MEMORY)
    if kept is None or kept.sub != sub:
        kept = BoxMemory(services().store, sub)
        setattr(g, _MEMORY, kept)
    return kept


def store_key(kind: str) -> str:
    """The store key of one of the user's kept entries (`box`, `counts`, `contacts`)."""
    return memory().key(kind)


def box_info(client: AskedBox) -> BoxInfo:
    """The user's BoxInfo: from this request, from the store, or asked (and kept)."""
    return memory().box_info(client)


def my_box(client: AskedBox) -> BoxId:
    """The logged-in user's eHealthBox address (whose keys sign and open their seals)."""
    return memory().my_box(client)


def folder_counts(client: AskedBox, current: MessagePage, folders: tuple[str, ...]) -> Counts:
    """(total, unread) of each folder: the current one live, the others kept or asked."""
    return memory().folder_counts(client, current, folders)


def opened(folder: str, message_id: str) -> None:
    """`message_id` of `folder` was opened, which marks it read: keep the counts true."""
    memory().opened(folder, message_id)


def around(folder: str, message_id: str, position: int) -> list[str] | None:
    """The ids around `position` as the folder's last listing showed them (None: not known)."""
    return memory().around(folder, message_id, position)


def shown(folder: str, message_id: str, sealed: bool) -> None:
    """A page showed this message: its preview frame need not ask for it again."""
    memory().shown(folder, message_id, sealed)


def shown_unsealed(folder: str, message_id: str) -> bool:
    """A page just showed this message, and it is not sealed: its parts stream as stored."""
    return memory().shown_unsealed(folder, message_id)


def sent(recipients: Iterable[BoxId]) -> None:
    """A message was sent through the pages: forget what a send changes, keep the rest."""
    memory().sent(recipients)


def forget() -> None:
    """The box changed through the pages (send, move, delete): forget what was kept."""
    memory().forget()


def inbox_unread(client: AskedBox) -> int | None:
    """The INBOX's unread count for the page title and header: kept, or one small listing."""
    return memory().inbox_unread(client)
