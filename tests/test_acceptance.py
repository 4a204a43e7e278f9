"""`ehbox acceptance`: the basic eHealthBox scenarios against the real sandbox, and the report.

The runs go over loopback HTTP to the app's embedded sandbox (`live_app`), as an
operator's run goes to eHealth's acceptance environment before production.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import re
import secrets
import socket
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from conftest import sandbox_environ

from ehbox_webapp.__main__ import main
from ehbox_webapp.acceptance import RunOptions, exit_code, run_acceptance, write_report
from ehbox_webapp.acceptance.content import MIB, GeneratedFile
from ehbox_webapp.acceptance.identities import login
from ehbox_webapp.acceptance.scenarios import SCENARIOS
from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD
from ehbox_webapp.ehealth.ehealthbox import Attachment
from ehbox_webapp.ehealth.http import build_session
from ehbox_webapp.ehealth.iam import IamClient
from ehbox_webapp.ehealth.keystore import generate_keystore
from ehbox_webapp.sandbox.personas import ORGANISATIONS, persona

ALICE, BRAM, ORGANISATION = persona("dr-alice"), persona("nurse-bram"), ORGANISATIONS[0]
SCENARIO_IDS = [s.id for s in SCENARIOS]
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
SECOND_BOX_SCENARIOS = {"EHBOX-401.7", "EHBOX-403.4"}


def run_command(live_app, tmp_path: Path, *args: str):
    """`flask --app app ehbox acceptance --output-dir DIR <args>` against the live app."""
    out = tmp_path / "report"
    result = live_app.app.test_cli_runner().invoke(
        args=["ehbox", "acceptance", "--output-dir", str(out), *args]
    )
    return result, *read_report(out)


def read_report(out: Path) -> tuple[dict | None, str]:
    if not (out / "acceptance-report.json").exists():
        return None, ""
    report = json.loads((out / "acceptance-report.json").read_text(encoding="utf-8"))
    return report, (out / "acceptance-report.html").read_text(encoding="utf-8")


def verdicts(report: dict) -> dict[str, str]:
    return {s["id"]: s["verdict"] for s in report["scenarios"]}


def html_verdict(html: str, scenario_id: str) -> str:
    row = re.search(rf'<tr id="{re.escape(scenario_id)}">(.*?)</tr>', html, re.S)
    assert row, scenario_id
    return re.search(r'class="verdict (\w+)"', row.group(1)).group(1)


@pytest.mark.parametrize(
    ("run_as", "me", "other"),
    [("m2m", ORGANISATION.box["id"], ALICE.ssin), ("user", ALICE.ssin, ORGANISATION.box["id"])],
)
def test_a_full_run_passes_and_writes_both_reports(live_app, tmp_path, run_as, me, other):
    result, report, html = run_command(live_app, tmp_path, "--as", run_as)

    assert result.exit_code == 0, result.output
    total = len(SCENARIO_IDS)
    assert report["summary"] == {
        "total": total,
        "passed": total,
        "failed": 0,
        "skipped": 0,
        "verdict": "passed",
    }, result.output
    # Progress: one line per scenario as it finished, in order; then both paths.
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert [line.split()[1] for line in lines] == SCENARIO_IDS
    assert all(re.fullmatch(r"\[ok\] +\S+ .+ \(\d+\.\d\d s\)", line) for line in lines), lines
    out = tmp_path / "report"
    assert f"report: {out / 'acceptance-report.html'}" in result.output
    assert f"json:   {out / 'acceptance-report.json'}" in result.output

    assert report["environment"] == "sandbox" and report["run_as"] == run_as
    assert [i["box"]["id"] for i in report["identities"]] == [me, other]
    assert report["ehealthbox"] == {
        "api_url": f"{live_app.url}/sandbox/ehealthbox/v1",
        "audience": "sandbox-ehealthbox",
    }
    assert {r["issuer"]: r["client_id"] for r in report["realms"]} == {
        f"{live_app.url}/sandbox/auth/realms/healthcare": "ehbox-webapp",
        f"{live_app.url}/sandbox/auth/realms/M2M": ORGANISATION.client_id,
    }
    for scenario in report["scenarios"]:
        assert html_verdict(html, scenario["id"]) == "passed"
        assert scenario["started_at"] <= scenario["ended_at"] <= report["ended_at"]

    calls = report["requests"]
    ehealthbox = [r for r in calls if "/sandbox/ehealthbox/v1/" in r["path"]]
    assert ehealthbox and all(r["request_id"] and r["request_id"] in html for r in ehealthbox)
    assert {r["scenario"] for r in calls} <= set(SCENARIO_IDS)
    assert any(r["path"].endswith("/protocol/openid-connect/token") for r in calls)
    # No query string, except the folder and paging parameters.
    with_query = [r["path"].partition("?")[2] for r in calls if "?" in r["path"]]
    assert with_query and all(
        re.fullmatch(r"source=[A-Z]+(&startIndex=\d+&endIndex=\d+)?", q) for q in with_query
    ), with_query
    if run_as == "user":  # Dr Alice's INBOX holds more than a page: two pages are listed
        assert "source=INBOX&startIndex=101&endIndex=200" in with_query
        # The user logged in through the real login form; the code is not followed.
        assert [r["status"] for r in calls if "/login-actions/" in r["path"]] == [302]
        assert not any(r["path"].endswith("/auth/callback") for r in calls)


def test_the_report_holds_no_token_password_or_message_content(make_live_app, tmp_path):
    password = "kp-" + secrets.token_urlsafe(12)  # not "sandbox": that word is in every URL
    keystore = generate_keystore(
        tmp_path / "own.acc-p12",
        password,
        identifier=ORGANISATION.identifier,
        identifier_type="CBE",
        name=ORGANISATION.name,
    )
    live = make_live_app({"ETEE_KEYSTORE": str(keystore), "ETEE_KEYSTORE_PASSWORD": password})
    limit = live.app.extensions["sandbox_app"].extensions["sandbox"]["settings"].max_message_bytes
    run = run_acceptance(
        live.app.config["SETTINGS"],
        live.app.extensions["services"].identity,
        RunOptions(run_as="user", too_large_bytes=limit + MIB),
    )
    assert exit_code(run) == 0, [(r.id, r.detail) for r in run.results if r.verdict != "passed"]
    json_path, html_path = write_report(run, tmp_path / "report")

    forbidden = run.must_not_appear()
    # The code, the user's ID/access/refresh tokens, the M2M token, and both exchanged ones.
    assert len(run.secrets) >= 7 and password in forbidden and run.content.title in forbidden
    names = [ALICE.first_name, ALICE.last_name, ORGANISATION.name, ALICE.id]
    for path in (json_path, html_path):
        text = path.read_text(encoding="utf-8")
        for readable in (text, html_lib.unescape(text)):
            leaked = [v[:12] for v in forbidden + names if v in readable]
            assert not leaked, f"{path.name} contains {leaked}"
            assert not JWT.search(readable), f"{path.name} contains a JWT (token or assertion)"


def test_a_refused_send_fails_in_both_files_and_in_the_exit_code(live_app, tmp_path):
    fault = requests.post(
        live_app.sandbox("/ehealthbox/_faults"),
        json={"operation": "send", "status": 503, "times": 10},
        timeout=5,
    )
    assert fault.status_code == 201

    result, report, html = run_command(live_app, tmp_path, "--as", "m2m")

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert re.search(r"^\[FAIL\] EHBOX-403\.1 .*Unavailable \(HTTP 503", result.output, re.M)
    failed = {"EHBOX-403.1", "EHBOX-403.6", "EHBOX-403.7"}  # every send meets the fault
    got = verdicts(report)
    assert {i for i, v in got.items() if v == "failed"} == failed
    assert got["EHBOX-407.1"] == got["EHBOX-401.1"] == "passed"
    assert got["EHBOX-405.1"] == got["EHBOX-404.1"] == "skipped"
    detail = next(s["detail"] for s in report["scenarios"] if s["id"] == "EHBOX-401.5")
    assert detail == "needs EHBOX-403.1 failed"
    assert report["summary"]["failed"] == 3 and report["summary"]["verdict"] == "failed"
    for scenario_id, verdict in got.items():
        assert html_verdict(html, scenario_id) == verdict
    sends = [
        r
        for r in report["requests"]
        if r["method"] == "POST" and r["path"].endswith("/ehealthbox/v1/messages")
    ]
    assert len(sends) == 3 and all(r["status"] == 503 and r["request_id"] for r in sends)


def test_a_given_second_box_is_skipped_where_it_cannot_be_reached(live_app, tmp_path):
    second = f"INSS:{BRAM.ssin}:NURSE"
    result, report, _ = run_command(live_app, tmp_path, "--as", "user", "--second-box", second)

    assert result.exit_code == 0, result.output
    got = verdicts(report)
    skipped = {i for i, v in got.items() if v == "skipped"}
    assert skipped == {"IAM-2"} | SECOND_BOX_SCENARIOS
    details = {s["id"]: s["detail"] for s in report["scenarios"]}
    assert "no access to the receiving box" in details["EHBOX-401.7"]
    assert "not checked for INSS 79031545695 (NURSE)" in details["EHBOX-403.5"]
    assert "the copy in INSS 79031545695 (NURSE) stays" in details["EHBOX-404.1"]
    assert report["identities"][1] == {
        "role": "second box",
        "kind": "box",
        "access": False,
        "box": {"type": "INSS", "sub_type": None, "id": BRAM.ssin, "quality": "NURSE"},
    }


def test_a_user_token_from_a_file_is_exchanged_and_never_written(live_app, tmp_path):
    settings = live_app.app.config["SETTINGS"]
    iam = IamClient(
        settings.iam_issuer,
        settings.iam_client_id,
        identity=live_app.app.extensions["services"].identity,
        http=build_session("tests/1.0", "tests@example.org"),
    )
    tokens = login(
        iam,
        iam.http,
        redirect_uri=settings.redirect_uri,
        scope="openid ehbox",
        persona="nurse-bram",
        secrets=set(),
    )
    token_file = tmp_path / "user-token"
    token_file.write_text(tokens.access_token + "\n")

    result, report, html = run_command(
        live_app, tmp_path, "--as", "user", "--user-token-file", str(token_file)
    )

    assert result.exit_code == 0, result.output
    assert report["identities"][0]["box"]["id"] == BRAM.ssin
    assert "--user-token-file" in report["scenarios"][0]["detail"]
    assert not any("/login-actions/" in r["path"] for r in report["requests"])
    assert tokens.access_token not in html and tokens.access_token not in json.dumps(report)


def test_an_unreachable_realm_fails_the_token_skips_the_rest_and_still_reports(
    sandbox_keystore, tmp_path
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        ["acceptance", "--output-dir", str(out)],
        obj={"environ": sandbox_environ(url, sandbox_keystore)},
    )
    report, html = read_report(out)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert re.search(r"^\[FAIL\] IAM-1 .*I\.AM Connect is unreachable", result.output, re.M)
    # Where it looked, and the setting that decides it.
    assert f"hint: I.AM Connect was looked for at {url}/sandbox/auth/realms/" in result.stderr
    assert f"set by PUBLIC_URL={url}: is the app serving there? `make run`" in result.stderr
    got = verdicts(report)
    assert got["IAM-1"] == "failed" and report["summary"]["skipped"] == len(SCENARIO_IDS) - 1
    assert report["requests"][0]["status"] is None  # recorded, with no answer
    assert html_verdict(html, "IAM-1") == "failed"


def test_a_report_that_cannot_be_written_is_one_line_and_exit_1(sandbox_keystore, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(
        main,
        ["acceptance", "--output-dir", str(blocker / "report")],
        obj={"environ": sandbox_environ("http://127.0.0.1:9", sandbox_keystore)},
    )
    assert result.exit_code == 1
    assert "error: the report could not be written:" in result.stderr
    assert "Traceback" not in result.output


def acceptance_environ(keystore: Path, **extra: str) -> dict[str, str]:
    return {
        "EHBOX_ENV": "acceptance",
        "PUBLIC_URL": "https://ehbox.example.be",
        "SECRET_KEY": "k" * 40,
        "IAM_CLIENT_ID": "mysoftware-ehbox",
        "ETEE_KEYSTORE": str(keystore),
        "ETEE_KEYSTORE_PASSWORD": SANDBOX_KEYSTORE_PASSWORD,
        "ETEE_IDENTIFIER": ORGANISATION.identifier,
        "EHEALTH_FROM": "ops@example.be",
        "EHBOX_API_URL": "https://api-acpt.example.be/ehealthbox/v1",
        **extra,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "outside the sandbox a user cannot be logged in from a script"),
        (["--as", "m2m"], "--as m2m needs the organisation's client: set IAM_M2M_CLIENT_ID"),
        (["--persona", "dr-alice", "--user-token-file", "{token}"], "--persona only exists"),
        (["--second-box", "INSS:123:DOCTOR", "--user-token-file", "{token}"], "--second-box"),
    ],
)
def test_usage_errors_outside_the_sandbox_stop_before_any_call(
    sandbox_keystore, tmp_path, args, message
):
    token = tmp_path / "token"
    token.write_text("not-a-real-token")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        ["acceptance", "--output-dir", str(out), *(a.format(token=token) for a in args)],
        obj={"environ": acceptance_environ(sandbox_keystore)},
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_the_too_large_document_is_generated_not_held():
    size, block = 3 * MIB + 123, GeneratedFile.BLOCK
    generated = GeneratedFile(size)
    attachment = Attachment(generated, "big.bin", "application/octet-stream")

    assert attachment.size == size and attachment._stream is generated  # read twice, not spooled
    expected = hashlib.sha256()
    for offset in range(0, size, len(block)):
        expected.update(block[: size - offset])
    assert attachment.digest == base64.b64encode(expected.digest()).decode()
    assert sum(len(c) for c in attachment.chunks()) == size  # and it can be sent again


def test_an_absent_second_box_is_acknowledged_and_the_report_says_how(live_app, tmp_path):
    """eHealth's acceptance box of a colleague may be out of office: the platform answers 826
    and delivers nothing; the run acknowledges the absence (ooOProcessed) and sends again,
    and its report names the box and the way to take another one (--second-box)."""
    from datetime import date, timedelta

    from test_api import public_client_token

    start, end = date.today(), date.today() + timedelta(days=5)
    absence = requests.post(
        f"{live_app.url}/api/v1/out-of-office",
        json={"startDate": start.isoformat(), "endDate": end.isoformat()},
        headers={"Authorization": f"Bearer {public_client_token(live_app, 'dr-alice')}"},
        timeout=10,
    )
    assert absence.status_code == 201, absence.text

    result, report, html = run_command(live_app, tmp_path, "--as", "m2m")

    assert result.exit_code == 0, result.output
    assert report["summary"]["passed"] == len(SCENARIO_IDS), result.output
    send = next(s for s in report["scenarios"] if s["id"] == "EHBOX-403.1")
    box = f"INSS {ALICE.ssin} (DOCTOR)"
    said = f"{box} is out of office from {start.isoformat()} to {end.isoformat()}"
    for text in (send["detail"], report["notes"][0], result.output, html_lib.unescape(html)):
        assert said in text
        assert "ooOProcessed=true" in text and "--second-box TYPE:ID:QUALITY" in text
    assert f"note: {said}" in result.output
    # The traffic shows it: the refused send (826), then the same message sent again.
    sends = [
        r["status"]
        for r in report["requests"]
        if r["method"] == "POST"
        and r["path"].endswith("/ehealthbox/v1/messages")
        and r["scenario"] == "EHBOX-403.1"
    ]
    assert sends == [409, 201]
    # And the absent colleague did receive it and read it (the receiver's scenarios passed).
    assert verdicts(report)["EHBOX-403.4"] == "passed"


WORDS_BROKEN = """() => {
  // Each word of the prose cells (not ids, URLs or times) on one line: one client rect.
  const broken = [];
  for (const cell of document.querySelectorAll("td:not(.mono)")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s\\-\\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


def test_the_report_reads_on_a_phone(live_app, tmp_path, page):
    """At 360 px: no sideways scrolling, each scenario a card (not an 8-column squeeze),
    no word broken in the middle, and the report's own style applied under its CSP."""
    result, report, _ = run_command(live_app, tmp_path, "--as", "user")
    assert result.exit_code == 0, result.output
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto((tmp_path / "report" / "acceptance-report.html").as_uri())

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    row = page.locator('tr[id="EHBOX-403.1"]')
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    detail = row.locator("td[data-label=Detail]")
    assert detail.bounding_box()["width"] > 300  # the detail has the phone's whole width
    assert page.evaluate(WORDS_BROKEN) == []
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "15px"  # style applied
    assert page.js_errors == []  # no CSP violation
