"""`ehbox token PERSONA` (`make token PERSONA=dr-alice`): a sandbox user's access token for curl.

The token is obtained as the public client's page obtains it (`/public-client/`): PKCE,
the sandbox's login form posted as that persona, the code exchanged at the realm's token
endpoint, all over HTTP to the app `make run` serves. Nothing is minted around the login,
so `/api/v1` checks this token exactly as it checks a browser's. Only the token goes to
standard output (`TOKEN=$(make token PERSONA=dr-alice)`); what it is and how to use it go
to standard error.

Outside the sandbox no command can log a person in (eID, itsme): it is refused, exit 2.
"""

from __future__ import annotations

import click
import requests

from ..ehealth.http import build_session
from ..sandbox.loopback import public_client_login
from ..sandbox.personas import PERSONAS, persona
from .doctor import command_settings
from .messages import setting_hint

NAMES = ", ".join(p.id for p in PERSONAS)


@click.command("token")
@click.argument("persona_id", metavar="PERSONA", default="dr-alice")
def token_command(persona_id: str) -> None:
    """Print a sandbox persona's access token for /api/v1 (sandbox only).

    PERSONA is one of the sandbox personas (default dr-alice). The app must be serving
    (`make run`): the token comes from the sandbox's real login, as the public client gets it.
    """
    settings = command_settings()
    if not settings.is_sandbox:
        raise click.UsageError(
            f"ehbox token only runs in the sandbox (EHBOX_ENV is {settings.env}): outside it a "
            "person logs in themselves (eID, itsme), so no command can. Log in on the public "
            "client page (/public-client/) or in your own keycloak-js page instead."
        )
    who = persona(persona_id)
    if who is None:
        raise click.BadParameter(f"{persona_id!r} is not a sandbox persona ({NAMES})")
    base = settings.public_url
    http = build_session(settings.ehealth_user_agent, settings.ehealth_from)
    try:
        tokens = public_client_login(http, base, who.id)
    except requests.RequestException as exc:
        raise click.ClickException(
            f"the app does not answer at {base}{setting_hint(settings, settings.iam_issuer)} "
            f"({type(exc).__name__})"
        ) from None
    except (RuntimeError, KeyError, IndexError) as exc:
        raise click.ClickException(f"the sandbox login did not give a token: {exc}") from None
    click.echo(tokens["access_token"])
    click.echo(
        f"# {who.name} ({who.id}): an access token for {settings.iam_public_client_id}, valid "
        f"{tokens.get('expires_in', '?')} s. Use it as\n"
        f'#   curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/box',
        err=True,
    )
