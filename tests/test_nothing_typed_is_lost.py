"""Nothing a doctor typed is lost, and nothing she did not write piles up in her drafts.

A lost session (the form's token no longer known) brings her back, after logging in again, to
the message as she typed it; a form from another site gets the plain "form expired" page and
keeps nothing. Files over the limit are refused next to their field with everything else in
place; a body too large even to read goes back to what the autosave kept. Searching for a
recipient on an untouched form makes no draft; several drafts are deleted at once; the same
recipient twice receives the message once.
"""

from __future__ import annotations

import pytest
from conftest import Browser
from test_mailbox import BRAM, form_fields, inbox_titles, post_compose, sandbox_of, to

MESSAGE = {
    "title": "Uitslag van het labo",
    "text": "Beste Bram,\nalles normaal.",
    "free_text": "Nota",
}


@pytest.fixture
def alice(live_app):
    with Browser(live_app) as browser:
        browser.login("dr-alice")
        yield browser


def drafts_of(browser: Browser) -> list[str]:
    page = browser.get(browser.url("/box/drafts"), timeout=10).text
    return [line for line in page.split('data-publication-id="')[1:]]


def test_a_lost_session_comes_back_to_the_message_after_logging_in(live_app, alice):
    page = alice.get(alice.url("/box/compose"), timeout=10)
    alice.cookies.clear()  # the session is gone (store restarted, expired...)
    answer = post_compose(alice, page, {**to(BRAM), **MESSAGE}, headers={"Origin": live_app.url})
    assert "/login" in answer.history[-1].headers.get("Location", "") or "username" in answer.text
    landed = alice.submit(answer, "username", {"username": "dr-alice"})
    assert landed.status_code == 200 and "/box/compose?draft=" in landed.url
    fields = form_fields(landed.text, "/box/compose")
    assert fields["title"] == MESSAGE["title"] and fields["text"] == MESSAGE["text"]
    assert fields["free_text"] == "Nota" and fields["recipients-0-identifier"] == BRAM.ssin
    again = alice.get(landed.url, timeout=10)  # the parked copy is now a draft: no second one
    assert form_fields(again.text, "/box/compose")["title"] == MESSAGE["title"]


def test_a_form_from_another_site_keeps_nothing(live_app, alice):
    page = alice.get(alice.url("/box/compose"), timeout=10)
    alice.cookies.clear()
    forged = post_compose(
        alice, page, {**to(BRAM), **MESSAGE}, headers={"Origin": "https://attacker.example"}
    )
    assert forged.status_code == 400 and "Form expired" in forged.text
    with Browser(live_app) as fresh:
        fresh.login("dr-alice")
        assert "Uitslag van het labo" not in fresh.get(fresh.url("/box/drafts"), timeout=10).text


def test_a_form_another_site_posts_with_a_null_origin_keeps_nothing(live_app, alice):
    """Under no-referrer a browser posts with `Origin: null`; its Sec-Fetch-Site still says
    where the form came from (this site's own forms: tests/test_browser_day.py)."""
    page = alice.get(alice.url("/box/compose"), timeout=10)
    alice.cookies.clear()
    headers = {"Origin": "null", "Sec-Fetch-Site": "cross-site"}
    forged = post_compose(alice, page, {**to(BRAM), **MESSAGE}, headers=headers)
    assert forged.status_code == 400 and "Form expired" in forged.text


def test_a_token_from_an_older_session_keeps_the_message_as_a_draft(live_app):
    with Browser(live_app) as alice:
        alice.login("dr-alice")
        page = alice.get(alice.url("/box/compose"), timeout=10)
        alice.login("dr-alice")  # logged in again meanwhile: the old form's token is stale
        kept = post_compose(
            alice,
            page,
            {**to(BRAM), **MESSAGE},
            headers={"Origin": live_app.url},
        )
        assert kept.status_code == 200 and "your message was kept" in kept.text
        assert form_fields(kept.text, "/box/compose")["text"] == MESSAGE["text"]
    assert MESSAGE["title"] not in inbox_titles(sandbox_of(live_app), "nurse-bram")


def test_files_over_the_limit_come_back_with_everything_typed(make_live_app):
    live = make_live_app({"MAX_UPLOAD_MB": "1"})
    with Browser(live) as alice:
        alice.login("dr-alice")
        page = alice.get(alice.url("/box/compose"), timeout=10)
        big = ("annexes", ("scan.pdf", b"%PDF" + b"x" * (3 * 1024 * 1024 // 2), "application/pdf"))
        refused = post_compose(alice, page, {**to(BRAM), **MESSAGE}, files=[big])
        assert refused.status_code == 422
        assert "“scan.pdf” was not added" in refused.text
        fields = form_fields(refused.text, "/box/compose")
        assert (
            fields["title"] == MESSAGE["title"] and fields["recipients-0-identifier"] == BRAM.ssin
        )


def test_a_body_too_large_to_read_goes_back_to_the_autosaved_draft(make_live_app):
    live = make_live_app({"MAX_UPLOAD_MB": "1"})
    with Browser(live) as alice:
        alice.login("dr-alice")
        page = alice.get(alice.url("/box/compose"), timeout=10)
        fields = form_fields(page.text, "/box/compose")
        saved = alice.post(
            alice.url("/box/compose/autosave"),
            data={
                "csrf_token": fields["csrf_token"],
                "publication_id": fields["publication_id"],
                **to(BRAM),
                **MESSAGE,
            },
            timeout=10,
        )
        assert saved.status_code == 204
        huge = ("annexes", ("scan.pdf", b"x" * (5 * 1024 * 1024), "application/pdf"))
        answer = alice.post(
            alice.url(f"/box/compose?draft={fields['publication_id']}"),
            data={**fields, **to(BRAM), **MESSAGE},
            files=[huge],
            timeout=30,
        )
        assert answer.status_code == 200 and "The files were too large to be read" in answer.text
        assert form_fields(answer.text, "/box/compose")["title"] == MESSAGE["title"]
        # Without a draft to go back to, the page says what happened.
        other = alice.post(
            alice.url("/box/compose?draft=NOSUCHDRAFT01"), data=fields, files=[huge], timeout=30
        )
        assert other.status_code == 413 and "Nothing was sent." in other.text


def test_searching_a_recipient_on_an_untouched_form_makes_no_draft(alice):
    before = drafts_of(alice)
    page = alice.get(alice.url("/box/compose"), timeout=10)
    found = post_compose(alice, page, {"find": "Bram", "add_found": "y"})
    assert found.status_code == 200
    more = post_compose(alice, page, {"add_recipient": "y"})
    assert more.status_code == 200
    empty = form_fields(page.text, "/box/compose")
    alice.post(
        alice.url("/box/compose/autosave"),
        data={"csrf_token": empty["csrf_token"], "publication_id": empty["publication_id"]},
        timeout=10,
    )
    assert drafts_of(alice) == before


def test_several_drafts_are_deleted_at_once(alice):
    pids = []
    for title in ("Eerste concept", "Tweede concept", "Derde concept"):
        page = alice.get(alice.url("/box/compose"), timeout=10)
        pids.append(form_fields(page.text, "/box/compose")["publication_id"])
        post_compose(alice, page, {"title": title, "save_draft": "y"})
    listed = alice.get(alice.url("/box/drafts"), timeout=10)
    token = next(f for f in [form_fields(listed.text, "/box/drafts/delete")])["csrf_token"]
    done = alice.post(
        alice.url("/box/drafts/delete"),
        data={"csrf_token": token, "draft": pids[:2]},
        timeout=10,
    )
    assert done.status_code == 200 and "2 drafts deleted." in done.text
    assert "Eerste concept" not in done.text and "Tweede concept" not in done.text
    assert "Derde concept" in done.text


def test_the_same_recipient_twice_receives_the_message_once(live_app, alice):
    page = alice.get(alice.url("/box/compose"), timeout=10)
    sent = post_compose(
        alice, page, {**to(BRAM), **to(BRAM, row=1), "title": "Maar één keer", "text": "x"}
    )
    assert "Message sent." in sent.text
    assert inbox_titles(sandbox_of(live_app), "nurse-bram").count("Maar één keer") == 1


def test_a_recipient_is_picked_by_name_shown_by_name_once_and_removed(alice):
    page = alice.get(alice.url("/box/compose"), timeout=10)
    typed = {"title": "Voor Bram", "find": "Bram", "add_found": "y"}
    picked = post_compose(alice, page, typed)
    fields = form_fields(picked.text, "/box/compose")
    assert fields["recipients-0-identifier"] == BRAM.ssin
    card = picked.text.split('id="recipient-0"')[1].split("</fieldset>")[0]
    assert "Bram Janssens" in card and 'name="remove_recipient" value="0"' in card
    again = post_compose(alice, picked, {"find": "Bram", "add_found": "y"})
    assert "is a recipient already" in again.text
    ids = [
        v for k, v in form_fields(again.text, "/box/compose").items() if k.endswith("-identifier")
    ]
    assert ids.count(BRAM.ssin) == 1
    removed = post_compose(alice, again, {"remove_recipient": "0"})
    left = form_fields(removed.text, "/box/compose")
    assert BRAM.ssin not in left.values() and left["title"] == "Voor Bram"
