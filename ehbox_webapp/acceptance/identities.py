"""How the run gets its tokens: the organisation (M2M) and a user.

- M2M: client credentials at the M2M realm, authenticated with private_key_jwt
  (the keystore's signing key), then RFC 8693 exchange for `EHBOX_AUDIENCE` when set.
- A user in the sandbox: the REAL authorization-code flow of the app's confidential
  client (PKCE, state, nonce): the run opens the sandbox login page, submits its form
  with `username=<persona>`, takes the code from the redirect without following it,
  exchanges it, checks the ID token, then exchanges the access token for the eHealthBox.
- A user outside the sandbox cannot be logged in by a script (eID, itsme): the run
  takes an access token the user obtained for the app's client (`--user-token-file`)
  and exchanges it like the web app does.

Every token and code obtained goes into `secrets`, so that a test can prove the
report holds none of them. Nothing here prints or stores a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from ..ehealth.iam import IamClient, IamError, TokenSet

MARGIN = 30.0  # renew a token this many seconds before it expires


class LoginFailed(IamError):
    """The scripted sandbox login did not produce a code; the message says where it stopped."""


class TokenSource:
    """The eHealthBox token of one identity, renewed before it expires.

    `subject` gives the identity's own token (a first one, or a renewed one when
    passed the previous); with an `audience`, that token is exchanged (RFC 8693).
    Calling the object returns the access token to send: it is the eHealthBox
    client's `token_provider`.
    """

    def __init__(
        self,
        iam: IamClient,
        subject: Callable[[TokenSet | None], TokenSet],
        audience: str | None,
        secrets: set[str],
    ):
        self.iam, self.audience, self._subject, self._secrets = iam, audience, subject, secrets
        self.subject_tokens: TokenSet | None = None
        self.exchanged: TokenSet | None = None

    def _keep(self, tokens: TokenSet) -> TokenSet:
        self._secrets.update(
            t for t in (tokens.access_token, tokens.refresh_token, tokens.id_token) if t
        )
        return tokens

    def obtain(self) -> TokenSet:
        """The identity's own token, renewed when it is about to expire."""
        if self.subject_tokens is None or self.subject_tokens.expires_within(MARGIN):
            self.subject_tokens = self._keep(self._subject(self.subject_tokens))
        return self.subject_tokens

    def exchange(self) -> TokenSet:
        """The token for the eHealthBox: the exchanged one, or the own one without audience."""
        subject = self.obtain()
        if not self.audience:
            return subject
        if self.exchanged is None or self.exchanged.expires_within(MARGIN):
            self.exchanged = self._keep(
                self.iam.exchange_token(subject.access_token, self.audience)
            )
        return self.exchanged

    def __call__(self) -> str:
        return self.exchange().access_token


def m2m(iam: IamClient, audience: str | None, secrets: set[str]) -> TokenSource:
    """The organisation: client credentials, renewed by asking again (no refresh token)."""
    return TokenSource(iam, lambda _previous: iam.client_credentials(), audience, secrets)


def user_from_token(
    iam: IamClient, access_token: str, audience: str | None, secrets: set[str]
) -> TokenSource:
    """A user's access token obtained elsewhere. It cannot be renewed: when it expires,
    the exchange (or the eHealthBox) refuses it and the scenarios say so."""
    secrets.add(access_token)
    given = TokenSet(access_token=access_token, expires_at=float("inf"))
    return TokenSource(iam, lambda _previous: given, audience, secrets)


def sandbox_user(
    iam: IamClient,
    http: requests.Session,
    *,
    redirect_uri: str,
    scope: str,
    persona: str,
    audience: str | None,
    secrets: set[str],
) -> TokenSource:
    """A sandbox persona, logged in through the real authorization-code flow."""

    def subject(previous: TokenSet | None) -> TokenSet:
        if previous is not None and previous.refresh_token:
            return iam.refresh(previous.refresh_token)
        return login(
            iam, http, redirect_uri=redirect_uri, scope=scope, persona=persona, secrets=secrets
        )

    return TokenSource(iam, subject, audience, secrets)


def login(
    iam: IamClient,
    http: requests.Session,
    *,
    redirect_uri: str,
    scope: str,
    persona: str,
    secrets: set[str],
) -> TokenSet:
    """Authorization request, login form, code from the redirect, code exchange, ID token."""
    request = iam.authorization_request(redirect_uri, scope)
    page = _call(http, "GET", request.url)
    if page.status_code != 200:
        raise LoginFailed(f"the login page answered HTTP {page.status_code}")
    form = _login_form(page.text)
    if form is None:
        raise LoginFailed("the login page has no form with a request_id")
    action, fields = form
    answer = _call(http, "POST", urljoin(page.url, action), data={**fields, "username": persona})
    location = answer.headers.get("Location", "")
    if answer.status_code not in (302, 303) or not location:
        raise LoginFailed(
            f"the login form answered HTTP {answer.status_code}, not a redirect "
            f"(is {persona!r} a sandbox persona?)"
        )
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if params.get("state") != request.state:
        raise LoginFailed("the redirect's state is not the one the run sent")
    if params.get("iss", iam.issuer) != iam.issuer:
        raise LoginFailed("the redirect names another issuer (RFC 9207)")
    if "code" not in params:
        raise LoginFailed(f"the realm sent no code: {params.get('error', 'no error given')}")
    secrets.add(params["code"])
    tokens = iam.exchange_code(params["code"], redirect_uri, request.code_verifier)
    if tokens.id_token:
        secrets.add(tokens.id_token)
        iam.validate_id_token(tokens.id_token, nonce=request.nonce)
    return tokens


def _call(http: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    try:
        return http.request(method, url, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise LoginFailed(f"the sandbox login page is unreachable ({type(exc).__name__})") from None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append((values.get("action") or "", {}))
        elif (
            tag == "input" and self.forms and values.get("type") == "hidden" and values.get("name")
        ):
            self.forms[-1][1][values["name"] or ""] = values.get("value") or ""


def _login_form(html: str) -> tuple[str, dict[str, str]] | None:
    """(action, hidden fields) of the sandbox login form."""
    parser = _FormParser()
    parser.feed(html)
    return next((f for f in parser.forms if "request_id" in f[1]), None)


def seconds_left(tokens: TokenSet) -> int | None:
    """Whole seconds until the token expires (None when unknown)."""
    if tokens.expires_at == float("inf"):
        return None
    return max(0, round(tokens.expires_at - time.time()))
