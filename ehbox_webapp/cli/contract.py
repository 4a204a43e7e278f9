"""`flask --app app ehbox contract diff FILE_OR_URL`: the official contract against ours.

Exit 0 when they agree, 1 when they differ (the differences on stdout, grouped by
operation, each with the rest.py functions to adapt), 2 when the document cannot be read.
"""

from __future__ import annotations

import click

from ..ehealth.ehealthbox import contract


@click.group("contract")
def contract_group() -> None:
    """The eHealthBox REST contract: the modelled openapi.yaml and the official one."""


@contract_group.command("diff")
@click.argument("source", metavar="FILE_OR_URL")
def diff_command(source: str) -> None:
    """Compare an official eHealthBox OpenAPI document (YAML or JSON) with openapi.yaml."""
    try:
        official = contract.load(source)
        differences = contract.diff(contract.modelled(), official)
    except contract.Unreadable as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(2) from None
    for line in contract.report(differences):
        click.echo(line)
    raise click.exceptions.Exit(1 if differences else 0)
