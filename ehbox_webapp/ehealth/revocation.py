"""Realm sessions that ended while their tokens still look good.

An access token is a signed JWT: after its realm session ends (the user logged out, an
administrator ended it) its signature and `exp` still hold until it expires. The realm
says so in two ways: a back-channel logout (`web/backchannel.py`), and a refused token
exchange. This module keeps the first kind of news, in a store shared by every instance,
so that a token of an ended session is refused wherever it shows up next.

A session is named by its `sid` (Keycloak also writes `session_state`); a logout token that
names only the user (`sub`) ends every session of that user that began before it.
"""

from __future__ import annotations

import time
from typing import Any

# As long as any token of the ended session may still be presented: a realm's access tokens
# live minutes, its sessions hours; a day is more than either.
ENDED_TTL = 24 * 3600


def session_of(claims: dict) -> str | None:
    """The realm session a token belongs to, if it says."""
    sid = claims.get("sid") or claims.get("session_state")
    return sid if isinstance(sid, str) and sid else None


class EndedSessions:
    """The realm sessions known to have ended, in `store` (anything with `get` and `set`,
    e.g. the Redis store shared by every instance)."""

    def __init__(self, store: Any, ttl: int = ENDED_TTL):
        self.store = store
        self.ttl = ttl

    def end(self, *, sid: str | None, sub: str | None, at: float | None = None) -> None:
        """Note that the realm ended session `sid`, or (with `sub` only) every session of
        `sub` that began at or before `at`."""
        if sid:
            self.store.set(f"iam:ended:sid:{sid}", {"at": at or time.time()}, self.ttl)
        elif sub:
            self.store.set(f"iam:ended:sub:{sub}", {"at": at or time.time()}, self.ttl)

    def ended(self, claims: dict) -> bool:
        """True when the token with these claims belongs to a session the realm ended."""
        sid = session_of(claims)
        if sid and self.store.get(f"iam:ended:sid:{sid}") is not None:
            return True
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            return False
        ended = self.store.get(f"iam:ended:sub:{sub}")
        issued = claims.get("iat")
        if ended is None:
            return False
        return not isinstance(issued, int | float) or issued <= ended["at"]
