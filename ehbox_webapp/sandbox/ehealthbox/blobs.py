"""Content-addressed blob storage on disk (documents and annexes of the sandbox).

A blob's name is the hex SHA-256 of its bytes, so identical files are stored
once and a stored file can be checked against its digest at any time.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 256 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sha256_hex: str
    size: int

    @property
    def digest(self) -> str:
        """The eHealthBox digest: base64 of the raw SHA-256."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode("ascii")


class BlobStore:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256_hex: str) -> Path:
        if len(sha256_hex) != 64 or any(c not in "0123456789abcdef" for c in sha256_hex):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256_hex[:2] / sha256_hex

    def put_stream(self, stream: BinaryIO) -> StoredBlob:
        """Copy a stream to the store while hashing it; never holds it whole in memory."""
        sha, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := stream.read(CHUNK):
                    sha.update(chunk)
                    size += len(chunk)
                    tmp.write(chunk)
            target = self.path(sha.hexdigest())
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                os.unlink(tmp_name)
            else:
                os.replace(tmp_name, target)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return StoredBlob(sha.hexdigest(), size)

    def put_bytes(self, data: bytes) -> StoredBlob:
        return self.put_stream(io.BytesIO(data))
