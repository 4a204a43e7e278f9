"""The two ways the sandbox realms say no: an OAuth error, or an error page.

An :class:`OAuthError` is answered as RFC 6749 §5.2 JSON at the token-side
endpoints, or as an error redirect (§4.1.2.1) once the authorization endpoint
has validated the redirect URI. An :class:`ErrorPage` is shown to the browser
when redirecting would be unsafe: an unknown client or an unregistered URI.
"""

from __future__ import annotations


class OAuthError(Exception):
    """An RFC 6749 error: `error` code, human `description`, HTTP `status`."""

    def __init__(self, error: str, description: str, status: int | None = None):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        # RFC 6749 §5.2: a failed client authentication is 401, every other error 400.
        self.status = status or (401 if error == "invalid_client" else 400)

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class ErrorPage(Exception):
    """A problem shown to the user on a sandbox page, never sent to a client's URI."""

    def __init__(self, title: str, detail: str, status: int = 400):
        super().__init__(f"{title}: {detail}")
        self.title = title
        self.detail = detail
        self.status = status
