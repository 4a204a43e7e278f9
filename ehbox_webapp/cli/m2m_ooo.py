"""`flask ehbox m2m ooo ...`: the organisation box's out-of-office periods.

The same rules as the out-of-office page (`mailbox.absence`); substitutes are written as
recipients are (`TYPE:ID:QUALITY`).
"""

from __future__ import annotations

import json
from datetime import date

import click

from ..m2m.send import parse_recipient
from ..mailbox.absence import Absence, current_and_coming
from ..mailbox.problems import Invalid, english
from .m2m import box_client, fail, handle_errors, m2m_group


@m2m_group.group("ooo")
def ooo_group() -> None:
    """Out of office: senders are told, with the substitutes, before they send."""


def _line(period) -> str:
    subs = ", ".join(str(s) for s in period.substitutes) or "no substitute"
    return f"{period.id}  {period.start_date} to {period.end_date}  ({subs})"


@ooo_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def ooo_list(as_json: bool) -> None:
    """The periods not over yet, the soonest first."""
    client, _ = box_client()
    periods = current_and_coming(client.out_of_offices(), date.today())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": p.id,
                        "startDate": p.start_date.isoformat(),
                        "endDate": p.end_date.isoformat(),
                        "substitutes": [
                            {
                                "id": s.id,
                                "type": s.type,
                                "quality": s.quality,
                                "subType": s.sub_type,
                            }
                            for s in p.substitutes
                        ],
                    }
                    for p in periods
                ],
                indent=2,
            )
        )
        return
    click.echo("\n".join(_line(p) for p in periods) or "not out of office")


@ooo_group.command("set")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option(
    "--substitute",
    multiple=True,
    metavar="TYPE:ID:QUALITY",
    help="Who may be written to instead, e.g. INSS:90010178911:DOCTOR (repeat for more).",
)
@handle_errors
def ooo_set(start, end, substitute: tuple[str, ...]) -> None:
    """Set a period (both days included)."""
    subs = [parse_recipient(value).box() for value in substitute]
    client, _ = box_client()
    try:
        absence = Absence.checked(
            start.date(), end.date(), subs, today=date.today(), me=client.box_info().box_id
        )
    except Invalid as exc:
        fail(
            "; ".join(
                f"--{'to' if p.field == 'end' else p.field}: {english(p)}" for p in exc.problems
            ),
            2,
        )
    period = client.add_out_of_office(absence.start, absence.end, absence.substitutes)
    click.echo(f"out of office: {_line(period)}")


@ooo_group.command("end")
@click.argument("ooo_id")
@handle_errors
def ooo_end(ooo_id: str) -> None:
    """End a period (its id is in `ooo list`)."""
    client, _ = box_client()
    client.delete_out_of_office(ooo_id)
    click.echo(f"ended {ooo_id}")
