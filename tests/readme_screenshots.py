"""The README's screenshots: the sandbox as a doctor sees it, on a desktop and a phone.

.venv/bin/python tests/readme_screenshots.py     # writes docs/screenshots/*.png
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import serve
from ehbox_fixtures import sandbox_of
from playwright.sync_api import sync_playwright
from test_browser_pages import compose_with_errors

from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD
from ehbox_webapp.ehealth.keystore import generate_keystore

out = Path(__file__).parent.parent / "docs" / "screenshots"
tmp = Path(tempfile.mkdtemp())
ks = generate_keystore(
    tmp / "k.p12",
    SANDBOX_KEYSTORE_PASSWORD,
    identifier="0899999949",
    identifier_type="CBE",
    name="Sandbox Medical Software NV",
)
live = serve(tmp, ks)
sb = sandbox_of(live)
alice = sb.client("dr-alice")
mid = next(
    m
    for m in alice.iter_messages("INBOX")
    if m.has_annex and not m.content_specification.is_encrypted
).message_id
letter = next(
    m
    for m in alice.iter_messages("INBOX")
    if (m.mime_type or "").endswith("pdf") and not m.content_specification.is_encrypted
).message_id
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    for name, w, h in (("desktop", 1280, 800), ("phone", 390, 844)):
        c = b.new_context(viewport={"width": w, "height": h}, locale="nl-BE")
        page = c.new_page()
        page.goto(live.url + "/login")
        page.click("button[name=username][value=dr-alice]")
        page.wait_for_url(live.url + "/**")
        page.goto(f"{live.url}/box/INBOX/{mid}")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / f"message-{name}.png"))
        for shot, path in (
            ("inbox", "/box/INBOX"),
            ("sent", "/box/SENTBOX"),
            ("print", f"/box/INBOX/{letter}/print"),
        ):
            page.goto(f"{live.url}{path}")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / f"{shot}-{name}.png"))
        # Compose: a colleague found by name in the AddressBook, picked; title and text typed.
        page.goto(f"{live.url}/box/compose")
        page.fill("#find-recipient", "Wim Hermans")
        with page.expect_navigation():
            page.click("form.compose button[name=add_found]")
        page.fill("input[name=title]", "Verwijzing cardiologie")
        page.fill(
            "textarea[name=text]",
            "Beste collega,\n\nGraag uw advies over mevrouw Claes (72 j.): sinds twee weken"
            " kortademig bij inspanning, enkeloedeem. ECG in bijlage.\n\nMet vriendelijke groet,"
            "\nAlice Peeters",
        )
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")  # from the top
        page.screenshot(path=str(out / f"compose-{name}.png"))
        # Out of office: a substitute found by name and picked, the dates chosen.
        page.goto(f"{live.url}/box/out-of-office")
        page.fill("#find-substitute", "Wim Hermans")
        with page.expect_navigation():
            page.click("#find-substitute-button")
        page.evaluate(  # the substitutes in view: on a phone they are below the dates
            "document.activeElement.blur();"
            " document.querySelector('#find-substitute').closest('fieldset').scrollIntoView()"
        )
        page.screenshot(path=str(out / f"out-of-office-{name}.png"))
        if name == "phone":  # the README shows the phone's refused send
            compose_with_errors(page, live)
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / f"compose-errors-{name}.png"))
        c.close()
live.stop()
