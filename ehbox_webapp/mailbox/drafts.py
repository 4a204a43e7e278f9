"""Drafts: a message being composed, kept on the server so that nothing typed is lost.

A draft holds the same values as an `/api/v1` message (`recipients`, `title`, `text`,
`freeText`, `patientInss`, `important`, `encrypted`, `receipts`), the message it forwards
(`forward`: folder, messageId, includeOriginal) and its files. The pages save one before
every send, on "Save draft", on the autosave and on a language switch; `/api/v1/drafts`
keeps, reads and sends the same drafts. A draft keeps its PublicationId, so a draft sent
again after a lost answer is delivered once. Renaming a form field breaks no stored draft.

One folder per (user, PublicationId), under a root the caller gives:

    <root>/<sha256(user sub)[:32]>/<PublicationId>/
        meta.json      the values and the kept files' names and types
        f1.bin, f2...  the bytes, under names chosen here (never the user's)

A key is checked whole (`rules.is_publication_id`) and its folder resolved: nothing outside
the owner's folder is ever written, read or deleted, whatever the key. Every write goes to a
temporary file of its own and replaces the old one at once, so concurrent saves never mix;
and a draft changes one change at a time (an exclusive lock on its `.lock` file, which holds
across the threads, processes and instances sharing the folder, `DRAFTS_DIR`), each change
starting from the files the one before kept: two annexes added at once are both kept.
A draft's files never exceed the upload limit, a user keeps at most `MAX_DRAFTS_PER_USER`,
and a draft untouched for `DRAFT_LIFETIME` seconds is purged.

No Flask here: the pages, the API and the CLI word the problems (`problems.Problem`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

try:
    import fcntl
except ImportError:  # Windows has none: there, a lock for the threads of this process only
    fcntl = None  # type: ignore[assignment]

from ..ehealth.ehealthbox.models import BoxId
from . import rules
from .names import is_mime_type, safe_filename, safe_mime_type
from .problems import Invalid, Problem

log = logging.getLogger(__name__)

DRAFT_LIFETIME = 30 * 24 * 3600  # a month: a half-written letter may wait for results
MAX_DRAFTS_PER_USER = 50
# The values a draft keeps: those of an /api/v1 message, and the message it forwards.
VALUE_NAMES = (
    "recipients",
    "title",
    "text",
    "freeText",
    "patientInss",
    "important",
    "encrypted",
    "receipts",
    "forward",
)
_COPY_CHUNK = 64 * 1024
_OWNER = re.compile(r"[0-9a-f]{32}")  # an owner folder's name, as `owner_folder` makes it


class BadDraftKey(ValueError):
    """Not a PublicationId this application issues: it names no draft."""


@dataclass(frozen=True)
class KeptFile:
    key: str  # the stored file's name in the draft folder: f1, f2, ...
    role: str  # "document" or "annex"
    filename: str  # made safe; what the recipient will see
    mime_type: str
    size: int


class Draft:
    """The values and kept files of one message being composed."""

    def __init__(self, folder: Path, limit: int):
        self.folder = folder
        self.limit = limit
        meta = self._read_meta()
        self.files: list[KeptFile] = [KeptFile(**f) for f in meta.get("files", ())]
        self.values: dict[str, Any] = _values(meta)

    # --- what is kept ------------------------------------------------------------------------
    @property
    def publication_id(self) -> str:
        return self.folder.name

    @property
    def exists(self) -> bool:
        return (self.folder / "meta.json").exists()

    @property
    def document(self) -> KeptFile | None:
        return next((f for f in self.files if f.role == "document"), None)

    @property
    def annexes(self) -> list[KeptFile]:
        return [f for f in self.files if f.role == "annex"]

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def changed(self) -> float:
        return _last_change(self.folder)

    @property
    def changed_at(self) -> datetime:
        return datetime.fromtimestamp(self.changed, UTC)

    @property
    def recipient_ids(self) -> list[str]:
        """The recipients' identifiers, in order."""
        return [box.id for box in self.recipients]

    @property
    def recipients(self) -> list[BoxId]:
        """The recipients' boxes as typed so far, in order (to show them by name)."""
        rows = self.values.get("recipients") or []
        return [
            BoxId(str(r["id"]), str(r.get("type") or ""), str(r.get("quality") or ""))
            for r in rows
            if isinstance(r, dict) and r.get("id")
        ]

    def open(self, kept: KeptFile) -> BinaryIO:
        return (self.folder / f"{kept.key}.bin").open("rb")

    # --- changes -----------------------------------------------------------------------------
    def save(self, values: Mapping[str, Any]) -> None:
        """Keep these values (unknown names are dropped; the files stay).

        A draft exists once something is written in it: values with nothing typed make no
        new draft (an untouched form leaves nothing behind in the Drafts list).
        """
        self.values = {k: values[k] for k in VALUE_NAMES if k in values}
        if not self.exists and not self.files and not has_content(self.values):
            return
        with self._changing():
            self._write_meta()

    def keep(
        self, stream: BinaryIO, filename: str | None, mime_type: str | None, role: str
    ) -> KeptFile:
        """Store a file (a new document replaces the kept one). `Invalid` when it cannot be.

        The problem's field is `document` or `annexes`; its values name the file.
        """
        where = "document" if role == "document" else "annexes"
        name = safe_filename(filename, default="", max_length=10_000)
        if not name:
            raise Invalid([Problem("no-file-name", where)])
        if len(name) > rules.FILENAME_MAX:
            raise Invalid(
                [
                    Problem(
                        "file-name-too-long", where, {"name": name[:40], "max": rules.FILENAME_MAX}
                    )
                ]
            )
        given_type = (mime_type or rules.FALLBACK_MIME_TYPE).strip()
        if not is_mime_type(given_type):  # refused, as an /api/v1 send refuses it
            raise Invalid([Problem("bad-mime-type", where, {"name": name, "given": given_type})])
        with self._changing():
            if role == "document" and self.document is not None:
                self._forget([self.document.key])
            key = self._next_key()
            size = self._copy_within_limit(stream, self.folder / f"{key}.bin")
            if size is None:
                problem = Problem("files-too-large", where, {"name": name, "limit": self.limit})
                raise Invalid([problem])
            kept = KeptFile(key, role, name, safe_mime_type(given_type), size)
            self.files.append(kept)
            self._write_meta()
        return kept

    def remove(self, keys: Iterable[str]) -> None:
        if not self.folder.exists():
            self._forget(keys)
            return
        with self._changing():
            self._forget(keys)
            self._write_meta()

    def _forget(self, keys: Iterable[str]) -> None:
        doomed = set(keys)
        for kept in [f for f in self.files if f.key in doomed]:
            (self.folder / f"{kept.key}.bin").unlink(missing_ok=True)
            self.files.remove(kept)

    def delete(self) -> None:
        if not self.folder.exists():
            return
        with self._changing():  # never in the middle of another change
            shutil.rmtree(self.folder, ignore_errors=True)

    # --- plumbing ----------------------------------------------------------------------------
    @contextmanager
    def _changing(self) -> Iterator[None]:
        """This draft to oneself while it changes, its kept files as the last change left
        them (another request may have added one since this draft was read)."""
        with _THREADS, self._locked() as lock:
            try:
                self.files = [KeptFile(**f) for f in self._read_meta().get("files", ())]
                yield
            finally:
                lock.close()  # the lock goes with it

    def _locked(self) -> BinaryIO:
        """The draft's lock file, locked; its folder made. A draft deleted while this waited
        (a send beside an autosave) is made again rather than written into thin air."""
        path = self.folder / ".lock"
        while True:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                lock = path.open("a+b")
            except (FileNotFoundError, FileExistsError):  # a folder on the way was being
                continue  # deleted meanwhile (a send, a purge of the owner's empty folder)
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            with suppress(OSError):
                held, there = os.fstat(lock.fileno()), path.stat()
                if (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino):
                    return lock
            lock.close()

    def _next_key(self) -> str:
        used = {f.key for f in self.files}
        return next(f"f{n}" for n in range(1, len(used) + 2) if f"f{n}" not in used)

    def _copy_within_limit(self, source: BinaryIO, target: Path) -> int | None:
        """The bytes copied; None (and nothing kept) past the draft's room."""
        room = self.limit - self.total_size
        size = 0
        with _atomic(target) as out:
            while chunk := source.read(_COPY_CHUNK):
                size += len(chunk)
                if size > room:
                    out.abandon()
                    return None
                out.write(chunk)
        return size

    def _read_meta(self) -> dict:
        try:
            meta = json.loads((self.folder / "meta.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def _write_meta(self) -> None:
        meta = {"values": self.values, "files": [asdict(f) for f in self.files]}
        with _atomic(self.folder / "meta.json") as out:
            out.write(json.dumps(meta, ensure_ascii=False).encode("utf-8"))


def has_content(values: Mapping[str, Any]) -> bool:
    """Something was typed or chosen: a recipient, a text, the patient, a forwarded message."""
    typed = ("recipients", "title", "text", "freeText", "patientInss", "forward")
    return any(values.get(name) for name in typed)


# Without `fcntl` (Windows) the threads of this process take turns; with it, each change
# takes its draft's own file lock, and this is no lock at all.
_THREADS = threading.Lock() if fcntl is None else nullcontext()


class _atomic:  # noqa: N801  (used as a context manager, like open())
    """A file written under a temporary name of its own, then put in place at once."""

    def __init__(self, target: Path):
        self.target = target
        self.abandoned = False

    def __enter__(self) -> _atomic:
        fd, name = tempfile.mkstemp(dir=self.target.parent, prefix=".", suffix=".tmp")
        self.tmp = Path(name)
        self.file = os.fdopen(fd, "wb")
        return self

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def abandon(self) -> None:
        self.abandoned = True

    def __exit__(self, kind, *_exc) -> None:
        self.file.close()
        if kind is None and not self.abandoned:
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)


class DraftStore:
    """Every user's drafts under `root`; `limit` is the upload limit of one message's files."""

    def __init__(self, root: Path, limit: int):
        self.root = Path(root)
        self.limit = limit

    def owner_folder(self, sub: str) -> Path:
        """A user's drafts; the folder is named by a hash, not by the user's id."""
        return self.root / hashlib.sha256(sub.encode("utf-8")).hexdigest()[:32]

    def folder(self, sub: str, publication_id: Any) -> Path:
        """The folder of `sub`'s draft `publication_id`; BadDraftKey for any other key.

        The key is checked whole, and the path it makes is resolved and must be a direct
        child of the owner's folder: whatever got past one check, nothing outside is touched.
        """
        if not rules.is_publication_id(publication_id):
            raise BadDraftKey("not a PublicationId")
        owner = self.owner_folder(sub)
        folder = owner / publication_id
        if folder.resolve().parent != owner.resolve() or folder.is_symlink():
            raise BadDraftKey("not a draft folder")
        return folder

    def open(self, sub: str, publication_id: Any) -> Draft:
        """`sub`'s draft (created on its first write), room made for it; BadDraftKey."""
        folder = self.folder(sub, publication_id)
        self.purge_expired()
        self._make_room(folder)
        return Draft(folder, self.limit)

    def find(self, sub: str, publication_id: Any) -> Draft | None:
        """`sub`'s kept draft, or None; looking never creates one nor makes room."""
        try:
            draft = Draft(self.folder(sub, publication_id), self.limit)
        except BadDraftKey:
            return None
        return draft if draft.exists else None

    def list(self, sub: str) -> list[Draft]:
        """`sub`'s drafts, the last changed first."""
        found = [Draft(p, self.limit) for p in _draft_folders(self.owner_folder(sub))]
        return sorted((d for d in found if d.exists), key=lambda d: d.changed, reverse=True)

    def _make_room(self, folder: Path) -> None:
        """Drop the oldest drafts so that a new one stays within MAX_DRAFTS_PER_USER."""
        if folder.exists():
            return
        drafts = sorted(_draft_folders(folder.parent), key=_last_change)
        for old in drafts[: max(0, len(drafts) - MAX_DRAFTS_PER_USER + 1)]:
            shutil.rmtree(old, ignore_errors=True)

    def purge_expired(self, now: float | None = None) -> int:
        """Delete every draft untouched for DRAFT_LIFETIME seconds; returns how many."""
        if not self.root.is_dir():
            return 0
        limit = (now or time.time()) - DRAFT_LIFETIME
        purged = 0
        owners = [p for p in self.root.iterdir() if _is_folder(p) and _OWNER.fullmatch(p.name)]
        for owner in owners:
            for draft in _draft_folders(owner):
                if _last_change(draft) < limit:
                    shutil.rmtree(draft, ignore_errors=True)
                    purged += 1
            with suppress(OSError):
                owner.rmdir()  # only when empty
        if purged:
            log.info("purged %d expired draft(s)", purged)
        return purged


def _draft_folders(owner: Path) -> list[Path]:
    """The draft folders in `owner`: real folders (no links) named by a PublicationId."""
    try:
        return [p for p in owner.iterdir() if _is_folder(p) and rules.is_publication_id(p.name)]
    except OSError:
        return []


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _last_change(draft: Path) -> float:
    meta = draft / "meta.json"
    try:
        return (meta if meta.exists() else draft).stat().st_mtime
    except OSError:
        return 0.0


# --- drafts kept before their values were the API's -----------------------------------------
_FLAGS = {"is_important": "important", "encrypt": "encrypted"}
_TEXTS = {"title": "title", "text": "text", "free_text": "freeText", "patient_inss": "patientInss"}


def _values(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A stored draft's values; a draft of the earlier form-field layout is read as values."""
    values = meta.get("values")
    if isinstance(values, dict):
        return {k: values[k] for k in VALUE_NAMES if k in values}
    fields = [
        tuple(p) for p in meta.get("fields", ()) if isinstance(p, list | tuple) and len(p) == 2
    ]
    if not fields:
        return {}
    given = dict(fields)
    rows: dict[int, dict[str, Any]] = {}
    for name, value in fields:
        parts = str(name).split("-")
        if len(parts) == 3 and parts[0] == "recipients" and parts[1].isdigit():
            row = rows.setdefault(int(parts[1]), {})
            key = {"identifier": "id", "send_anyway": "ooOProcessed"}.get(parts[2], parts[2])
            row[key] = bool(value) if key == "ooOProcessed" else value
    old = {new: given.get(name, "") for name, new in _TEXTS.items()}
    old |= {new: bool(given.get(name)) for name, new in _FLAGS.items()}
    old["receipts"] = [r for r, name in rules.RECEIPTS.items() if given.get(name)]
    old["recipients"] = [row for _, row in sorted(rows.items()) if row.get("id")]
    if given.get("forward_message_id"):
        old["forward"] = {
            "folder": given.get("forward_folder", ""),
            "messageId": given["forward_message_id"],
            "includeOriginal": bool(given.get("include_original")),
        }
    return old
