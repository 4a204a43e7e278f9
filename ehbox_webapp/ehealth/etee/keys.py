"""Whose keys sign and decrypt: the organisation's keystores, or a folder of personal ones.

    keys = KeyProviders(OrganisationKeys(...), PersonalKeystores(folder, password))
    keys.signing_identity_for(box)     # signs the seals of what `box` sends
    keys.decryption_keys_for(box)      # decimal serial -> KeyEntry: opens what `box` received

`box` is the eHealthBox address (BoxId) of the current user or of the organisation. A seal opens
with the private key of the recipient's encryption certificate (ehealth-platform-notes §2.3):
- the organisation's own box (M2M) uses the organisation keystore the app already holds:
  ETEE_KEYSTORE signs; its encryption keys, those of ETEE_NEXT_KEYSTORE and of
  ETEE_PREVIOUS_KEYSTORES decrypt, so mail sealed for a renewed or an older certificate opens;
- a person logged in through I.AM Connect uses their own eHealth keystore, from a folder of
  files named as eHealth names downloads, `SSIN=<ssin> <yyyyMMdd-HHmmss>.acc-p12`. Several files
  for one person are renewals: all their encryption keys decrypt, the newest valid one signs.

A deployment choice, stated plainly: a web server holding health professionals' personal
keystores and their password concentrates their signing power in one place, which a security
review must accept; in eHealth's own model a person's keystore stays on their workstation. The
alternative is a local signing agent on the workstation that holds the keystore and seals or
unseals on request (implement KeyProvider by calling it). `PersonalKeystores` is this template's
simple, replaceable default, and what the sandbox uses.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..keystore import EteeKeystore, KeyEntry, KeystoreError, SigningIdentity
from .directory import BoxLike, NoEncryptionKey, describe_box, etee_identifier
from .errors import EteeError
from .unseal import decryption_keys

__all__ = [
    "KeyProvider",
    "KeyProviders",
    "NoKeystore",
    "OrganisationKeys",
    "PersonalKeystores",
    "keystore_filename",
]

log = logging.getLogger(__name__)

# `SSIN=74010414733 20251117-122425.acc-p12` (notes §2.3: the name of an eHealth download).
_FILE = re.compile(
    r"(?P<type>[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*)=(?P<id>\d+) (?P<stamp>\d{8}-\d{6})\.(?:acc-)?p12"
)


class NoKeystore(EteeError):
    """No key of this box is available to the app; names the box and why."""

    def __init__(self, box: object, reason: str) -> None:
        self.box, self.reason = box, reason
        super().__init__(f"No keystore of {describe_box(box)} is available here: {reason}.")


class KeyProvider(Protocol):
    """Signing identity and decryption keys of an eHealthBox address."""

    def signing_identity_for(self, box: BoxLike) -> SigningIdentity: ...

    def decryption_keys_for(self, box: BoxLike) -> dict[str, KeyEntry]: ...


def _identifier(box: BoxLike) -> tuple[str, str] | None:
    try:
        return etee_identifier(box)
    except NoEncryptionKey:
        return None


def keystore_filename(
    identifier_type: str, identifier: str, when: datetime, *, acceptance: bool = True
) -> str:
    """The file name eHealth gives a keystore download: `SSIN=<id> <yyyyMMdd-HHmmss>.acc-p12`."""
    extension = "acc-p12" if acceptance else "p12"
    return f"{identifier_type}={identifier} {when:%Y%m%d-%H%M%S}.{extension}"


class OrganisationKeys:
    """The organisation's box: one signing identity, the encryption keys of several keystores."""

    def __init__(
        self,
        identifier_type: str,
        identifier: str,
        signing: SigningIdentity,
        keystores: Sequence[EteeKeystore],
    ) -> None:
        """`keystores`: the current one first, then the next and the previous ones."""
        self.identity = (identifier_type, identifier)
        self._signing, self._keys = signing, {}
        for keystore in keystores:
            try:
                self._keys.update(
                    {s: e for s, e in decryption_keys(keystore).items() if s not in self._keys}
                )
            except KeystoreError:  # no `authentication` entry: it cannot hold eHealth ETEE keys
                log.warning("keystore %s has no encryption keys", keystore.source)

    def __repr__(self) -> str:
        return f"<OrganisationKeys {self.identity[0]}={self.identity[1]} keys={len(self._keys)}>"

    def _check(self, box: BoxLike) -> None:
        if _identifier(box) != self.identity:
            raise NoKeystore(box, "it is not the organisation's box")

    def signing_identity_for(self, box: BoxLike) -> SigningIdentity:
        self._check(box)
        return self._signing

    def decryption_keys_for(self, box: BoxLike) -> dict[str, KeyEntry]:
        self._check(box)
        return dict(self._keys)


class PersonalKeystores:
    """A folder of eHealth keystores named `<TYPE>=<id> <yyyyMMdd-HHmmss>.acc-p12`, one password.

    Files are read on demand and kept while unchanged (opening a PKCS#12 costs a key derivation).
    """

    def __init__(self, folder: str | os.PathLike, password: str) -> None:
        self.folder = Path(folder)
        self._password = password
        self._opened: dict[Path, tuple[int, EteeKeystore]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the password
        return f"<PersonalKeystores {self.folder}>"

    def files_for(self, box: BoxLike) -> list[Path]:
        """The keystore files of a box, newest first (by the time stamp in the name)."""
        wanted = _identifier(box)
        if wanted is None or not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            match = _FILE.fullmatch(path.name)
            if match and (match["type"], match["id"]) == wanted and path.is_file():
                found.append((match["stamp"], path))
        return [path for _, path in sorted(found, reverse=True)]

    def _load(self, path: Path) -> EteeKeystore:
        stamp = path.stat().st_mtime_ns
        with self._lock:
            cached = self._opened.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        keystore = EteeKeystore.load(path, self._password)
        with self._lock:
            self._opened[path] = (stamp, keystore)
        return keystore

    def _keystores(self, box: BoxLike) -> Iterable[EteeKeystore]:
        files = self.files_for(box)
        if not files:
            kind = "=".join(_identifier(box) or ("TYPE", "id"))
            raise NoKeystore(box, f"no file '{kind} <yyyyMMdd-HHmmss>.acc-p12' in {self.folder}")
        opened = 0
        for path in files:
            try:
                keystore = self._load(path)
            except (KeystoreError, OSError) as exc:  # one damaged renewal must not hide the rest
                log.warning("personal keystore %s skipped: %s", path.name, type(exc).__name__)
                continue
            opened += 1
            yield keystore
        if not opened:
            raise NoKeystore(box, f"none of its keystores in {self.folder} opens")

    def signing_identity_for(self, box: BoxLike) -> SigningIdentity:
        """The authentication key of the newest keystore whose certificate is valid now."""
        problems = []
        for keystore in self._keystores(box):
            try:
                return keystore.signing_identity()
            except KeystoreError as exc:
                problems.append(str(exc))
        raise NoKeystore(box, problems[0] if problems else "no keystore can sign")

    def decryption_keys_for(self, box: BoxLike) -> dict[str, KeyEntry]:
        """The encryption keys of every keystore of the box (renewals included)."""
        keys = decryption_keys(*self._keystores(box))
        if not keys:
            raise NoKeystore(box, "its keystores hold no encryption key")
        return keys


class KeyProviders:
    """The first provider that has keys for the box (e.g. the organisation, then persons)."""

    def __init__(self, *providers: KeyProvider) -> None:
        self.providers = providers

    def signing_identity_for(self, box: BoxLike) -> SigningIdentity:
        return self._first(box, "signing_identity_for")

    def decryption_keys_for(self, box: BoxLike) -> dict[str, KeyEntry]:
        return self._first(box, "decryption_keys_for")

    def _first(self, box: BoxLike, method: str) -> Any:
        reasons = []
        for provider in self.providers:
            try:
                return getattr(provider, method)(box)
            except NoKeystore as exc:
                reasons.append(exc.reason)
        raise NoKeystore(box, "; ".join(reasons) or "no key provider is configured")
