"""A short per-user memory of the box info and the folder counts, so pages ask eHealthBox less.

Each folder page shows the four folders' counts and the box quota. Asked afresh, that is
three one-message listings and a boxInfo call on top of the folder's own listing; a user
going from folder to message to folder would pay them on every view. They are kept for
`TTL` seconds in the server-side store (`Services.store`, shared by every process), under
a hash of the user's `sub`:

    mailbox:<sha256(sub)>:box     the BoxInfo (also where a page finds the user's box id)
    mailbox:<sha256(sub)>:counts  {"expires": t, "folders": {folder: [total, unread]},
                                   "listed": {folder: {message id: read}}}

The folder being listed always shows the counts of its own listing, and writes them in,
with the read state of the messages it listed. What the pages change is forgotten at once:
a send, a move or a delete drops both entries. Opening a message marks it read: when the
last listing showed it unread, its folder's unread count goes down by one; when it showed
it read, nothing changed; a message the listing did not show drops its folder's counts
(whether it was unread is not known). So going from a folder to its messages and back asks
eHealthBox for the messages only. A change made elsewhere (another app, a new message)
shows within `TTL` seconds.
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
    entry, kept, expires = _kept_counts(now)
    counts: dict[str, tuple[int | None, int | None]] = {}
    for name in folders:
        if name == current.folder:
            counts[name] = (current.total, current.unread)
        elif isinstance(kept.get(name), list) and len(kept[name]) == 2:
            counts[name] = (kept[name][0], kept[name][1])
        else:
            page = client.list_messages(name, 1, 1)
            counts[name] = (page.total, page.unread)
    listed = entry.get("listed")
    listed = dict(listed) if isinstance(listed, dict) else {}
    listed[current.folder] = {m.message_id: m.read for m in current.messages}
    remaining = int(expires - now) + 1
    store.set(
        key,
        {
            "expires": expires,
            "folders": {k: list(v) for k, v in counts.items()},
            "listed": listed,
        },
        remaining,
    )
    return counts


def opened(folder: str, message_id: str) -> None:
    """`message_id` of `folder` was opened, which marks it read: keep the counts true.

    Shown unread by the folder's last listing: one unread fewer. Shown read: no change.
    Not shown: the folder's counts are forgotten (asked again when next needed).
    """
    store, key = services().store, _key("counts")
    entry = store.get(key)
    folders = entry.get("folders") if entry else None
    if not isinstance(folders, dict) or folder not in folders:
        return
    listed = entry.get("listed") if isinstance(entry.get("listed"), dict) else {}
    was_read = (listed.get(folder) or {}).get(message_id)
    kept = folders[folder]
    if was_read is True:
        return
    if was_read is False and isinstance(kept, list) and len(kept) == 2 and kept[1]:
        kept[1] -= 1
        listed[folder][message_id] = True
    else:
        del folders[folder]
    remaining = int(entry.get("expires", 0) - time.time()) + 1
    if remaining > 0:
        store.set(key, entry, remaining)


def _kept_counts(now: float) -> tuple[dict, dict, float]:
    """(entry, its folders' counts, its expiry) while it holds; a new empty one after."""
    entry = services().store.get(_key("counts")) or {}
    expires = entry.get("expires")
    folders = entry.get("folders")
    if isinstance(expires, int | float) and expires > now and isinstance(folders, dict):
        return entry, folders, expires
    return {}, {}, now + TTL


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
    entry, folders, expires = _kept_counts(now)
    kept = folders.get("INBOX")
    if isinstance(kept, list) and len(kept) == 2:
        return kept[1]
    page = client.list_messages("INBOX", 1, 1)
    folders["INBOX"] = [page.total, page.unread]
    store.set(key, {**entry, "expires": expires, "folders": folders}, int(expires - now) + 1)
    return page.unread
