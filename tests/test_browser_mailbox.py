"""The mailbox in a real browser (Chromium): two personas exchange a message, click by click."""

from __future__ import annotations

from pathlib import Path

from browser_fixtures import click_settled, login_in_browser

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"


def start_message_to_bram(page, live, title: str) -> None:
    """Open the compose page, pick the recipient by name (Bram, nurse) and fill in the title."""
    page.goto(f"{live.url}/box/compose")
    page.fill("#find-recipient", "Bram Janssens")
    with page.expect_navigation():
        page.click("form.compose [name='add_found']")
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
        assert "85.07.12-123.90" in sealed.inner_text()
        assert (
            page.locator(".patient-inss").inner_text() == "70.02.02-345.12"
        )  # opened, shown as people read it
        assert "Vertrouwelijk verslag" in page.content()
        with page.expect_download() as download_info:
            click_settled(page, page.locator("ul a.download").first)
        saved = tmp_path / "opened.txt"
        download_info.value.save_as(saved)
        assert saved.read_text() == annex.read_text()
    finally:
        page.screenshot(path=str(_shot("bram_encrypted")), full_page=True)
        bram.close()


def test_a_draft_is_saved_listed_reopened_and_sent_once(page, live_app):
    from ehbox_fixtures import sandbox_of

    login_in_browser(page, live_app, "dr-alice")
    start_message_to_bram(page, live_app, "Concept: controle na de ingreep")
    page.fill("textarea[name='text']", "Graag controle over een week.")
    page.check("input[name='is_important']")
    page.click("form.compose [name='save_draft']")
    page.locator(".flash", has_text="Draft saved.").wait_for()

    page.click("header a:has-text('Drafts')")
    page.locator("table.drafts").wait_for()
    page.click("table.drafts td.title a:has-text('Concept: controle na de ingreep')")
    assert page.input_value("input[name='recipients-0-identifier']") == "79031545695"
    assert page.input_value("textarea[name='text']") == "Graag controle over een week."
    assert page.is_checked("input[name='is_important']")
    send_and_wait(page)
    assert "Message sent." in page.locator(".flash").first.inner_text()

    page.goto(f"{live_app.url}/box/drafts")
    assert "Concept: controle na de ingreep" not in page.content()
    titles = [m.title for m in sandbox_of(live_app).client("nurse-bram").iter_messages("INBOX")]
    assert titles.count("Concept: controle na de ingreep") == 1
    assert page.js_errors == []


def test_typing_is_autosaved_and_leaving_unsaved_changes_asks_first(page, live_app):
    login_in_browser(page, live_app, "dr-alice")
    start_message_to_bram(page, live_app, "Automatisch bewaard in Chromium")
    page.locator(".autosave-status", has_text="Draft saved.").wait_for()  # the script saved it
    publication_id = page.input_value("input[name='publication_id']")
    page.fill("input[name='title']", "Nog niet bewaard")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.evaluate("document.querySelector('header a.brand').click()")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]  # dismissed: the user stays on the page
    page.locator(".autosave-status", has_text="Draft saved.").wait_for()  # then it is saved
    page.goto(f"{live_app.url}/box/compose?draft={publication_id}")  # saved: no question
    assert dialogs == ["beforeunload"]
    assert page.input_value("input[name='recipients-0-identifier']") == "79031545695"
    assert page.input_value("input[name='title']") == "Nog niet bewaard"
    assert page.js_errors == []


def test_ten_messages_are_selected_and_moved_to_the_bin_in_one_action(page, live_app):
    login_in_browser(page, live_app, "dr-alice")
    open_folder(page, live_app)
    rows = page.locator("table.messages tbody tr")
    ten = [rows.nth(i).get_attribute("data-message-id") for i in range(10)]
    for message_id in ten:
        page.check(f"#select-{message_id}")
    page.click("form.selected button[value=move]")
    page.locator(".flash", has_text="10 messages moved to Bin (received).").wait_for()
    shown = page.locator("table.messages tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.messageId)"
    )
    assert not set(ten) & set(shown)
    open_folder(page, live_app, "BININBOX")
    in_bin = page.locator("table.messages tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.messageId)"
    )
    assert set(ten) <= set(in_bin)
    assert page.js_errors == []


def test_a_search_finds_a_message_on_page_3_and_says_how_far_it_looked(page, live_app):
    from ehbox_fixtures import sandbox_of

    client = sandbox_of(live_app).client("dr-alice")
    wanted = client.list_messages("INBOX", 55, 55).messages[0]  # page 3 holds 51-75
    total = client.list_messages("INBOX", 1, 1).total
    login_in_browser(page, live_app, "dr-alice")
    open_folder(page, live_app)
    assert page.locator(f"tr[data-message-id='{wanted.message_id}']").count() == 0  # not page 1
    page.fill("#search-q", wanted.title)
    page.click("form.search button[type=submit]")
    page.locator(".search-extent").wait_for()
    assert f"The whole folder was searched ({total})" in page.locator(".search-extent").inner_text()
    page.click(f"tr[data-message-id='{wanted.message_id}'] td.title a")
    page.wait_for_url(f"**/box/INBOX/{wanted.message_id}")
    assert page.js_errors == []


def test_an_out_of_office_is_set_a_sender_sees_it_and_it_is_ended(chromium, live_app):
    from datetime import date, timedelta

    alice = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = alice.new_page()
    login_in_browser(page, live_app, "dr-alice")
    page.click("nav.folders a:has-text('Out of office')")
    page.fill("input[name='start']", date.today().isoformat())
    page.fill("input[name='end']", (date.today() + timedelta(days=5)).isoformat())
    page.click("form.absence details.by-identifier > summary")  # typed by identifier
    page.select_option("select[name='substitutes-0-type']", "INSS")
    page.fill("input[name='substitutes-0-identifier']", "90010178911")
    page.select_option("select[name='substitutes-0-quality']", "DOCTOR")
    page.click("form.absence [name='add']")
    page.locator(".flash", has_text="senders are told so").wait_for()
    assert page.locator("ul.absences li").count() == 1

    bram = chromium.new_context(viewport={"width": 1280, "height": 900})
    other = bram.new_page()
    try:
        login_in_browser(other, live_app, "nurse-bram")
        other.goto(f"{live_app.url}/box/compose")
        other.click("details.by-identifier > summary")  # typed by identifier, this time
        other.select_option("select[name='recipients-0-type']", "INSS")
        other.fill("input[name='recipients-0-identifier']", "85071212390")
        other.select_option("select[name='recipients-0-quality']", "DOCTOR")
        other.fill("input[name='title']", "Vraag tijdens de afwezigheid")
        other.fill("textarea[name='text']", "Even iets.")
        other.click("form.compose [name='send']")
        other.locator(".error-summary", has_text="out of office").wait_for()
        assert "Chloé Dubois" in other.locator(".substitutes").inner_text()  # the substitute

        page.click("ul.absences button:has-text('End it')")
        page.locator(".flash", has_text="The out-of-office is ended.").wait_for()
        assert page.locator("ul.absences li").count() == 0
        other.click("form.compose [name='send']")
        other.locator(".flash", has_text="Message sent.").wait_for()
    finally:
        bram.close()
        alice.close()


def test_a_recipient_is_picked_by_name_and_shown_by_name_in_the_sent_copy(page, live_app):
    login_in_browser(page, live_app, "dr-alice")
    page.goto(f"{live_app.url}/box/compose")
    options = page.locator("datalist#address-book option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    bram = [o for o in options if o.startswith("Bram Janssens, ")]  # offered as one types
    assert len(bram) == 1 and "79.03.15-456.95" in bram[0] and "NURSE" not in bram[0]
    page.fill("#find-recipient", "Bram")
    page.click("form.compose [name='add_found']")
    assert page.input_value("input[name='recipients-0-identifier']") == "79031545695"
    page.fill("input[name='title']", "Gekozen bij naam")
    page.fill("textarea[name='text']", "Hallo Bram.")
    send_and_wait(page)
    recipients = page.locator("dd.recipients").inner_text()
    assert "Bram Janssens" in recipients and "79.03.15-456.95" in recipients
    assert "Nurse" in recipients  # the quality in words, the identifier after the name
    assert "Bram Janssens" in page.locator("tr.receipt").first.inner_text()  # delivery table
    assert page.js_errors == []


def test_enter_in_the_address_book_search_adds_the_recipient(page, live_app):
    login_in_browser(page, live_app, "dr-alice")
    page.goto(f"{live_app.url}/box/compose")
    page.fill("input[name='title']", "Met Enter")
    page.fill("#find-recipient", "Bram Janssens")
    with page.expect_navigation():
        page.press("#find-recipient", "Enter")
    assert page.input_value("input[name='recipients-0-identifier']") == "79031545695"
    assert page.input_value("input[name='title']") == "Met Enter"
    assert page.js_errors == []
