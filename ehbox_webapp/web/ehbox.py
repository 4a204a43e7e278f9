"""The eHealthBox client for the current request, whoever authenticated it.

A web page acts for the logged-in user (the session's access token); an API call
acts for the Bearer token it carried. Either way the eHealthBox sees only a
token exchanged for its own audience, never the caller's token as is.
"""

from __future__ import annotations

from flask import g

from .auth import access_token
from .extensions import services


def ehealthbox():
    """An eHealthBox client acting for the caller of this request."""
    svc = services()

    def token() -> str:
        subject = g.get("api_token") or access_token()
        return svc.ehealthbox_token(subject)

    return svc.ehealthbox(token)
