"""`flask --app app translate init|update|compile`: the translation catalogs (microblog style).

Strings are extracted from the web layer and the templates as `babel.cfg` says, into
`ehbox_webapp/translations/<lang>/LC_MESSAGES/messages.po`, the files translators edit and
git keeps. The compiled `.mo` files are built, not committed: `make` compiles them.

- `flask translate init LANG`: a new language (`de`, ...).
- `flask translate update`: after changing strings in the code: new ones are added to every
  catalog (empty, or fuzzy when close to an old one: review those), gone ones marked obsolete.
- `flask translate compile`: the `.mo` files the app reads.
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import chdir
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from flask.cli import AppGroup

from ..paths import ROOT

TRANSLATIONS = ROOT / "ehbox_webapp" / "translations"
BABEL_CFG = ROOT / "babel.cfg"
KEYWORDS = ("_l", "lazy_gettext", "N_")  # besides pybabel's own: _, gettext, ngettext...

translate = AppGroup("translate", help="Translation and localization commands.")


def pybabel(*args: str, quiet: bool = True) -> None:
    """Run a pybabel command in this process; a failure stops the command."""
    # pybabel prints its own messages: keep them out of the app's (JSON) log as well.
    logging.getLogger("babel").propagate = False
    try:
        CommandLineInterface().run(["pybabel", *(["--quiet"] if quiet else []), *args])
    except SystemExit as exc:  # pybabel reports some errors by exiting
        if exc.code:
            raise click.ClickException(f"pybabel {args[0]} failed") from None
    except Exception as exc:
        raise click.ClickException(f"pybabel {args[0]} failed: {exc}") from exc


def extract(pot: Path) -> None:
    """Every translatable string of the web layer and the templates, into `pot`."""
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    with chdir(ROOT):  # file names in the catalogs relative to the repository
        pybabel(
            "extract",
            "-F",
            str(BABEL_CFG),
            *keywords,
            "--add-location=file",
            "--sort-output",
            "--project",
            "ehbox-webapp",
            "--copyright-holder",
            "the ehbox-webapp authors",
            "-o",
            str(pot),
            ".",
        )


@translate.command()
@click.argument("lang")
def init(lang: str) -> None:
    """Start the catalog of a new language."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        pybabel("init", "-i", str(pot), "-d", str(TRANSLATIONS), "-l", lang, "--no-wrap")
    click.echo(f"created {TRANSLATIONS / lang / 'LC_MESSAGES' / 'messages.po'}: translate it")


@translate.command()
def update() -> None:
    """Bring every catalog up to date with the strings of the code."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        pybabel("update", "-i", str(pot), "-d", str(TRANSLATIONS), "--no-wrap")
    click.echo("catalogs updated: translate the empty and fuzzy entries, then compile")


@translate.command()
def compile() -> None:  # noqa: A001  (the command's name, as in `pybabel compile`)
    """Compile the catalogs into the .mo files the app reads."""
    pybabel("compile", "-d", str(TRANSLATIONS), "--statistics", quiet=False)
