"""One token refresh per session at a time, across threads and instances.

I.AM Connect (Keycloak) rotates refresh tokens: each works once, and a second use ends
the whole login, as the realm takes it for a stolen token. Requests of one session that
meet at the refresh margin (a message page and its inline PDF, two tabs, a page's
parallel calls) must not each refresh. So the first takes a lock in the session store
(Redis when set, so it holds across instances), refreshes, and writes the new tokens into
the stored session at once; the others wait briefly and use those. A failed refresh ends
the session only if the tokens it tried are still the session's.

Hand-written because OAuth client libraries (authlib's included) refresh per client
object and leave concurrent refreshes of one stored session to the application.
Framework-neutral: the session is a record in the store, named by its id.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from .ehealth.iam import IamClient, IamError, TokenError, TokenSet
from .stores import SESSION_PREFIX, SessionStore

log = logging.getLogger(__name__)

REFRESH_MARGIN = 30  # seconds before expiry at which the access token is refreshed


class LoginAgain(Exception):
    """The session's tokens cannot be renewed: the user logs in again."""


@dataclass
class SessionRefresher:
    """Keeps the tokens of stored sessions fresh, one refresh per session at a time."""

    store: SessionStore
    iam: IamClient
    session_ttl: int
    timeout: float = 15.0  # the realm's answer takes at most this long
    margin: float = REFRESH_MARGIN
    poll: float = 0.05

    def fresh_tokens(self, sid: str, tokens: TokenSet) -> TokenSet:
        """Tokens of session `sid` valid beyond the margin; `tokens` are the request's.

        Raises :class:`LoginAgain` when the session is gone or the realm refused the
        refresh, and :class:`IamError` when the realm is unreachable and the access token
        has expired (the session stays: it may work again in a moment).
        """
        if not tokens.expires_within(self.margin):
            return tokens
        lock, owner = f"refresh-lock:{sid}", secrets.token_hex(8)
        deadline = time.monotonic() + self.timeout + 2
        while True:
            stored = self._stored(sid)
            if stored is None:
                raise LoginAgain("the session has ended")
            if not stored.expires_within(self.margin):
                return stored  # refreshed by a request beside this one
            if self.store.add(lock, {"owner": owner}, int(self.timeout) + 5):
                try:
                    return self._refresh(sid, stored)
                finally:
                    if (self.store.get(lock) or {}).get("owner") == owner:
                        self.store.delete(lock)
            if time.monotonic() >= deadline:
                if not stored.expires_within(0):
                    return stored  # still valid: better than a login page
                raise LoginAgain("no refresh finished in time")
            time.sleep(self.poll)

    def _refresh(self, sid: str, tried: TokenSet) -> TokenSet:
        if not tried.refresh_token:
            self._end_if_still(sid, tried)
            raise LoginAgain("no refresh token")
        try:
            fresh = self.iam.refresh(tried.refresh_token)
        except TokenError as exc:
            current = self._stored(sid)
            if current is not None and current.refresh_token != tried.refresh_token:
                return current  # another refresh won meanwhile: its tokens are the session's
            log.info("refresh refused (%s): the user logs in again", exc.error)
            self._end_if_still(sid, tried)
            raise LoginAgain(exc.error) from None
        except IamError:
            if not tried.expires_within(0):
                return tried  # the realm is down but the access token still works
            raise
        if not fresh.id_token:  # kept for the logout's id_token_hint
            fresh = TokenSet(**{**fresh.to_dict(), "id_token": tried.id_token})
        record = self.store.get(SESSION_PREFIX + sid)
        if record is None:
            raise LoginAgain("the session ended during the refresh")
        record["tokens"] = fresh.to_dict()
        self.store.set(SESSION_PREFIX + sid, record, self.session_ttl)
        return fresh

    def _stored(self, sid: str) -> TokenSet | None:
        record = self.store.get(SESSION_PREFIX + sid)
        data = (record or {}).get("tokens")
        return TokenSet.from_dict(data) if data else None

    def _end_if_still(self, sid: str, tried: TokenSet) -> None:
        """End the session, unless its tokens are no longer the ones that were tried."""
        current = self._stored(sid)
        if current is not None and current.refresh_token == tried.refresh_token:
            self.store.delete(SESSION_PREFIX + sid)
