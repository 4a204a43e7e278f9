"""Out-of-office substitutes picked by name, as the compose page picks recipients.

Over HTTP against the sandbox, with plain form posts as a browser without JavaScript sends
them: Enter in the search field submits the form's first button (the search's), a choice is
a `pick` button; with JavaScript, pages.js clicks that same button, so the post is the same.
The colleague is in the sandbox AddressBook only (Alice never wrote to her, nor she to Alice).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from conftest import Browser
from test_find_a_colleague import namesakes
from test_mailbox import ALICE, CHLOE, compose_and_send, form_fields, sandbox_of, to

from ehbox_webapp.mailbox.people import format_inss

TODAY = date.today()
PAGE = "/box/out-of-office"


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as b:
        b.login("dr-alice")
        yield b


def post(browser: Browser, page, data: dict):
    """Submit the out-of-office form shown on `page` with `data` changed."""
    fields = {**form_fields(page.text, PAGE), **data}
    return browser.post(browser.url(PAGE), data=fields, timeout=30)


def picks(html: str) -> dict[str, str]:
    """The choices a search offers: the `pick` button's value -> its text."""
    found = re.findall(r'<button type="submit" name="pick" value="([^"]+)"[^>]*>([^<]+)<', html)
    return {key: unescape(text) for key, text in found}


def substitutes(html: str) -> list[str]:
    """The identifiers of the substitutes the form holds, in order."""
    fields = form_fields(html, PAGE)
    return [v for k, v in fields.items() if re.fullmatch(r"substitutes-\d+-identifier", k) and v]


def card(html: str, identifier: str) -> str:
    """The text of the picked person's card holding `identifier`."""
    for block in re.findall(r'<fieldset class="recipient-row picked.*?</fieldset>', html, re.S):
        if f'value="{identifier}"' in block:
            block = re.sub(r"<legend.*?</legend>", "", block, flags=re.S)
            return " ".join(unescape(re.sub(r"<[^>]+>", "", block)).split())
    raise AssertionError(f"no card for {identifier}")


class _Buttons(HTMLParser):
    """The names of the submit buttons of the out-of-office form, in document order."""

    def __init__(self):
        super().__init__()
        self.inside, self.names = False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = (attrs.get("action") or "") == PAGE
        elif self.inside and tag in ("button", "input") and attrs.get("type") == "submit":
            self.names.append(attrs.get("name"))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def first_button(html: str) -> str | None:
    reader = _Buttons()
    reader.feed(html)
    return reader.names[0]


def end_all(browser: Browser) -> None:
    page = browser.get(browser.url(PAGE), timeout=10)
    for action in re.findall(r'action="(/box/out-of-office/[A-Za-z0-9]+/end)"', page.text):
        browser.post(
            browser.url(action),
            data={"csrf_token": form_fields(page.text, action)["csrf_token"]},
            timeout=10,
        )


def test_a_substitute_never_written_to_is_picked_by_name_once_and_everything_typed_stays(
    live_app, alice
):
    last_name, colleague = namesakes()
    mail = sandbox_of(live_app).client("dr-alice")
    assert colleague.ssin not in {m.sender.id for m in mail.iter_messages("INBOX")}
    assert colleague.ssin not in {m.destination.id for m in mail.iter_messages("SENTBOX")}
    start, end = TODAY.isoformat(), (TODAY + timedelta(days=5)).isoformat()
    page = alice.get(alice.url(PAGE), timeout=10)
    # Enter in the search field, without JavaScript: the form's first button is the search's.
    assert first_button(page.text) == "add_found"
    assert 'data-enter-clicks="find-substitute-button"' in page.text  # pages.js, the same

    choices = post(
        alice, page, {"start": start, "end": end, "find": last_name.lower(), "add_found": "1"}
    )
    assert choices.status_code == 200
    offered = picks(choices.text)
    her_key = f"INSS:{colleague.ssin}:DOCTOR"
    # By name, the profession in the reader's words, the INSS grouped: namesakes told apart.
    assert offered[her_key] == f"{colleague.name}, Doctor · INSS {format_inss(colleague.ssin)}"
    assert sum(text.split(",")[0].endswith(last_name) for text in offered.values()) >= 2
    kept = form_fields(choices.text, PAGE)
    assert (kept["start"], kept["end"], kept["find"]) == (start, end, last_name.lower())

    picked = post(alice, choices, {"pick": her_key})
    assert substitutes(picked.text) == [colleague.ssin]
    shown = card(picked.text, colleague.ssin)
    assert shown.startswith(f"{colleague.name}, Doctor · INSS {format_inss(colleague.ssin)}")
    assert "Remove" in shown
    assert f'aria-label="Remove {colleague.name} from the substitutes"' in picked.text
    kept = form_fields(picked.text, PAGE)
    assert (kept["start"], kept["end"]) == (start, end)

    # A second one, a past correspondent found by name at once; the first stays.
    both = post(alice, picked, {"find": "Chloé", "add_found": "1"})
    assert substitutes(both.text) == [colleague.ssin, CHLOE.ssin]
    assert card(both.text, CHLOE.ssin).startswith("Chloé Dubois, Doctor")

    # The same person again: said so, not added.
    again = post(alice, both, {"pick": her_key})
    assert f"{colleague.name} is a substitute already." in unescape(again.text)
    assert substitutes(again.text) == [colleague.ssin, CHLOE.ssin]

    # Removed with its button: the other substitute and the dates stay.
    index = re.search(
        rf'name="substitutes-(\d+)-identifier" value="{CHLOE.ssin}"', again.text
    ).group(1)
    removed = post(alice, again, {"remove_recipient": index})
    assert substitutes(removed.text) == [colleague.ssin]
    kept = form_fields(removed.text, PAGE)
    assert (kept["start"], kept["end"]) == (start, end)

    try:
        # Enter in a date field (the search empty): the period is set, with her by name.
        done = post(alice, removed, {"add_found": "1", "find": ""})
        assert "senders are told so" in done.text
        period = done.text.split('<ul class="absences">')[1].split("</ul>")[0]
        listed = " ".join(unescape(re.sub(r"<[^>]+>", "", period)).split())
        assert f"{colleague.name}, Doctor · INSS {format_inss(colleague.ssin)}" in listed

        # The banner of her own pages names the substitute.
        inbox = alice.get(alice.url("/box/INBOX"), timeout=10)
        banner = inbox.text.split('class="banner absence-banner"')[1].split("</p>")[0]
        assert colleague.name in unescape(banner)

        # Whoever writes to Alice is told whom to write to instead, by name, though he
        # never wrote to that colleague either.
        with Browser(live_app) as bram:
            bram.login("nurse-bram")
            refused = compose_and_send(bram, {**to(ALICE), "title": "Vraag", "text": "Iets."})
            assert refused.status_code == 409  # the failure table's, as the API answers
            notice = refused.text.split('<ul class="substitutes">')[1].split("</ul>")[0]
            assert colleague.name in unescape(notice)
            assert format_inss(colleague.ssin) in notice
    finally:
        end_all(alice)


def test_a_name_from_the_suggestions_is_added_without_a_choice(alice):
    page = alice.get(alice.url(PAGE), timeout=10)
    suggestion = re.search(r'<option value="(Chloé Dubois, [^"]+)">', page.text)
    assert suggestion, "Chloé is offered as the field is typed in"
    added = post(alice, page, {"find": unescape(suggestion.group(1)), "add_found": "1"})
    assert substitutes(added.text) == [CHLOE.ssin]
    assert 'name="pick"' not in added.text


def test_nobody_found_keeps_the_substitutes_and_the_dates(alice):
    page = alice.get(alice.url(PAGE), timeout=10)
    start = (TODAY + timedelta(days=10)).isoformat()
    typed = {
        "start": start,
        "substitutes-0-type": "INSS",
        "substitutes-0-identifier": CHLOE.ssin,
        "substitutes-0-quality": "DOCTOR",
    }
    chloe = post(alice, page, typed)
    assert substitutes(chloe.text) == [CHLOE.ssin]
    nobody = post(alice, chloe, {"find": "Niemand-zo-genaamd", "add_found": "1"})
    assert "Nobody in your address book matches" in unescape(nobody.text)
    assert substitutes(nobody.text) == [CHLOE.ssin]
    assert form_fields(nobody.text, PAGE)["start"] == start
    assert 'class="field-error"' in nobody.text and "Give the last day." not in nobody.text


# --- in Chromium, with JavaScript: Enter searches, a choice is clicked; axe-core, reflow -----
AXE = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    ".map(v => v.id + ': ' + v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(', '))"
)


@pytest.mark.parametrize("width", [360, 1280])
def test_in_the_browser_a_substitute_is_picked_by_keyboard_and_the_page_stays_accessible(
    chromium, live_app, width
):
    from browser_fixtures import SCREENSHOTS, login_in_browser
    from test_browser_pages import axe_source

    last_name, colleague = namesakes()
    context = chromium.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    axe = axe_source()

    def problems() -> list[str]:
        found = []
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > width:
            found.append(f"{wide} px wide on a {width} px screen")
        page.evaluate(axe)  # by the driver: the page's CSP stays strict
        return found + page.evaluate(AXE)

    try:
        login_in_browser(page, live_app)
        page.goto(f"{live_app.url}{PAGE}")
        page.fill("input[name=start]", TODAY.isoformat())
        page.fill("#find-substitute", last_name)
        with page.expect_navigation():
            page.press("#find-substitute", "Enter")
        assert page.input_value("input[name=start]") == TODAY.isoformat()
        her = page.locator(f"button[name=pick][value='INSS:{colleague.ssin}:DOCTOR']")
        assert her.inner_text().startswith(f"{colleague.name}, Doctor")
        assert problems() == [], "the choices"
        her.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        picked = page.locator("fieldset.recipient-row.picked")
        assert picked.count() == 1 and colleague.name in picked.inner_text()
        assert page.input_value("input[name=start]") == TODAY.isoformat()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"out-of-office-picked-{width}.png"), full_page=True)
        assert problems() == [], "the substitute picked"
    finally:
        context.close()
    assert errors == []
