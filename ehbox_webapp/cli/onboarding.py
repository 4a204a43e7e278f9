"""`ehbox onboarding`: the I.AM Connect form and the application e-mail, as Markdown or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..config import ConfigError
from ..onboarding import OnboardingOptions, onboarding, to_markdown
from ..onboarding.client_ids import EXISTING_CHOICES
from ..onboarding.options import MAX_COUNT, MAX_TEXT, USE_CASES
from .doctor import command_settings


def _text(ctx: click.Context, param: click.Parameter, value: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise click.BadParameter(f"at most {MAX_TEXT} characters")
    return value


COUNT = click.IntRange(0, MAX_COUNT)


@click.command("onboarding")
@click.option(
    "--use-case",
    type=click.Choice(USE_CASES),
    help="2.2.1 public, 2.2.2 confidential or 2.2.3 m2m (default: from the settings).",
)
@click.option("--company", default="", callback=_text, help="Company or software name.")
@click.option("--client-name", default="", callback=_text, help="Client's name (form, subject).")
@click.option("--client-id", default="", callback=_text, help="Client ID (default: derived).")
@click.option("--description", default="", callback=_text, help="Form description.")
@click.option(
    "--existing-client",
    type=click.Choice(EXISTING_CHOICES),
    default="none",
    show_default=True,
    help="A client already exists in the realm: reuse it, or "
    "it cannot be reused (then the id takes the '-ehbox' suffix).",
)
@click.option("--volume-users", type=COUNT, help="Volumetric estimate: number of users.")
@click.option("--volume-messages-per-day", type=COUNT, help="Volumetric estimate: messages/day.")
@click.option("--volume-peak-per-hour", type=COUNT, help="Volumetric estimate: peak messages/h.")
@click.option(
    "--user-groups",
    default="",
    callback=_text,
    help="The user groups and/or organisations that will use the service.",
)
@click.option(
    "--idp-display",
    default="",
    callback=_text,
    help="Proposal for the IDP display (package name / company name).",
)
@click.option("--context", "context_text", default="", callback=_text, help="E-mail: context.")
@click.option("--purpose", default="", callback=_text, help="E-mail: purpose.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of Markdown.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
def onboarding_command(
    use_case: str | None,
    company: str,
    client_name: str,
    client_id: str,
    description: str,
    existing_client: str,
    volume_users: int | None,
    volume_messages_per_day: int | None,
    volume_peak_per_hour: int | None,
    user_groups: str,
    idp_display: str,
    context_text: str,
    purpose: str,
    as_json: bool,
    output: Path | None,
) -> None:
    """The I.AM Connect registration form to fill in and the application e-mail to send.

    Follows eHealth's "Onboarding I.AM Connect eHealthBox" procedure: which of the two forms,
    every field it names with its value from the settings, and the e-mail (recipients,
    subject, context, purpose, methods, user groups, IDP proposal, volumes, attachment).
    """
    options = OnboardingOptions(
        company=company,
        client_name=client_name,
        client_id=client_id,
        description=description,
        existing_client=existing_client,
        volume_users=volume_users,
        volume_messages_per_day=volume_messages_per_day,
        volume_peak_per_hour=volume_peak_per_hour,
        user_groups=user_groups,
        idp_display=idp_display,
        context=context_text,
        purpose=purpose,
    )
    try:
        settings = command_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None
    data = onboarding(settings, use_case, options)
    text = (json.dumps(data, indent=2, ensure_ascii=False) + "\n") if as_json else to_markdown(data)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"written: {output}", err=True)
