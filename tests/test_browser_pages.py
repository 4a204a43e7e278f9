"""Every page on a desktop and on a phone, in every language, in Chromium.

For each width (1280×800 and 390×844) and each language, one browser context logs
Alice in once and visits every kind of page a user meets, the sandbox's login and
logout pages and the acceptance report included. On each page:

- nothing is wider than the screen (`document.documentElement.scrollWidth` is at
  most the viewport's width: WCAG 1.4.10 Reflow);
- axe-core (Deque's engine, pinned in tests/axe/) finds no violation.

Then what a doctor does with the pages: a refused send puts the focus on the error
summary, whose links lead to the fields; the message prints without the page's chrome;
annexes open in the preview frame; the onboarding page's copy buttons copy.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_fixtures import SCREENSHOTS, click_settled, login_in_browser
from conftest import LiveApp, serve
from ehbox_fixtures import sandbox_of
from test_mailbox_etee import sealed_pair

from ehbox_webapp.acceptance import RunOptions, run_acceptance, write_report
from ehbox_webapp.ehealth.ehealthbox import Attachment, NewMessage, Recipient
from ehbox_webapp.pdf import make_pdf
from ehbox_webapp.sandbox.personas import persona

AXE_DIR = Path(__file__).parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
LANGUAGES = ("en", "nl", "fr", "de")
ALICE = persona("dr-alice")
EXPECTED_STATUS = "Failed to load resource: the server responded with a status of 4"


def png(width: int, height: int) -> bytes:
    """A small grey PNG picture (zlib and struct: no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x99" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def axe_source() -> str:
    """axe-core's script, installed by `npm ci` in tests/axe (once, if it is missing)."""
    if not AXE_JS.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: run `npm ci` in tests/axe for axe-core")
        subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
            [npm, "ci", "--no-audit", "--no-fund"], cwd=AXE_DIR, check=True, timeout=300
        )
    return AXE_JS.read_text(encoding="utf-8")


@dataclass
class Site:
    """The app, the messages each kind of page shows, and an acceptance report."""

    live: LiveApp
    messages: dict[str, str]  # kind of page -> path
    report: Path
    axe: str


@pytest.fixture(scope="module")
def site(sandbox_keystore, tmp_path_factory) -> Iterator[Site]:
    live = serve(tmp_path_factory.mktemp("pages"), sandbox_keystore)
    try:
        axe = axe_source()
        sandbox = sandbox_of(live)
        alice = sandbox.client("dr-alice")
        bram = sandbox.client("nurse-bram")
        # A message whose document is an image, with a PDF and a text annex.
        bram.send(
            NewMessage(
                [Recipient(ALICE.ssin, "INSS", "DOCTOR")],
                "Wondfoto",
                document=Attachment(png(240, 160), "wonde.png", "image/png"),
                annexes=[
                    Attachment(make_pdf("Verslag", ["Wonde"]), "verslag.pdf", "application/pdf"),
                    Attachment(b"Wonde droog, geen roodheid.\n", "nota.txt", "text/plain"),
                ],
            )
        )
        sealed, broken = sealed_pair(live)
        picture = next(m for m in alice.iter_messages("INBOX") if m.title == "Wondfoto")
        kinds: dict[str, str] = {}
        for m in alice.list_messages("INBOX", 1, 40).messages:
            if m.content_specification.is_encrypted:
                continue
            kind = "annex" if m.has_annex else m.content_specification.content_type
            kinds.setdefault(kind, m.message_id)
        messages = {f"message {kind}": f"/box/INBOX/{mid}" for kind, mid in kinds.items()}
        messages["message encrypted"] = f"/box/INBOX/{sealed}"
        messages["message cannot be opened"] = f"/box/INBOX/{broken}"
        messages["annex cannot be opened"] = f"/box/INBOX/{broken}/annexes/1"
        sent = alice.list_messages("SENTBOX", 1, 1).messages[0].message_id
        messages["message with a picture"] = f"/box/INBOX/{picture.message_id}"
        messages["sent message"] = f"/box/SENTBOX/{sent}"
        messages["delete confirmation"] = f"/box/INBOX/{kinds['annex']}/delete"
        messages["reply"] = f"/box/INBOX/{kinds['annex']}/reply"
        messages["forward"] = f"/box/INBOX/{kinds['annex']}/forward"

        run = run_acceptance(
            live.app.config["SETTINGS"],
            live.app.extensions["services"].identity,
            RunOptions(run_as="m2m", wait_seconds=5),
        )
        _, report = write_report(run, tmp_path_factory.mktemp("report"))
        yield Site(live, messages, report, axe)
    finally:
        live.stop()


class Checker:
    """Checks pages in one browser context; collects every problem, fails once at the end."""

    def __init__(self, page, site: Site, label: str):
        self.page, self.site, self.label = page, site, label
        self.problems: dict[str, list] = {}
        self.width = page.viewport_size["width"]

    def visit(self, name: str, path: str) -> None:
        self.page.goto(path if path.startswith("file:") else f"{self.site.live.url}{path}")
        self.check(name)

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        found: list = []
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > self.width:
            found.append(f"{scroll_width} px wide on a {self.width} px screen")
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.site.axe)  # by the driver: no page's CSP is relaxed for it
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3)"
            ".map(n => n.target.join(' ') + ': ' + n.failureSummary.slice(0, 160))}))"
        )
        found.extend(result)
        if self.label.endswith("-en") or found:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            slug = name.replace(" ", "-").replace(",", "")
            page.screenshot(
                path=str(SCREENSHOTS / f"pages-{self.label}-{slug}.png"), full_page=True
            )
        if found:
            self.problems[f"{name} ({page.url})"] = found


def compose_with_errors(page, live: LiveApp) -> None:
    """Three recipient rows with mistakes and a title too long: the send is refused."""
    page.goto(f"{live.url}/box/compose")
    page.click("details.by-identifier > summary")  # the rows to type identifiers in
    for row, (kind, identifier, quality) in enumerate(
        [
            ("INSS", "79031545696", "NURSE"),
            ("CBE", "0899999949", "DOCTOR"),
            ("NIHII", "1234", "HOSPITAL"),
        ]
    ):
        page.select_option(f"select[name='recipients-{row}-type']", kind)
        page.fill(f"input[name='recipients-{row}-identifier']", identifier)
        page.select_option(f"select[name='recipients-{row}-quality']", quality)
    page.fill("input[name='patient_inss']", "12345678901")
    with page.expect_navigation():
        page.click("form.compose [name='send']")


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen_and_passes_axe(chromium, site, width, lang):
    w, h = WIDTHS[width]
    context = chromium.new_context(viewport={"width": w, "height": h}, locale=lang)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    check = Checker(page, site, f"{width}-{lang}")
    live = site.live
    try:
        page.goto(f"{live.url}/")
        with page.expect_navigation():
            page.click(f"form.languages button[value={lang}]")
        for name, path in [
            ("welcome", "/"),
            ("onboarding", "/onboarding"),
            ("public client", "/public-client/"),
            ("404", "/no-such-page"),
            ("login failure", "/auth/callback?code=abc&state=forged"),
        ]:
            check.visit(name, path)
        page.goto(f"{live.url}/login")
        check.check("sandbox login")
        page.click("button[name=username][value=dr-alice]")
        page.wait_for_url(f"{live.url}/**")
        with page.expect_navigation():
            page.click(f"form.languages button[value={lang}]")
        for name, path in [
            ("home", "/"),
            ("inbox", "/box/INBOX"),
            ("inbox page 2", "/box/INBOX?page=2"),
            ("sent", "/box/SENTBOX"),
            ("bin", "/box/BININBOX"),
            ("compose", "/box/compose"),
            ("drafts", "/box/drafts"),
            ("out of office", "/box/out-of-office"),
            *site.messages.items(),
            ("logout confirmation", "/logout"),
        ]:
            check.visit(name, path)
        compose_with_errors(page, live)
        check.check("compose with errors")
        check.visit("acceptance report", site.report.as_uri())
        page.goto(f"{live.url}/box/INBOX")
        with page.expect_navigation():
            page.click("header.site form button[type=submit]")
        check.check("logged out")  # back from the sandbox's end-session endpoint
    finally:
        context.close()
    assert check.problems == {}, json.dumps(check.problems, indent=1, ensure_ascii=False)
    # No script error, no CSP violation (the 4xx pages visited on purpose are not errors).
    assert [e for e in errors if not e.startswith(EXPECTED_STATUS)] == []


@pytest.fixture
def phone(chromium, site) -> Iterator[object]:
    """Alice, logged in, on a 390×844 phone (Dutch, her token's language)."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="nl-BE")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{site.live.url}/login")
    page.click("button[name=username][value=dr-alice]")
    page.wait_for_url(f"{site.live.url}/**")
    yield page
    context.close()


def english_desktop(chromium, site, *permissions: str) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    if permissions:
        context.grant_permissions(list(permissions), origin=site.live.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    login_in_browser(page, site.live, "dr-alice", lang="en")
    yield page
    context.close()


@pytest.fixture
def desktop(chromium, site) -> Iterator[object]:
    """Alice, logged in, in English at 1280×800."""
    yield from english_desktop(chromium, site)


@pytest.fixture
def desktop_with_clipboard(chromium, site) -> Iterator[object]:
    """The same, allowed to read and write the clipboard."""
    yield from english_desktop(chromium, site, "clipboard-read", "clipboard-write")


def focused(page) -> dict:
    return page.evaluate(
        "(() => { const e = document.activeElement;"
        " return {id: e.id, tag: e.tagName, cls: e.className, text: e.innerText || ''}; })()"
    )


def test_a_refused_send_takes_the_focus_to_the_summary_and_from_there_to_the_field(phone, site):
    compose_with_errors(phone, site.live)
    summary = phone.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    now = focused(phone)
    assert "error-summary" in now["cls"] and "Het bericht is niet verstuurd" in now["text"]
    # Numbered rows, and each field in error says so and names its message.
    legends = phone.locator("fieldset.recipient-row legend").all_inner_texts()
    assert legends == ["Ontvanger 1", "Ontvanger 2", "Ontvanger 3"]
    field = phone.locator("#recipients-0-identifier")
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby").split()
    assert "recipients-0-identifier-error" in described
    assert "INSZ-nummer" in phone.locator("#recipients-0-identifier-error").inner_text()
    assert phone.locator("#recipient-1 [aria-invalid=true]").count() >= 1  # row 2 is wrong too
    assert phone.locator("#patient_inss").get_attribute("aria-invalid") == "true"
    assert phone.locator("#free_text").get_attribute("aria-invalid") is None  # no error there
    # The summary's first link leads the focus to the first field in error.
    first = summary.locator("a").first
    assert first.inner_text().startswith("Ontvanger 1:")
    first.click()
    assert focused(phone)["id"] == "recipients-0-identifier"
    # The keyboard's first stop is the skip link, shown when focused; it leads to the content.
    phone.goto(f"{site.live.url}/box/INBOX")
    phone.keyboard.press("Tab")
    assert focused(phone)["cls"] == "skip-link"
    assert phone.locator(".skip-link").bounding_box()["y"] >= 0
    phone.keyboard.press("Enter")
    assert focused(phone)["id"] == "main"
    ring = phone.evaluate(
        "(() => { const b = document.querySelector('.mailbox a'); b.focus();"
        " return getComputedStyle(b).outlineWidth; })()"
    )
    assert ring == "3px"  # keyboard focus: the thick ring, not the browser's thin default


def test_on_a_phone_the_folders_sit_above_the_list_and_each_message_is_one_row(phone, site):
    phone.goto(f"{site.live.url}/box/INBOX")
    folders = phone.locator("nav.folders").bounding_box()
    listing = phone.locator("section.listing").bounding_box()
    # Above the list, and less than a third of the screen: the messages start on the first screen.
    assert folders["y"] + folders["height"] <= listing["y"] and folders["height"] < 844 / 3
    row = phone.locator("table.messages tbody tr").first.bounding_box()
    assert row["width"] <= 390 and row["height"] < 140
    assert phone.locator("table.messages thead").bounding_box()["height"] <= 1  # read per row
    current = phone.locator("nav.folders a[aria-current=page]")
    assert current.inner_text().startswith("Postvak IN")
    assert phone.locator("header nav a[aria-current=page]").inner_text().startswith("Postvak IN")


def test_the_message_prints_without_the_page_chrome(desktop, site):
    desktop.goto(site.live.url + site.messages["message with a picture"])
    print_button = desktop.locator("section.actions a.print-link")
    assert print_button.is_visible()  # a link to the print view: it works without a script
    actions = desktop.locator("section.actions").bounding_box()
    assert actions["y"] < desktop.locator("section.preview").bounding_box()["y"]  # on top
    desktop.emulate_media(media="print")
    try:
        for chrome in ("header.site", "section.actions", ".breadcrumb", "iframe", ".skip-link"):
            assert not desktop.locator(chrome).is_visible(), chrome
        assert desktop.locator("h1").inner_text().startswith("Wondfoto")
        headers = desktop.locator("dl.headers").inner_text()
        assert "Bram Janssens" in headers and "85.07.12-123.90" in headers  # sender, recipients
        annexes = desktop.locator("section.annexes li")
        assert annexes.count() == 2 and all(annexes.nth(i).is_visible() for i in range(2))
        assert "verslag.pdf" in annexes.first.inner_text()
    finally:
        desktop.emulate_media(media="screen")
    assert desktop.locator("header.site").is_visible()


def test_annexes_open_in_the_preview_frame(desktop, site):
    desktop.goto(site.live.url + site.messages["message with a picture"])
    frame = desktop.frame("preview")
    assert frame.url.endswith("/document/inline")
    note = desktop.locator("[data-pdf-note]")
    renders_pdf = desktop.evaluate("navigator.pdfViewerEnabled")
    assert note.is_visible() == (not renders_pdf)  # the note only where PDFs cannot show
    show_text = desktop.locator("section.annexes li:has-text('nota.txt') a.show-annex")
    href = show_text.get_attribute("href")
    with desktop.expect_response(lambda response: response.url.endswith(href)) as answer:
        click_settled(desktop, show_text)
    assert answer.value.headers["content-security-policy"].startswith("sandbox")
    desktop.frame("preview").wait_for_url(f"**{href}")
    assert "Wonde droog" in desktop.frame("preview").content()
    with desktop.expect_response(lambda response: response.url.endswith("/document/inline")):
        desktop.locator("a[target=preview]:has-text('Show the document')").focus()
        desktop.keyboard.press("Enter")
    frame = desktop.frame("preview")
    frame.wait_for_url("**/document/inline")
    image = frame.evaluate(
        "(() => { const i = document.querySelector('img');"
        " return i ? [i.naturalWidth, i.naturalHeight] : null; })()"
    )
    assert image == [240, 160]  # the picture, drawn in the sandboxed frame


def test_the_onboarding_page_wraps_and_copies(desktop_with_clipboard, site):
    desktop = desktop_with_clipboard
    desktop.goto(f"{site.live.url}/onboarding")
    assert desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    body = desktop.locator("#email-body").inner_text()
    desktop.locator("button[data-copy=email-body]").click()
    desktop.locator("#email-copied").filter(has_text="Copied").wait_for()
    assert desktop.evaluate("navigator.clipboard.readText()") == body
    # An empty field is either to fill in (essential) or to leave blank: never both.
    for row in desktop.locator("table.form-fields tbody tr").all():
        text = row.inner_text()
        assert not ("(leave blank)" in text and "Missing" in text), text
