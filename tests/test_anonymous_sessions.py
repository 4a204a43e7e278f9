"""No session until one is needed: anonymous visitors make nothing on the server.

Every page used to make a server-side session (the header's forms asked for a CSRF token),
so a flood of anonymous requests filled the in-process store until it evicted logged-in
users. Now only a login makes a session; the login in progress travels in a sealed cookie.
"""

from __future__ import annotations

import requests
from conftest import Browser, page_forms

from ehbox_webapp.web import login_state

SESSION_COOKIE = "ehbox_session"


def store_of(live):
    return live.app.extensions["services"].store


def anonymous_visit(live, http: requests.Session, i: int) -> requests.Response:
    """One of the requests an anonymous visitor (or a careless crawler) makes."""
    url = live.url
    kinds = [
        lambda: http.get(f"{url}/"),
        lambda: http.get(f"{url}/no-such-page-{i}"),
        lambda: http.get(f"{url}/static/style.css"),
        lambda: http.get(f"{url}/favicon.ico"),
        lambda: http.get(f"{url}/login?next=/box/INBOX", allow_redirects=False),
        lambda: http.get(f"{url}/logout"),
        lambda: http.get(f"{url}/public-client/"),
        lambda: http.get(f"{url}/auth/callback?code=x&state=forged-{i}"),
        lambda: http.post(f"{url}/language", data={"lang": "nl", "next": "/"}),
        lambda: http.get(f"{url}/api/v1/box"),
        lambda: http.get(f"{url}/box/INBOX", allow_redirects=False),
    ]
    return kinds[i % len(kinds)]()


def test_anonymous_pages_make_no_session(live_app):
    store = store_of(live_app)
    before = len(store)
    with requests.Session() as http:
        http.headers["Accept"] = "text/html"
        for i in range(22):
            answer = anonymous_visit(live_app, http, i)
            assert answer.status_code < 500, (answer.url, answer.status_code)
            assert SESSION_COOKIE not in answer.headers.get("Set-Cookie", ""), answer.url
        assert SESSION_COOKIE not in http.cookies
    assert len(store) == before
    # The pages an anonymous visitor sees carry no CSRF token: there is no session for it.
    welcome = requests.get(f"{live_app.url}/", timeout=10).text
    assert all("csrf_token" not in form["fields"] for form in page_forms(welcome))


def test_the_login_in_progress_is_a_sealed_cookie_for_the_callback_only(live_app):
    start = requests.get(f"{live_app.url}/login", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    cookie = next(c for c in start.cookies if c.name == login_state.COOKIE)
    assert cookie.path == "/auth/" and cookie.has_nonstandard_attr("HttpOnly")
    state = requests.utils.urlparse(start.headers["Location"]).query
    assert "state=" in state
    for secret in ("state", "nonce", "verifier", "next"):  # nothing readable in it
        assert secret not in cookie.value
    # Altered, it is worth nothing: the callback refuses the login, makes no session.
    forged = requests.get(
        f"{live_app.url}/auth/callback?code=x&state=y",
        cookies={login_state.COOKIE: cookie.value[:-4] + "AAAA"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 400 and SESSION_COOKIE not in forged.headers.get("Set-Cookie", "")


def test_an_anonymous_flood_leaves_a_logged_in_user_logged_in(make_live_app):
    """The store bounded at 20 entries, 1,100 anonymous requests of every kind: the user
    who logged in before them is still logged in after them, and the store kept its bound."""
    live = make_live_app({"SESSION_STORE_MAX_ENTRIES": "20", "RATE_LIMIT_LOGIN": "10000/minute"})
    store = store_of(live)
    with Browser(live) as alice:
        alice.login("dr-alice")
        kept = len(store)
        with requests.Session() as crowd:
            crowd.headers["Accept"] = "text/html"
            for i in range(1100):
                assert anonymous_visit(live, crowd, i).status_code < 500
        assert len(store) <= 20 and len(store) == kept
        inbox = alice.get(alice.url("/box/INBOX"), allow_redirects=False)
        assert inbox.status_code == 200 and "Alice Peeters" in inbox.text


def test_the_bound_holds_for_a_small_store():
    from ehbox_webapp.stores import MemoryStore

    store = MemoryStore(max_entries=10)
    store.set("session:kept", {"user": "alice"}, ttl=8 * 3600)
    for i in range(1000):
        store.set(f"entry:{i}", {"v": i}, ttl=60)
        assert len(store) <= 10
    assert store.get("session:kept") == {"user": "alice"}  # the farthest expiry stays


def test_an_anonymous_language_choice_from_another_site_is_refused(live_app):
    choice = {"lang": "de", "next": "/"}
    url = f"{live_app.url}/language"
    elsewhere = requests.post(
        url, data=choice, headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert elsewhere.status_code == 400 and "lang" not in elsewhere.cookies
    cross_site = requests.post(
        url, data=choice, headers={"Sec-Fetch-Site": "cross-site"}, timeout=10
    )
    assert cross_site.status_code == 400
    own = requests.post(
        url,
        data=choice,
        headers={"Origin": live_app.url, "Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
        timeout=10,
    )
    assert own.status_code == 302 and own.cookies.get("lang") == "de"
    assert SESSION_COOKIE not in own.headers.get("Set-Cookie", "")
