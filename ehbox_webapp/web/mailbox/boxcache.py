"""A short per-user memory of the box info and the folder counts, so pages ask eHealthBox less.

Each folder page shows the four folders' counts and the box quota. Asked afresh, that is
three one-message listings and a boxInfo call on top of the folder's own listing; a user
going from folder to message to folder would pay them on every view. They are kept for
`TTL` seconds in the server-side store (`Services.store`, shared by every process), under
a hash of the user's `sub`:

    mailbox:<sha256(sub)>:box     the BoxInfo (also where a page finds the user's box id)
    mailbox:<sha256(sub)>:counts  {"expires": t, "folders": {folder: [total, unread]}}

The folder being listed always shows the counts of its own listing, and writes them in.
What the pages change is forgotten at once: a send, a move or a delete drops both entries;
reading a message drops its folder's counts (its unread count may have changed). A change
made elsewhere (another app, a new message) shows within `TTL` seconds.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict

from flask import g

from ...ehealth.ehealthbox import BoxId, BoxInfo, EhealthboxClient, MessagePage
from ..extensions import services

TTL = 30  # seconds: counts a little behind are fine, a page that waits is not
_MEMO = "_mailbox_box_info"  # on `g`: one boxInfo per request however often it is needed


def store_key(kind: str) -> str:
    """The store key of one of the user's kept entries (`box`, `counts`, `contacts`)."""
    return _key(kind)


def _key(kind: str) -> str:
    digest = hashlib.sha256(g.user["sub"].encode("utf-8")).hexdigest()[:32]
    return f"mailbox:{digest}:{kind}"


def box_info(client: EhealthboxClient) -> BoxInfo:
    """The user's BoxInfo: from this request, from the store, or asked (and kept)."""
    memo = g.get(_MEMO)
    if memo is not None:
        return memo
    stored = services().store.get(_key("box"))
    info = _box_from_dict(stored) if stored else None
    if info is None:
        info = client.box_info()
        services().store.set(_key("box"), asdict(info), TTL)
    setattr(g, _MEMO, info)
    return info


def my_box(client: EhealthboxClient) -> BoxId:
    """The logged-in user's eHealthBox address (whose keys sign and open their seals)."""
    return box_info(client).box_id


def _box_from_dict(data: dict) -> BoxInfo | None:
    try:
        return BoxInfo(
            box_id=BoxId(**data["box_id"]),
            nbr_messages_in_standby=int(data["nbr_messages_in_standby"]),
            current_size=int(data["current_size"]),
            max_size=int(data["max_size"]),
        )
    except (KeyError, TypeError, ValueError):  # written by another version: ask again
        return None


def folder_counts(
    client: EhealthboxClient, current: MessagePage, folders: tuple[str, ...]
) -> dict[str, tuple[int | None, int | None]]:
    """(total, unread) of each folder: the current one live, the others kept or asked.

    Each missing folder costs a one-message listing, the smallest call that carries its
    counts. (Listing the INBOX counts as "received" for its newest message, as any mail
    client's polling does.) The entry keeps the expiry it was created with, so counts
    refreshed by the folder being listed never keep the other folders' counts alive.
    """
    store, key, now = services().store, _key("counts"), time.time()
    entry = store.get(key) or {}
    expires = entry.get("expires")
    kept = entry.get("folders") if isinstance(expires, int | float) and expires > now else None
    if not isinstance(kept, dict):
        kept, expires = {}, now + TTL
    counts: dict[str, tuple[int | None, int | None]] = {}
    for name in folders:
        if name == current.folder:
            counts[name] = (current.total, current.unread)
        elif isinstance(kept.get(name), list) and len(kept[name]) == 2:
            counts[name] = (kept[name][0], kept[name][1])
        else:
            page = client.list_messages(name, 1, 1)
            counts[name] = (page.total, page.unread)
    remaining = int(expires - now) + 1
    store.set(
        key, {"expires": expires, "folders": {k: list(v) for k, v in counts.items()}}, remaining
    )
    return counts


def forget_folder(folder: str) -> None:
    """A message of `folder` was read: its unread count may have changed."""
    store, key = services().store, _key("counts")
    entry = store.get(key)
    if not entry or folder not in (entry.get("folders") or {}):
        return
    del entry["folders"][folder]
    remaining = int(entry.get("expires", 0) - time.time()) + 1
    if remaining > 0:
        store.set(key, entry, remaining)


def forget() -> None:
    """The box changed through the pages (send, move, delete): forget counts and box info."""
    store = services().store
    store.delete(_key("counts"))
    store.delete(_key("box"))
    store.delete(_key("contacts"))
    g.pop(_MEMO, None)


def inbox_unread(client: EhealthboxClient) -> int | None:
    """The INBOX's unread count for the page title and header: kept, or one small listing.

    Kept in the same entry as `folder_counts`; the folder page that lists the INBOX writes it,
    so landing there costs nothing more. None when eHealthBox does not say.
    """
    store, key, now = services().store, _key("counts"), time.time()
    entry = store.get(key) or {}
    expires = entry.get("expires")
    folders = entry.get("folders") if isinstance(expires, int | float) and expires > now else None
    kept = folders.get("INBOX") if isinstance(folders, dict) else None
    if isinstance(kept, list) and len(kept) == 2:
        return kept[1]
    page = client.list_messages("INBOX", 1, 1)
    if not isinstance(folders, dict):
        folders, expires = {}, now + TTL
    folders["INBOX"] = [page.total, page.unread]
    store.set(key, {"expires": expires, "folders": folders}, int(expires - now) + 1)
    return page.unread
