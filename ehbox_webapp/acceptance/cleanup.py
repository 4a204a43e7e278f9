"""EHBOX-404.1: delete, for good, what the run created.

The sent copy and the received copies, from wherever they are now (the move
scenario may have left one in a bin), and the receipt notifications the platform
put in the sender's INBOX about the run's message. Each delete is checked in the
folder's list afterwards. A box the run has no access to (--second-box) keeps
its copy, and the detail says so.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from ..ehealth.ehealthbox import EhealthboxClient, EhealthboxError, SendResult
from .run import Fail, Run, Scenario
from .scenarios_message import PAGE, SEND, find

CLOCK_SKEW = timedelta(minutes=2)  # receipts published before the run (minus this) are not ours


def receipt_notifications(run: Run) -> list[str]:
    """The ACKNOWLEDGMENT messages about the run's message in the sender's INBOX.

    Only those published since the run started are opened: opening one marks it
    read, and the box's older receipts are none of the run's business.
    """
    client, (_, sent) = run.me.api(), run.sent_message()
    since = run.started_at - CLOCK_SKEW
    ids = []
    for summary in client.list_messages("INBOX", 1, PAGE).messages:
        spec = summary.content_specification
        if spec.content_type == "ACKNOWLEDGMENT" and summary.publication_date >= since:
            ack = client.get_message(summary.message_id, "INBOX").acknowledgment
            if ack is not None and ack.message_id == sent.message_id:
                ids.append(summary.message_id)
    return ids


def delete_and_check(client: EhealthboxClient, folders: dict[str, list[str]]) -> int:
    """Delete the ids per folder; fail if one is refused or still listed. Returns the count."""
    count = 0
    for folder, ids in folders.items():
        if not ids:
            continue
        if not_deleted := client.delete(ids, folder):
            raise Fail(f"not deleted from {folder}: {', '.join(not_deleted)}")
        still = [
            m.message_id
            for m in client.list_messages(folder, 1, PAGE).messages
            if m.message_id in ids
        ]
        if still:
            raise Fail(f"still listed in {folder} after the delete: {', '.join(still)}")
        count += len(ids)
    return count


def cleanup(run: Run) -> str:
    me, (_, sent), notes = run.me, run.sent_message(), []
    own: dict[str, list[str]] = {run.sentbox_folder: [sent.message_id]}
    if me.inbox_id:
        own.setdefault(me.inbox_folder, []).append(me.inbox_id)
    else:
        notes.append("the own INBOX copy was not found, so not deleted")
    receipts = receipt_notifications(run)
    own.setdefault("INBOX", []).extend(receipts)
    deleted = delete_and_check(me.api(), own)
    other = run.other
    if other is not None and other.client is not None and other.inbox_id:
        deleted += delete_and_check(other.client, {other.inbox_folder: [other.inbox_id]})
    elif other is not None:
        notes.append(f"the copy in {other.box} stays: the run cannot reach it")
    return (
        f"{deleted} message(s) deleted for good ({len(receipts)} of them receipt "
        "notifications); none is listed any more" + "".join(f"; {n}" for n in notes)
    )


def remove(run: Run, result: SendResult) -> None:
    """Delete a message an error case sent by mistake (best effort: its Fail says enough)."""
    client = run.me.api()
    with contextlib.suppress(EhealthboxError):
        client.delete([result.message_id], "SENTBOX")
        found = find(client, "INBOX", lambda m: m.publication_id == result.publication_id)
        if found is not None:
            client.delete([found[1].message_id], "INBOX")


CLEANUP = Scenario(
    "EHBOX-404.1",
    "Delete what the run created: received and sent copies, receipt notifications",
    cleanup,
    (SEND,),
)
