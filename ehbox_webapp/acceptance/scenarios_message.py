"""The scenarios around the run's message: send, find, read, receipts, move.

The message goes to oneself and to the second box, with a PDF document, a text
annex and every receipt requested. Deleting what the run created is `cleanup.py`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from ..ehealth.ehealthbox import (
    BoxId,
    CustomMeta,
    Download,
    EhealthboxClient,
    MessageSummary,
    NewMessage,
    Recipient,
    RecipientOutcome,
    RecipientsOutOfOffice,
    SendOutcomeUnknown,
)
from ..ehealth.ehealthbox.models import MAX_IDS_PER_CALL
from .content import RUN_META
from .run import Fail, Party, Run, Scenario, Skip

T = TypeVar("T")
PAGE = MAX_IDS_PER_CALL  # list pages as large as the platform allows (100)
SEND = "EHBOX-403.1"


def wait_for(run: Run, attempt: Callable[[], T | None]) -> T | None:
    """`attempt()` until it returns something, for up to --wait seconds.

    Sending is asynchronous on the platform (an accepted send is not yet delivered,
    notes §3.5): copies and receipts may show up a little later.
    """
    deadline, pause = time.monotonic() + run.options.wait_seconds, 0.5
    while True:
        value = attempt()
        if value is not None or time.monotonic() + pause > deadline:
            return value
        time.sleep(pause)
        pause = min(pause * 2, 5.0)


def find(
    client: EhealthboxClient, folder: str, match: Callable[[MessageSummary], bool]
) -> tuple[int, MessageSummary] | None:
    """(position, summary) of the first match on the folder's newest page."""
    page = client.list_messages(folder, 1, PAGE)
    return next(((i, m) for i, m in enumerate(page.messages, start=1) if match(m)), None)


def is_run_message(run: Run) -> Callable[[MessageSummary], bool]:
    message, _ = run.sent_message()
    meta = CustomMeta(RUN_META, run.content.run_id)
    # Lists may not carry the PublicationId (the SOAP list has none): the custom meta does.
    return lambda m: m.publication_id == message.publication_id or meta in m.custom_metas


# --- send ---------------------------------------------------------------------------------
def send(run: Run) -> str:
    client = run.me.api()
    second = run.other.recipient() if run.other is not None and run.other.box else None
    recipients = [run.me.recipient()] + ([second] if second else [])
    run.message = message = run.content.message(recipients)
    resent = absent = ""
    try:
        run.sent = client.send(message)
    except RecipientsOutOfOffice as exc:
        # eHealth's way (UC-403, code 826): nothing was delivered; acknowledge each absence
        # (ooOProcessed on that recipient) and send again, under the same PublicationId.
        run.message = message = acknowledge_absences(message, exc.recipients)
        absent = absences_note(exc.recipients, second)
        run.notes.append(absent)
        run.sent = client.send(message)
        absent = f"; {absent}"
    except SendOutcomeUnknown:
        # The documented recovery: the same PublicationId is delivered at most once.
        run.sent = client.send(message)
        resent = "; the first answer was lost, resent with the same PublicationId"
    to = " and ".join(str(r.box()) for r in recipients)
    note = "" if second else " (no second box: sent to oneself only)"
    sizes = f"PDF document {message.document.size} B, annex {message.annexes[0].size} B"  # type: ignore[union-attr]
    return (
        f"message {run.sent.message_id} (PublicationId {message.publication_id}) to {to}{note}: "
        f"{sizes}, publication/received/read receipts requested{resent}{absent}"
    )


def acknowledge_absences(message: NewMessage, absent: list[RecipientOutcome]) -> NewMessage:
    """The message with `ooOProcessed` set on every recipient the platform said is absent."""
    boxes = {outcome.box for outcome in absent}
    return replace(
        message,
        recipients=[
            replace(r, ooo_processed=True) if r.box() in boxes else r for r in message.recipients
        ],
    )


def absences_note(absent: list[RecipientOutcome], second: Recipient | None) -> str:
    """Who is out of office, what the run did about it, and how to take another box."""
    parts = []
    for outcome in absent:
        period = ""
        if outcome.absent_from and outcome.absent_to:
            period = f" from {outcome.absent_from.isoformat()} to {outcome.absent_to.isoformat()}"
        substitutes = ", ".join(str(s) for s in outcome.substitutes)
        parts.append(
            f"{outcome.box} is out of office{period}"
            + (f" (substitutes: {substitutes})" if substitutes else "")
        )
    boxes = {outcome.box for outcome in absent}
    way_out = (
        "; to send to a box that is not away instead, run again with "
        "--second-box TYPE:ID:QUALITY (e.g. INSS:<another colleague's INSS>:DOCTOR)"
        if second is not None and second.box() in boxes
        else ""
    )
    return (
        f"{'; '.join(parts)}: the platform answered 826 and delivered nothing, so the run "
        "acknowledged the absence (ooOProcessed=true on that recipient) and sent again under "
        f"the same PublicationId, as eHealth asks{way_out}"
    )


# --- find ---------------------------------------------------------------------------------
def find_sent(run: Run) -> str:
    client, (_, sent) = run.me.api(), run.sent_message()
    found = wait_for(
        run, lambda: find(client, "SENTBOX", lambda m: m.message_id == sent.message_id)
    )
    if found is None:
        raise Fail(f"{sent.message_id} is not among the {PAGE} newest messages of SENTBOX")
    return f"{sent.message_id} is message {found[0]} of SENTBOX"


def _find_received(run: Run, party: Party | None) -> str:
    if party is None:
        raise Skip("no second box: configure the other identity or give --second-box")
    client, match = party.api(), is_run_message(run)
    found = wait_for(run, lambda: find(client, "INBOX", match))
    if found is None:
        raise Fail(
            f"the message is not among the {PAGE} newest messages of the INBOX of {party.box} "
            f"after {run.options.wait_seconds:.0f} s"
        )
    party.inbox_id = found[1].message_id
    return f"{party.box}: message {party.inbox_id} is message {found[0]} of the INBOX"


def find_own(run: Run) -> str:
    return _find_received(run, run.me)


def find_other(run: Run) -> str:
    return _find_received(run, run.other)


# --- read ---------------------------------------------------------------------------------
def _digest(download: Download) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with download:
        for chunk in download.iter_bytes():  # also checks the server's own Digest header
            sha.update(chunk)
            size += len(chunk)
    return base64.b64encode(sha.digest()).decode("ascii"), size


def _read_back(run: Run, party: Party | None) -> str:
    if party is None or party.inbox_id is None:
        raise Skip("the message was not found in this box")
    client, mid, folder = party.api(), party.inbox_id, party.inbox_folder
    sent, _ = run.sent_message()
    full = client.get_message(mid, folder)
    # Contents are compared here and never written: the report only says whether they match.
    if full.document is None or full.document.title != sent.title:
        raise Fail(f"message {mid}: the document (or its title) is not the one sent")
    free = full.free_information.text if full.free_information else None
    if free != (sent.free_information.text if sent.free_information else None):
        raise Fail(f"message {mid}: the free text is not the one sent")
    if [a.title for a in full.annexes] != [a.title for a in sent.annexes]:
        raise Fail(f"message {mid}: {len(full.annexes)} annex(es) or their titles differ")
    digest, size = _digest(client.open_document(mid, folder))
    if digest != sent.document.digest:  # type: ignore[union-attr]
        raise Fail(f"message {mid}: the document's SHA-256 differs from the one sent")
    sizes = [size]
    for annex, original in zip(full.annexes, sent.annexes, strict=True):
        digest, size = _digest(client.open_annex(mid, annex.index, folder))
        if digest != original.digest:
            raise Fail(f"message {mid}: annex {annex.index}'s SHA-256 differs from the one sent")
        sizes.append(size)
    party.read = True
    annexes = ", ".join(f"{s} B" for s in sizes[1:])
    return (
        f"{party.box}: message {mid} read; document ({sizes[0]} B) and {len(sizes) - 1} "
        f"annex(es) ({annexes}) match the SHA-256 digests sent"
    )


def read_own(run: Run) -> str:
    return _read_back(run, run.me)


def read_other(run: Run) -> str:
    return _read_back(run, run.other)


# --- receipts -----------------------------------------------------------------------------
def _key(box: BoxId) -> tuple[str, str, str]:
    return box.type, box.id, box.quality


def _receipts(run: Run, wanted: dict[tuple[str, str, str], tuple[str, ...]]) -> None:
    """Wait until every wanted recipient has the wanted receipts; fail naming what is missing."""
    client, (_, sent) = run.me.api(), run.sent_message()
    missing: list[str] = []

    def complete() -> bool | None:
        rows = {_key(r.recipient): r for r in client.acknowledgments(sent.message_id)}
        missing[:] = [
            f"{kind.upper()} for {key[0]} {key[1]}"
            for key, kinds in wanted.items()
            for kind in kinds
            if key not in rows or getattr(rows[key], kind) is None
        ]
        return None if missing else True

    if wait_for(run, complete) is None:
        raise Fail(f"after {run.options.wait_seconds:.0f} s, missing: {', '.join(missing)}")


def receipts_published(run: Run) -> str:
    message, _ = run.sent_message()
    wanted = {_key(r.box()): ("published",) for r in message.recipients}
    _receipts(run, wanted)
    return f"PUBLISHED for all {len(wanted)} recipient(s)"


def receipts_read(run: Run) -> str:
    message, _ = run.sent_message()
    readers = [p.box for p in (run.me, run.other) if p is not None and p.read and p.box]
    wanted = {_key(box): ("published", "received", "read") for box in readers}
    _receipts(run, wanted)
    unread = [str(r.box()) for r in message.recipients if _key(r.box()) not in wanted]
    note = (
        f"; not checked for {', '.join(unread)}: the run has no access to read its copy"
        if unread
        else ""
    )
    return f"PUBLISHED, RECEIVED and READ for {' and '.join(map(str, readers))}{note}"


# --- move ---------------------------------------------------------------------------------
def move(run: Run) -> str:
    me, client, (_, sent) = run.me, run.me.api(), run.sent_message()
    if me.inbox_id is None:
        raise Skip("the message was not found in the own INBOX")
    for mid, home, bin_ in (
        (me.inbox_id, "INBOX", "BININBOX"),
        (sent.message_id, "SENTBOX", "BINSENTBOX"),
    ):
        for source, destination in ((home, bin_), (bin_, home)):
            if client.move([mid], source, destination):
                raise Fail(f"{mid} was not moved from {source} to {destination}")
            # Where the copy is now: the clean-up deletes it from there.
            if mid == sent.message_id:
                run.sentbox_folder = destination
            else:
                me.inbox_folder = destination
            if find(client, destination, lambda m, mid=mid: m.message_id == mid) is None:
                raise Fail(f"{mid} is not listed in {destination} after the move")
    return (
        "INBOX → BININBOX → INBOX and SENTBOX → BINSENTBOX → SENTBOX; every move seen in "
        "the destination's list"
    )


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        SEND,
        "Send a PDF document with an annex to oneself and to the second box, receipts requested",
        send,
        ("EHBOX-407.1",),
    ),
    Scenario(
        "EHBOX-403.2",
        "Receipts after the send: PUBLISHED for every recipient",
        receipts_published,
        (SEND,),
    ),
    Scenario("EHBOX-401.5", "Find the message in SENTBOX", find_sent, (SEND,)),
    Scenario("EHBOX-401.6", "Find the message in one's own INBOX", find_own, (SEND,)),
    Scenario("EHBOX-401.7", "Find the message in the second box's INBOX", find_other, (SEND,)),
    Scenario(
        "EHBOX-403.3",
        "Read it from one's own INBOX: document and annex digests match",
        read_own,
        ("EHBOX-401.6",),
    ),
    Scenario(
        "EHBOX-403.4",
        "The receiver reads it: document and annex digests match",
        read_other,
        ("EHBOX-401.7",),
    ),
    Scenario(
        "EHBOX-403.5",
        "Receipts after reading: RECEIVED and READ",
        receipts_read,
        ("EHBOX-403.3",),
    ),
    Scenario(
        "EHBOX-405.1",
        "Move to the bin and back (INBOX and SENTBOX)",
        move,
        ("EHBOX-401.5", "EHBOX-401.6"),
    ),
)
