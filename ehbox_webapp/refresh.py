"""One token refresh per session at a time, across threads and instances.

I.AM Connect (Keycloak) may rotate refresh tokens: with the realm's *Revoke Refresh Token*
on, each works once (`refreshTokenMaxReuse` more times), and a use beyond that ends the
client's session at the realm, as Keycloak takes it for a stolen token. Requests of one
session that meet at the refresh margin (a message page and its inline PDF, two tabs, a
page's parallel calls) must not each refresh. So the first takes a lock in the session
store (Redis when set, so it holds across instances) for the whole exchange, refreshes,
and writes the new tokens into the stored session before letting go. The others go on at
once with the access token they have while it is still good for `STILL_GOOD` seconds, and
only wait for the new one when it is not. A failed refresh ends the session only if the
realm refused the tokens it tried (`invalid_grant`) and they are still the session's.

A refresh whose answer is lost (the realm too slow for `HTTP_TIMEOUT`, a connection cut
after the request left) is asked once more with the same refresh token, inside the same
lock. Keycloak accepts it when *Revoke Refresh Token* is off (its default: a refresh
token stays good until it expires or the session ends) or when `refreshTokenMaxReuse` is
at least 1; with revocation on and no reuse allowed, the realm has spent the token and the
user logs in again (at Keycloak, through the realm's still open SSO session: no form).
The sandbox realm plays both (`SANDBOX_REFRESH_TOKEN_MAX_REUSE`).

When the realm does not answer at all, the session is kept: requests go on with a token
still good, others get the realm's 503/502, and for `REALM_PAUSE` seconds this session
does not ask the realm again (an error page's header does not start a second refresh).

Hand-written because OAuth client libraries (authlib's included) refresh per client
object and leave concurrent refreshes of one stored session to the application.
Framework-neutral: the session is a record in the store, named by its id.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from .ehealth.iam import IamClient, RealmUnavailable, TokenError, TokenSet
from .stores import SESSION_PREFIX, SessionStore

log = logging.getLogger(__name__)

REFRESH_MARGIN = 30  # seconds before expiry at which the access token is refreshed
STILL_GOOD = 5  # seconds of validity a request needs to go on with the token it has
REALM_PAUSE = 10  # seconds after a refresh the realm did not answer, before asking again
GATE_WAIT = 2.0  # at most this long for a free call to the realm (ehealth.http's gates)


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
        refresh, and :class:`RealmUnavailable` (an `IamError`) when the realm did not
        answer and the access token is no longer good (the session stays: it may work
        again in a moment).
        """
        if not tokens.expires_within(self.margin):
            return tokens
        lock, owner = f"refresh-lock:{sid}", secrets.token_hex(8)
        deadline = time.monotonic() + self.exchange_seconds + 1
        while True:
            stored = self._stored(sid)
            if stored is None:
                raise LoginAgain("the session has ended")
            if not stored.expires_within(self.margin):
                return stored  # refreshed by a request beside this one
            if self.store.get(f"refresh-failed:{sid}") is not None:
                if not stored.expires_within(STILL_GOOD):
                    return stored
                raise RealmUnavailable("I.AM Connect did not answer this session's last refresh.")
            if self.store.add(lock, {"owner": owner}, int(self.exchange_seconds) + 1):
                try:
                    return self._refresh(sid, stored)
                finally:
                    if (self.store.get(lock) or {}).get("owner") == owner:
                        self.store.delete(lock)
            if not stored.expires_within(STILL_GOOD):
                return stored  # another request is refreshing: go on with the token we have
            if time.monotonic() >= deadline:
                raise RealmUnavailable("No token refresh of this session finished in time.")
            time.sleep(self.poll)

    @property
    def exchange_seconds(self) -> float:
        """The longest a refresh takes, retry included: what the lock must cover."""
        return 2 * (self.timeout + GATE_WAIT) + 2

    def _refresh(self, sid: str, tried: TokenSet) -> TokenSet:
        if not tried.refresh_token:
            self._end_if_still(sid, tried)
            raise LoginAgain("no refresh token")
        try:
            fresh = self._ask_realm(tried.refresh_token)
        except TokenError as exc:
            current = self._stored(sid)
            if current is not None and current.refresh_token != tried.refresh_token:
                return current  # another refresh won meanwhile: its tokens are the session's
            if not exc.callers_fault:  # the realm failed, the tokens were not refused
                self._pause(sid)
                if not tried.expires_within(STILL_GOOD):
                    return tried
                raise
            log.info("refresh refused (%s): the user logs in again", exc.error)
            self._end_if_still(sid, tried)
            raise LoginAgain(exc.error) from None
        except RealmUnavailable:
            self._pause(sid)
            if not tried.expires_within(STILL_GOOD):
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

    def _ask_realm(self, refresh_token: str) -> TokenSet:
        """The realm's new tokens; asked a second time, with the same refresh token, when the
        first answer did not come (it may have been lost after the realm used the token)."""
        try:
            return self.iam.refresh(refresh_token)
        except RealmUnavailable as exc:
            log.warning("token refresh got no answer (%s): asking once more", exc)
            return self.iam.refresh(refresh_token)

    def _pause(self, sid: str) -> None:
        """The realm did not answer: this session asks it nothing for `REALM_PAUSE` s."""
        self.store.set(f"refresh-failed:{sid}", {"at": time.time()}, REALM_PAUSE)

    def _stored(self, sid: str) -> TokenSet | None:
        record = self.store.get(SESSION_PREFIX + sid)
        data = (record or {}).get("tokens")
        return TokenSet.from_dict(data) if data else None

    def _end_if_still(self, sid: str, tried: TokenSet) -> None:
        """End the session, unless its tokens are no longer the ones that were tried."""
        current = self._stored(sid)
        if current is not None and current.refresh_token == tried.refresh_token:
            self.store.delete(SESSION_PREFIX + sid)
