"""`ehbox doctor`: check a configuration end to end, one line per check."""

from __future__ import annotations

import json
from collections.abc import Mapping

import click
from flask import current_app, has_app_context
from flask.cli import ScriptInfo

from ..config import ConfigError, Settings
from ..onboarding.doctor import FAIL, OK, WARNING, CheckResult, exit_code, run_checks
from ..paths import ROOT


def command_settings() -> Settings:
    """The settings a command runs with: the Flask app's when there is one, else the environment.

    Under `flask --app app` the app is already built and its settings are the ones it runs
    with. `python -m ehbox_webapp` builds no app and reads the environment (after `.env`);
    `ctx.obj["environ"]`, when given (tests, embedding), replaces the environment.
    """
    if has_app_context():
        return current_app.config["SETTINGS"]
    ctx = click.get_current_context()
    info = ctx.find_object(ScriptInfo)
    if info is not None:
        return info.load_app().config["SETTINGS"]
    environ = ctx.obj.get("environ") if isinstance(ctx.obj, Mapping) else None
    return Settings.from_env(environ)


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def doctor_command(ctx: click.Context, as_json: bool) -> None:
    """Check the configuration: keystore, certificate, realms, published key, clock, API.

    One line per check, `ok | warning | FAIL  <check>: <what was found> — <what to do>`;
    the exit code is 1 when any check FAILs. In the sandbox the realms and the eHealthBox are
    served by the app itself: run the doctor while `make run` serves.

    When the keystore cannot be opened the app refuses to start, and so does
    `flask --app app ehbox doctor`: run `python -m ehbox_webapp doctor`, which needs no app.
    """
    try:
        settings = command_settings()
    except ConfigError as exc:
        results = [CheckResult(FAIL, "settings", str(exc), f"fix {exc.variable} (.env.example)")]
    else:
        results = run_checks(settings, ROOT)
    if as_json:
        click.echo(
            json.dumps(
                {"results": [r.to_dict() for r in results], "exit_code": exit_code(results)},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for result in results:
            click.echo(result.line())
        counts = {s: sum(r.status == s for r in results) for s in (OK, WARNING, FAIL)}
        click.echo(f"{counts[OK]} ok, {counts[WARNING]} warning(s), {counts[FAIL]} FAIL")
    ctx.exit(exit_code(results))
