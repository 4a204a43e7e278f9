"""First start with several processes: files created exactly once, setup done by one at a time.

gunicorn starts its workers together, and each builds the sandbox on the same
instance folder. Two things keep them from stepping on each other:

- `create_once`: a file (the realm key) is written to a temporary name and then
  hard-linked to its final name, which fails if the name exists. Exactly one
  writer wins, readers never see a half-written file, and the losers read the
  winner's bytes, so every process ends up with the same content.
- `exclusive`: an advisory lock (flock) on a lock file next to the resource, held
  while a process creates a schema, seeds a database or issues a keystore; the
  others wait, then find the work done.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: gunicorn (several workers) does not run there
    fcntl = None  # type: ignore[assignment]


def create_once(path: Path, data: bytes) -> bytes:
    """Create `path` holding `data` unless it exists; return what the file holds (0600).

    Whoever links first wins; every caller returns the winner's bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # complete on disk before it gets its real name
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process won: use its file
        except OSError:  # a file system without hard links: one writer at a time instead
            with exclusive(path.with_name(path.name + ".lock")):
                if not path.exists():
                    os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return path.read_bytes()


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created if missing) across processes.

    flock locks belong to an open file, so two threads of one process that each
    enter this also exclude each other: do not nest it for the same path.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by close(), even if the process dies
        yield
    finally:
        os.close(fd)
