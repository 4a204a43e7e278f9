"""Upstream round trips per user action, counted at the app's edge, each beside its minimum.

A user action is what a person does in the browser, from the click to the page shown, with
every request the browser makes for it (redirects, the preview frame):

- **login to the inbox**: /login?next=/box/INBOX, the sandbox login form, the inbox page;
- **open a message**: a row of the inbox opened (the link of the folder page, `?at=`),
  with its preview frame or text;
- **send**: the compose form sent (a text message to a colleague), to the page it lands on
  (opening the compose form is counted beside it, reported: it builds the address book);
- **reply**: the Reply button of that message, then the reply form sent;
- **forward**: the Forward button of that message, then the forward form sent.

Counted are the HTTP requests the app makes to the realm, the eHealthBox, the AddressBook
and the ETEE key directory while it serves them (`Edge`: the bench counts them where the
sandbox receives them, tests/test_round_trips.py where they leave the app). The actions run
in this order in one browser, after a warm-up login of another user (the realm's discovery
document and keys are fetched once per process, not per action).

Each action's minimum (`minimum`) is what it cannot do with fewer calls; docs/performance.md
says why for each one. The minimum of opening and forwarding depends on the message: its
document shown or not, its annexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Protocol
from urllib.parse import urljoin

import requests

from ehbox_webapp.sandbox.loopback import page_forms

from .harness import Server
from .identity import Login, browser_login
from .report import INFO, Row, verdict

PERSONA = "dr-alice"
WARM_UP_PERSONA = "dr-chloe"
TO = {"type": "INSS", "identifier": "90010178911", "quality": "DOCTOR"}  # dr-chloe (not the box
# the bench grows to 100,000 messages, which must hold 10 when its measure starts)
ACTIONS = ("login to the inbox", "open a message", "send", "reply", "forward")
# What the inbox page needs: the realm's code-for-tokens and the token exchange for the
# eHealthBox's audience; the inbox's page; one-message listings of the three other folders
# (their counts: no operation gives them together); boxInfo (the quota); the out-of-office
# list (the banner: is the user's own out-of-office on).
LOGIN_MINIMUM = 2 + 1 + 3 + 1 + 1
# What the page a send lands on (the sent message) needs: the message, its text (each action
# here writes one, and the page shows it as text) and its receipts. Not boxInfo: that page
# shows no quota, and the box's address is kept.
LANDING_MINIMUM = 3


UPSTREAMS = (
    ("realm", "/auth/realms/"),
    ("ehealthbox", "/ehealthbox/"),
    ("addressbook", "/addressbook/"),
    ("etee", "/etee/"),
)


def upstream_of(url: str) -> str:
    """Which upstream a call of the app goes to, by its path (the sandbox's or eHealth's)."""
    return next((name for name, part in UPSTREAMS if part in url), "other")


class Edge(Protocol):
    """Where the app's upstream calls are counted."""

    def reset(self) -> None: ...

    def read(self) -> dict[str, int]:
        """Calls since `reset`, by upstream (`realm`, `ehealthbox`, ...)."""
        ...


@dataclass
class Counted:
    action: str
    calls: dict[str, int]
    minimum: int | None  # None: reported, no budget
    why: str

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass
class Shown:
    """What a message page showed: its document (frame or text) and how many annexes."""

    document: bool
    annexes: int


def shown(html: str) -> Shown:
    return Shown(
        document='class="preview"' in html or 'class="document-text"' in html,
        annexes=len(set(re.findall(r"/annexes/(\d+)\"", html))),
    )


def run(base: str, edge: Edge) -> list[Counted]:
    """The five actions (and the compose form opened) against the app at `base`."""
    browser_login(base, WARM_UP_PERSONA).session.close()
    login: Login | None = None
    results: list[Counted] = []

    def log_in() -> requests.Response:
        nonlocal login
        login = browser_login(base, PERSONA, next_path="/box/INBOX")
        assert login.page is not None
        return login.page

    def count(action: str, do: Callable[[], requests.Response]) -> requests.Response:
        edge.reset()
        answer = do()
        if answer.status_code != 200:
            raise RuntimeError(f"{action}: {answer.url} answered {answer.status_code}")
        results.append(Counted(action, edge.read(), 0, ""))
        return answer

    inbox = count("login to the inbox", log_in)
    assert login is not None
    http = login.session
    results[-1].minimum, results[-1].why = LOGIN_MINIMUM, "2 realm + 6 eHealthBox"
    link = _row_link(inbox.text, position=2)  # a row inside the page: both neighbours listed
    page = count("open a message", lambda: _open(http, urljoin(base, link)))
    opened = shown(page.text)
    results[-1].minimum = 1 + opened.document
    results[-1].why = "the message" + (", its document" if opened.document else "")
    message = link.split("?")[0]

    compose = count("open the compose form", lambda: http.get(urljoin(base, "/box/compose")))
    results[-1].minimum, results[-1].why = None, "reported: the address book, kept 5 minutes"
    count("send", lambda: _press_send(http, base, compose, TO))
    results[-1].minimum = 1 + LANDING_MINIMUM
    results[-1].why = "the send, then the message, its text, its receipts"
    count("reply", lambda: _reply_or_forward(http, base, f"{message}/reply", None))
    results[-1].minimum = 1 + 1 + LANDING_MINIMUM
    results[-1].why = "the original, the send, then the message, its text, its receipts"
    count("forward", lambda: _reply_or_forward(http, base, f"{message}/forward", TO))
    parts = opened.document + opened.annexes
    results[-1].minimum = 1 + 1 + parts + 1 + LANDING_MINIMUM
    results[-1].why = (
        f"the original twice, its {parts} part(s), the send, then the message, its text, "
        "its receipts"
    )
    return results


def _row_link(html: str, position: int) -> str:
    links = re.findall(r'href="(/box/INBOX/[A-Za-z0-9]{13}\?at=(\d+))"', html)
    return unescape(next(link for link, at in links if int(at) == position))


def _open(http: requests.Session, url: str) -> requests.Response:
    """The message page, then what its preview frame loads."""
    page = http.get(url, timeout=30)
    for frame in re.findall(r'<iframe class="preview"[^>]*src="([^"]+)"', page.text):
        http.get(urljoin(url, unescape(frame)), timeout=30).raise_for_status()
    return page


def _reply_or_forward(
    http: requests.Session, base: str, path: str, to: dict | None
) -> requests.Response:
    """The Reply or Forward button (its form), then Send."""
    form = http.get(urljoin(base, path), timeout=30)
    form.raise_for_status()
    return _press_send(http, base, form, to)


def _press_send(
    http: requests.Session, base: str, page: requests.Response, to: dict | None
) -> requests.Response:
    """Fill what is empty in the compose form shown on `page`, and press Send."""
    form = next(f for f in page_forms(page.text) if f["action"].split("?")[0] == "/box/compose")
    fields = dict(form["fields"])
    if to is not None and not fields.get("recipients-0-identifier"):
        fields.update({f"recipients-0-{k}": v for k, v in to.items()})
    if not fields.get("title"):
        fields["title"] = "Round trips"
    if not fields.get("text"):
        fields["text"] = "Counted at the app's edge."
    fields["send"] = "Send"
    return http.post(urljoin(base, "/box/compose"), data=fields, timeout=30)


class ServerEdge:
    """The app's calls as the server that hosts the sandbox counts them (bench/wsgi.py)."""

    def __init__(self, server: Server):
        self.server = server

    def reset(self) -> None:
        self.server.reset_counts()

    def read(self) -> dict[str, int]:
        counts = self.server.counts()["counts"]
        return {k.removeprefix("edge."): v for k, v in counts.items() if k.startswith("edge.")}


def rows(base: str, server: Server) -> list[Row]:
    """The bench's rows: one per action, its count beside its minimum (the budget)."""
    table = []
    for counted in run(base, ServerEdge(server)):
        by_upstream = ", ".join(f"{k} {v}" for k, v in sorted(counted.calls.items()))
        figure = f"{counted.total} ({by_upstream or 'none'})"
        details = {"calls": counted.calls, "minimum": counted.minimum, "minimum_is": counted.why}
        if counted.minimum is None:
            table.append(Row(7, counted.action, "(reported)", figure, INFO, None, details))
            continue
        used = counted.total / counted.minimum
        table.append(
            Row(
                7,
                counted.action,
                f"<= {counted.minimum}, its minimum: {counted.why}",
                figure,
                verdict(used),
                used,
                details,
            )
        )
    return table
