"""Where `make run` serves, remembered for the commands typed later in another shell.

`PORT=5050 make run` serves on http://localhost:5050. A command run afterwards in a new
shell (`make token`, `.venv/bin/flask --app app ehbox doctor`, the acceptance run) must
talk to that server, not to the default port 5000, without the developer repeating
`PORT=5050` on every line. So the server writes the URL it serves on into the instance
folder (`instance/serving.env`), and a command reads it back when neither `PUBLIC_URL`
nor `PORT` is set, in the environment or in `.env`. The server itself never reads it:
it serves where it is told.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import click
from dotenv import dotenv_values

from .paths import ROOT

FILE_NAME = "serving.env"
ASKED = ("PUBLIC_URL", "PORT")  # either one set says where to go: nothing is recalled then


def instance_folder(environ: Mapping[str, str] | None = None) -> Path:
    """The instance folder, as `create_app` finds it (`INSTANCE_PATH`, else ./instance)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("INSTANCE_PATH") or ROOT / "instance")


def remember(public_url: str, instance: Path) -> Path:
    """Write the URL this server serves on, for the commands of other shells."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / FILE_NAME
    path.write_text(
        "# Where `make run` (python app.py) serves; the commands read it when neither\n"
        "# PUBLIC_URL nor PORT is set. Rewritten at each start.\n"
        f"PUBLIC_URL={public_url}\n",
        encoding="utf-8",
    )
    return path


def recall(
    instance: Path, environ: MutableMapping[str, str] | None = None, dotenv: Path | None = None
) -> str | None:
    """Set `PUBLIC_URL` from the server's note when the command was told neither it nor
    `PORT` (environment, then `.env`); the URL recalled, or None."""
    environ = os.environ if environ is None else environ
    told = dotenv_values(dotenv or ROOT / ".env")
    if any(environ.get(name) or told.get(name) for name in ASKED):
        return None
    note = instance / FILE_NAME
    if not note.is_file():
        return None
    url = dotenv_values(note).get("PUBLIC_URL")
    if url:
        environ["PUBLIC_URL"] = url
    return url


def running_a_command() -> bool:
    """True under a command line (`flask --app app ...`, `python -m ehbox_webapp ...`): the
    app is then built by click, never by the server (`python app.py`, gunicorn)."""
    return click.get_current_context(silent=True) is not None
