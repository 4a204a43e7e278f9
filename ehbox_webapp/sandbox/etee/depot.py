"""The sandbox key depot: who holds which certificates, as eHealth's ETK depot knows them.

Personas get a keystore shaped like eHealth's (an `authentication` entry issued by the sandbox
CA, an encryption entry issued by the authentication certificate, the SSIN in the subject),
issued the first time anyone asks for their keys: issuing all of them on every sandbox start
would cost every fresh sandbox (every test) about 0.2 s per persona. The files live in the
instance folder (`sandbox-etee/`, the depot's own state) under eHealth's download names, and are
copied to the export folder the app reads its personal keystores from (ETEE_PERSONAL_KEYSTORES).
Issuing, adopting and exporting happen under a lock shared by every process of the instance
(gunicorn workers ask for the same persona's keys at once on a fresh instance: one issues, the
others find its keystore), and a file appears under its final name only complete.
An empty depot adopts the keystores it finds in the export folder, so that personas keep their
keys when the instance folder is reset. `renew()` issues a newer keystore: both are published.

The organisation is the app itself: the depot publishes the certificates of the app's keystore
file (SandboxSettings.organisation_keystore), read again whenever the file changes.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from ...ehealth.etee.keys import keystore_filename
from ...ehealth.keystore import EteeKeystore, KeystoreError, certificate_identity
from ...ehealth.keystore_generate import generate_keystore
from ..first_start import create_once, exclusive
from ..personas import PERSONAS, Persona

log = logging.getLogger(__name__)

DEPOT_FOLDER = "sandbox-etee"
LOCK_FILE = "sandbox-etee.lock"
_FILE = re.compile(r"SSIN=(\d{11}) (\d{8}-\d{6})\.acc-p12")


@dataclass(frozen=True)
class Published:
    """The certificates published for one identifier: `sig` and `enc`, newest first."""

    sig: tuple[x509.Certificate, ...]
    enc: tuple[x509.Certificate, ...]


def _now_valid(certs: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    now = datetime.now(UTC)
    return tuple(c for c in certs if c.not_valid_before_utc <= now <= c.not_valid_after_utc)


class KeyDepot:
    """Issues persona keystores and says which certificates an identifier has."""

    def __init__(
        self,
        instance_path: Path,
        password: str,
        *,
        export: Path | None = None,
        organisation_keystore: tuple[Path, str] | None = None,
    ) -> None:
        self.folder = instance_path / DEPOT_FOLDER
        self.export = export
        self._password = password
        self._organisation = organisation_keystore
        self._lock = threading.RLock()
        self._held = 0  # nesting depth of _guard() in this process (under self._lock)
        self._lock_file = instance_path / LOCK_FILE
        self._opened: dict[Path, tuple[int, EteeKeystore]] = {}

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """This process's threads and the other processes, one at a time (re-entrant).

        The file lock is taken once, by the outermost call: flock locks belong to an
        open file, so a nested one in the same thread would wait for itself.
        """
        with self._lock:
            if self._held:
                self._held += 1
                try:
                    yield
                finally:
                    self._held -= 1
                return
            with exclusive(self._lock_file):
                self._held = 1
                try:
                    yield
                finally:
                    self._held = 0

    # --- personas ------------------------------------------------------------------------------
    def files(self, persona: Persona) -> list[Path]:
        """The persona's keystore files in the depot, newest first."""
        if not self.folder.is_dir():
            return []
        found = [
            (m[2], p)
            for p in self.folder.iterdir()
            if (m := _FILE.fullmatch(p.name)) and m[1] == persona.ssin
        ]
        return [p for _, p in sorted(found, reverse=True)]

    def keystores(self, persona: Persona) -> list[EteeKeystore]:
        """The persona's keystores, newest first; the first one is issued on demand."""
        with self._guard():
            files = self.files(persona) or self._adopt(persona) or [self.issue(persona)]
            self._export(files)
            return [self._load(path) for path in files]

    def issue(self, persona: Persona, *, not_before: datetime | None = None) -> Path:
        """A new keystore for the persona (first issue or renewal), exported to the app."""
        with self._guard():
            self.folder.mkdir(parents=True, exist_ok=True)
            when = datetime.now(UTC).replace(microsecond=0)
            while (target := self.folder / _name(persona, when)).exists():
                when += timedelta(seconds=1)  # two issues in one second: keep names distinct
            fd, name = tempfile.mkstemp(dir=self.folder, prefix=f".issuing-{persona.ssin}-")
            os.close(fd)
            partial = Path(name)
            try:
                generate_keystore(
                    partial,
                    self._password,
                    identifier=persona.ssin,
                    identifier_type="SSIN",
                    name=persona.name,
                    not_before=not_before,
                )
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            log.info("sandbox key depot: issued a keystore for persona %s", persona.id)
            self._export([target])
            return target

    def renew(self, persona_id: str) -> Path:
        """Issue a newer keystore to a persona (the older one stays published while valid)."""
        persona = next(p for p in PERSONAS if p.id == persona_id)
        self.keystores(persona)  # a renewal needs a first keystore
        return self.issue(persona)

    def _adopt(self, persona: Persona) -> list[Path]:
        """Copy the persona's keystores from the export folder when they open; newest first."""
        if self.export is None or not self.export.is_dir():
            return []
        adopted = []
        for path in self.export.iterdir():
            match = _FILE.fullmatch(path.name)
            if not match or match[1] != persona.ssin:
                continue
            try:
                EteeKeystore.load(path, self._password)
            except KeystoreError:
                continue  # not one of ours (another password): leave it alone
            create_once(self.folder / path.name, path.read_bytes())  # 0600, never half-written
            adopted.append(path.name)
        return [self.folder / name for name in sorted(adopted, reverse=True)]

    def _export(self, files: list[Path]) -> None:
        if self.export is None:
            return
        for path in files:
            target = self.export / path.name
            if not target.exists():
                # Private keys: 0600. The app may read the folder meanwhile: whole files only.
                create_once(target, path.read_bytes())

    def _load(self, path: Path) -> EteeKeystore:
        stamp = path.stat().st_mtime_ns
        cached = self._opened.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, EteeKeystore.load(path, self._password))
            self._opened[path] = cached
        return cached[1]

    # --- publication ---------------------------------------------------------------------------
    def published(
        self, identifier_type: str, identifier: str, application_id: str | None
    ) -> Published | None:
        """The valid certificates of an identifier; None when the depot does not know it."""
        persona = next((p for p in PERSONAS if p.ssin == identifier), None)
        if identifier_type == "SSIN" and persona is not None and not application_id:
            return _publish(self.keystores(persona))
        organisation = self._organisation_keystore()
        if organisation is not None:
            try:
                owner = certificate_identity(organisation.entry("authentication").certificate)
            except KeystoreError:
                return None
            # Without applicationIdentifier any certificate of the identifier answers (an
            # eHealthBox sender asks without one); with one, it must be the certificate's.
            same = (owner.identifier_type, owner.identifier) == (identifier_type, identifier)
            if same and application_id in (None, owner.application_id):
                return _publish([organisation])
        return None

    def _organisation_keystore(self) -> EteeKeystore | None:
        if self._organisation is None:
            return None
        path, password = self._organisation
        try:
            with self._lock:
                stamp = path.stat().st_mtime_ns
                cached = self._opened.get(path)
                if cached is None or cached[0] != stamp:
                    cached = (stamp, EteeKeystore.load(path, password))
                    self._opened[path] = cached
                return cached[1]
        except (OSError, KeystoreError) as exc:
            log.warning(
                "sandbox key depot: the app's keystore cannot be read (%s)", type(exc).__name__
            )
            return None


def _name(persona: Persona, when: datetime) -> str:
    return keystore_filename("SSIN", persona.ssin, when)


def _publish(keystores: list[EteeKeystore]) -> Published:
    sig: list[x509.Certificate] = []
    enc: list[x509.Certificate] = []
    for keystore in keystores:
        try:
            sig.append(keystore.entry("authentication").certificate)
            enc += [e.certificate for e in keystore.encryption_entries().values()]
        except KeystoreError:
            continue
    return Published(_now_valid(sig), _now_valid(enc))
