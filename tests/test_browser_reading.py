"""Reading the mail as a doctor does, in Chromium, on a desktop and on a phone, in Dutch and
French (German too for the words): the Sent folder by recipient and receipt, the inbox's first
message on the phone's first screen, no English code word on any page, the letter itself in
the print output. Every page visited passes axe-core and fits the screen.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browser_fixtures import SCREENSHOTS
from conftest import LiveApp, serve
from ehbox_fixtures import sandbox_of
from test_browser_pages import WIDTHS, axe_source
from test_mailbox_etee import sealed_pair

from ehbox_webapp.ehealth.ehealthbox import Attachment, NewMessage, Recipient
from ehbox_webapp.pdf import make_pdf
from ehbox_webapp.sandbox.personas import persona
from ehbox_webapp.web.pages.qualities import QUALITY_LABELS

ALICE, BRAM, CHLOE = persona("dr-alice"), persona("nurse-bram"), persona("dr-chloe")
LETTER_LINE = "Zuurstof thuis 2 liter per minuut, controle over zes weken."
READ_BY_ONE_OF_TWO = {"nl": "Gelezen door 1 van 2", "fr": "Lu par 1 sur 2"}
NOT_LISTED_YET = {"nl": "Gepubliceerd", "fr": "Publié"}  # Bram has not opened his box


@dataclass
class Mail:
    live: LiveApp
    axe: str
    letter: str  # Alice's INBOX: a PDF letter from Bram
    kinds: dict[str, str]  # kind of page -> path


@pytest.fixture(scope="module")
def mail(sandbox_keystore, tmp_path_factory) -> Iterator[Mail]:
    live = serve(tmp_path_factory.mktemp("reading"), sandbox_keystore)
    try:
        sandbox = sandbox_of(live)
        alice, bram, chloe = (sandbox.client(p) for p in ("dr-alice", "nurse-bram", "dr-chloe"))
        bram.send(
            NewMessage(
                [Recipient(ALICE.ssin, "INSS", "DOCTOR")],
                "Ontslagbrief longziekten",
                document=Attachment(
                    make_pdf(
                        "Ontslagbrief longziekten",
                        [
                            "Geachte collega, mevrouw Claes werd op 3 december ontslagen.",
                            LETTER_LINE,
                        ],
                    ),
                    "ontslagbrief.pdf",
                    "application/pdf",
                ),
                patient_inss="49110228483",
            )
        )
        to_both = [Recipient(CHLOE.ssin, "INSS", "DOCTOR"), Recipient(BRAM.ssin, "INSS", "NURSE")]
        alice.send(NewMessage(to_both, "Multidisciplinair overleg", text="Donderdag om 8 uur."))
        alice.send(NewMessage([to_both[1]], "Wondzorg thuis", text="Verband elke twee dagen."))
        overleg = next(
            m for m in chloe.iter_messages("INBOX") if m.title == "Multidisciplinair overleg"
        )
        chloe.get_message(overleg.message_id)  # Chloé reads it; Bram does not yet
        letter = next(
            m for m in alice.iter_messages("INBOX") if m.title == "Ontslagbrief longziekten"
        )
        sealed, _ = sealed_pair(live)
        kinds: dict[str, str] = {"letter": f"/box/INBOX/{letter.message_id}"}
        for m in alice.list_messages("INBOX", 1, 60).messages:
            kind = m.content_specification.content_type
            if kind in ("ACKNOWLEDGMENT", "ERROR"):
                kinds.setdefault(kind.lower(), f"/box/INBOX/{m.message_id}")
        kinds["encrypted"] = f"/box/INBOX/{sealed}"
        sent = alice.list_messages("SENTBOX", 1, 1).messages[0].message_id
        kinds["sent message"] = f"/box/SENTBOX/{sent}"
        kinds["print"] = f"/box/INBOX/{letter.message_id}/print"
        yield Mail(live, axe_source(), f"/box/INBOX/{letter.message_id}", kinds)
    finally:
        live.stop()


def titled(client, title: str):
    return next(m for m in client.iter_messages("INBOX") if m.title == title)


def open_as(chromium, mail: Mail, width: str, lang: str, who: str = "dr-alice"):
    w, h = WIDTHS[width]
    context = chromium.new_context(
        viewport={"width": w, "height": h}, locale=lang, has_touch=width == "phone"
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{mail.live.url}/login")
    page.click(f"button[name=username][value={who}]")
    page.wait_for_url(f"{mail.live.url}/**")
    with page.expect_navigation():
        page.click(f"form.languages button[value={lang}]")
    return context, page


def clean(page, mail: Mail, name: str) -> None:
    """The page fits the screen and axe-core finds nothing (a screenshot is left if it does)."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(mail.axe)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => v.id + ': ' + v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(', '))"
    )
    if found:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"reading-{name}.png"), full_page=True)
    assert found == [], name


def row_text(page, title: str) -> dict:
    row = page.locator("table.messages tbody tr", has_text=title)
    return {
        "to": row.locator("td.recipients").inner_text(),
        "receipt": row.locator("td.receipt").inner_text(),
    }


@pytest.mark.parametrize("lang", ["nl", "fr"])
@pytest.mark.parametrize("width", WIDTHS)
def test_sent_names_the_recipients_with_their_receipt_state(chromium, mail, width, lang):
    context, page = open_as(chromium, mail, width, lang)
    try:
        page.goto(f"{mail.live.url}/box/SENTBOX")
        both = row_text(page, "Multidisciplinair overleg")
        assert "Chloé Dubois" in both["to"] and "Bram Janssens" in both["to"]
        assert "Alice Peeters" not in both["to"]  # not "From: me"
        assert both["receipt"] == READ_BY_ONE_OF_TWO[lang]
        one = row_text(page, "Wondzorg thuis")
        assert "Bram Janssens" in one["to"] and one["receipt"] == NOT_LISTED_YET[lang]
        clean(page, mail, f"sent-{width}-{lang}")
        # The search looks in the recipients, by name.
        page.fill("#search-q", "dubois")
        with page.expect_navigation():
            page.locator("form.search button[type=submit]").click()
        titles = page.locator("table.messages td.title").all_inner_texts()
        assert "Multidisciplinair overleg" in titles and "Wondzorg thuis" not in titles
        clean(page, mail, f"sent-search-{width}-{lang}")
    finally:
        context.close()


TAPPABLE = (
    "nav.folders a, form.search button, .search-more summary, .bulk-actions button,"
    " .bulk-actions a, table.messages label.tick, .pager a, header.site nav.site-nav > a,"
    " header.site button"
)


@pytest.mark.parametrize("lang", ["nl", "fr"])
@pytest.mark.parametrize("width", WIDTHS)
def test_the_inbox_shows_its_first_message_on_the_first_screen(chromium, mail, width, lang):
    context, page = open_as(chromium, mail, width, lang)
    height = WIDTHS[width][1]
    try:
        for name, path in (("inbox", "/box/INBOX"), ("search", "/box/INBOX?q=labo")):
            page.goto(f"{mail.live.url}{path}")
            first = page.locator("table.messages tbody tr").first.bounding_box()
            assert first["y"] + first["height"] <= height, (name, first)  # whole, unscrolled
            # On the phone, every control a thumb uses is 44 px at least, each way.
            small = (
                []
                if width != "phone"
                else page.evaluate(
                    "sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent)"
                    ".map(e => [e.textContent.trim().slice(0, 30), e.getBoundingClientRect()])"
                    ".filter(([, r]) => r.width < 44 || r.height < 44)"
                    ".map(([t, r]) => t + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))",
                    TAPPABLE,
                )
            )
            assert small == [], (name, small)
            # No field under 16 px: a phone would zoom into it.
            fonts = page.evaluate(
                "() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
                ".map(e => parseFloat(getComputedStyle(e).fontSize))"
            )
            assert fonts and min(fonts) >= 16, (name, fonts)
            clean(page, mail, f"{name}-{width}-{lang}")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["nl", "fr"])
@pytest.mark.parametrize("width", WIDTHS)
def test_the_print_view_prints_the_letter_after_the_envelope(chromium, mail, width, lang):
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the printed PDF (the test extra)")
    context, page = open_as(chromium, mail, width, lang)
    try:
        page.goto(f"{mail.live.url}{mail.letter}")
        with page.expect_navigation():
            page.locator("section.actions a.print-link").click()  # a link: no script needed
        page.locator("figure.pdf-page svg").first.wait_for()
        clean(page, mail, f"print-{width}-{lang}")
        printed = pypdf.PdfReader(io.BytesIO(page.pdf(format="A4")))
        pages = [" ".join((p.extract_text() or "").split()) for p in printed.pages]
        text = " | ".join(pages)
        assert LETTER_LINE in text  # the letter itself, as text
        assert "Bram Janssens" in pages[0] and "49.11.02-284.83" in pages[0]  # the envelope
        assert text.index("Bram Janssens") < text.index(LETTER_LINE)  # first
        assert "100%" not in text  # not a PDF viewer's toolbar
        assert "Terug naar het bericht" not in text and "Retour au message" not in text
    finally:
        context.close()


# English codes a Dutch, French or German page must never show, and the pseudo-plurals.
CODES = sorted(set(QUALITY_LABELS) - {"CITIZEN"} | {"NIHII", "SSIN", "INSS"})
OTHER_IDS = {"nl": ("NISS", "ENSS"), "fr": ("INSZ", "ENSS"), "de": ("INSZ", "NISS")}
PSEUDO_PLURAL = re.compile(r"\w\((?:s|en|n|e|nen|x)\)")
# The page's text, and the words a browser shows from attributes: a field's suggestions
# (datalist options), placeholders, tooltips and the names read out to screen readers.
VISIBLE_WORDS = (
    "() => { const c = document.body.cloneNode(true);"
    " c.querySelectorAll('[translate=no], [lang=en], script, style').forEach(e => e.remove());"
    " const shown = [...c.querySelectorAll('datalist option')].map(o => o.value);"
    " for (const a of ['placeholder', 'title', 'aria-label', 'alt'])"
    "   c.querySelectorAll('[' + a + ']').forEach(e => shown.push(e.getAttribute(a)));"
    " return c.textContent + ' ' + shown.join(' '); }"
)


def code_words(text: str, lang: str) -> list[str]:
    words = "|".join(CODES + list(OTHER_IDS[lang]))
    found = re.findall(rf"\b(?:{words})\b", text)
    found += re.findall(r"\b(?:RIZIV|INAMI|LIKIV|NIHII)-[A-Z_]+", text)
    return found + PSEUDO_PLURAL.findall(text)


@pytest.mark.parametrize("lang", ["nl", "fr", "de"])
@pytest.mark.parametrize("width", WIDTHS)
def test_no_english_code_word_on_any_page(chromium, mail, width, lang):
    context, page = open_as(chromium, mail, width, lang)
    found: dict[str, list[str]] = {}
    try:
        pages = {
            "inbox": "/box/INBOX",
            "sent": "/box/SENTBOX",
            "bin": "/box/BININBOX",
            "sent bin": "/box/BINSENTBOX",
            "out of office": "/box/out-of-office",
            "drafts": "/box/drafts",
            "compose": "/box/compose",
            "reply": f"{mail.letter}/reply",
            "forward": f"{mail.letter}/forward",
            "delete": f"{mail.letter}/delete",
            **mail.kinds,
        }
        for name, path in pages.items():
            page.goto(f"{mail.live.url}{path}")
            words = code_words(page.evaluate(VISIBLE_WORDS), lang)
            if words:
                found[name] = sorted(set(words))
        # The bulk delete's confirmation names what it deletes, in a real plural.
        page.goto(f"{mail.live.url}/box/INBOX")
        for box in page.locator("table.messages td.select input").all()[:2]:
            box.check()
        with page.expect_navigation():
            page.locator(".bulk-actions button[value=delete]").click()
        assert page.locator("ul.to-delete li").count() == 2
        words = code_words(page.evaluate(VISIBLE_WORDS), lang)
        if words:
            found["delete selected"] = sorted(set(words))
    finally:
        context.close()
    assert found == {}
