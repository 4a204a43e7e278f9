"""The organisation's access tokens: client credentials, token exchange, caches.

A token is reused until `margin` seconds (30, as the Smals client does, notes §1.4)
before it expires. With an eHealthBox audience (`EHBOX_AUDIENCE`), the M2M token is
exchanged (RFC 8693, notes §1.7) and the exchanged token is cached as well.

Why a file cache, and why it is safe enough: every CLI invocation is a new process,
so a memory cache alone means two token requests per command. The file holds only
short-lived access tokens (client credentials give no refresh token), is written
with mode 0600 (created with `O_EXCL` and that mode, so no umask can widen it), and
is read back only if it is a regular file, not a symlink, owned by the current
user, with no group or other permission bits; anything else is ignored and
replaced. Whoever can read it as this user can already read the keystore and its
password (`.env`), which mint such tokens at will: the file adds no new power.
Without POSIX permissions (Windows) the file cache is off and memory is used.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..ehealth.iam import EHBOX_SCOPE, IamClient, TokenSet

log = logging.getLogger(__name__)

MARGIN = 30.0
CACHE_FILE = "m2m-token-cache.json"
DISPLAY_CLAIMS = ("iss", "azp", "aud", "sub", "exp", "iat", "scope")


M2M_SCOPE = EHBOX_SCOPE


class TokenFileCache:
    """Access tokens keyed by an opaque key, in one JSON file of mode 0600."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock

    @staticmethod
    def supported() -> bool:
        """File modes and owners mean something here (not on Windows)."""
        return os.name == "posix" and hasattr(os, "O_NOFOLLOW")

    def _read(self) -> dict[str, Any]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return {}
        except OSError:  # a symlink (ELOOP) or unreadable: not ours to trust
            log.warning("ignoring the token cache %s: not a plain file of ours", self.path)
            return {}
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
                log.warning(
                    "ignoring the token cache %s: it must be a file of this user with mode 0600",
                    self.path,
                )
                return {}
            try:
                data = json.loads(handle.read(1024 * 1024))
            except ValueError:
                return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> TokenSet | None:
        entry = self._read().get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("access_token"), str):
            return None
        try:
            return TokenSet(
                access_token=entry["access_token"],
                expires_at=float(entry["expires_at"]),
                scope=entry.get("scope", ""),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, tokens: TokenSet | None) -> None:
        """Store (or, with None, drop) one entry; expired entries are dropped on the way."""
        now = self._clock()
        entries = {
            k: v
            for k, v in self._read().items()
            if isinstance(v, dict) and float(v.get("expires_at") or 0) > now
        }
        if tokens is None:
            entries.pop(key, None)
        else:
            entries[key] = {
                "access_token": tokens.access_token,
                "expires_at": tokens.expires_at,
                "scope": tokens.scope,
            }
        self._write(entries)

    def _write(self, entries: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)  # atomic: a reader sees the old or the new file
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class M2mTokenProvider:
    """`provider()` is the Bearer token for the eHealthBox: pass it as `token_provider`.

    Thread-safe. `client` is the M2M realm's :class:`IamClient` (private_key_jwt with
    the keystore's signing key); `audience`, when set, is the token-exchange target.
    """

    def __init__(
        self,
        client: IamClient,
        *,
        audience: str | None = None,
        margin: float = MARGIN,
        file_cache: TokenFileCache | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self.audience = audience or None
        self.margin = margin
        self.file_cache = file_cache
        self._clock = clock
        self._lock = threading.Lock()
        self._memory: dict[str, TokenSet] = {}

    def _key(self, kind: str) -> str:
        # Everything that makes a token different; hashed so that the file names nothing.
        kid = getattr(self.client.identity, "kid", "")
        raw = "|".join((self.client.issuer, self.client.client_id, kid, kind))
        return hashlib.sha256(raw.encode()).hexdigest()

    def _cached(self, key: str) -> TokenSet | None:
        tokens = self._memory.get(key)
        if tokens is None and self.file_cache is not None:
            tokens = self.file_cache.get(key)
        if tokens is None or tokens.expires_within(self.margin, self._clock()):
            return None
        self._memory[key] = tokens
        return tokens

    def _store(self, key: str, tokens: TokenSet) -> None:
        self._memory[key] = tokens
        if self.file_cache is not None:
            try:
                self.file_cache.put(key, tokens)
            except OSError as exc:  # a read-only instance folder must not stop the command
                log.warning("could not write the token cache: %s", type(exc).__name__)

    def m2m_tokens(self) -> TokenSet:
        """The M2M realm's own token (client credentials), cached."""
        with self._lock:
            return self._m2m_tokens()

    def _m2m_tokens(self) -> TokenSet:
        key = self._key("client_credentials")
        tokens = self._cached(key)
        if tokens is None:
            # The procedure registers the M2M client with the `ehbox` scope; ask for it
            # explicitly (a strict server grants no default scope).
            tokens = self.client.client_credentials(M2M_SCOPE)
            self._store(key, tokens)
        return tokens

    def tokens(self) -> TokenSet:
        """The token to send to the eHealthBox: exchanged when an audience is set."""
        with self._lock:
            if self.audience is None:
                return self._m2m_tokens()
            key = self._key(f"exchange|{self.audience}")
            tokens = self._cached(key)
            if tokens is None:
                subject = self._m2m_tokens().access_token
                tokens = self.client.exchange_token(subject, self.audience)
                self._store(key, tokens)
            return tokens

    def __call__(self) -> str:
        return self.tokens().access_token

    def invalidate(self) -> None:
        """Forget every token (after a 401: the platform no longer accepts them)."""
        with self._lock:
            keys = [self._key("client_credentials")]
            if self.audience:
                keys.append(self._key(f"exchange|{self.audience}"))
            for key in keys:
                self._memory.pop(key, None)
                if self.file_cache is not None:
                    with contextlib.suppress(OSError):
                        self.file_cache.put(key, None)


def token_claims(token: str) -> dict[str, Any]:
    """The non-secret claims of a JWT access token, for display (no signature check:
    the token came straight from the token endpoint, and is only being shown)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    if not isinstance(payload, dict):
        return {}
    return {name: payload[name] for name in DISPLAY_CLAIMS if name in payload}
