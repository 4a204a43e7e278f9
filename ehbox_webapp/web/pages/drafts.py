"""Uploads kept on the server while a message is being composed, so nothing is lost.

When a send fails (eHealthBox unavailable, answer lost, a recipient out of
office...) the form comes back filled in; browsers cannot refill file inputs,
so the files already uploaded are kept here and listed as "kept: name (size)".
Every field is saved BEFORE a send is attempted (and on "Save draft", the autosave and a
language switch), so a crash of the app, a lost answer or a new login never loses it; the
draft keeps its PublicationId, so sending it again is delivered once. The Drafts page lists
them. A draft is one folder per (user, PublicationId):

    <instance>/drafts/<sha256(user sub)>/<PublicationId>/
        meta.json      the kept files' names and types, and the form fields
        f1.bin, f2...  the bytes, under names we choose (never the user's)

Kept files are never served back to the browser. A draft's total size never
exceeds the upload limit, a user has at most `MAX_DRAFTS_PER_USER` drafts, and
a draft untouched for `DRAFT_LIFETIME` seconds is deleted by the next compose
request of anyone and by `flask ehbox drafts purge` (run it daily, README). A successful
send deletes its draft.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app, g
from flask_babel import format_number
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from ...mailbox.names import safe_filename, safe_mime_type
from ...mailbox.rules import FALLBACK_MIME_TYPE as FALLBACK_TYPE
from ...mailbox.rules import FILENAME_MAX, is_publication_id

log = logging.getLogger(__name__)

DRAFT_LIFETIME = 30 * 24 * 3600  # a month: a half-written letter may wait for results
MAX_DRAFTS_PER_USER = 50
MAX_DOWNLOAD_FILE_NAME = FILENAME_MAX
_COPY_CHUNK = 64 * 1024


class DraftError(ValueError):
    """A file could not be kept; `str()` is the sentence (translated) to show next to the input."""


@dataclass(frozen=True)
class KeptFile:
    key: str  # the stored file's name in the draft folder: f1, f2, ...
    role: str  # "document" or "annex"
    filename: str  # sanitized; what the recipient will see
    mime_type: str
    size: int


class Draft:
    """The kept files and form fields of one message being composed."""

    def __init__(self, folder: Path, limit: int):
        self.folder = folder
        self.limit = limit
        meta = self._read_meta()
        self.files: list[KeptFile] = [KeptFile(**f) for f in meta.get("files", ())]
        self.fields: list[tuple[str, str]] = [tuple(p) for p in meta.get("fields", ())]

    # --- what is kept ------------------------------------------------------------------------
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
    def exists(self) -> bool:
        return (self.folder / "meta.json").exists()

    @property
    def publication_id(self) -> str:
        return self.folder.name

    def field(self, name: str) -> str:
        return next((v for k, v in self.fields if k == name), "")

    @property
    def recipient_ids(self) -> list[str]:
        """The identifiers typed in the recipient rows, in order."""
        return [v for k, v in self.fields if k.endswith("-identifier") and v]

    @property
    def changed(self) -> float:
        return _last_change(self.folder)

    @property
    def changed_at(self) -> datetime:
        return datetime.fromtimestamp(self.changed, UTC)

    def open(self, kept: KeptFile) -> BinaryIO:
        return (self.folder / f"{kept.key}.bin").open("rb")

    # --- changes -----------------------------------------------------------------------------
    def keep(self, upload: FileStorage, role: str) -> KeptFile:
        """Store an upload (a new document replaces the kept one). Raises DraftError."""
        filename = safe_filename(upload.filename, default="", max_length=10_000)
        if not filename:
            raise DraftError(_("This file has no usable name. Rename it and choose it again."))
        if len(filename) > MAX_DOWNLOAD_FILE_NAME:
            raise DraftError(
                _(
                    "The file name “%(name)s…” is longer than %(max)s characters. Rename the file.",
                    name=filename[:40],
                    max=format_number(MAX_DOWNLOAD_FILE_NAME),
                )
            )
        if role == "document" and self.document is not None:
            self.remove([self.document.key])
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self._next_key()
        size = self._copy_within_limit(upload.stream, self.folder / f"{key}.bin", filename)
        kept = KeptFile(key, role, filename, safe_mime_type(upload.mimetype or FALLBACK_TYPE), size)
        self.files.append(kept)
        self._write_meta()
        return kept

    def remove(self, keys: Iterable[str]) -> None:
        doomed = set(keys)
        for kept in [f for f in self.files if f.key in doomed]:
            (self.folder / f"{kept.key}.bin").unlink(missing_ok=True)
            self.files.remove(kept)
        if self.folder.exists():
            self._write_meta()

    def save_fields(self, fields: Iterable[tuple[str, str]]) -> None:
        """Remember the form's fields, to refill it after a new login."""
        self.fields = [(name, value) for name, value in fields]
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_meta()

    def delete(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- plumbing ----------------------------------------------------------------------------
    def _next_key(self) -> str:
        used = {f.key for f in self.files}
        return next(f"f{n}" for n in range(1, len(used) + 2) if f"f{n}" not in used)

    def _copy_within_limit(self, source: BinaryIO, target: Path, filename: str) -> int:
        room = self.limit - self.total_size
        size = 0
        with target.open("wb") as out:
            while chunk := source.read(_COPY_CHUNK):
                size += len(chunk)
                if size > room:
                    break
                out.write(chunk)
        if size > room:
            target.unlink(missing_ok=True)
            raise DraftError(
                _(
                    "“%(name)s” was not added: the files of one message may add "
                    "up to %(limit)s at most.",
                    name=filename,
                    limit=megabytes(self.limit),
                )
            )
        return size

    def _read_meta(self) -> dict:
        try:
            return json.loads((self.folder / "meta.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def _write_meta(self) -> None:
        meta = {"files": [asdict(f) for f in self.files], "fields": self.fields}
        tmp = self.folder / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.folder / "meta.json")  # atomic: never a half-written meta


def megabytes(size: int) -> str:
    """An upload limit as people read it, in the page's language: "10 MB", "800 bytes"."""
    if size >= 1024 * 1024:
        return f"{format_number(round(size / (1024 * 1024)))} MB"
    return _("%(num)s bytes", num=format_number(size))


def drafts_root() -> Path:
    return Path(current_app.instance_path) / "drafts"


_OWNER = re.compile(r"[0-9a-f]{32}")  # an owner folder's name, as owner_folder() makes it


def owner_folder(sub: str) -> Path:
    """The current user's drafts; the folder name is a hash, not the user's id."""
    return drafts_root() / hashlib.sha256(sub.encode("utf-8")).hexdigest()[:32]


def for_user(publication_id: str, limit: int, sub: str | None = None) -> Draft:
    """The logged-in user's draft for this PublicationId (created on first write).

    `sub`: the user's id when not the page's logged-in user (an API caller).
    Raises ValueError for something that is not a PublicationId we issued: it
    becomes a folder name, so nothing else may get through.
    """
    owner = owner_folder(g.user["sub"] if sub is None else sub)
    folder = draft_folder(owner, publication_id)
    purge_expired(drafts_root())
    _make_room(owner, publication_id)
    return Draft(folder, limit)


def draft_folder(owner: Path, publication_id: str) -> Path:
    """The folder of `owner`'s draft `publication_id`; ValueError for any other key.

    The key is checked whole, and the path it makes is resolved and must be a direct child of
    the owner's folder: whatever gets past one check, nothing outside that folder is touched.
    """
    if not is_publication_id(publication_id):
        raise ValueError("not a PublicationId")
    folder = owner / publication_id
    if folder.resolve().parent != owner.resolve() or folder.is_symlink():
        raise ValueError("not a draft folder")
    return folder


def list_for_user(sub: str | None = None) -> list[Draft]:
    """The logged-in user's (or the user `sub`'s) drafts, the last changed first."""
    owner = owner_folder(g.user["sub"] if sub is None else sub)
    if not owner.is_dir():
        return []
    found = [Draft(p, 0) for p in _draft_folders(owner)]
    return sorted((d for d in found if d.exists), key=lambda d: d.changed, reverse=True)


def _make_room(owner: Path, publication_id: str) -> None:
    """Drop the oldest drafts so that a new one stays within MAX_DRAFTS_PER_USER."""
    if not owner.is_dir() or (owner / publication_id).exists():
        return
    drafts = sorted(_draft_folders(owner), key=_last_change)
    for old in drafts[: max(0, len(drafts) - MAX_DRAFTS_PER_USER + 1)]:
        shutil.rmtree(old, ignore_errors=True)


def purge_expired(root: Path, now: float | None = None) -> int:
    """Delete every draft untouched for DRAFT_LIFETIME seconds; returns how many."""
    if not root.is_dir():
        return 0
    limit = (now or time.time()) - DRAFT_LIFETIME
    purged = 0
    for owner in (p for p in root.iterdir() if _is_real_folder(p) and _OWNER.fullmatch(p.name)):
        try:
            for draft in _draft_folders(owner):
                if _last_change(draft) < limit:
                    shutil.rmtree(draft, ignore_errors=True)
                    purged += 1
            if not any(owner.iterdir()):
                owner.rmdir()
        except OSError:  # another request is using or removing the same folder
            continue
    if purged:
        log.info("purged %d expired draft(s)", purged)
    return purged


def _draft_folders(owner: Path) -> list[Path]:
    """The draft folders in `owner`: real folders (no links) named by a PublicationId."""
    try:
        return [p for p in owner.iterdir() if _is_real_folder(p) and is_publication_id(p.name)]
    except OSError:
        return []


def _is_real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _last_change(draft: Path) -> float:
    meta = draft / "meta.json"
    try:
        return (meta if meta.exists() else draft).stat().st_mtime
    except OSError:
        return 0.0
