"""The scenarios of a run, in order, and the ones that need no message: tokens, box, lists, errors.

The ids follow the imec interop lab's eHealthBox use cases, whose test scripts use
the range EHBOX 401-500 (docs/ehealth-platform.md §4): 401 message list, 403 send,
404 delete, 405 move, 407 box info; IAM-* are the I.AM Connect steps. eHealth's own
mini-lab scenario list is UNKNOWN (no public copy): map these ids to it once known.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..ehealth.ehealthbox import (
    FOLDERS,
    EhealthboxError,
    InvalidDestination,
    MessageTooLarge,
    Recipient,
    SendResult,
)
from ..ehealth.iam import IamError
from . import identities
from .cleanup import CLEANUP, remove
from .content import MIB
from .run import M2M, USER, Fail, Party, Run, Scenario, Skip
from .scenarios_message import PAGE
from .scenarios_message import SCENARIOS as MESSAGE_SCENARIOS


def describe(exc: Exception) -> str:
    """An error as a report line: class, HTTP status, code, request id (never content)."""
    if isinstance(exc, EhealthboxError):
        parts = [
            f"HTTP {exc.status}" if exc.status else "",
            f"code {exc.code}" if exc.code else "",
            f"request {exc.request_id}" if exc.request_id else "",
        ]
        where = ", ".join(p for p in parts if p)
        return f"{type(exc).__name__}" + (f" ({where})" if where else "") + f": {exc}"
    if isinstance(exc, IamError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


# --- I.AM Connect -------------------------------------------------------------------------
def _token_source(run: Run, kind: str) -> tuple[identities.TokenSource, str]:
    s, audience = run.settings, run.settings.ehbox_audience or None
    iam = run.iam(kind)
    if kind == M2M:
        if not s.iam_m2m_client_id:
            raise Skip("no M2M client: IAM_M2M_CLIENT_ID is not set")
        how = f"client credentials (private_key_jwt) as {s.iam_m2m_client_id} at the M2M realm"
        return identities.m2m(iam, audience, run.secrets), how
    if run.options.user_token:
        how = f"a user's access token for {s.iam_client_id} (--user-token-file)"
        return identities.user_from_token(iam, run.options.user_token, audience, run.secrets), how
    if not s.is_sandbox:
        raise Skip(
            "no user token: outside the sandbox a user cannot be logged in by a script "
            "(give --user-token-file)"
        )
    how = (
        f"authorization code with PKCE for {s.iam_client_id}: a sandbox persona logged in "
        "through the login form"
    )
    source = identities.sandbox_user(
        iam,
        run.http,
        redirect_uri=s.redirect_uri,
        scope=" ".join(s.scopes),
        persona=run.options.persona,
        audience=audience,
        secrets=run.secrets,
    )
    return source, how


def _connect(run: Run, party: Party) -> str:
    source, how = _token_source(run, party.kind)
    try:
        source.obtain()
    except IamError as exc:
        raise Fail(f"{how}: {describe(exc)}") from None
    try:
        exchanged = source.exchange()
    except IamError as exc:
        raise Fail(f"{how}: the exchange for {source.audience} failed: {describe(exc)}") from None
    party.client = run.ehealthbox(source)
    left = identities.seconds_left(exchanged)
    valid = f"; valid {left} s" if left is not None else ""
    if source.audience:
        return f"{how}, exchanged (RFC 8693) for audience {source.audience}{valid}"
    return f"{how}{valid} (no EHBOX_AUDIENCE: used as is)"


def token_me(run: Run) -> str:
    return _connect(run, run.me)


def token_other(run: Run) -> str:
    if run.options.second_box is not None:
        run.other = Party("box", box=run.options.second_box.box())
        raise Skip(f"the second box is {run.other.box} (--second-box): no token for it")
    kind = USER if run.options.run_as == M2M else M2M
    other = Party(kind)
    detail = _connect(run, other)
    info = other.api().box_info()
    other.box = info.box_id
    run.other = other
    return f"{kind}: {detail}; its box is {info.box_id}"


# --- box info and lists -------------------------------------------------------------------
def box_info(run: Run) -> str:
    info = run.me.api().box_info()
    run.me.box = info.box_id
    if info.max_size <= 0:
        raise Fail(f"{info.box_id}: the box reports no quota (maxSize {info.max_size})")
    standby = (
        f"; {info.nbr_messages_in_standby} message(s) wait in stand-by: the box is full"
        if info.nbr_messages_in_standby
        else ""
    )
    return (
        f"{info.box_id}: {info.current_size} of {info.max_size} bytes used "
        f"({info.usage:.0%}){standby}"
    )


def list_folder(folder: str) -> Callable[[Run], str]:
    """Page 1, and page 2 when page 1 is full; newest first; ids unique per page and overall."""

    def scenario(run: Run) -> str:
        client = run.me.api()
        pages = [client.list_messages(folder, 1, PAGE)]
        if len(pages[0].messages) == PAGE or (pages[0].total or 0) > PAGE:
            pages.append(client.list_messages(folder, PAGE + 1, 2 * PAGE))
        seen: dict[str, datetime] = {}
        repeated = 0
        for page in pages:
            ids = [m.message_id for m in page.messages]
            if len(set(ids)) != len(ids):
                raise Fail(f"{folder} {page.start}-{page.end} lists a message twice")
            for summary in page.messages:
                if summary.message_id in seen:
                    repeated += 1  # new mail shifted the indexes: dropped, as the client does
                else:
                    seen[summary.message_id] = summary.publication_date
        dates = list(seen.values())
        for position, (newer, older) in enumerate(zip(dates, dates[1:], strict=False), start=1):
            if newer < older:
                raise Fail(
                    f"{folder} is not newest first: message {position + 1} is newer "
                    f"than message {position}"
                )
        of_total = f" (the folder holds {pages[0].total})" if pages[0].total is not None else ""
        if len(pages) == 1:
            return f"{len(seen)} message(s) on one page{of_total}, newest first, each once"
        return (
            f"{len(seen)} messages on pages 1-{PAGE} and {PAGE + 1}-{2 * PAGE}{of_total}, newest "
            f"first; {repeated} repeated across the pages (new mail), counted once"
        )

    return scenario


# --- error cases --------------------------------------------------------------------------
def _unexpectedly_sent(run: Run, result: SendResult, what: str) -> Fail:
    remove(run, result)
    return Fail(f"{what} was accepted (message {result.message_id}); removed again")


def unknown_recipient(run: Run) -> str:
    inss = run.options.unknown_inss
    message = run.content.to_unknown(Recipient(inss, "INSS", "DOCTOR"))
    try:
        result = run.me.api().send(message)
    except InvalidDestination as exc:
        if exc.code != "802":
            raise Fail(f"expected code 802, got {describe(exc)}") from None
        return f"INSS {inss} refused as expected: {describe(exc)}"
    except EhealthboxError as exc:
        raise Fail(f"expected InvalidDestination (802), got {describe(exc)}") from None
    raise _unexpectedly_sent(run, result, f"a message to INSS {inss}")


def too_large(run: Run) -> str:
    size = run.options.too_large_bytes
    if size is None:
        raise Skip(run.options.too_large_note or "no size given (--too-large-mb)")
    message = run.content.too_large([run.me.recipient()], size)
    try:
        result = run.me.api().send(message)
    except MessageTooLarge as exc:
        return f"{size / MIB:.1f} MiB refused as expected: {describe(exc)}"
    except EhealthboxError as exc:
        raise Fail(f"expected MessageTooLarge (801), got {describe(exc)}") from None
    raise _unexpectedly_sent(run, result, f"a message of {size / MIB:.1f} MiB")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "IAM-1",
        "Obtain a token for the run's identity and exchange it for the eHealthBox",
        token_me,
    ),
    Scenario(
        "IAM-2",
        "Obtain a token for the receiving identity (the second box), and its box",
        token_other,
        ("IAM-1",),
    ),
    Scenario(
        "EHBOX-407.1", "Box info: the box, its quota and stand-by count", box_info, ("IAM-1",)
    ),
    *(
        Scenario(
            f"EHBOX-401.{i}",
            f"List {folder}: paging, newest first, no duplicates",
            list_folder(folder),
            ("IAM-1",),
        )
        for i, folder in enumerate(FOLDERS, start=1)
    ),
    *MESSAGE_SCENARIOS,
    Scenario(
        "EHBOX-403.6",
        "Send to an unknown recipient: refused with InvalidDestination (802)",
        unknown_recipient,
        ("IAM-1",),
    ),
    Scenario(
        "EHBOX-403.7",
        "Send a message that is too large: refused with MessageTooLarge (801)",
        too_large,
        ("EHBOX-407.1",),
    ),
    CLEANUP,
)
