"""Server-side sessions: the cookie carries only a random id; tokens stay on the server.

The store is chosen by configuration (`SESSION_STORE`): an in-process store by
default, good for one process. `regenerate()` gives the session a new id at
login, so an id planted before login (session fixation) is worth nothing after it.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from ..stores import SESSION_PREFIX, SESSION_TTL, SessionStore


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
            data = self.store.get(self.prefix + sid)
            if data is not None:
                return ServerSession(data, sid=sid)
        return ServerSession(new=True)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
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
            self.store.set(self.prefix + session.sid, data, self.ttl)
        elif not self.should_set_cookie(app, session):
            return
        response.set_cookie(
            name,
            session.sid,
            max_age=self.ttl,
            httponly=True,
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")
