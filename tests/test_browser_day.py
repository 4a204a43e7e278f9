"""A doctor's day in Chromium, on a desktop (1280×800) and a phone (390×844), in Dutch and
French: a colleague she never wrote to found by name in the AddressBook (by keyboard with
the page's script, by clicks without it), picked and sent to, then named in Sent; a reply
that names whom it answers; a lost session and files too large, each back to the filled-in
form; Undo after a move to the bin; the older and newer message from a message; the banner
while she is out of office; the "logged out" notice; on the phone, every tap target of the
lists with tick boxes 44 px each way. Every page looked at passes axe-core and fits the
screen.

One app (uploads limited to 1 MB, so that "too large" is quick to reach) and one browser for
the module; Alice logs in once per width and language and keeps her session from test to
test (the logout test, last, ends it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from browser_fixtures import SCREENSHOTS
from conftest import LiveApp, serve
from ehbox_fixtures import sandbox_of
from test_browser_pages import EXPECTED_STATUS, WIDTHS, axe_source, compose_with_errors
from test_browser_reading import VISIBLE_WORDS, clean, code_words, open_as, row_text

from ehbox_webapp.sandbox.addressbook.directory import Person, directory
from ehbox_webapp.sandbox.personas import PERSONAS

LANGS = ("nl", "fr")
PHYSICIAN = {"nl": "Arts", "fr": "Médecin"}
NURSE = {"nl": "Verpleegkundige", "fr": "Infirmier"}
REPLY = {"nl": "Antwoorden", "fr": "Répondre"}
MESSAGE = {"title": "Verwijzing na consultatie", "text": "Beste collega,\ngraag uw advies."}
SESSION_COOKIE = "ehbox_session"
MB = 1024 * 1024


@dataclass
class Day:
    live: LiveApp
    axe: str
    colleagues: list[Person]  # in the AddressBook only: Alice never wrote to them, nor they to her
    reply_to: str  # a message from a named colleague, not a persona
    reply_sender: str
    pages: dict = field(default_factory=dict)  # (width, lang) -> Alice's page, logged in


@pytest.fixture(scope="module")
def day(sandbox_keystore, tmp_path_factory) -> Iterator[Day]:
    live = serve(
        tmp_path_factory.mktemp("day"),
        sandbox_keystore,
        # One doctor in four browsers at once, faster than anyone types: more sends a minute.
        {"MAX_UPLOAD_MB": "1", "RATE_LIMIT_SEND": "600/minute", "RATE_LIMIT_LOGIN": "100/minute"},
    )
    day = None
    try:
        alice = sandbox_of(live).client("dr-alice")
        inbox = list(alice.iter_messages("INBOX"))
        known = {m.sender.id for m in inbox} | {
            m.destination.id for m in alice.iter_messages("SENTBOX")
        }
        personas = {p.ssin for p in PERSONAS}
        known |= personas
        people = directory().people
        shared = Counter(p.last_name for p in people)
        colleagues = [
            p
            for p in people
            if p.professions[0][0] == "PHYSICIAN"
            and 2 <= shared[p.last_name] <= 4  # namesakes to tell apart, all on one screen
            and p.ssin not in known
        ]
        letter = next(
            m
            for m in inbox
            if m.sender.type == "INSS"
            and m.sender.id not in personas
            and m.sender.display_name != m.sender.id
            and not m.content_specification.is_encrypted
        )
        day = Day(
            live,
            axe_source(),
            colleagues,
            f"/box/INBOX/{letter.message_id}",
            letter.sender.display_name,
        )
        yield day
    finally:
        for page in day.pages.values() if day else ():
            page.context.close()
        live.stop()


@pytest.fixture
def alice(chromium, day, width, lang, request) -> Iterator[object]:
    """Alice's page at this width and language: logged in once, then kept for the module."""
    page = day.pages.get((width, lang))
    if page is None:
        _, page = open_as(chromium, day, width, lang)
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and page.js_errors.append(msg.text))
        day.pages[(width, lang)] = page
    elif getattr(page, "logged_out", False):
        log_in_again(page, day)
        page.logged_out = False
    page.js_errors.clear()
    failed = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed:  # what the page showed when the test failed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"day-{request.node.name}.png"), full_page=True)
    # No script error, no CSP violation (a refused form's 4xx answer is not one).
    assert [e for e in page.js_errors if not e.startswith(EXPECTED_STATUS)] == []


def log_in_again(page, day: Day) -> None:
    page.goto(f"{day.live.url}/login")
    page.click("button[name=username][value=dr-alice]")
    page.wait_for_url(f"{day.live.url}/**")


def focused(page) -> dict:
    return page.evaluate(
        "(() => { const e = document.activeElement; return {tag: e.tagName, name: e.name || '',"
        " value: e.value || '', id: e.id, cls: String(e.className)}; })()"
    )


def start_to_bram(page, day: Day) -> None:
    """The compose page with Bram picked by his full name, the title and the text typed."""
    page.goto(f"{day.live.url}/box/compose")
    page.fill("#find-recipient", "Bram Janssens")
    with page.expect_navigation():
        page.click("form.compose button[name=add_found]")
    assert page.locator(".person-picked").count() == 1, page.locator(".find-recipient").inner_text()
    page.fill("input[name=title]", MESSAGE["title"])
    page.fill("textarea[name=text]", MESSAGE["text"])


def assert_filled_in(page, lang: str) -> None:
    """The form as she left it: Bram by name, the title, the text."""
    picked = page.locator(".person-picked").all_inner_texts()
    assert len(picked) == 1 and "Bram Janssens" in picked[0] and NURSE[lang] in picked[0]
    assert page.input_value("input[name=title]") == MESSAGE["title"]
    assert page.input_value("textarea[name=text]") == MESSAGE["text"]


def send(page) -> None:
    with page.expect_navigation():
        page.click("form.compose [name=send]")


def colleague(day: Day) -> Person:
    """A colleague nobody took yet in this module (each is written to once)."""
    return day.colleagues.pop(0)


def pick_her_and_send(page, day: Day, her: Person, lang: str, title: str, name: str) -> None:
    """After her choice: she is the recipient, by name and profession; send; Sent names her.

    `name` None: a page without scripts, where axe-core cannot run (the same pages, with
    their scripts, pass it in the keyboard test)."""
    picked = page.locator(".person-picked").inner_text()
    assert her.name in picked and PHYSICIAN[lang] in picked, picked
    if name:
        clean(page, day, f"{name}-picked")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=text]", "Graag uw advies over deze patiënt.")
    send(page)
    assert her.name in page.locator("dd.recipients").inner_text()
    page.goto(f"{day.live.url}/box/SENTBOX")
    row = row_text(page, title)
    assert her.name in row["to"] and row["receipt"], row
    if name:
        clean(page, day, f"{name}-sent")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_colleague_never_written_to_is_found_by_name_by_keyboard_and_sent_to(
    day, alice, width, lang
):
    page, her = alice, colleague(day)
    page.goto(f"{day.live.url}/box/compose")
    page.locator("#find-recipient").focus()
    page.keyboard.type(her.last_name)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    choices = page.locator("ul.found button[name=pick]")
    labels = choices.all_inner_texts()
    assert sum(her.last_name in label for label in labels) >= 2, labels  # namesakes
    clean(page, day, f"found-{width}-{lang}")
    # The choices have the focus: Tab walks them, Enter picks the one meant.
    her_key = f"INSS:{her.ssin}:DOCTOR"
    assert "found" in focused(page)["cls"] or focused(page)["name"] == "pick"
    for _ in labels:
        page.keyboard.press("Tab")
        if focused(page)["value"] == her_key:
            break
    assert focused(page)["value"] == her_key
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focused(page)["id"] == "find-recipient"  # back in the search, for the next one
    pick_her_and_send(page, day, her, lang, f"Advies {her.last_name} ({width})", f"{width}-{lang}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_without_javascript_a_colleague_is_found_by_name_picked_and_sent_to(
    chromium, day, alice, width, lang
):
    w, h = WIDTHS[width]
    context = chromium.new_context(  # the same session, no script
        viewport={"width": w, "height": h},
        locale=lang,
        storage_state=alice.context.storage_state(),
        java_script_enabled=False,
    )
    context.set_default_timeout(20_000)
    page, her = context.new_page(), colleague(day)
    try:
        page.goto(f"{day.live.url}/box/compose")
        page.fill("#find-recipient", her.last_name)
        with page.expect_navigation():
            page.press("#find-recipient", "Enter")  # the search, not another of the form's buttons
        assert page.input_value("#find-recipient") == her.last_name
        with page.expect_navigation():
            page.click(f"ul.found button[value='INSS:{her.ssin}:DOCTOR']")
        title = f"Zonder script {her.last_name} ({width})"
        pick_her_and_send(page, day, her, lang, title, None)
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_reply_names_the_colleague_it_answers(day, alice, width, lang):
    page = alice
    page.goto(day.live.url + day.reply_to)
    with page.expect_navigation():
        page.locator("section.actions a.button", has_text=REPLY[lang]).first.click()
    assert page.locator("h1").inner_text() == REPLY[lang]
    picked = page.locator(".person-picked").all_inner_texts()
    assert len(picked) == 1 and day.reply_sender in picked[0], picked  # her name, not a number
    clean(page, day, f"reply-{width}-{lang}")
    page.fill("textarea[name=text]", "Dank u, gezien.")
    send(page)
    assert day.reply_sender in page.locator("dd.recipients").inner_text()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_lost_session_comes_back_to_the_filled_in_form(day, alice, width, lang):
    page = alice
    start_to_bram(page, day)
    page.context.clear_cookies(name=SESSION_COOKIE)  # the session is gone mid-compose
    send(page)
    page.click("button[name=username][value=dr-alice]")  # the login page, once more
    page.wait_for_url("**/box/compose?draft=*")
    assert page.locator(".flash").count() == 1
    assert_filled_in(page, lang)
    clean(page, day, f"lost-session-{width}-{lang}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_files_too_large_come_back_to_the_filled_in_form(day, alice, width, lang):
    page = alice
    start_to_bram(page, day)
    big = {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + b"x" * MB}
    page.set_input_files("input[name=annexes]", files=[big])
    send(page)  # over the 1 MB a message may weigh: refused next to its field
    assert "scan.pdf" in page.locator("#annexes-error").inner_text()
    assert "error-summary" in focused(page)["cls"]
    assert_filled_in(page, lang)
    clean(page, day, f"too-large-{width}-{lang}")
    # Too large even to be read (over four times the limit): back to the draft kept before.
    huge = {**big, "buffer": b"%PDF" + b"x" * (5 * MB)}
    page.set_input_files("input[name=annexes]", files=[huge])
    send(page)
    page.wait_for_url("**/box/compose?draft=*")
    assert page.locator(".flash-error").count() == 1
    assert_filled_in(page, lang)
    clean(page, day, f"too-large-to-read-{width}-{lang}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_send_names_qualities_and_identifiers_in_her_language(day, alice, width, lang):
    compose_with_errors(alice, day.live)  # a NIHII that does not fit a hospital, among others
    assert alice.locator(".error-summary li").count() >= 3
    assert code_words(alice.evaluate(VISIBLE_WORDS), lang) == []


def inbox_ids(page) -> list[str]:
    return page.locator("table.messages tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.messageId)"
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_undo_brings_a_message_back_from_the_bin(day, alice, width, lang):
    page = alice
    page.goto(f"{day.live.url}/box/INBOX")
    first = inbox_ids(page)[0]
    with page.expect_navigation():
        page.locator(f"tr[data-message-id='{first}'] td.title a").click()
    with page.expect_navigation():
        page.locator("section.actions button[name=move]").click()
    assert first not in inbox_ids(page) and page.locator(".flash").count() == 1
    undo = page.locator("form.undo button")
    assert undo.is_visible()
    clean(page, day, f"undo-{width}-{lang}")
    with page.expect_navigation():
        undo.click()
    assert inbox_ids(page)[0] == first  # back in its place
    assert page.locator("form.undo").count() == 0  # offered once


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_message_leads_to_the_older_and_the_newer_one(day, alice, width, lang):
    page = alice
    page.goto(f"{day.live.url}/box/INBOX")
    first, second = inbox_ids(page)[:2]
    with page.expect_navigation():
        page.locator(f"tr[data-message-id='{first}'] td.title a").click()
    assert page.locator(".message-nav a[rel=prev]").count() == 0  # the newest: none newer
    clean(page, day, f"message-nav-{width}-{lang}")
    with page.expect_navigation():
        page.locator(".message-nav a[rel=next]").click()
    assert f"/box/INBOX/{second}" in page.url
    with page.expect_navigation():
        page.locator(".message-nav a[rel=prev]").click()
    assert f"/box/INBOX/{first}" in page.url


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_her_own_pages_say_she_is_out_of_office(day, alice, width, lang):
    page = alice
    page.goto(f"{day.live.url}/box/out-of-office")
    page.fill("input[name=start]", date.today().isoformat())
    page.fill("input[name=end]", (date.today() + timedelta(days=3)).isoformat())
    with page.expect_navigation():
        page.click("form.absence [name=add]")
    try:
        for where in ("/box/INBOX", day.reply_to):
            page.goto(day.live.url + where)
            banner = page.locator(".absence-banner")
            assert banner.is_visible() and banner.locator("a").count() == 1, where
        clean(page, day, f"out-of-office-{width}-{lang}")
    finally:
        page.goto(f"{day.live.url}/box/out-of-office")
        for end in page.locator("ul.absences form button").all():
            with page.expect_navigation():
                end.click()
    page.goto(f"{day.live.url}/box/INBOX")
    assert page.locator(".absence-banner").count() == 0


# Every control a thumb uses on the lists with tick boxes: links, buttons, tick boxes (their
# label is the target), disclosures. A link kept out of the tab order repeats the row's title
# link (the same address), which is the row's target.
TARGETS = """() => {
  const shown = e => { for (let n = e; n; n = n.parentElement) { const s = getComputedStyle(n);
    if (s.display === 'none' || s.visibility === 'hidden' || (s.clip && s.clip !== 'auto'))
      return false; } return true; };
  return [...document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .filter(shown)
    .filter(e => !(e.matches('a[tabindex="-1"]') && e.closest('tr')
                   && e.closest('tr').querySelector('td.title a').href === e.href))
    .map(e => e.matches('input[type=checkbox], input[type=radio]') && e.closest('label') || e)
    .map(e => { const r = e.getBoundingClientRect();
      return [e.tagName + ' ' + (e.textContent || e.getAttribute('aria-label') || '').trim()
              .slice(0, 40), Math.round(r.width), Math.round(r.height)]; })
    .filter(([, w, h]) => w < 44 || h < 44);
}"""


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", ["phone"])
def test_on_the_phone_every_tap_target_of_the_lists_is_44_px(day, alice, width, lang):
    page = alice
    for title in ("Concept een", "Concept twee"):
        page.goto(f"{day.live.url}/box/compose")
        page.fill("input[name=title]", title)
        with page.expect_navigation():
            page.click("form.compose [name=save_draft]")
    small = {}
    for name, path in (
        ("drafts", "/box/drafts"),
        ("inbox", "/box/INBOX"),
        ("sent", "/box/SENTBOX"),
    ):
        page.goto(day.live.url + path)
        assert page.locator("input[type=checkbox]").count() >= 2, name  # a list to tick
        if found := page.evaluate(TARGETS):
            small[name] = found
    assert small == {}, json.dumps(small, indent=1, ensure_ascii=False)
    page.goto(f"{day.live.url}/box/drafts")
    clean(page, day, f"drafts-{width}-{lang}")
    # A tap on a tick box's label ticks it.
    page.locator("table.drafts label.tick").first.tap()
    assert page.locator("table.drafts input[type=checkbox]").first.is_checked()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_after_logging_out_the_page_says_so(day, alice, width, lang):
    page = alice
    page.goto(f"{day.live.url}/box/INBOX")
    with page.expect_navigation():
        page.click("header.site form button[type=submit]")
    page.wait_for_url(f"{day.live.url}/")
    page.logged_out = True
    notice = page.locator(".flash")
    assert notice.count() == 1 and notice.is_visible()
    clean(page, day, f"logged-out-{width}-{lang}")
    page.goto(f"{day.live.url}/box/INBOX")  # the session is over
    assert "/box/INBOX" not in page.url or page.locator("button[name=username]").count()
