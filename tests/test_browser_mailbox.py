"""The mailbox in a real browser (Chromium): two personas exchange a message, click by click."""

from __future__ import annotations

from pathlib import Path

from browser_fixtures import click_settled, login_in_browser

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"


def start_message_to_bram(page, live, title: str) -> None:
    """Open the compose page and fill in the recipient (Bram, nurse) and the title."""
    page.goto(f"{live.url}/box/compose")
    page.select_option("select[name='recipients-0-type']", "INSS")
    page.fill("input[name='recipients-0-identifier']", "79031545695")
    page.select_option("select[name='recipients-0-quality']", "NURSE")
    page.fill("input[name='title']", title)


def send_and_wait(page) -> None:
    page.click("form.compose input[name='send'], form.compose button[name='send']")
    page.locator(".flash").first.wait_for()


def open_folder(page, live, folder: str = "INBOX") -> None:
    page.goto(f"{live.url}/box/{folder}")
    page.locator("table.messages").wait_for()


def test_read_a_message_and_download_an_annex(page, live_app, tmp_path):
    login_in_browser(page, live_app, "dr-alice")
    open_folder(page, live_app)
    assert page.locator("table.messages tbody tr").count() == 25
    # The first seeded message that has annexes: open it, then download its first annex.
    page.locator("table.messages tbody tr:has(.flag:text-is('annex')) td.title a").first.click()
    page.locator("a.download").first.wait_for()
    annex_link = page.locator("ul a.download").first
    with page.expect_download() as download_info:
        click_settled(page, annex_link)
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.stat().st_size > 0
    assert page.js_errors == []  # no script error, no CSP violation (the inline PDF frame)


def test_two_personas_exchange_a_message_with_an_annex(chromium, live_app, tmp_path):
    pdf, annex = tmp_path / "verslag.pdf", tmp_path / "bijlage.txt"
    pdf.write_bytes(PDF)
    annex.write_text("Bloeddruk 12/8, pols 64.\n")

    alice = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = alice.new_page()
    try:
        login_in_browser(page, live_app, "dr-alice")
        start_message_to_bram(page, live_app, "Verslag na ontslag")
        page.set_input_files("input[name='document']", str(pdf))
        page.set_input_files("input[name='annexes']", str(annex))
        page.check("input[name='read_receipt']")
        send_and_wait(page)
        page.screenshot(path=str(_shot("alice_after_send")), full_page=True)
    finally:
        alice.close()

    bram = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = bram.new_page()
    try:
        login_in_browser(page, live_app, "nurse-bram")
        open_folder(page, live_app)
        row = page.locator("table.messages tbody tr").first
        assert "Verslag na ontslag" in row.inner_text() and "unread" in row.get_attribute("class")
        row.locator("td.title a").click()
        page.locator("a.download").first.wait_for()
        assert "bijlage.txt" in page.content()
        with page.expect_download() as download_info:
            click_settled(page, page.locator("ul a.download").first)
        saved = tmp_path / "received.txt"
        download_info.value.save_as(saved)
        assert saved.read_text() == annex.read_text()
        # To the bin.
        with page.expect_navigation():
            click_settled(page, page.locator("form[action$='/move'] button[name='move']"))
        open_folder(page, live_app, "BININBOX")
        assert "Verslag na ontslag" in page.locator("table.messages tbody tr").first.inner_text()
        page.screenshot(path=str(_shot("bram_bin")), full_page=True)
        # And out.
        page.click("header form button[type=submit]")
        page.wait_for_url(f"{live_app.url}/")
        assert page.locator("a.button[href='/login']").is_visible()
    finally:
        bram.close()


def _shot(name: str) -> Path:
    from browser_fixtures import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"test_two_personas_exchange_{name}.png"


def test_an_end_to_end_encrypted_message_in_the_browser(chromium, live_app, tmp_path):
    """Alice ticks "encrypt", Bram sees the content opened and who sealed it."""
    annex = tmp_path / "labo.txt"
    annex.write_text("Kalium 4,1 mmol/l\n")

    alice = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = alice.new_page()
    try:
        login_in_browser(page, live_app, "dr-alice")
        start_message_to_bram(page, live_app, "Labo (versleuteld)")
        page.fill("textarea[name='text']", "Vertrouwelijk verslag")
        page.fill("input[name='patient_inss']", "70020234512")
        page.set_input_files("input[name='annexes']", str(annex))
        page.check("input[name='encrypt']")
        send_and_wait(page)
    finally:
        alice.close()

    bram = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = bram.new_page()
    try:
        login_in_browser(page, live_app, "nurse-bram")
        page.goto(f"{live_app.url}/box/INBOX")
        row = page.locator("table.messages tbody tr").first
        assert "Labo (versleuteld)" in row.inner_text()
        row.locator("td.title a").click()
        sealed = page.locator("section.sealed-valid")
        sealed.wait_for()
        assert "85071212390" in sealed.inner_text()
        assert page.locator(".patient-inss").inner_text() == "70020234512"
        assert "Vertrouwelijk verslag" in page.content()
        with page.expect_download() as download_info:
            click_settled(page, page.locator("ul a.download").first)
        saved = tmp_path / "opened.txt"
        download_info.value.save_as(saved)
        assert saved.read_text() == annex.read_text()
    finally:
        page.screenshot(path=str(_shot("bram_encrypted")), full_page=True)
        bram.close()
