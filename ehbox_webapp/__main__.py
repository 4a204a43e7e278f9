"""`python -m ehbox_webapp doctor|onboarding|acceptance`: commands that need no built app.

`flask --app app ...` builds the app first, and the app refuses to start on a broken
configuration (a wrong keystore password, an expired certificate): exactly when the
doctor is needed. These commands read `.env` and the environment themselves. The
acceptance run only needs the settings and the keystore, so an operator can run it
against ACCEPTANCE from any machine with the `.env` (in the sandbox, the app must serve).
"""

from __future__ import annotations

import click
from dotenv import load_dotenv

from . import ROOT
from .cli import plain_logs
from .cli.acceptance import acceptance_command
from .cli.doctor import doctor_command
from .cli.onboarding import onboarding_command
from .serving import instance_folder, recall


@click.group(help="ehbox-webapp commands that need no built app: doctor, onboarding, acceptance.")
def main() -> None:
    """The command group."""
    plain_logs()


main.add_command(doctor_command)
main.add_command(onboarding_command)
main.add_command(acceptance_command)

if __name__ == "__main__":
    # A command: it goes where `make run` serves unless told otherwise (ehbox_webapp/serving.py).
    recall(instance_folder())
    load_dotenv(ROOT / ".env")
    main(prog_name="python -m ehbox_webapp")
