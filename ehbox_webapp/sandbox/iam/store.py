"""The realms' server-side state, in SQLite so that it survives a restart.

Pending logins, realm sessions (`sid`) and their SSO cookies, one-time codes, token families
("grants": everything issued from one code), refresh tokens, issued access
tokens and used client-assertion `jti`s. Codes, refresh tokens and SSO cookies
are stored only as SHA-256 hashes: a copy of the file gives no usable credential.

A connection is opened per operation: SQLite connections cannot be shared
between the threads of the server, and opening one is cheap. Every write runs
in a `BEGIN IMMEDIATE` transaction, so "use once" checks are atomic.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..first_start import exclusive

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_requests (
    id TEXT PRIMARY KEY, realm TEXT NOT NULL, csrf TEXT NOT NULL,
    params TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, realm TEXT NOT NULL, persona TEXT NOT NULL, client_id TEXT NOT NULL,
    auth_time INTEGER NOT NULL, expires INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY, realm TEXT NOT NULL, client_id TEXT NOT NULL, sid TEXT NOT NULL,
    persona TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT, auth_time INTEGER NOT NULL,
    expires INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, realm TEXT NOT NULL, data TEXT NOT NULL,
    expires INTEGER NOT NULL, grant_id TEXT);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, expires INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS access_tokens (
    jti TEXT PRIMARY KEY, grant_id TEXT, sid TEXT, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sso_cookies (
    cookie_hash TEXT PRIMARY KEY, realm TEXT NOT NULL, sid TEXT NOT NULL,
    expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS assertion_jtis (
    client_id TEXT NOT NULL, jti TEXT NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti));
CREATE TABLE IF NOT EXISTS token_faults (
    fault_id INTEGER PRIMARY KEY, grant_type TEXT NOT NULL, delay REAL NOT NULL,
    status INTEGER, times_left INTEGER NOT NULL);
"""
# Rows kept past their expiry: a replayed code or refresh token must still be
# recognised as a replay (and revoke its family) as long as that family can live.
GRACE_SECONDS = 12 * 3600
PURGEABLE = (
    "pending_requests",
    "sessions",
    "sso_cookies",
    "grants",
    "codes",
    "refresh_tokens",
    "access_tokens",
)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class IamStore:
    """SQLite persistence for both sandbox realms."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # gunicorn workers open a fresh file together: switching it to WAL and creating the
        # schema are done by one process at a time, not raced ("database is locked").
        with exclusive(path.with_name(path.name + ".lock")), closing_connection(path) as conn:
            # WAL lets the server's threads read while one of them writes.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with closing_connection(self.path) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        with closing_connection(self.path) as conn:
            row = conn.execute(sql, args).fetchone()
        return dict(row) if row else None

    # -- pending authorization requests (the login page) ---------------------------------

    def save_pending(self, realm: str, params: dict[str, Any], lifetime: int) -> tuple[str, str]:
        """Keep an authorization request while the user logs in; return (id, csrf token)."""
        request_id, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO pending_requests VALUES (?, ?, ?, ?, ?)",
                (request_id, realm, csrf, json.dumps(params), _now() + lifetime),
            )
        return request_id, csrf

    def pending(self, realm: str, request_id: str) -> dict[str, Any] | None:
        row = self._one(
            "SELECT * FROM pending_requests WHERE id = ? AND realm = ? AND expires > ?",
            request_id,
            realm,
            _now(),
        )
        return {**json.loads(row["params"]), "csrf": row["csrf"]} if row else None

    def take_pending(self, request_id: str) -> bool:
        """Delete a pending request; False if another request already took it."""
        with self._tx() as conn:
            return (
                conn.execute("DELETE FROM pending_requests WHERE id = ?", (request_id,)).rowcount
                == 1
            )

    # -- realm sessions ----------------------------------------------------------------

    def create_session(
        self, realm: str, persona: str, client_id: str, auth_time: int, lifetime: int
    ) -> str:
        sid = str(uuid.uuid4())
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO sessions (sid, realm, persona, client_id, auth_time, expires)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (sid, realm, persona, client_id, auth_time, auth_time + lifetime),
            )
        return sid

    def session(self, sid: str) -> dict[str, Any] | None:
        """The session if it is still active (not ended, not past its maximum lifetime)."""
        return self._one(
            "SELECT * FROM sessions WHERE sid = ? AND ended = 0 AND expires > ?", sid, _now()
        )

    def end_session(self, sid: str) -> dict[str, Any] | None:
        """End a session; return it if it was active (so logout is notified only once)."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT * FROM sessions WHERE sid = ? AND ended = 0", (sid,)
            ).fetchone()
            conn.execute("UPDATE sessions SET ended = 1 WHERE sid = ?", (sid,))
        return dict(row) if row else None

    def create_sso_cookie(self, realm: str, sid: str, expires: int) -> str:
        """A random value for the browser's SSO cookie, bound to a session of `realm`.

        Not the `sid` itself: every client of the realm sees that one in its tokens.
        """
        cookie = secrets.token_urlsafe(32)
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO sso_cookies VALUES (?, ?, ?, ?)", (_hash(cookie), realm, sid, expires)
            )
        return cookie

    def sso_session(self, realm: str, cookie: str) -> dict[str, Any] | None:
        """The active session of `realm` an SSO cookie stands for, else None."""
        if not cookie:
            return None
        return self._one(
            "SELECT s.* FROM sso_cookies c JOIN sessions s ON s.sid = c.sid"
            " WHERE c.cookie_hash = ? AND c.realm = ? AND s.ended = 0 AND s.expires > ?",
            _hash(cookie),
            realm,
            _now(),
        )

    # -- authorization codes and token families -------------------------------------------

    def save_code(self, realm: str, data: dict[str, Any], lifetime: int) -> str:
        code = secrets.token_urlsafe(32)
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO codes (code_hash, realm, data, expires) VALUES (?, ?, ?, ?)",
                (_hash(code), realm, json.dumps(data), _now() + lifetime),
            )
            self._purge(conn)
        return code

    def consume_code(self, realm: str, code: str, grant_lifetime: int) -> dict[str, Any] | None:
        """Use a code: its data, `expires`, `grant_id` and `first_use`; None if unknown.

        The first use opens the token family in the same transaction, so that a
        concurrent replay always finds a family to revoke.
        """
        with self._tx() as conn:
            row = conn.execute(
                "SELECT * FROM codes WHERE code_hash = ? AND realm = ?", (_hash(code), realm)
            ).fetchone()
            if row is None:
                return None
            data = json.loads(row["data"])
            result = {
                **data,
                "expires": row["expires"],
                "grant_id": row["grant_id"],
                "first_use": row["grant_id"] is None,
            }
            if result["first_use"]:
                result["grant_id"] = str(uuid.uuid4())
                conn.execute(
                    "UPDATE codes SET grant_id = ? WHERE code_hash = ?",
                    (result["grant_id"], row["code_hash"]),
                )
                conn.execute(
                    "INSERT INTO grants (id, realm, client_id, sid, persona, scope, nonce,"
                    " auth_time, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        result["grant_id"],
                        realm,
                        data["client_id"],
                        data["sid"],
                        data["persona"],
                        data["scope"],
                        data.get("nonce"),
                        data["auth_time"],
                        _now() + grant_lifetime,
                    ),
                )
        return result

    def grant(self, grant_id: str) -> dict[str, Any] | None:
        """A token family, if neither it nor its session was revoked or ended."""
        return self._one(
            "SELECT g.* FROM grants g JOIN sessions s ON s.sid = g.sid WHERE g.id = ?"
            " AND g.revoked = 0 AND s.ended = 0 AND s.expires > ?",
            grant_id,
            _now(),
        )

    def revoke_grant(self, grant_id: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE grants SET revoked = 1 WHERE id = ?", (grant_id,))

    # -- injected faults of the token endpoint (faults.py) --------------------------------

    def add_token_fault(self, grant_type: str, delay: float, status: int | None, times: int) -> int:
        with self._tx() as conn:
            return int(
                conn.execute(
                    "INSERT INTO token_faults (grant_type, delay, status, times_left) "
                    "VALUES (?, ?, ?, ?)",
                    (grant_type, delay, status, times),
                ).lastrowid
            )

    def take_token_fault(self, grant_type: str) -> dict[str, Any] | None:
        """The next fault armed for this grant type, counted as used; None when none is."""
        armed = "SELECT * FROM token_faults WHERE grant_type IN (?, '*') AND times_left > 0"
        if self._one(armed + " LIMIT 1", grant_type) is None:
            return None
        with self._tx() as conn:
            row = conn.execute(armed + " ORDER BY fault_id LIMIT 1", (grant_type,)).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE token_faults SET times_left = times_left - 1 WHERE fault_id = ?",
                (row["fault_id"],),
            )
        return dict(row)

    def clear_token_faults(self) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM token_faults")

    # -- refresh and access tokens -------------------------------------------------------

    def save_refresh_token(self, grant_id: str, token: str, expires: int) -> None:
        """Remember a refresh token (a signed JWT, as Keycloak's) of a token family."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO refresh_tokens (token_hash, grant_id, expires) VALUES (?, ?, ?)",
                (_hash(token), grant_id, expires),
            )

    def use_refresh_token(self, token: str) -> dict[str, Any] | None:
        """Count a use of a refresh token: its `grant_id`, `expires`, `first_use`,
        `uses_before` (how often it was used before this use; `used` counts them) and
        `stale` (a refresh token of its family issued after it was used already)."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT rowid, * FROM refresh_tokens WHERE token_hash = ?", (_hash(token),)
            ).fetchone()
            if row is None:
                return None
            stale = conn.execute(
                "SELECT 1 FROM refresh_tokens WHERE grant_id = ? AND rowid > ? AND used > 0",
                (row["grant_id"], row["rowid"]),
            ).fetchone()
            conn.execute(
                "UPDATE refresh_tokens SET used = used + 1 WHERE token_hash = ?",
                (row["token_hash"],),
            )
        return {
            "grant_id": row["grant_id"],
            "expires": row["expires"],
            "first_use": not row["used"],
            "uses_before": row["used"],
            "stale": stale is not None,
        }

    def refresh_token(self, token: str) -> dict[str, Any] | None:
        """An unused, unexpired refresh token of an active family (introspection)."""
        return self._one(
            "SELECT * FROM refresh_tokens WHERE token_hash = ? AND used = 0 AND expires > ?",
            _hash(token),
            _now(),
        )

    def record_access_token(
        self, jti: str, grant_id: str | None, sid: str | None, expires: int
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO access_tokens VALUES (?, ?, ?, ?)", (jti, grant_id, sid, expires)
            )

    def access_token(self, jti: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM access_tokens WHERE jti = ?", jti)

    def access_token_active(self, jti: str) -> bool:
        """Issued here, not expired, and neither its family nor its session ended."""
        row = self.access_token(jti)
        if row is None or row["expires"] <= _now():
            return False
        if row["grant_id"] and self.grant(row["grant_id"]) is None:
            return False
        return not (row["sid"] and self.session(row["sid"]) is None)

    # -- client assertions ----------------------------------------------------------------

    def remember_assertion(self, client_id: str, jti: str, expires: int) -> bool:
        """Record an assertion's `jti` until it expires; False if it was seen before."""
        with self._tx() as conn:
            self._purge(conn)
            try:
                conn.execute(
                    "INSERT INTO assertion_jtis VALUES (?, ?, ?)", (client_id, jti, expires)
                )
            except sqlite3.IntegrityError:
                return False
        return True

    @staticmethod
    def _purge(conn: sqlite3.Connection) -> None:
        now = _now()
        # A used jti only matters until its assertion expires.
        conn.execute("DELETE FROM assertion_jtis WHERE expires < ?", (now,))
        for table in PURGEABLE:
            sql = f"DELETE FROM {table} WHERE expires < ?"  # noqa: S608 - fixed table names
            conn.execute(sql, (now - GRACE_SECONDS,))


@contextmanager
def closing_connection(path: Path) -> Iterator[sqlite3.Connection]:
    # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE above).
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def _now() -> int:
    return int(time.time())
