"""One error hierarchy for ETEE sealing, unsealing and ETKs.

Every message is one sentence a user can act on; none carries key material or content.

    EteeError
    ├── NotForMe          no key of mine matches any recipient of the seal
    ├── TamperedSeal      a signature, the decryption or the non-repudiation binding failed
    │   └── MalformedSeal the bytes do not parse as an ETEE seal, or use an algorithm we refuse
    ├── UnexpectedSigner  signed by someone else than expected (outer != inner, or != sender)
    └── InvalidEtk        an ETK that does not parse or whose certificates do not hold together

`MalformedSeal` is a `TamperedSeal` on purpose: a flipped byte in a length or a tag makes a seal
unparseable, and a reader must treat that exactly like a failed signature.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "EteeError",
    "InvalidEtk",
    "MalformedSeal",
    "NotForMe",
    "TamperedSeal",
    "UnexpectedSigner",
]


class EteeError(Exception):
    """Base class of every ETEE failure."""


class NotForMe(EteeError):
    """None of the given decryption keys matches a recipient of the seal."""

    def __init__(self, recipients: Iterable[str], available: Iterable[str]) -> None:
        self.recipients, self.available = tuple(recipients), tuple(available)
        listed = ", ".join(self.recipients) or "no recipient at all"
        mine = ", ".join(self.available) or "none"
        super().__init__(
            f"This message is not addressed to any of your encryption keys: it is for {listed}; "
            f"your keys are for serials {mine}."
        )


class TamperedSeal(EteeError):
    """A signature does not verify, the content does not decrypt, or the layers disagree.

    `layer` names where it failed: "outer signature", "encryption", "inner signature" or
    "structure".
    """

    def __init__(self, reason: str, layer: str = "structure") -> None:
        self.reason, self.layer = reason, layer
        super().__init__(f"The sealed message was altered or damaged: {reason}.")


class MalformedSeal(TamperedSeal):
    """The bytes are not an ETEE seal (any more), or use an algorithm that is not accepted."""

    def __init__(self, reason: str, layer: str = "structure") -> None:
        super().__init__(reason, layer)
        self.args = (f"This is not a readable sealed message: {reason}.",)


class UnexpectedSigner(EteeError):
    """The seal verifies, but was signed by another certificate than required."""


class InvalidEtk(EteeError):
    """An ETK that is not a signed encryption certificate issued by its authentication one."""
