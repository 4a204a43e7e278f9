"""A retried send delivered once: the `Idempotency-Key` carried by the PublicationId.

The eHealthBox delivers a PublicationId once per sender: a second send with it answers
the first send's result and delivers nothing (docs/ehealth-platform.md §3.4). So the
PublicationId of a send made with an `Idempotency-Key` is *derived* from the key (an HMAC
under the app's `SECRET_KEY`, per caller): a retry on any instance, after the store was
emptied or restarted, a day later, finds the same PublicationId, and the platform, which
keeps it, delivers nothing twice. The store only remembers, for `TTL`, what message the
key was used for (and which PublicationId it got, so that a key remembered before the
PublicationId was derived keeps its own), so that the same key with a *different* message
is refused (:class:`KeyReused`, the API's 422) instead of answering the first message's
result as if the second had been sent. A `publicationId` chosen by the client is
remembered the same way. A store that forgot (Redis without persistence, restarted) still
delivers nothing twice; only a different message under an old key is then answered with
the first one's result, as the platform itself answers it.

Framework-neutral: a store (`SessionStore`) and a secret in, PublicationIds out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
from dataclasses import asdict, dataclass

from ..ehealth.ehealthbox.models import Attachment
from ..stores import SessionStore
from .outgoing import Outgoing
from .rules import PUBLICATION_ID_MAX

TTL = 24 * 3600  # how long a key's message is remembered (a client's retries end sooner)
_ALPHABET = string.ascii_letters + string.digits  # what rules.is_publication_id takes


class KeyReused(Exception):
    """An `Idempotency-Key` (or a `publicationId`) already used for another message."""

    def __init__(self, what: str):
        self.what = what  # "Idempotency-Key" or "publicationId"
        super().__init__(f"this {what} was already used for a different message")


def publication_id_for(secret: str, caller: str, key: str) -> str:
    """The PublicationId of `caller`'s send made with `key`: the same on every instance,
    13 characters of [A-Za-z0-9] (as `new_publication_id` makes them)."""
    mac = hmac.new(
        secret.encode("utf-8"), f"idempotency-key\0{caller}\0{key}".encode(), hashlib.sha256
    )
    number = int.from_bytes(mac.digest(), "big")
    letters = []
    for _ in range(PUBLICATION_ID_MAX):
        number, index = divmod(number, len(_ALPHABET))
        letters.append(_ALPHABET[index])
    return "".join(letters)


def fingerprint(outgoing: Outgoing) -> str:
    """A digest of everything a message says (files by their digest), PublicationId aside."""
    message = outgoing.message
    described = {
        name: value
        for name, value in vars(message).items()
        if name not in ("document", "annexes", "publication_id")
    }
    described = json.loads(json.dumps(described, default=_plain, sort_keys=True))
    described["document"] = _file(message.document)
    described["annexes"] = [_file(a) for a in message.annexes]
    described["encrypted"] = outgoing.encrypted
    canonical = json.dumps(described, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    return asdict(value) if hasattr(value, "__dataclass_fields__") else str(value)  # type: ignore[arg-type]


def _file(part: Attachment | None) -> list | None:
    if part is None:
        return None
    return [part.filename, part.mime_type, part.title, part.size, part.digest]


@dataclass
class SendOnce:
    """Which PublicationId a caller's send gets, and which message each one was used for."""

    store: SessionStore
    secret: str

    def publication_id(self, caller: str, key: str, outgoing: Outgoing) -> str:
        """The PublicationId for `key`; raises :class:`KeyReused` when the key was used
        for a different message."""
        slot = f"idempotency:{caller}:{key}"  # as earlier versions named it: their records hold
        wanted = publication_id_for(self.secret, caller, key)
        record = {"publicationId": wanted, "fingerprint": fingerprint(outgoing)}
        if self.store.add(slot, record, TTL):
            return wanted
        kept = self.store.get(slot) or record
        if kept.get("fingerprint") not in (None, record["fingerprint"]):
            raise KeyReused("Idempotency-Key")
        return kept.get("publicationId") or wanted

    def claim(self, caller: str, outgoing: Outgoing) -> None:
        """Remember the message a client-chosen `publicationId` is sent with; raises
        :class:`KeyReused` when it was used for a different message."""
        publication_id = outgoing.message.publication_id
        slot = f"publication:{_digest(caller)}:{publication_id}"
        record = {"fingerprint": fingerprint(outgoing)}
        if not self.store.add(slot, record, TTL):
            kept = self.store.get(slot) or record
            if kept.get("fingerprint") != record["fingerprint"]:
                raise KeyReused("publicationId")


def _digest(value: str) -> str:
    """Keys and user ids are not written into the shared store as they are."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
