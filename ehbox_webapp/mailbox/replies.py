"""Reply, reply to all and forward: the values of the new message, from the original.

The values are named as an `/api/v1` message (what a draft keeps and `outgoing_message`
checks), so a reply or a forward goes on as any other message: the page shows them in the
compose form, the user changes what she likes, and the send checks them as it checks the
API's. Sentences stay with the entry point (`heading`: "On <date>, <sender> wrote:").
"""

from __future__ import annotations

from typing import Any

from ..ehealth.ehealthbox.models import BoxId, Message
from . import rules

REPLY_PREFIX = "Re: "
FORWARD_PREFIX = "Fwd: "


def reply_values(
    original: Message, *, heading: str, me: BoxId | None = None, everyone: bool = False
) -> dict[str, Any]:
    """An answer to the sender (and with `everyone`, to the original's other recipients but
    `me`), titled "Re: ...", quoting the original's text under `heading`."""
    sender = original.sender
    boxes = [BoxId(sender.id, sender.type, sender.quality, sender.sub_type)]
    if everyone:
        mine = (me.id, me.type) if me is not None else None
        boxes += [d for d in original.destinations if (d.id, d.type) != mine]
    boxes = list(dict.fromkeys(boxes))[: rules.MAX_RECIPIENTS]
    quoted = free_text_of(original)
    lines = "\n".join(f"> {line}" for line in quoted.splitlines())
    return {
        **_answer(original, REPLY_PREFIX),
        "recipients": [{"type": b.type, "id": b.id, "quality": b.quality} for b in boxes],
        "text": f"\n\n{heading}\n{lines}" if quoted else "",
    }


def forward_values(original: Message, folder: str) -> dict[str, Any]:
    """The original sent on, titled "Fwd: ...": its free text kept, its files attached."""
    return {
        **_answer(original, FORWARD_PREFIX),
        "freeText": free_text_of(original),
        "forward": {"folder": folder, "messageId": original.message_id, "includeOriginal": True},
    }


def free_text_of(message: Message) -> str:
    """The message's free text; a table as "left: right" lines."""
    info = message.free_information
    if info is None:
        return ""
    if info.is_table:
        return "\n".join(f"{row.left}: {row.right}" for row in info.rows)
    return info.text or ""


def _answer(original: Message, prefix: str) -> dict[str, Any]:
    title = original.document.title if original.document else ""
    if not (title or "").lower().startswith(prefix.lower()):
        title = (prefix + (title or ""))[: rules.TITLE_MAX]
    return {
        "title": title,
        "patientInss": original.patient_inss or "",
        "encrypted": original.content_specification.is_encrypted,  # answered as it came
    }
