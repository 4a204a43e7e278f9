"""`flask --app app ehbox ...`: the project's commands."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..paths import ROOT
from .acceptance import acceptance_command
from .contract import contract_group
from .doctor import doctor_command
from .m2m import m2m_group
from .m2m_ooo import ooo_group  # noqa: F401  (registers `m2m ooo`)
from .onboarding import onboarding_command
from .token import token_command


def plain_logs() -> None:
    """Commands log plain text to stderr (errors only); JSON lines are for the server."""
    from ..logs import install_cli

    install_cli()


ehbox = AppGroup("ehbox", help="eHealthBox web app commands.", callback=plain_logs)
# Plain click commands (no app context needed): `python -m ehbox_webapp` runs them without the app.
ehbox.add_command(doctor_command)
ehbox.add_command(onboarding_command)
ehbox.add_command(m2m_group)
ehbox.add_command(acceptance_command)
ehbox.add_command(contract_group)
ehbox.add_command(token_command)


@ehbox.command("sandbox-keystore")
def sandbox_keystore() -> None:
    """Generate the sandbox keystore (certs/sandbox.acc-p12) when it is missing."""
    from ..services import ensure_sandbox_keystore

    settings = current_app.config["SETTINGS"]
    if not settings.is_sandbox:
        raise click.ClickException("sandbox-keystore only runs with EHBOX_ENV=sandbox.")
    path = ensure_sandbox_keystore(settings, ROOT)
    click.echo(f"sandbox keystore: {path}")


@ehbox.command("url")
def url() -> None:
    """Print the URL the app serves on: PUBLIC_URL, or where the last `make run` serves."""
    click.echo(current_app.config["SETTINGS"].public_url)


@ehbox.group("drafts")
def drafts_group() -> None:
    """The drafts kept on the server while messages are being composed."""


@drafts_group.command("purge")
def drafts_purge() -> None:
    """Delete the drafts untouched for the drafts' lifetime (run daily, e.g. from cron)."""
    from ..mailbox.drafts import DRAFT_LIFETIME

    purged = current_app.extensions["services"].drafts.purge_expired()
    days = DRAFT_LIFETIME // (24 * 3600)
    click.echo(f"{purged} draft(s) untouched for {days} days or more deleted.")
