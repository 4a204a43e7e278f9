"""Sent mail by recipient: who each sent message went to, and how far it got with them.

A SENTBOX listing names no recipient (its `Destination` is the sender's own box), and
carries no receipt state. One call per message does both: `getMessageAcknowledgmentsStatus`
answers a row per recipient with the moments it was published, received and read. A Sent
page of `PAGE` rows therefore costs at most `PAGE` such calls, made `WORKERS` at a time, and
each answer is kept in the store: a state where every recipient has read the message
cannot change any more and is kept a day (`FINAL_TTL`); any other state `TTL` seconds, so a
receipt shows within that time. A second view of the page asks nothing.

Framework-neutral: the pages pass a `SessionStore` and the user's `sub`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from ..ehealth.ehealthbox.errors import EhealthboxError, Unauthorized
from ..ehealth.ehealthbox.models import AcknowledgmentStatus, BoxId
from ..stores import SessionStore
from .memory import store_key

TTL = 30  # seconds: a receipt shows within half a minute
FINAL_TTL = 24 * 3600  # read by everyone: it will not change
WORKERS = 4  # calls in flight for one page: enough to hide latency, gentle on the platform
STATES = ("pending", "published", "received", "read")


class AsksReceipts(Protocol):
    def acknowledgments(self, message_id: str) -> list[AcknowledgmentStatus]: ...


@dataclass(frozen=True)
class Delivery:
    """A sent message's recipients, and how many of them it was published to, received, read."""

    recipients: tuple[BoxId, ...]
    published: int = 0
    received: int = 0
    read: int = 0

    @property
    def total(self) -> int:
        return len(self.recipients)

    @property
    def state(self) -> str:
        """The furthest step any recipient reached: pending, published, received or read."""
        for name in ("read", "received", "published"):
            if getattr(self, name):
                return name
        return "pending"

    @property
    def count(self) -> int:
        """How many recipients reached `state`."""
        return getattr(self, self.state) if self.state != "pending" else 0

    @property
    def by_all(self) -> bool:
        return self.total > 0 and self.count == self.total

    @property
    def final(self) -> bool:
        return self.total > 0 and self.read == self.total

    @classmethod
    def of(cls, rows: Iterable[AcknowledgmentStatus]) -> Delivery:
        rows = list(rows)
        return cls(
            recipients=tuple(dict.fromkeys(_plain(r.recipient) for r in rows)),
            published=sum(1 for r in rows if r.published or r.received or r.read),
            received=sum(1 for r in rows if r.received or r.read),
            read=sum(1 for r in rows if r.read),
        )

    def to_dict(self) -> dict:
        return {
            "recipients": [[b.id, b.type, b.quality, b.sub_type] for b in self.recipients],
            "counts": [self.published, self.received, self.read],
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Delivery | None:
        try:
            boxes = tuple(BoxId(i, t, q, s) for i, t, q, s in data["recipients"])
            published, received, read = (int(n) for n in data["counts"])
        except (KeyError, TypeError, ValueError):  # absent, or written by another version
            return None
        return cls(boxes, published, received, read)


def _plain(box: BoxId) -> BoxId:
    return BoxId(box.id, box.type, box.quality, box.sub_type)


class Deliveries:
    """The deliveries of one user's sent messages, kept in `store` (None: kept nowhere)."""

    def __init__(self, box: AsksReceipts, store: SessionStore | None = None, sub: str = ""):
        self.box, self.store, self.sub = box, store, sub
        self.calls = 0  # platform calls made by this instance (measured by the tests)

    def of(self, message_ids: Iterable[str]) -> dict[str, Delivery | None]:
        """Each message's delivery; None for a message whose receipts cannot be had.

        Unauthorized goes up (the login is over); any other failure spoils only its row.
        """
        ids = list(dict.fromkeys(message_ids))
        found: dict[str, Delivery | None] = {}
        missing = []
        for message_id in ids:
            kept = self._kept(message_id)
            if kept is None:
                missing.append(message_id)
            else:
                found[message_id] = kept
        if missing:
            with ThreadPoolExecutor(max_workers=min(WORKERS, len(missing))) as pool:
                for message_id, delivery in zip(missing, pool.map(self._ask, missing), strict=True):
                    found[message_id] = delivery
        return {message_id: found.get(message_id) for message_id in ids}

    def _ask(self, message_id: str) -> Delivery | None:
        self.calls += 1
        try:
            delivery = Delivery.of(self.box.acknowledgments(message_id))
        except Unauthorized:
            raise
        except EhealthboxError:
            return None
        if self.store is not None:
            ttl = FINAL_TTL if delivery.final else TTL
            self.store.set(self._key(message_id), delivery.to_dict(), ttl)
        return delivery

    def _kept(self, message_id: str) -> Delivery | None:
        if self.store is None:
            return None
        return Delivery.from_dict(self.store.get(self._key(message_id)))

    def _key(self, message_id: str) -> str:
        return store_key(self.sub, f"delivery:{message_id}")


def recipient_texts(
    deliveries: Deliveries, name_of: Callable[[BoxId], str]
) -> Callable[[list[str]], dict[str, str]]:
    """For a search: message ids -> the text each one's recipients are found by (names, ids)."""

    def texts(message_ids: list[str]) -> dict[str, str]:
        return {
            message_id: " ".join(f"{name_of(b)} {b.id}" for b in delivery.recipients)
            if delivery
            else ""
            for message_id, delivery in deliveries.of(message_ids).items()
        }

    return texts
