"""Server-side sessions: the cookie carries only a random id; tokens stay on the server.

The store is chosen by configuration (`REDIS_URL`): an in-process store by
default, good for one process. `regenerate()` gives the session a new id at
login, so an id planted before login (session fixation) is worth nothing after it.

Only a logged-in user has a session: nothing an anonymous page does writes one (the
login in progress is a sealed cookie, `login_state.py`; forms carry a CSRF token only for
a logged-in user).

When the store does not answer (Redis stopped), a request that needs a session gets the
app's own 503 page or problem document with `Retry-After`; the front page, the health
checks, the JWKS and static files go on without one.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask, Request, Response, g, make_response, request, session
from flask.sessions import SessionInterface, SessionMixin
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import CallbackDict

from ..stores import SESSION_PREFIX, SESSION_TTL, SessionStore, StoreUnavailable
from .errors import render_error

log = logging.getLogger(__name__)

RETRY_AFTER = "5"  # seconds: a restarted Redis is back in about that
ANONYMOUS_TTL = 600  # seconds a session without a user is kept (see `_ttl`)
# What works without a session: the front page (as for a visitor), health, keys, files.
WITHOUT_STORE = frozenset(
    {
        "static",
        "home.index",
        "wellknown.healthz",
        "wellknown.readyz",
        "wellknown.jwks",
        "wellknown.favicon",
    }
)


class ServerSession(CallbackDict, SessionMixin):
    """A session whose data lives in the store under `sid`."""

    def __init__(self, initial: dict | None = None, sid: str | None = None, new: bool = False):
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid or _new_sid()
        self.new = new
        self.modified = False
        self.previous_sid: str | None = None
        self.loaded_tokens = (initial or {}).get("tokens")  # as read at the request's start
        self.unavailable = False  # the store did not answer: nothing is read or written

    def regenerate(self) -> None:
        """Give the session a new id (at login); the old one stops working."""
        if self.previous_sid is None:
            self.previous_sid = self.sid
        self.sid = _new_sid()
        self.modified = True


def _new_sid() -> str:
    return secrets.token_urlsafe(32)


class ServerSessionInterface(SessionInterface):
    """Flask session interface backed by a :class:`SessionStore`."""

    prefix = SESSION_PREFIX

    def __init__(self, store: SessionStore, ttl: int = SESSION_TTL):
        self.store = store
        self.ttl = ttl

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid and len(sid) < 100:
            try:
                data = self.store.get(self.prefix + sid)
            except StoreUnavailable as exc:
                log.warning("session store unavailable: %s", exc)
                unknown = ServerSession(new=True)
                unknown.unavailable = True
                return unknown
            if data is not None:
                return ServerSession(data, sid=sid)
        return ServerSession(new=True)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.unavailable:
            return  # the browser keeps its cookie: the session may be back in a moment
        try:
            self._save(app, session, response)
        except StoreUnavailable as exc:
            # Whatever the view did stands (a send is delivered once however often it is
            # retried), but the session could not be kept: say so, as the 503 page does.
            log.warning("session not saved, the store is unavailable: %s", exc)
            session.unavailable = True
            _become_unavailable(response)

    def _ttl(self, session: ServerSession) -> int:
        """A logged-in user's session lives `ttl`; one without a user (a word shown after
        the logout) only `ANONYMOUS_TTL`."""
        return self.ttl if session.get("user") is not None else min(self.ttl, ANONYMOUS_TTL)

    def _save(self, app: Flask, session: ServerSession, response: Response) -> None:
        name, domain, path = (
            self.get_cookie_name(app),
            self.get_cookie_domain(app),
            self.get_cookie_path(app),
        )
        if session.previous_sid:
            self.store.delete(self.prefix + session.previous_sid)
        if not session:
            if not session.new or session.previous_sid:
                self.store.delete(self.prefix + session.sid)
                response.delete_cookie(name, domain=domain, path=path)
            return
        if session.modified or session.previous_sid:
            data = dict(session)
            if not session.new and not session.previous_sid:
                stored = self.store.get(self.prefix + session.sid)
                if stored is None:  # ended meanwhile (logout elsewhere): not brought back
                    response.delete_cookie(name, domain=domain, path=path)
                    return
                if data.get("tokens") == session.loaded_tokens and stored.get("tokens"):
                    # Refreshed by a request beside this one: keep the newer tokens.
                    data["tokens"] = stored["tokens"]
            self.store.set(self.prefix + session.sid, data, self._ttl(session))
        elif not self.should_set_cookie(app, session):
            return
        response.set_cookie(
            name,
            session.sid,
            max_age=self._ttl(session),
            httponly=True,
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")


def store_unavailable(exc: StoreUnavailable | None = None) -> Response:
    """The app's own 503 (page, or problem document for API clients), with Retry-After.

    Drawn without the user's header: nothing on it asks the store or an upstream again.
    """
    if exc is not None:
        log.warning("session store unavailable on %s %s: %s", request.method, request.path, exc)
    g.user = None
    response = make_response(
        render_error(
            503,
            _l("Service unavailable"),
            _l("This site is busy or being maintained. Please try again in a moment."),
            english="The session store is unavailable. Try again in a moment.",
        )
    )
    response.headers["Retry-After"] = RETRY_AFTER
    response.headers["Cache-Control"] = "no-store"
    return response


def _become_unavailable(response: Response) -> None:
    """Turn a finished answer into the 503 (its session could not be kept)."""
    unavailable = store_unavailable()
    response.status_code = unavailable.status_code
    response.set_data(unavailable.get_data())
    response.mimetype = unavailable.mimetype
    response.headers["Retry-After"] = RETRY_AFTER
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Location", None)


def require_store() -> None:
    """Before a view: a request that needs its session while the store is down gets the 503."""
    if getattr(session, "unavailable", False) and request.endpoint not in WITHOUT_STORE:
        raise StoreUnavailable("the session could not be read")


def init_app(app: Flask, store: SessionStore) -> None:
    app.session_interface = ServerSessionInterface(store)
    app.before_request(require_store)
    app.register_error_handler(StoreUnavailable, store_unavailable)
