"""A short per-user memory of the box info, the folder counts and the address book.

Each folder page shows the four folders' counts and the box quota. Asked afresh, that is
three one-message listings and a boxInfo call on top of the folder's own listing; a user
going from folder to message to folder would pay them on every view. They are kept for
`TTL` seconds in the server-side store (a `SessionStore`, shared by every process), under
a hash of the user's `sub`:

    mailbox:<sha256(sub)>:box       the BoxInfo (also where a page finds the user's box id)
    mailbox:<sha256(sub)>:counts    {"expires": t, "folders": {folder: [total, unread]},
                                     "listed": {folder: {message id: read}},
                                     "rows": {folder: [position of the first, [ids]]}}
    mailbox:<sha256(sub)>:contacts  {"contacts": [contact, ...]}, kept `CONTACTS_TTL` seconds
    mailbox:<sha256(sub)>:opened    {"folder": f, "id": message id, "sealed": bool}: the
                                     message a page just showed, for its preview frame

The folder being listed always shows the counts of its own listing, and writes them in,
with the read state of the messages it listed. What the pages change is forgotten at once:
a send, a move or a delete drops every entry. Opening a message marks it read: when the
last listing showed it unread, its folder's unread count goes down by one; when it showed
it read, nothing changed; a message the listing did not show drops its folder's counts
(whether it was unread is not known). So going from a folder to its messages and back asks
eHealthBox for the messages only. A change made elsewhere (another app, a new message)
shows within `TTL` seconds.

The address book (built by `addressbook.build`: two listings, plus the personas in the
sandbox) is kept `CONTACTS_TTL` seconds under the same per-user hash, and forgotten with
the rest when the pages move or delete.

A send changes less, and `sent` keeps the rest: the sent folder's counts go (and the
INBOX's when the user wrote to herself), the box info is kept for the box's address only
(its size changed: the quota is asked again), and the recipients join the address book as
a rebuild would add them. So the page a send lands on asks for the sent message only.

The last listing's rows (their order and the position of the first) give a message page
its newer and older neighbours without a listing of its own (`around`), and the message a
page just showed says whether its preview frame may stream the document at once (`shown`).

Framework-neutral: a `BoxMemory` is one user's memory over a store. The pages make one per
request; it also remembers, for the rest of that request, the box info and the contacts it
found (one boxInfo per request however often it is needed).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Protocol

from ..ehealth.ehealthbox.models import BoxId, BoxInfo, MessagePage
from ..stores import SessionStore
from .addressbook import Contact

TTL = 30  # seconds: counts a little behind are fine, a page that waits is not
CONTACTS_TTL = 300  # seconds: a new correspondent shows within 5 minutes, at once after a send

Counts = dict[str, tuple[int | None, int | None]]


class AskedBox(Protocol):
    """What the memory asks when it does not know: a `Mailbox` or an eHealthBox client."""

    def box_info(self) -> BoxInfo: ...

    def list_messages(self, folder: str, start: int, end: int) -> MessagePage: ...


def store_key(sub: str, kind: str) -> str:
    """The store key of one of the user's kept entries (`box`, `counts`, `contacts`)."""
    digest = hashlib.sha256(sub.encode("utf-8")).hexdigest()[:32]
    return f"mailbox:{digest}:{kind}"


class BoxMemory:
    """The kept entries of the user `sub` in `store`, and what this instance already found.

    `clock` gives the wall-clock time the counts' expiry is written in (`time.time`).
    """

    def __init__(
        self, store: SessionStore, sub: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.sub = sub
        self.clock = clock
        self._box: BoxInfo | None = None  # one boxInfo however often it is needed
        self._contacts: list[Contact] | None = None
        # The counts entry as this instance last read or wrote it: a page that marks a
        # message read, finds its neighbours and shows the INBOX's unread count reads it once.
        self._counts: dict | None = None
        self._counts_read = False

    def key(self, kind: str) -> str:
        """The store key of one of the user's kept entries (`box`, `counts`, `contacts`)."""
        return store_key(self.sub, kind)

    # --- the box -------------------------------------------------------------------------------
    def box_info(self, client: AskedBox) -> BoxInfo:
        """The user's BoxInfo: already found, from the store, or asked (and kept)."""
        if self._box is not None:
            return self._box
        stored = self.store.get(self.key("box"))
        info = _box_from_dict(stored) if stored and not stored.get("size_changed") else None
        if info is None:
            info = client.box_info()
            self.store.set(self.key("box"), asdict(info), TTL)
        self._box = info
        return info

    def my_box(self, client: AskedBox) -> BoxId:
        """The user's eHealthBox address (whose keys sign and open their seals); a box info
        kept after a send still names it, though its size is out of date."""
        if self._box is None:
            stored = self.store.get(self.key("box"))
            info = _box_from_dict(stored) if stored else None
            if info is not None:
                return info.box_id
        return self.box_info(client).box_id

    # --- the message a page showed -------------------------------------------------------------
    def shown(self, folder: str, message_id: str, sealed: bool) -> None:
        """A page showed this message: its preview frame, asked next, need not ask for it."""
        self.store.set(
            self.key("opened"), {"folder": folder, "id": message_id, "sealed": sealed}, TTL
        )

    def shown_unsealed(self, folder: str, message_id: str) -> bool:
        """Whether a page just showed this message, and it is not sealed."""
        kept = self.store.get(self.key("opened"))
        return (
            isinstance(kept, dict)
            and kept.get("folder") == folder
            and kept.get("id") == message_id
            and kept.get("sealed") is False
        )

    # --- the counts ----------------------------------------------------------------------------
    def folder_counts(
        self, client: AskedBox, current: MessagePage, folders: tuple[str, ...]
    ) -> Counts:
        """(total, unread) of each folder: the current one live, the others kept or asked.

        Each missing folder costs a one-message listing, the smallest call that carries its
        counts. (Listing the INBOX counts as "received" for its newest message, as any mail
        client's polling does.) The entry keeps the expiry it was created with, so counts
        refreshed by the folder being listed never keep the other folders' counts alive.
        """
        now = self.clock()
        entry, kept, expires = self._kept_counts(now)
        counts: Counts = {}
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
        rows = entry.get("rows")
        rows = dict(rows) if isinstance(rows, dict) else {}
        rows[current.folder] = [current.start, [m.message_id for m in current.messages]]
        remaining = int(expires - now) + 1
        self._set_counts(
            {
                "expires": expires,
                "folders": {k: list(v) for k, v in counts.items()},
                "listed": listed,
                "rows": rows,
            },
            remaining,
        )
        return counts

    def around(self, folder: str, message_id: str, position: int) -> list[str] | None:
        """The ids at `position` - 1 .. `position` + 1 (fewer at the folder's top) as the
        folder's last listing showed them, if it showed `message_id` at `position` and both
        its neighbours; None otherwise (the caller lists them)."""
        entry, _folders, _expires = self._kept_counts(self.clock())
        kept = (entry.get("rows") or {}).get(folder)
        if not (isinstance(kept, list) and len(kept) == 2 and isinstance(kept[1], list)):
            return None
        start, ids = kept
        first, last = max(1, position - 1), position + 1
        if not isinstance(start, int) or first < start or last > start + len(ids) - 1:
            return None
        if ids[position - start] != message_id:
            return None
        return ids[first - start : last - start + 1]

    def opened(self, folder: str, message_id: str) -> None:
        """`message_id` of `folder` was opened, which marks it read: keep the counts true.

        Shown unread by the folder's last listing: one unread fewer. Shown read: no change.
        Not shown: the folder's counts are forgotten (asked again when next needed).
        """
        entry = self._get_counts()
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
        remaining = int(entry.get("expires", 0) - self.clock()) + 1
        if remaining > 0:
            self._set_counts(entry, remaining)
        else:
            self._counts_read = False  # changed here, not written: read it again

    def inbox_unread(self, client: AskedBox) -> int | None:
        """The INBOX's unread count for the page title and header: kept, or one small listing.

        Kept in the same entry as `folder_counts`; the folder page that lists the INBOX writes
        it, so landing there costs nothing more. None when eHealthBox does not say.
        """
        now = self.clock()
        entry, folders, expires = self._kept_counts(now)
        kept = folders.get("INBOX")
        if isinstance(kept, list) and len(kept) == 2:
            return kept[1]
        page = client.list_messages("INBOX", 1, 1)
        folders["INBOX"] = [page.total, page.unread]
        self._set_counts({**entry, "expires": expires, "folders": folders}, int(expires - now) + 1)
        return page.unread

    def _kept_counts(self, now: float) -> tuple[dict, dict, float]:
        """(entry, its folders' counts, its expiry) while it holds; a new empty one after."""
        entry = self._get_counts() or {}
        expires = entry.get("expires")
        folders = entry.get("folders")
        if isinstance(expires, int | float) and expires > now and isinstance(folders, dict):
            return entry, folders, expires
        return {}, {}, now + TTL

    # --- the address book ----------------------------------------------------------------------
    def contacts(self, build: Callable[[], list[Contact]]) -> list[Contact]:
        """The user's contacts: already found, from the store, or `build()` (and kept)."""
        if self._contacts is not None:
            return self._contacts
        key = self.key("contacts")
        found = _contacts_from_dict(self.store.get(key))
        if found is None:
            found = build()
            self.store.set(key, {"contacts": [c.to_dict() for c in found]}, CONTACTS_TTL)
        self._contacts = found
        return found

    # --- after a change ------------------------------------------------------------------------
    def sent(self, recipients: Iterable[BoxId]) -> None:
        """A message was sent to `recipients`: forget what a send changes, keep the rest.

        The sent folder's counts (and the INBOX's, when the user is among the recipients or
        her box is not known), the box size (the box info is kept for its address only), and
        the recipients join the kept address book, unnamed unless known (as `build` would).
        """
        recipients = list(recipients)
        stored = self.store.get(self.key("box"))
        info = _box_from_dict(stored) if stored else None
        if info is not None:
            self.store.set(self.key("box"), {**stored, "size_changed": True}, TTL)
        self._box = None
        mine = (info.box_id.id, info.box_id.type) if info is not None else None
        to_me = mine is None or any((r.id, r.type) == mine for r in recipients)
        now = self.clock()
        entry, folders, expires = self._kept_counts(now)
        if folders:
            for folder in ("SENTBOX", "INBOX") if to_me else ("SENTBOX",):
                folders.pop(folder, None)
                (entry.get("rows") or {}).pop(folder, None)
            self._set_counts(entry, int(expires - now) + 1)
        key = self.key("contacts")
        contacts = _contacts_from_dict(self.store.get(key))
        if contacts is None:
            return
        known = {(c.box.id, c.box.type, c.box.quality) for c in contacts}
        names = {(c.box.id, c.box.type): c.name for c in contacts if c.name}
        for box in recipients:
            if (box.id, box.type, box.quality) in known or (box.id, box.type) == mine:
                continue
            contacts.append(Contact(box, names.get((box.id, box.type), "")))
            known.add((box.id, box.type, box.quality))
        # As `build` orders them: the named (already in order), then the unnamed by identifier.
        contacts.sort(key=lambda c: (not c.name, "" if c.name else c.box.id))
        self.store.set(key, {"contacts": [c.to_dict() for c in contacts]}, CONTACTS_TTL)
        self._contacts = None

    def forget(self) -> None:
        """The box changed through the pages (send, move, delete): forget counts, box info
        and contacts in the store, and the box info this instance found.

        The contacts this instance already found stay with it until its request ends.
        """
        for kind in ("counts", "box", "contacts"):
            self.store.delete(self.key(kind))
        self._box = None
        self._counts, self._counts_read = None, True

    def _get_counts(self) -> dict | None:
        """The kept counts entry: read from the store once per instance (one request)."""
        if not self._counts_read:
            self._counts, self._counts_read = self.store.get(self.key("counts")), True
        return self._counts

    def _set_counts(self, entry: dict, ttl: int) -> None:
        self.store.set(self.key("counts"), entry, ttl)
        self._counts, self._counts_read = entry, True


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


def _contacts_from_dict(data: dict | None) -> list[Contact] | None:
    if not isinstance(data, dict) or not isinstance(data.get("contacts"), list):
        return None
    try:
        return [Contact.from_dict(c) for c in data["contacts"]]
    except (KeyError, TypeError, AttributeError):  # written by another version: build again
        return None
