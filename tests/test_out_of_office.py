"""Out of office: a doctor sets a period with a substitute, a sender is told, the period ends."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from conftest import Browser
from test_mailbox import ALICE, CHLOE, compose_and_send, form_fields, to

from ehbox_webapp.mailbox.people import format_inss

TODAY = date.today()


def set_absence(browser: Browser, start: date, end: date, substitute=None):
    page = browser.get(browser.url("/box/out-of-office"), timeout=10)
    fields = form_fields(page.text, "/box/out-of-office")
    data = {**fields, "start": start.isoformat(), "end": end.isoformat()}
    if substitute is not None:
        data.update(
            {k.replace("recipients-", "substitutes-"): v for k, v in to(substitute).items()}
        )
    return browser.post(browser.url("/box/out-of-office"), data=data, timeout=10)


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as b:
        b.login("dr-alice")
        yield b


def test_an_absence_is_set_a_sender_sees_it_and_it_is_ended(live_app, alice):
    until = TODAY + timedelta(days=7)
    page = set_absence(alice, TODAY, until, substitute=CHLOE)
    assert "Out of office from" in page.text and "senders are told so" in page.text
    shown = " ".join(re.sub(r"<[^>]+>", "", page.text).split())
    assert "Chloé Dubois, Doctor" in shown and 'data-ooo-id="' in page.text  # by name
    assert format_inss(CHLOE.ssin) in page.text

    with Browser(live_app) as bram:
        bram.login("nurse-bram")
        refused = compose_and_send(bram, {**to(ALICE), "title": "Vraag", "text": "Even iets."})
        assert refused.status_code == 409  # the failure table's, as the API answers
        assert "Some recipients are out of office." in refused.text
        assert format_inss(CHLOE.ssin) in refused.text  # the substitute is offered

        ended = alice.post(
            alice.url(form_action(page.text)),
            data={"csrf_token": form_fields(page.text, form_action(page.text))["csrf_token"]},
            timeout=10,
        )
        assert "The out-of-office is ended." in ended.text
        assert "You are not out of office." in ended.text
        sent = compose_and_send(bram, {**to(ALICE), "title": "Vraag", "text": "Even iets."})
        assert "Message sent." in sent.text


def form_action(html: str) -> str:
    start = html.index('action="/box/out-of-office/') + len('action="')
    return html[start : html.index('"', start)]


@pytest.mark.parametrize(
    ("start", "end", "sentence"),
    [
        (TODAY, TODAY - timedelta(days=1), "The last day comes before the first day."),
        (TODAY - timedelta(days=9), TODAY - timedelta(days=2), "This period is over already."),
        (TODAY, TODAY + timedelta(days=400), "An absence lasts 366 days at most."),
    ],
)
def test_a_period_that_cannot_be_is_refused_next_to_its_field(alice, start, end, sentence):
    page = set_absence(alice, start, end)
    assert page.status_code == 422 and sentence in page.text
    assert "You are not out of office." in page.text


def test_nobody_is_their_own_substitute(alice):
    page = set_absence(alice, TODAY, TODAY + timedelta(days=2), substitute=ALICE)
    assert page.status_code == 422 and "You cannot be your own substitute." in page.text


# --- the same from the M2M CLI (the organisation's box) -------------------------------------
def test_the_m2m_cli_sets_lists_and_ends_an_absence(live_app):
    from test_m2m import m2m

    start, end = TODAY.isoformat(), (TODAY + timedelta(days=3)).isoformat()
    sub = f"INSS:{CHLOE.ssin}:DOCTOR"
    result = m2m(live_app, "ooo", "set", "--from", start, "--to", end, "--substitute", sub)
    assert result.exit_code == 0, result.output
    ooo_id = result.output.split()[3]
    listed = m2m(live_app, "ooo", "list", "--json")
    assert listed.exit_code == 0
    assert '"id": "' + ooo_id in listed.output and CHLOE.ssin in listed.output
    with Browser(live_app) as alice:
        alice.login("dr-alice")
        org = {
            "recipients-0-type": "CBE",
            "recipients-0-identifier": "0899999949",
            "recipients-0-quality": "INSTITUTION",
        }
        refused = compose_and_send(alice, {**org, "title": "Aan de organisatie", "text": "x"})
        assert "Some recipients are out of office." in refused.text
    ended = m2m(live_app, "ooo", "end", ooo_id)
    assert ended.exit_code == 0 and m2m(live_app, "ooo", "list").output.strip() == (
        "not out of office"
    )
    bad = m2m(live_app, "ooo", "set", "--from", end, "--to", start)
    assert bad.exit_code == 2 and "--to: the end is before the start" in bad.output


def test_the_api_refuses_a_period_that_cannot_be(live_app):
    import requests
    from test_api import public_client_token

    token = public_client_token(live_app)
    answer = requests.post(
        f"{live_app.url}/api/v1/out-of-office",
        json={"startDate": TODAY.isoformat(), "endDate": (TODAY - timedelta(days=1)).isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 422
    assert answer.json()["invalidParams"] == [
        {"code": "end-before-start", "name": "endDate", "reason": "the end is before the start"}
    ]
