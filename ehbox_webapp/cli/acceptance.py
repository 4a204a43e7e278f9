"""`ehbox acceptance`: run the basic eHealthBox scenarios and write the report eHealth asks for.

The work is done in `ehbox_webapp.acceptance` (no Flask there); this module reads the
options, prints one line per scenario as it finishes, and the paths of the two files.
Exit codes: 0 every scenario passed or was skipped for a stated reason, 1 one failed,
2 a usage or configuration error (nothing was run).

A user outside the sandbox: eHealth logs people in with eID or itsme, which no script
can do. The user logs in through a client of this application in the healthcare realm
(IAM_CLIENT_ID, scopes IAM_SCOPES) and hands over the access token in a file,
`--user-token-file FILE` (one line, nothing else). The run exchanges it for
EHBOX_AUDIENCE exactly as the web app does, and never prints or writes it. The token
lives a few minutes: start the run right after the login. Keep the file readable by
you only, and delete it afterwards.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import ScriptInfo

from ..acceptance import M2M, USER, RunOptions, exit_code, run_acceptance, write_report
from ..acceptance.content import MIB
from ..acceptance.report import ReportNotWritten
from ..acceptance.run import FAILED, PASSED, UNKNOWN_INSS, Run, ScenarioResult
from ..acceptance.runner import summary
from ..config import ConfigError, Settings
from ..ehealth.ehealthbox.identifiers import is_valid_inss
from ..ehealth.keystore import SigningIdentity
from ..m2m.send import MessageProblem, parse_recipient
from ..paths import ROOT
from .doctor import command_settings
from .messages import setting_hint
from .progress import Counter

MARKS = {PASSED: "[ok]  ", FAILED: "[FAIL]", "skipped": "[skip]"}
UNKNOWN_LIMIT = (
    "the platform's maximum message size is UNKNOWN (docs/ehealth-platform.md §3.5): "
    "give --too-large-mb with a size above the limit eHealth gives you"
)


def _app() -> Flask | None:
    """The Flask app under `flask --app app`; None under `python -m ehbox_webapp`."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    info = click.get_current_context().find_object(ScriptInfo)
    return info.load_app() if info is not None else None


def _signing_identity(app: Flask | None, settings: Settings) -> SigningIdentity:
    if app is not None:
        return app.extensions["services"].identity
    from ..services import load_identity

    return load_identity(
        settings.keystore_path(ROOT),
        settings.etee_keystore_password,
        settings.etee_key_alias,
        "ETEE_KEYSTORE",
    )


def _sandbox_limit(app: Flask | None) -> int:
    """The sandbox's maximum message size: the mounted sandbox's, else its default."""
    sandbox = app.extensions.get("sandbox_app") if app is not None else None
    if sandbox is not None:
        return sandbox.extensions["sandbox"]["settings"].max_message_bytes
    from ..sandbox import SandboxSettings  # the sandbox `make run` serves uses the default

    return SandboxSettings.max_message_bytes


def _options(
    settings: Settings,
    app: Flask | None,
    run_as: str | None,
    persona: str | None,
    user_token_file: Path | None,
    second_box: str | None,
    too_large_mb: int | None,
    unknown_inss: str,
    wait: float,
) -> RunOptions:
    """The run's options, or a UsageError (exit 2) naming what is wrong."""
    run_as = run_as or (M2M if settings.iam_m2m_client_id else USER)
    if run_as == M2M and not settings.iam_m2m_client_id:
        raise click.UsageError("--as m2m needs the organisation's client: set IAM_M2M_CLIENT_ID")
    if persona and not settings.is_sandbox:
        raise click.UsageError(
            "--persona only exists in the sandbox; outside it, a user logs "
            "in themselves: pass --user-token-file"
        )
    token = None
    if user_token_file is not None:
        token = user_token_file.read_text(encoding="utf-8").strip()
        if not token or len(token.split()) != 1:
            raise click.UsageError(f"{user_token_file} must hold one access token, nothing else")
        if user_token_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            click.echo(
                f"warning: {user_token_file} holds a token and others may read it: "
                "chmod 600 it, and delete it after the run",
                err=True,
            )
    elif run_as == USER and not settings.is_sandbox:
        raise click.UsageError(
            "outside the sandbox a user cannot be logged in from a script: "
            "pass --user-token-file FILE (an access token the user obtained)"
        )
    recipient = None
    if second_box:
        try:
            recipient = parse_recipient(second_box)
        except MessageProblem as exc:
            raise click.BadParameter(str(exc), param_hint="--second-box") from None
    size, note = None, ""
    if too_large_mb is not None:
        size = too_large_mb * MIB
    elif settings.is_sandbox:
        size = _sandbox_limit(app) + MIB
    else:
        note = UNKNOWN_LIMIT
    return RunOptions(
        run_as=run_as,
        persona=persona or "dr-alice",
        user_token=token,
        second_box=recipient,
        too_large_bytes=size,
        too_large_note=note,
        unknown_inss=unknown_inss,
        wait_seconds=wait,
    )


def _inss(value: str) -> str:
    if not is_valid_inss(value):
        raise click.BadParameter(f"{value!r} is not a valid INSS (11 digits, check digits)")
    return value


def _progress(counter: Counter) -> Callable[[ScenarioResult], None]:
    """One line per scenario as it finishes; on a terminal, a counter while the next runs."""
    done = 0

    def show(result: ScenarioResult) -> None:
        nonlocal done
        done += 1
        line = f"{MARKS[result.verdict]} {result.id} {result.title} ({result.seconds:.2f} s)"
        if result.verdict != PASSED:
            line += f": {result.detail}"
        counter.echo(line)
        counter.show(f"{done} scenario(s) done, running the next…")

    return show


@click.command("acceptance")
@click.option(
    "--as",
    "run_as",
    type=click.Choice([M2M, USER]),
    help="Whose box the run uses: the organisation (M2M client) or a user. "
    "Default: m2m when IAM_M2M_CLIENT_ID is set, else user.",
)
@click.option("--persona", help="Sandbox only: the persona to log in as the user (dr-alice).")
@click.option(
    "--user-token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding a user's access token for IAM_CLIENT_ID (healthcare realm), "
    "obtained by the user's own login. Needed for a user outside the sandbox.",
)
@click.option(
    "--second-box",
    metavar="TYPE:ID:QUALITY",
    help="The receiving box, e.g. INSS:85071212390:DOCTOR. Default: the other "
    "identity (user <-> M2M) when available. Its INBOX cannot be checked.",
)
@click.option(
    "--too-large-mb",
    type=click.IntRange(1, 1024),
    metavar="MB",
    help="Size of the too-large message. Default: the sandbox limit + 1 MiB; "
    "outside the sandbox the test is skipped unless given.",
)
@click.option(
    "--unknown-inss",
    default=UNKNOWN_INSS,
    show_default=True,
    callback=lambda _ctx, _param, value: _inss(value),
    help="A valid INSS without an eHealthBox, for the unknown-recipient test.",
)
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=20.0,
    show_default=True,
    help="Seconds to wait for a sent message or a receipt to show up.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the report. Default: instance/acceptance/<UTC timestamp>/.",
)
def acceptance_command(output_dir: Path | None, **choices: Any) -> None:
    """Run the basic eHealthBox scenarios and write the report eHealth asks for (JSON + HTML).

    Runs against the configured environment (EHBOX_ENV): token, box info, the four folders
    with paging, send a PDF with an annex to oneself and a second box, find, read, receipts,
    move to the bin and back, the error cases (unknown recipient, too large), then delete
    what the run created. The report holds no tokens, passwords or message contents. In the
    sandbox, the app must be serving (`make run`).
    """
    try:
        app = _app()
        settings = command_settings()
        options = _options(settings, app, **choices)
        identity = _signing_identity(app, settings)
    except ConfigError as exc:
        raise click.UsageError(f"configuration: {exc}") from None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    instance = Path(app.instance_path) if app is not None else ROOT / "instance"
    directory = output_dir or instance / "acceptance" / stamp
    click.echo(
        f"eHealthBox acceptance run in {settings.env}, as {options.run_as}: "
        f"{settings.ehbox_api_url}"
    )
    counter = Counter()
    try:
        run = run_acceptance(settings, identity, options, progress=_progress(counter))
    finally:
        counter.clear()
    _finish(run, directory)


def _finish(run: Run, directory: Path) -> None:
    totals = summary(run)
    if run.verdict("IAM-1") == FAILED:
        settings = run.settings
        issuer = settings.iam_m2m_issuer if run.options.run_as == M2M else settings.iam_issuer
        click.echo(
            f"hint: I.AM Connect was looked for at {issuer}{setting_hint(settings, issuer)}",
            err=True,
        )
    try:
        json_path, html_path = write_report(run, directory)
    except ReportNotWritten as exc:
        click.echo(f"error: the report could not be written: {exc}", err=True)
        raise click.exceptions.Exit(1) from None
    for note in run.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} "
        f"skipped: {totals['verdict']}"
    )
    click.echo(f"report: {html_path}")
    click.echo(f"json:   {json_path}")
    raise click.exceptions.Exit(exit_code(run))
