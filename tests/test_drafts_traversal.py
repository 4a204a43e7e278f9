"""A draft's key names a folder: no key, on any entry that takes one, reaches outside its owner's.

Every entry that takes a PublicationId as a draft key is tried with keys that climb out of the
drafts folder (`..`, `A/../..`, backslashes, 13-character variants), that encode a slash, hold
NUL or are not ASCII. For each, the caller gets an honest 4xx, and the whole tree above the
instance folder is compared before and after: nothing written, nothing deleted, and another
user's draft still there. The CLI's purge is tried with folders and links planted by hand.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests
from conftest import Browser
from test_api import public_client_token
from test_mailbox import BRAM, form_fields, post_compose, to

from ehbox_webapp.mailbox.rules import is_message_id, is_publication_id

BAD_KEYS = [
    "..",
    ".",
    "A/..",
    "A/../..",
    "A\\..\\..",
    "A/../../../..",  # 13 characters: from the drafts folder to the one above instance/
    "A\\..\\..\\..\\..",
    "../../../../A",
    "AAAAAAAAAAAA/",
    "A%2F..%2F..",
    "%2F",
    "A\x00",
    "A\x00/../..",
    "Ä",
    "AbcdéfGhijklm",
    "A\n",
    "AAAAAAAAAAAAAA",  # 14: one too long
    "",
]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its content: what a test compares."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def outside(before: dict, after: dict, own: str | None) -> dict[str, str]:
    """What changed outside the folder `own` (a path relative to the compared root; None: all)."""
    changed = {}
    for name in set(before) | set(after):
        if own is not None and name.startswith(own + os.sep):
            continue
        if before.get(name) != after.get(name):
            changed[name] = "deleted" if name not in after else "written"
    return changed


FAST_LIMITS = {"RATE_LIMIT_SEND": "100000/minute", "RATE_LIMIT_ACTIONS": "100000/minute"}


@pytest.fixture
def live_app(make_live_app):
    """The app with limits that let every bad key through to the draft store."""
    return make_live_app(FAST_LIMITS)


@pytest.fixture
def two_users(live_app):
    """Alice (the attacker) on the pages, and Bram with a draft of his own, saved a moment ago."""
    with Browser(live_app) as alice, Browser(live_app) as bram:
        alice.login("dr-alice")
        bram.login("nurse-bram")
        page = bram.get(bram.url("/box/compose"), timeout=10)
        bram_pid = form_fields(page.text, "/box/compose")["publication_id"]
        fields = {"title": "Brams concept", "text": "Niet weg", "save_draft": "y"}
        assert post_compose(bram, page, fields).status_code == 200
        yield alice, bram, bram_pid


def _own(live_app, alice: Browser) -> str:
    """Alice's drafts folder, relative to the compared root (the instance's parent)."""
    page = alice.get(alice.url("/box/compose"), timeout=10)
    fields = form_fields(page.text, "/box/compose")
    post_compose(alice, page, {"title": "Mijn eigen", "save_draft": "y"})
    root = live_app.instance_path.parent
    owners = {
        p.parent for p in (live_app.instance_path / "drafts").glob(f"*/{fields['publication_id']}")
    }
    (owner,) = owners
    return str(owner.relative_to(root))


def _path_key(key: str) -> str:
    """The key as one URL path segment, every character escaped (no client tidies `..` away)."""
    return "".join(f"%{b:02X}" for b in key.encode("utf-8")) if key else "%20"


def test_the_key_checks_are_whole():
    assert is_publication_id("A1b2C3d4E5f6G") and is_publication_id("A")
    for key in BAD_KEYS:
        assert not is_publication_id(key), repr(key)
    assert not is_publication_id(None) and not is_publication_id(7)
    assert is_message_id("A" * 13)
    for value in ("A" * 12, "A" * 14, "A" * 13 + "\n", "A" * 12 + "/", "Ä" * 13):
        assert not is_message_id(value), repr(value)


def test_no_page_entry_writes_reads_or_deletes_outside_the_owners_folder(live_app, two_users):
    alice, bram, bram_pid = two_users
    own = _own(live_app, alice)
    root = live_app.instance_path.parent
    canary = root / "canary.txt"
    canary.write_text("outside the instance folder")
    before = tree(root)
    page = alice.get(alice.url("/box/compose"), timeout=10)
    csrf = form_fields(page.text, "/box/compose")["csrf_token"]
    message = {**to(BRAM), "title": "Onder een valse sleutel", "text": "Hallo"}
    for key in BAD_KEYS:
        tries = {
            "save draft": post_compose(
                alice, page, {**message, "publication_id": key, "save_draft": "y"}
            ),
            "send": post_compose(alice, page, {**message, "publication_id": key}),
            "autosave": alice.post(
                alice.url("/box/compose/autosave"),
                data={"csrf_token": csrf, "publication_id": key, "title": "x"},
                timeout=10,
            ),
            "delete": alice.post(
                alice.url(f"/box/drafts/{_path_key(key)}/delete"),
                data={"csrf_token": csrf},
                timeout=10,
                allow_redirects=False,
            ),
        }
        for entry, answer in tries.items():
            # 308: Werkzeug's answer to a doubled slash (`%2F` decoded), to a key of the owner's
            assert answer.status_code in (308, 400, 404, 405), (
                entry,
                repr(key),
                answer.status_code,
            )
            assert answer.status_code != 500
        reopened = alice.get(alice.url("/box/compose"), params={"draft": key}, timeout=10)
        assert reopened.status_code == 200  # a fresh form: the key opens nothing
        assert "Brams concept" not in reopened.text
        assert outside(before, tree(root), own) == {}, repr(key)
    assert canary.read_text() == "outside the instance folder"
    listed = bram.get(bram.url("/box/drafts"), timeout=10).text
    assert f'data-publication-id="{bram_pid}"' in listed and "Brams concept" in listed


def test_a_send_under_a_bad_key_deletes_nothing_of_anybodys(live_app, two_users):
    alice, bram, bram_pid = two_users
    root = live_app.instance_path.parent
    before = tree(root)
    page = alice.get(alice.url("/box/compose"), timeout=10)
    for key in ("A/../..", "A/../../../..", "A\\..\\..", ".."):
        sent = post_compose(
            alice, page, {**to(BRAM), "title": "Wis", "text": "x", "publication_id": key}
        )
        assert sent.status_code == 400, (key, sent.status_code)
        assert "not one this site issued" in sent.text
    after = tree(root)
    assert [name for name in before if name not in after] == []
    assert bram.get(bram.url(f"/box/compose?draft={bram_pid}"), timeout=10).text.count(
        "Brams concept"
    )


def test_a_rate_limited_send_under_a_bad_key_is_a_429_that_keeps_nothing(make_live_app):
    live = make_live_app({"RATE_LIMIT_SEND": "1/minute"})
    with Browser(live) as alice:
        alice.login("dr-alice")
        page = alice.get(alice.url("/box/compose"), timeout=10)
        message = {**to(BRAM), "title": "Te snel", "text": "x", "send": "Send"}
        assert post_compose(alice, page, message).status_code == 200  # the minute's one send
        before = tree(live.instance_path.parent)
        for key in ("A/../..", "..", "A\\..\\.."):
            limited = post_compose(alice, page, {**message, "publication_id": key})
            assert limited.status_code == 429 and "Te snel" in limited.text
        assert tree(live.instance_path.parent) == before


def test_no_api_entry_reaches_outside_the_callers_folder(live_app, two_users):
    alice_page, _bram, bram_pid = two_users
    token = public_client_token(live_app, "dr-alice")
    root = live_app.instance_path.parent
    before = tree(root)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    body = {
        "recipients": [{"type": "INSS", "id": BRAM.ssin, "quality": BRAM.quality}],
        "title": "x",
    }
    for key in [*BAD_KEYS, bram_pid]:  # Bram's own draft is no more Alice's than a climb is
        base = f"{live_app.url}/api/v1/drafts/{_path_key(key)}"
        for method, url, kwargs in (
            ("GET", base, {}),
            ("POST", base, {"json": body}),
            ("DELETE", base, {}),
            ("POST", f"{base}/send", {}),
        ):
            answer = requests.request(method, url, headers=headers, timeout=15, **kwargs)
            assert answer.status_code in (400, 404, 405), (method, url, answer.status_code)
            assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert outside(before, tree(root), None) == {}  # nothing anywhere, Alice's folder included
    with Browser(live_app) as bram:
        bram.login("nurse-bram")
        assert "Brams concept" in bram.get(bram.url("/box/drafts"), timeout=10).text
    assert alice_page.get(alice_page.url("/box/drafts"), timeout=10).status_code == 200


def test_the_purge_deletes_only_expired_draft_folders(live_app, two_users, tmp_path):
    """Folders and links planted in the drafts folder by hand: the purge follows none out."""
    _alice, _bram, _pid = two_users
    drafts = live_app.instance_path / "drafts"
    victim = tmp_path / "victim"
    (victim / "inner").mkdir(parents=True)
    (victim / "inner" / "keep.txt").write_text("keep me")
    (victim / "keep.txt").write_text("keep me")
    owner = next(p for p in drafts.iterdir() if p.is_dir())
    (owner / "AAAALINK").symlink_to(victim / "inner", target_is_directory=True)
    (drafts / ("f" * 32)).symlink_to(victim, target_is_directory=True)
    (drafts / "not-an-owner").mkdir()
    (drafts / "not-an-owner" / "meta.json").write_text("{}")
    old = time.time() - 365 * 24 * 3600
    for path in [*drafts.rglob("*")]:
        os.utime(path, (old, old), follow_symlinks=False)
    os.utime(victim / "inner", (old, old))
    os.utime(victim, (old, old))
    result = live_app.app.test_cli_runner().invoke(args=["ehbox", "drafts", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 draft(s)" in result.output  # Bram's, the one real draft
    assert (victim / "keep.txt").read_text() == "keep me"
    assert (victim / "inner" / "keep.txt").read_text() == "keep me"
    assert (drafts / "not-an-owner" / "meta.json").exists()
