"""The folder pages: one page of messages, newest first, with counts and the box quota.

The sent folders name each message's recipients and how far it got with them (published,
received, read; `mailbox.delivery`: one receipts call per row, kept, so at most `PAGE_SIZE`
calls for a page seen first). Messages the user marked unread show unread (`mailbox.marks`).

With `q` (sender or title; in the sent folders recipient or title) or `inss` (the patient's
INSS) the page shows the matches of a search through the folder (`mailbox.search`: the
platform has none, so the app pages through it up to `SEARCH_CAP` messages and says how far
it looked). `sort=sender` orders
the rows shown by sender. `select=all` ticks every row (the no-JavaScript "select all").
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, redirect, render_template, request, url_for

from ...ehealth.ehealthbox import EhealthboxClient, MessagePage, MessageSummary
from ...mailbox.delivery import Deliveries, recipient_texts
from ...mailbox.rules import MAX_PAGE, is_ascii_number, is_message_id
from ...mailbox.search import SORTS, Query, search, sort_messages
from ..caller import mailbox
from ..extensions import services
from ..i18n import current_page_language
from ..login_checks import access_token, login_required
from . import boxcache
from .blueprint import bp
from .common import FOLDER, FOLDER_WORDS, SENT_FOLDERS
from .contacts import box_name
from .message import unread_marks

PAGE_SIZE = 25


@dataclass(frozen=True)
class FolderCount:
    folder: str
    label: str
    total: int | None
    unread: int | None


@bp.get("/")
@login_required
def index():
    return redirect(url_for("mailbox.folder", folder="INBOX"))


@bp.get(f"/{FOLDER}")
@login_required
def folder(folder: str):
    page_number = _page_number()
    client = mailbox()
    query = Query.of(request.args.get("q", ""), "", request.args.get("inss", ""))
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "date"
    if not query.empty:
        return _search_page(client, folder, query, sort)
    start = (page_number - 1) * PAGE_SIZE + 1
    page = client.list_messages(folder, start, start + PAGE_SIZE - 1)
    if page_number > 1 and not page.messages:
        abort(404)
    messages = without_repeats(page.messages, after=request.args.get("after"))
    last_page = _last_page(page, page_number)
    shown = sort_messages(messages, sort) if sort != "date" else messages
    # Each row's position in the folder, for the message page's previous and next.
    positions = {m.message_id: page.start + i for i, m in enumerate(page.messages)}
    return render_template(
        "mailbox/folder.html",
        **_rows(client, folder, shown),
        positions=positions if sort == "date" else {},
        sort=sort,
        query=query,
        found=None,
        select_all=request.args.get("select") == "all",
        page=page_number,
        last_page=last_page,
        next_after=messages[-1].message_id if messages else None,
        counts=folder_counts(client, page),
        box=boxcache.box_info(client),
    )


def _search_page(client, folder: str, query: Query, sort: str):
    found = search(client, folder, query, recipients=recipient_texts(deliveries(client), box_name))
    first = client.list_messages(folder, 1, 1)  # the counts of the folder being shown
    return render_template(
        "mailbox/folder.html",
        **_rows(client, folder, sort_messages(found.messages, sort)),
        positions={},
        sort=sort,
        query=query,
        found=found,
        select_all=request.args.get("select") == "all",
        page=1,
        last_page=1,
        next_after=None,
        counts=folder_counts(client, first),
        box=boxcache.box_info(client),
    )


def deliveries(client) -> Deliveries:
    """The logged-in user's sent messages' deliveries, kept in her memory's store.

    The receipts are asked from worker threads, which have no request context: their client
    carries the token exchanged here, once, in the request's own thread.
    """
    svc = services()
    token = svc.ehealthbox_token(access_token())
    memory = boxcache.memory()
    return Deliveries(svc.ehealthbox(lambda: token), memory.store, memory.sub)


def _rows(client, folder: str, messages: list[MessageSummary]) -> dict:
    """The rows of a folder page: the messages, their deliveries (sent folders), the marks."""
    sent = folder in SENT_FOLDERS
    return {
        "folder": folder,
        "messages": messages,
        "sent": sent,
        "deliveries": deliveries(client).of(m.message_id for m in messages) if sent else {},
        "marked_unread": unread_marks().of(folder) if not sent else frozenset(),
    }


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not is_ascii_number(raw, 1, MAX_PAGE):
        abort(404)
    return int(raw)


def _last_page(page: MessagePage, page_number: int) -> int | None:
    """The number of the last page, when eHealthBox tells the folder's total."""
    if page.total is not None:
        return max(1, -(-page.total // PAGE_SIZE))
    return None if len(page.messages) == PAGE_SIZE else page_number


def without_repeats(
    messages: tuple[MessageSummary, ...], after: str | None = None
) -> list[MessageSummary]:
    """The page's messages, each once, minus those already shown on the previous page.

    eHealthBox pages by position, newest first: when k messages arrive while the
    user reads page 1, the last k messages of page 1 come back at the top of
    page 2. The "next page" link carries `after`, the id of the last message the
    user saw; if it is on this page, it and everything above it were already
    shown. Limitation: if messages were removed meanwhile (moved or deleted
    elsewhere), positions shift the other way and a few messages fall between
    two pages; reloading page 1 shows them. Within a page, ids are unique too.
    """
    if is_message_id(after):
        ids = [m.message_id for m in messages]
        if after in ids:
            messages = messages[ids.index(after) + 1 :]
    seen: set[str] = set()
    unique = []
    for message in messages:
        if message.message_id not in seen:
            seen.add(message.message_id)
            unique.append(message)
    return unique


def folder_counts(client: EhealthboxClient, current: MessagePage) -> list[FolderCount]:
    """Total and unread per folder: the listed folder's live, the others kept briefly.

    See `boxcache.folder_counts`: a second view within its TTL asks eHealthBox nothing more
    than the folder's own page.
    """
    counts = boxcache.folder_counts(client, current, tuple(FOLDER_WORDS))
    page = current_page_language()
    return [
        FolderCount(name, page.word(word), *counts[name]) for name, word in FOLDER_WORDS.items()
    ]
