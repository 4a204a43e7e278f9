"""Messages the user marked unread again: kept by the application, per user and folder.

The eHealthBox has no operation to mark a message unread (a message is read once opened, and
its READ receipt is gone to the sender). A user who opened a message she wants to come back
to can still mark it: the application remembers it, for `TTL`, and shows it unread in the
folder's list until she opens it again. The platform's unread count does not change, and
another application on the same box does not see the mark.

One store entry per user and folder: {"ids": [message id, ...]} (one read per folder page).
"""

from __future__ import annotations

from ..stores import SessionStore
from .memory import store_key

TTL = 30 * 24 * 3600  # a month, as long as a draft
MAX_MARKS = 200  # per folder; the oldest marks go first


class UnreadMarks:
    def __init__(self, store: SessionStore, sub: str):
        self.store, self.sub = store, sub

    def _key(self, folder: str) -> str:
        return store_key(self.sub, f"unread:{folder}")

    def of(self, folder: str) -> frozenset[str]:
        entry = self.store.get(self._key(folder)) or {}
        ids = entry.get("ids")
        return (
            frozenset(i for i in ids if isinstance(i, str))
            if isinstance(ids, list)
            else frozenset()
        )

    def mark(self, folder: str, message_id: str) -> None:
        ids = [i for i in self.of(folder) if i != message_id][-(MAX_MARKS - 1) :]
        self.store.set(self._key(folder), {"ids": [*ids, message_id]}, TTL)

    def clear(self, folder: str, message_id: str) -> None:
        ids = self.of(folder)
        if message_id in ids:
            self.store.set(self._key(folder), {"ids": sorted(ids - {message_id})}, TTL)
