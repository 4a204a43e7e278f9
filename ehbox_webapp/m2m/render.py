"""Text views of boxes, listings and messages for the terminal (JSON views: `files`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ..ehealth.ehealthbox import BoxInfo, Message, MessageSummary, RecipientOutcome, SendResult

STANDBY_WARNING = (
    "warning: {n} message(s) are waiting in stand-by because the box is full: "
    "move processed messages to the bin or delete them to let them in"
)
FULL_SHARE = 0.9


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} GB"


def box_warnings(info: BoxInfo) -> list[str]:
    """Stand-by and quota warnings (notes §3.5: a full box parks new mail in stand-by)."""
    warnings = []
    if info.nbr_messages_in_standby > 0:
        warnings.append(STANDBY_WARNING.format(n=info.nbr_messages_in_standby))
    if info.max_size and info.usage >= FULL_SHARE:
        warnings.append(f"warning: the box is {info.usage:.0%} full")
    return warnings


def box_lines(info: BoxInfo) -> list[str]:
    return [
        f"box:      {info.box_id}",
        f"size:     {_size(info.current_size)} of {_size(info.max_size)} ({info.usage:.1%})",
        f"stand-by: {info.nbr_messages_in_standby} message(s)",
    ]


def flags(summary: MessageSummary | Message) -> str:
    spec = summary.content_specification
    marks = [
        "N" if not summary.read else "-",
        "!" if spec.is_important else "-",
        "@"
        if (summary.has_annex if isinstance(summary, MessageSummary) else summary.annexes)
        else "-",
    ]
    return "".join(marks)


def summary_line(summary: MessageSummary) -> str:
    """`<id>  <date>  <flags>  <type>  <sender>  <title>`; flags: N new, ! important, @ annex."""
    kind = summary.content_specification.content_type
    return (
        f"{summary.message_id}  {_when(summary.publication_date)}  {flags(summary)}  "
        f"{kind:<14} {summary.sender.display_name[:30]:<30}  {summary.title}"
    )


def summary_lines(summaries: Iterable[MessageSummary]) -> Iterator[str]:
    for summary in summaries:
        yield summary_line(summary)


def message_lines(message: Message) -> list[str]:
    spec = message.content_specification
    lines = [
        f"message:     {message.message_id}",
        f"publication: {message.publication_id or '-'}",
        f"type:        {spec.content_type}{' (important)' if spec.is_important else ''}",
        f"from:        {message.sender.display_name} — {message.sender}",
        "to:          " + ("; ".join(str(d) for d in message.destinations) or "-"),
        f"published:   {_when(message.publication_date)}",
        f"expires:     {_when(message.expiration_date)}",
    ]
    if message.patient_inss:
        lines.append(f"patient:     {message.patient_inss}")
    if message.document is not None:
        doc = message.document
        lines.append(f"title:       {doc.title}")
        lines.append(f"document:    {doc.download_file_name} ({doc.mime_type}, {_size(doc.size)})")
    for annex in message.annexes:
        lines.append(
            f"annex {annex.index}:     {annex.title}: {annex.download_file_name} "
            f"({annex.mime_type}, {_size(annex.size)})"
        )
    info = message.free_information
    if info is not None and info.text is not None:
        lines.append(f"free text:   {info.text}")
    elif info is not None:
        lines.append(f"table:       {info.table_title or ''}")
        lines += [f"  {row.left}: {row.right}" for row in info.rows]
    if message.acknowledgment is not None:
        ack = message.acknowledgment
        lines.append(f"receipt:     {ack.ack_type} for {ack.message_id} at {_when(ack.date_time)}")
    if message.error is not None:
        lines.append(
            f"error:       {message.error.code} {' '.join(message.error.messages)} "
            f"(publication {message.error.publication_id or '-'})"
        )
    return lines


def send_lines(result: SendResult, recipients: int) -> tuple[list[str], list[str]]:
    """(what to print, warnings) after a send: the ids, a replay, boxes in stand-by."""
    if result.replayed:
        lines = [
            f"already sent earlier with publication id {result.publication_id}: nothing "
            f"new was sent (message {result.message_id})"
        ]
    else:
        lines = [
            f"sent: message {result.message_id}, publication id {result.publication_id}, "
            f"{recipients} recipient(s)"
        ]
    warnings = [
        f"{o.box}: the box is full, the message waits in stand-by"
        for o in result.recipients
        if o.stand_by
    ]
    return lines, warnings


def out_of_office_lines(outcomes: Iterable[RecipientOutcome]) -> list[str]:
    return [
        f"{o.box} is out of office {o.absent_from} to {o.absent_to}; substitutes: "
        + (", ".join(str(s) for s in o.substitutes) or "none")
        for o in outcomes
    ]


def token_lines(
    client_id: str, audience: str | None, claims: dict[str, Any], expires_in: int
) -> list[str]:
    """The token's non-secret claims (iss, azp, aud, scope, exp), never the token itself."""
    lines = [
        f"client id:  {client_id}",
        "token:      "
        + (
            f"exchanged for audience {audience} (RFC 8693)"
            if audience
            else "client credentials (not exchanged)"
        ),
    ]
    lines += [
        f"{name + ':':<11} {claims[name]}"
        for name in ("iss", "azp", "aud", "scope")
        if name in claims
    ]
    if isinstance(claims.get("exp"), int | float):
        exp = datetime.fromtimestamp(claims["exp"], UTC)
        lines.append(f"exp:        {exp:%Y-%m-%d %H:%M:%S} UTC (in {expires_in} s)")
    lines.append("(the token itself is a secret: `token --raw` prints it)")
    return lines
