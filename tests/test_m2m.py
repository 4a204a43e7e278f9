"""Use case 2.2.3 as CLI commands (`ehbox m2m ...`), against the sandbox over loopback.

Every command runs through `live_app.app.test_cli_runner()`: the organisation's token
comes from the sandbox M2M realm (client credentials, private_key_jwt, token exchange),
and the eHealthBox calls go over HTTP to the sandbox eHealthBox.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import time
from pathlib import Path

import pytest
from ehbox_fixtures import recipient, sandbox_of

from ehbox_webapp import create_app
from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD
from ehbox_webapp.ehealth.iam import TokenSet
from ehbox_webapp.m2m import files
from ehbox_webapp.m2m.box import organisation_box
from ehbox_webapp.m2m.poll import Poller, check_interval
from ehbox_webapp.m2m.state import STATE_FILE, PollError, directory_lock
from ehbox_webapp.m2m.tokens import CACHE_FILE
from ehbox_webapp.sandbox.personas import ORGANISATIONS, persona

ORG = ORGANISATIONS[0].client_id
ALICE = persona("dr-alice")
ALICE_TO = f"INSS:{ALICE.ssin}:DOCTOR"


def m2m(live, *args: str):
    """Run `flask ehbox m2m ARGS` in the live app; returns click's Result."""
    return live.app.test_cli_runner().invoke(args=["ehbox", "m2m", *args])


def inbox_ids(live, who: str = ORG, folder: str = "INBOX") -> list[str]:
    return [m.message_id for m in sandbox_of(live).client(who).iter_messages(folder)]


def count_calls(monkeypatch, obj, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(obj, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(obj, name, counted)
    return calls


# --- token -------------------------------------------------------------------------------------
def test_token_shows_claims_and_hides_the_token(live_app):
    shown = m2m(live_app, "token")
    assert shown.exit_code == 0, shown.output
    assert f"iss:        {live_app.sandbox('/auth/realms/M2M')}" in shown.stdout
    assert f"azp:        {ORG}" in shown.stdout and "scope:      ehbox" in shown.stdout
    assert "exp:" in shown.stdout and "exchanged for audience sandbox-ehealthbox" in shown.stdout
    raw = m2m(live_app, "token", "--raw")
    token = raw.stdout.strip()
    assert raw.exit_code == 0 and token.count(".") == 2 and "secret" in raw.stderr
    assert token not in shown.output  # the same (cached) token was never printed by default
    claims = json.loads(m2m(live_app, "token", "--json").stdout)["claims"]
    assert claims["azp"] == ORG and claims["aud"] == "sandbox-ehealthbox"


def test_token_is_cached_in_memory_and_in_a_0600_file(live_app, monkeypatch):
    services = live_app.app.extensions["services"]
    grants = count_calls(monkeypatch, services.m2m, "client_credentials")
    exchanges = count_calls(monkeypatch, services.m2m, "exchange_token")
    for _ in range(3):  # three processes' worth of commands: one token request
        assert m2m(live_app, "box-info").exit_code == 0
    assert (len(grants), len(exchanges)) == (1, 1)
    cache = live_app.instance_path / CACHE_FILE
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600

    _, provider = organisation_box(services)  # no file cache: memory only
    assert provider() == provider() and len(grants) == 2

    assert m2m(live_app, "--no-token-cache", "box-info").exit_code == 0
    assert len(grants) == 3
    cache.chmod(0o644)  # readable by others: not trusted, replaced by a 0600 one
    assert m2m(live_app, "box-info").exit_code == 0
    assert len(grants) == 4 and stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_a_token_the_box_refuses_is_dropped_from_the_cache(live_app):
    services = live_app.app.extensions["services"]
    _, provider = organisation_box(services, instance_path=live_app.instance_path)
    provider.file_cache.put(
        provider._key("exchange|sandbox-ehealthbox"), TokenSet("not-a-token", time.time() + 300)
    )
    refused = m2m(live_app, "box-info")
    assert refused.exit_code == 1 and "refused the organisation's token" in refused.stderr
    assert "Traceback" not in refused.output and "not-a-token" not in refused.output
    assert m2m(live_app, "box-info").exit_code == 0


def test_bad_client_id_is_refused_with_the_rule(live_app, monkeypatch):
    grants = count_calls(monkeypatch, live_app.app.extensions["services"].m2m, "client_credentials")
    wrong_check = m2m(live_app, "--client-id", "cbe-0899999948", "token")
    assert wrong_check.exit_code == 2
    assert "97 - (first 8 digits mod 97)" in wrong_check.stderr and "rule:" in wrong_check.stderr
    no_form = m2m(live_app, "--client-id", "acme-software", "list")
    assert no_form.exit_code == 2
    assert "For a company: cbe-XXXXXXXXXX" in no_form.stderr
    assert "nihdi-<type>-XXXXXXXX" in no_form.stderr and not grants


# --- reading -----------------------------------------------------------------------------------
def test_box_info_and_list(live_app):
    info = m2m(live_app, "box-info")
    assert info.exit_code == 0 and "CBE 0899999949 (INSTITUTION)" in info.stdout
    assert json.loads(m2m(live_app, "box-info", "--json").stdout)["nbrMessagesInStandby"] == 0
    listed = m2m(live_app, "list")
    ids = inbox_ids(live_app)
    assert listed.exit_code == 0 and len(ids) >= 5
    assert all(i in listed.stdout for i in ids) and f"{len(ids)} message(s)" in listed.stdout
    page = json.loads(m2m(live_app, "list", "--start", "2", "--end", "3", "--json").stdout)
    assert [m["messageId"] for m in page["messages"]] == ids[1:3]
    everything = json.loads(m2m(live_app, "list", "--all", "--json").stdout)["messages"]
    assert [m["messageId"] for m in everything] == ids
    assert m2m(live_app, "list", "--all", "--end", "5").exit_code == 2
    assert m2m(live_app, "list", "--start", "1", "--end", "101").exit_code == 2


def test_get_saves_the_exact_bytes(live_app, tmp_path):
    sb = sandbox_of(live_app)
    org = sb.client(ORG)
    summary = next(s for s in org.iter_messages() if s.has_annex)
    result = m2m(live_app, "get", summary.message_id, "--save-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    folder = tmp_path / summary.message_id
    meta = json.loads((folder / files.METADATA).read_text())
    assert meta["messageId"] == summary.message_id and meta["files"]["annexes"]
    with org.open_document(summary.message_id) as download:
        assert (folder / meta["files"]["document"]).read_bytes() == download.read()
    for index, name in enumerate(meta["files"]["annexes"], start=1):
        with org.open_annex(summary.message_id, index) as download:
            assert (folder / name).read_bytes() == download.read()
    again = m2m(live_app, "get", summary.message_id, "--save-dir", str(tmp_path))
    assert again.exit_code == 2 and "already exists" in again.stderr
    shown = json.loads(m2m(live_app, "get", summary.message_id, "--json").stdout)
    assert shown["message"]["messageId"] == summary.message_id


def test_errors_are_one_line_without_traceback(live_app):
    missing = m2m(live_app, "get", "AAAAAAAAAAAAA")
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1
    assert missing.stderr.startswith("error: eHealthBox: ") and "HTTP 404" in missing.stderr


# --- sending -----------------------------------------------------------------------------------
def test_send_from_the_organisation_to_dr_alice(live_app, tmp_path):
    document, annex = tmp_path / "verslag.pdf", tmp_path / "bijlage.txt"
    document.write_bytes(b"%PDF-1.4 test document")
    annex.write_bytes(b"annex bytes")
    sent = m2m(
        live_app,
        "send",
        "--to",
        ALICE_TO,
        "--title",
        "Verslag",
        "--document",
        str(document),
        "--annex",
        str(annex),
        "--free-text",
        "Graag opvolging.",
        "--patient",
        "56031412372",
        "--important",
        "--receipt",
        "read",
        "--publication-id",
        "M2MTEST000001",
    )
    assert sent.exit_code == 0, sent.output
    assert "publication id M2MTEST000001" in sent.stdout
    alice = sandbox_of(live_app).client("dr-alice")
    mine = next(s for s in alice.iter_messages() if s.publication_id == "M2MTEST000001")
    assert mine.sender.id == "0899999949" and mine.content_specification.is_important
    full = alice.get_message(mine.message_id)
    assert full.patient_inss == "56031412372" and full.free_information.text == "Graag opvolging."
    with alice.open_document(mine.message_id) as download:
        assert download.read() == document.read_bytes()
    sentbox = sandbox_of(live_app).client(ORG).iter_messages("SENTBOX")
    assert any(s.publication_id == "M2MTEST000001" for s in sentbox)
    again = m2m(
        live_app,
        "send",
        "--to",
        ALICE_TO,
        "--title",
        "Verslag",
        "--document",
        str(document),
        "--publication-id",
        "M2MTEST000001",
    )
    assert again.exit_code == 0 and "nothing new was sent" in again.stdout


@pytest.mark.parametrize(
    "to, expected",
    [
        ("INSS:85071212391:DOCTOR", "check digits"),
        ("INSS:85071212390:WIZARD", "not an eHealthBox quality"),
        ("alice", "TYPE:ID:QUALITY"),
    ],
)
def test_bad_recipient_is_refused(live_app, to, expected):
    result = m2m(live_app, "send", "--to", to, "--title", "x", "--text", "y")
    assert result.exit_code == 2 and expected in result.stderr


def test_send_with_unknown_outcome_prints_a_safe_resend(live_app):
    sb = sandbox_of(live_app)
    sb.fault(operation="send", status=502)
    lost = m2m(live_app, "send", "--to", ALICE_TO, "--title", "Lost answer", "--text", "hello")
    assert lost.exit_code == 3
    command = lost.stderr.strip().splitlines()[-1].strip()
    args = shlex.split(command)
    assert args[:5] == ["flask", "--app", "app", "ehbox", "m2m"]
    publication_id = args[args.index("--publication-id") + 1]
    assert f"publication id: {publication_id}" in lost.stderr
    resent = m2m(live_app, *args[5:])
    assert resent.exit_code == 0 and publication_id in resent.stdout
    delivered = [
        s for s in sb.client("dr-alice").iter_messages() if s.publication_id == publication_id
    ]
    assert len(delivered) == 1


def test_out_of_office_recipients_are_listed_and_confirmed(live_app):
    from datetime import date, timedelta

    today = date.today()
    sandbox_of(live_app).client("dr-alice").add_out_of_office(today, today + timedelta(days=3))
    absent = m2m(live_app, "send", "--to", ALICE_TO, "--title", "Afwezig?", "--text", "x")
    assert absent.exit_code == 1 and "is out of office" in absent.stderr
    assert "--ooo-processed" in absent.stderr and "code 826" in absent.stderr
    confirmed = m2m(
        live_app, "send", "--to", ALICE_TO, "--title", "Afwezig?", "--text", "x", "--ooo-processed"
    )
    assert confirmed.exit_code == 0 and "sent: message" in confirmed.stdout


# --- organising --------------------------------------------------------------------------------
def test_move_and_delete(live_app):
    first, second = inbox_ids(live_app)[:2]
    moved = m2m(live_app, "move", first, "--from", "INBOX", "--to", "BININBOX")
    assert moved.exit_code == 0 and first in inbox_ids(live_app, folder="BININBOX")
    assert m2m(live_app, "move", first, "--from", "INBOX", "--to", "SENTBOX").exit_code == 2
    refused = m2m(live_app, "delete", second, "--folder", "INBOX")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert second in inbox_ids(live_app)
    deleted = m2m(live_app, "delete", second, "--folder", "INBOX", "--yes")
    assert deleted.exit_code == 0 and second not in inbox_ids(live_app)
    gone = m2m(live_app, "delete", second, "--folder", "INBOX", "--yes")
    assert gone.exit_code == 1 and second in gone.stderr


# --- poll --------------------------------------------------------------------------------------
def poll(live, into: Path, *args: str):
    return m2m(live, "poll", "--into", str(into), "--interval", "1", *args)


def on_disk(into: Path) -> list[str]:
    return sorted(p.name for p in into.iterdir() if p.is_dir() and not p.name.startswith("."))


def state_of(into: Path) -> dict:
    return json.loads((into / STATE_FILE).read_text())["messages"]


def send_to_org(live, title: str = "Nieuw bericht") -> None:
    from ehbox_webapp.ehealth.ehealthbox import NewMessage

    sandbox_of(live).client("dr-alice").send(
        NewMessage(recipients=[recipient(ORG)], title=title, text="tekst")
    )


def test_poll_once_fetches_everything_and_bins_it(live_app, tmp_path):
    into = tmp_path / "mail"
    before = inbox_ids(live_app)
    first = poll(live_app, into, "--once")
    assert first.exit_code == 0, first.output
    assert on_disk(into) == sorted(before) and set(state_of(into)) == set(before)
    assert f"[{len(before)}/{len(before)}] saved" in first.stdout
    assert "fetching…" not in first.output and "\r" not in first.output  # no counter off a TTY
    assert inbox_ids(live_app) == [] and set(before) <= set(inbox_ids(live_app, folder="BININBOX"))
    for message_id in before:
        meta = json.loads((into / message_id / files.METADATA).read_text())
        assert meta["messageId"] == message_id and meta["folder"] == "INBOX"
        if meta["files"]["document"]:
            assert (into / message_id / meta["files"]["document"]).stat().st_size > 0

    send_to_org(live_app)  # arrives between runs: fetched by the next one, alone
    (new_id,) = inbox_ids(live_app)
    second = poll(live_app, into, "--once")
    assert second.exit_code == 0 and "[1/1] saved" in second.stdout
    assert on_disk(into) == sorted([*before, new_id]) and inbox_ids(live_app) == []


def test_poll_keep_leaves_mail_and_never_fetches_twice(live_app, tmp_path):
    into = tmp_path / "mail"
    before = inbox_ids(live_app)
    assert poll(live_app, into, "--once", "--keep").exit_code == 0
    assert inbox_ids(live_app) == before and on_disk(into) == sorted(before)
    again = poll(live_app, into, "--once", "--keep")
    assert again.exit_code == 0 and "] saved" not in again.stdout
    assert "0 new saved" in again.stdout


def test_poll_interrupted_then_resumed_keeps_every_message_once(live_app, tmp_path, monkeypatch):
    into = tmp_path / "mail"
    before = inbox_ids(live_app)
    real_write, writes = files.write_message, []

    def interrupted_write(*args, **kwargs):
        writes.append(1)
        if len(writes) == 3:  # Ctrl-C twice in the middle of the third message
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    monkeypatch.setattr(files, "write_message", interrupted_write)
    aborted = poll(live_app, into, "--once")
    assert aborted.exit_code == 130 and "aborted" in aborted.stderr
    assert len(on_disk(into)) == 2 and len(state_of(into)) == 2
    assert not list(into.glob(".tmp-*")) and set(inbox_ids(live_app)) == set(before)
    kept = {m: (into / m / files.METADATA).stat().st_mtime_ns for m in on_disk(into)}

    monkeypatch.setattr(files, "write_message", real_write)
    resumed = poll(live_app, into, "--once")
    assert resumed.exit_code == 0, resumed.output
    assert on_disk(into) == sorted(before) and inbox_ids(live_app) == []
    assert {m: (into / m / files.METADATA).stat().st_mtime_ns for m in kept} == kept
    assert all(entry["movedAt"] for entry in state_of(into).values())


def test_ctrl_c_finishes_the_current_message_and_exits_0(live_app, tmp_path, monkeypatch):
    into = tmp_path / "mail"
    before = inbox_ids(live_app)
    real_write, writes = files.write_message, []

    def write_then_ctrl_c(*args, **kwargs):
        writes.append(1)
        if len(writes) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # arrives while the message is being written
        return real_write(*args, **kwargs)

    monkeypatch.setattr(files, "write_message", write_then_ctrl_c)
    stopped = poll(live_app, into)  # no --once: only the signal ends it
    assert stopped.exit_code == 0 and "stopped" in stopped.stderr
    assert len(on_disk(into)) == 2 and len(state_of(into)) == 2
    # The two saved messages were binned before exiting; the others wait in the INBOX.
    assert len(inbox_ids(live_app)) == len(before) - 2
    monkeypatch.setattr(files, "write_message", real_write)
    assert poll(live_app, into, "--once").exit_code == 0
    assert on_disk(into) == sorted(before) and inbox_ids(live_app) == []


def test_a_failed_move_is_only_retried_on_resume(live_app, tmp_path):
    into = tmp_path / "mail"
    before = inbox_ids(live_app)
    sandbox_of(live_app).fault(operation="move", status=503)
    failed = poll(live_app, into, "--once")
    assert failed.exit_code == 1 and "will be moved on the next poll" in failed.stderr
    assert on_disk(into) == sorted(before) and set(inbox_ids(live_app)) == set(before)
    kept = {m: (into / m / files.METADATA).stat().st_mtime_ns for m in before}
    resumed = poll(live_app, into, "--once")
    assert resumed.exit_code == 0 and "0 new saved" in resumed.stdout
    assert f"{len(before)} moved to BININBOX" in resumed.stdout and inbox_ids(live_app) == []
    assert {m: (into / m / files.METADATA).stat().st_mtime_ns for m in before} == kept


def test_folders_written_before_a_crash_are_kept_and_temp_folders_redone(live_app, tmp_path):
    into = tmp_path / "mail"
    before = inbox_ids(live_app)
    assert poll(live_app, into, "--once", "--keep").exit_code == 0
    # A crash after the renames but before the state was saved, and a half-written folder.
    (into / STATE_FILE).unlink()
    victim = before[0]
    half = into / f".tmp-{victim}-crash"
    os.rename(into / victim, half)
    (half / files.METADATA).unlink()
    kept = {m: (into / m / files.METADATA).stat().st_mtime_ns for m in before[1:]}
    resumed = poll(live_app, into, "--once")
    assert resumed.exit_code == 0, resumed.output
    assert "discarded an unfinished download" in resumed.stderr
    assert resumed.stdout.count("already on disk") == len(before) - 1
    assert on_disk(into) == sorted(before) and not list(into.glob(".tmp-*"))
    assert {m: (into / m / files.METADATA).stat().st_mtime_ns for m in before[1:]} == kept
    assert inbox_ids(live_app) == []


def test_poll_loop_survives_an_outage_and_fetches_mail_arriving_between_polls(
    live_app, tmp_path, monkeypatch
):
    into = tmp_path / "mail"
    before = inbox_ids(live_app)
    # The first poll finds the platform down (every retry answered 503).
    sandbox_of(live_app).fault(operation="boxInfo", status=503, retryAfter=0, times=4)
    real_sleep, sleeps = Poller._sleep, []

    def sleep(self, seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            send_to_org(live_app, "Tussendoor")
        elif len(sleeps) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while waiting: stops at once
        return real_sleep(self, seconds)

    monkeypatch.setattr(Poller, "_sleep", sleep)
    result = poll(live_app, into)
    assert result.exit_code == 0, result.output
    assert sleeps == [1.0, 1.0, 1.0] and "poll failed" in result.stderr
    assert len(on_disk(into)) == len(before) + 1 and inbox_ids(live_app) == []
    assert "[1/1] saved" in result.stdout


def test_stand_by_is_a_warning(live_app, tmp_path):
    sb = sandbox_of(live_app)
    for who in (ORG, "dr-alice"):  # both boxes full: new mail waits in stand-by
        sb.store.set_max_size(sb.box_key(who), 1)
    send_to_org(live_app)
    info = m2m(live_app, "box-info")
    assert info.exit_code == 0 and "1 message(s) are waiting in stand-by" in info.stderr
    polled = poll(live_app, tmp_path / "mail", "--once", "--keep")
    assert polled.exit_code == 0 and "stand-by" in polled.stderr
    sent = m2m(live_app, "send", "--to", ALICE_TO, "--title", "Vol", "--text", "x")
    assert sent.exit_code == 0 and "waits in stand-by" in sent.stderr


def test_poll_interval_floor(live_app, tmp_path, sandbox_keystore):
    too_fast = m2m(live_app, "poll", "--into", str(tmp_path), "--interval", "0.5", "--once")
    assert too_fast.exit_code == 2 and "at least 1 s in the sandbox" in too_fast.stderr
    assert check_interval(60, sandbox=False) == 60
    with pytest.raises(PollError, match="at least 60 s outside the sandbox"):
        check_interval(59, sandbox=False)
    acceptance = create_app(
        {"INSTANCE_PATH": str(tmp_path / "acc")},
        environ={
            "EHBOX_ENV": "acceptance",
            "PUBLIC_URL": "https://ehbox.example.org",
            "SECRET_KEY": "x" * 40,
            "ETEE_KEYSTORE": str(sandbox_keystore),
            "ETEE_KEYSTORE_PASSWORD": SANDBOX_KEYSTORE_PASSWORD,
            "ETEE_IDENTIFIER": "0899999949",
            "EHBOX_API_URL": "https://api-acpt.example.org/ehealthbox/v1",
            "EHEALTH_FROM": "ops@example.org",
            "IAM_CLIENT_ID": "example-software",
            "IAM_M2M_CLIENT_ID": ORG,
        },
    )
    refused = acceptance.test_cli_runner().invoke(
        args=["ehbox", "m2m", "poll", "--into", str(tmp_path / "mail"), "--interval", "10"]
    )
    assert refused.exit_code == 2 and "at least 60 s outside the sandbox" in refused.stderr


def test_one_poller_per_directory_and_one_box_per_state(live_app, tmp_path):
    with (
        directory_lock(tmp_path),
        pytest.raises(PollError, match="already running"),
        directory_lock(tmp_path),
    ):
        pass
    into = tmp_path / "mail"
    assert poll(live_app, into, "--once", "--keep").exit_code == 0
    other = poll(live_app, into, "--once", "--folder", "SENTBOX")
    assert other.exit_code == 2 and "use another directory" in other.stderr


def test_sender_file_names_never_escape_the_message_folder():
    from ehbox_webapp.ehealth.ehealthbox import (
        Annex,
        ContentSpecification,
        Document,
        Message,
        Sender,
    )

    sender = Sender("0899999949", "CBE", "INSTITUTION")
    message = Message(
        "AbC123",
        None,
        sender,
        (),
        Document("t", "../message.json", "x", None, 1),
        ContentSpecification(),
        annexes=(Annex(1, "a", "same.pdf", "x", None, 1), Annex(2, "b", "same.pdf", "x", None, 1)),
    )
    document, annexes = files.part_filenames(message)
    assert document == "document_message.json"
    assert annexes == ["annex-01_same.pdf", "annex-02_same.pdf"]
    with pytest.raises(ValueError):
        files.message_dir_name("../x")


# --- where the CLI looked ----------------------------------------------------------------------
def cli(tmp_path: Path, keystore: Path, *args: str, **settings: str):
    """The command as an operator types it (`flask --app app ehbox ...`), in its own process."""
    import subprocess
    import sys

    env = {
        **os.environ,
        "EHBOX_ENV": "sandbox",
        "ETEE_KEYSTORE": str(keystore),
        "INSTANCE_PATH": str(tmp_path / "cli-instance"),
        "HTTP_TIMEOUT": "3",
        "LOG_FORMAT": "json",  # the server's format: the CLI still logs plain text
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "ehbox", *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_url() -> str:
    from ehbox_webapp.sandbox.loopback import free_port

    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def one_error_line(result) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and '{"ts"' not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_against_a_stopped_app_the_cli_names_the_url_and_the_setting(tmp_path, sandbox_keystore):
    stopped = free_url()
    line = one_error_line(cli(tmp_path, sandbox_keystore, "m2m", "list", PUBLIC_URL=stopped))
    assert line.startswith("error: I.AM Connect (M2M realm): I.AM Connect is unreachable at ")
    assert f"{stopped}/sandbox/auth/realms/M2M/.well-known/openid-configuration" in line
    assert f"set by PUBLIC_URL={stopped}" in line


def test_on_a_wrong_port_the_cli_names_the_port_it_tried(live_app, tmp_path, sandbox_keystore):
    """`PORT=5088 make run`, then the CLI without PORT: it says where it looked and why."""
    serving = int(live_app.url.rsplit(":", 1)[1])
    wrong = free_url()
    assert not wrong.endswith(f":{serving}")
    line = one_error_line(
        cli(tmp_path, sandbox_keystore, "m2m", "box-info", PORT=wrong.rsplit(":", 1)[1])
    )
    assert f"at {wrong.replace('127.0.0.1', 'localhost')}/sandbox/auth/realms/M2M/" in line
    assert "set by PUBLIC_URL=" in line and "PORT" in line


def test_with_a_wrong_issuer_the_cli_names_the_issuer_setting(live_app, tmp_path, sandbox_keystore):
    wrong = f"{live_app.url}/sandbox/auth/realms/Nope"
    line = one_error_line(
        cli(
            tmp_path,
            sandbox_keystore,
            "m2m",
            "list",
            PUBLIC_URL=live_app.url,
            IAM_M2M_ISSUER=wrong,
        )
    )
    assert f"I.AM Connect answered 404 at {wrong}/.well-known/openid-configuration" in line
    assert line.endswith("(set by IAM_M2M_ISSUER)")


def test_an_unreachable_ehealthbox_names_its_url_and_setting(live_app, tmp_path, sandbox_keystore):
    nowhere = free_url() + "/ehealthbox/v1"
    line = one_error_line(
        cli(
            tmp_path,
            sandbox_keystore,
            "m2m",
            "box-info",
            PUBLIC_URL=live_app.url,
            EHBOX_API_URL=nowhere,
        )
    )
    assert line.startswith("error: eHealthBox: ")
    assert f"Tried {nowhere}/boxInfo (set by EHBOX_API_URL)." in line


def test_the_cli_logs_plain_text_to_stderr_never_json_in_its_output(
    live_app, tmp_path, sandbox_keystore
):
    listed = cli(tmp_path, sandbox_keystore, "m2m", "list", PUBLIC_URL=live_app.url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip().splitlines()[-1].endswith("(flags: N new, ! important, @ annex)")
    for line in (listed.stdout + listed.stderr).splitlines():
        assert not line.startswith("{"), line  # no JSON log line among the command's output


def test_on_a_terminal_poll_shows_a_live_counter(live_app, tmp_path, sandbox_keystore):
    """In a terminal, a counter line rewritten in place, wiped before each result line."""
    import pty
    import subprocess
    import sys

    send_to_org(live_app, "Eerste")
    send_to_org(live_app, "Tweede")
    total = len(inbox_ids(live_app))
    master, slave = pty.openpty()
    env = {
        **os.environ,
        "EHBOX_ENV": "sandbox",
        "PUBLIC_URL": live_app.url,
        "ETEE_KEYSTORE": str(sandbox_keystore),
        "INSTANCE_PATH": str(tmp_path / "cli-instance"),
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "ehbox", "m2m", "poll"]
    process = subprocess.Popen(
        [*command, "--into", str(tmp_path / "mail"), "--interval", "1", "--once"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the command ended and closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert process.wait(30) == 0, seen.decode(errors="replace")
    text = seen.decode()
    assert f"\r\x1b[K[{total}/{total}] fetching…" in text
    assert f"[{total}/{total}] saved" in text
