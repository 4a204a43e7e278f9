"""A message on disk: `<MessageId>/` with `message.json`, the document and the annexes.

File names come from the sender (`downloadFileName`) and are never trusted for
paths: only a cleaned last component is kept, behind a fixed prefix
(`document_`, `annex-01_`), so that no name can climb out of the folder, hide as
a dot file, collide with `message.json` or with another part. The sender's name
stays, as data, in `message.json`.

A folder is written whole or not at all: into a temporary folder of the same
parent, every file fsynced, then renamed into place (and the parent fsynced). A
folder named after a message therefore always holds the complete message; a
leftover `.tmp-*` folder is a write that was cut short, and is swept away.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from ..ehealth.ehealthbox import EhealthboxClient, Message
from ..mailbox.names import safe_filename
from ..mailbox.shape import to_json

METADATA = "message.json"
TMP_PREFIX = ".tmp-"
MAX_NAME = 120
# eHealthBox message ids are 13 characters [A-Za-z0-9] (XSD); allow some room, nothing else.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9]{1,64}")


def message_dir_name(message_id: str) -> str:
    """The folder name of a message: its id, which must be plain letters and digits."""
    if not _MESSAGE_ID.fullmatch(message_id or ""):
        raise ValueError(f"unexpected message id {message_id!r}: not letters and digits")
    return message_id


def part_filenames(message: Message) -> tuple[str | None, list[str]]:
    """The on-disk names of the document and of each annex (prefixed, so all distinct)."""
    document = None
    if message.document is not None:
        document = "document_" + safe_filename(
            message.document.download_file_name, "document", MAX_NAME
        )
    annexes = [
        f"annex-{a.index:02d}_" + safe_filename(a.download_file_name, "annex", MAX_NAME)
        for a in message.annexes
    ]
    return document, annexes


def metadata(
    message: Message, folder: str, files: dict[str, Any], fetched_at: datetime
) -> dict[str, Any]:
    return {
        "messageId": message.message_id,
        "folder": folder,
        "fetchedAt": fetched_at.isoformat(),
        "files": files,
        "message": to_json(message),
    }


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry durable (POSIX; a no-op where directories cannot open)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _download(open_part: Any, target: Path) -> None:
    with open_part() as download, open(target, "xb") as out:
        for chunk in download.iter_bytes():  # checks the SHA-256 digest at the end
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def write_message(
    client: EhealthboxClient, message: Message, folder: str, parent: Path, fetched_at: datetime
) -> Path:
    """Write `parent/<MessageId>/` whole (document, annexes, then message.json), atomically.

    Raises FileExistsError when the folder already exists (it is never overwritten).
    """
    final = parent / message_dir_name(message.message_id)
    if final.exists():
        raise FileExistsError(f"{final} already exists")
    # mkdtemp makes the folder 0700: health data stays private to this user by default.
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{final.name}-", dir=parent))
    try:
        document, annexes = part_filenames(message)
        mid = message.message_id
        if document is not None:
            _download(lambda: client.open_document(mid, folder), tmp / document)
        for annex, name in zip(message.annexes, annexes, strict=True):
            _download(lambda a=annex: client.open_annex(mid, a.index, folder), tmp / name)
        files = {"document": document, "annexes": annexes}
        with open(tmp / METADATA, "x", encoding="utf-8") as out:
            json.dump(
                metadata(message, folder, files, fetched_at), out, ensure_ascii=False, indent=2
            )
            out.flush()
            os.fsync(out.fileno())
        fsync_dir(tmp)
        os.rename(tmp, final)  # refuses to replace a non-empty folder that appeared meanwhile
        fsync_dir(parent)
    except BaseException:  # Ctrl-C included: never leave a half-written message behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def is_complete(path: Path, message_id: str) -> bool:
    """True when `path` is a message folder written by `write_message` for this id."""
    try:
        data = json.loads((path / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("messageId") == message_id


def sweep_temporary(parent: Path) -> list[str]:
    """Remove the `.tmp-*` folders a cut-short write left; returns their names."""
    removed = []
    for entry in parent.glob(f"{TMP_PREFIX}*"):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed
