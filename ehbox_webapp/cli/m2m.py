"""`flask --app app ehbox m2m ...`: the organisation's own eHealthBox (use case 2.2.3).

No user logs in: the organisation's M2M client (IAM_M2M_CLIENT_ID, or --client-id)
gets a token with client credentials and private_key_jwt (the keystore's signing
key), exchanged for EHBOX_AUDIENCE when it is set. The work is done in
`ehbox_webapp.m2m`; this module only parses and prints. Exit codes: 0 done,
1 error, 2 usage or refused, 3 send outcome unknown (resend with the printed
command), 130 aborted by a second Ctrl-C.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from ..config import Settings
from ..ehealth.ehealthbox import (
    FOLDERS,
    EhealthboxError,
    InvalidDestination,
    RecipientsOutOfOffice,
    SendOutcomeUnknown,
    Unauthorized,
)
from ..ehealth.ehealthbox.models import ALLOWED_MOVES
from ..ehealth.etee import EteeError
from ..ehealth.etee.directory import NoEncryptionKey
from ..ehealth.etee.keys import NoKeystore
from ..ehealth.iam import IamError
from ..m2m import encrypted, files, render
from ..m2m.box import NoClientId, describe_error, organisation_box
from ..m2m.client_id import InvalidClientId
from ..m2m.poll import BINS, DEFAULT_INTERVAL, Poller, check_interval
from ..m2m.send import RECEIPTS, MessageProblem, build_message, resend_command
from ..m2m.signals import StopOnSignals
from ..m2m.state import PollError, directory_lock
from ..m2m.tokens import M2mTokenProvider, token_claims
from ..mailbox.shape import sealed_json, to_json
from .messages import where
from .progress import Counter

META = "ehbox.m2m"
COMMAND = ("flask", "--app", "app", "ehbox", "m2m")
Folder = click.Choice(FOLDERS, case_sensitive=False)
ExistingFile = click.Path(dir_okay=False, exists=True, path_type=Path)


@click.group("m2m", cls=AppGroup)
@click.option("--client-id", help="The organisation's M2M client id (default: IAM_M2M_CLIENT_ID).")
@click.option(
    "--no-token-cache",
    is_flag=True,
    help="Keep tokens in memory only (no 0600 cache file in the instance folder).",
)
@click.pass_context
def m2m_group(ctx: click.Context, client_id: str | None, no_token_cache: bool) -> None:
    """The organisation's eHealthBox, machine to machine (client credentials, no user)."""
    ctx.meta[META] = {"client_id": client_id, "file_cache": not no_token_cache}


def _meta() -> dict[str, Any]:
    return click.get_current_context().meta.setdefault(META, {})


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


def warn(message: str) -> None:
    click.echo(message if message.startswith("warning:") else f"warning: {message}", err=True)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(to_json(data), indent=2, ensure_ascii=False))


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Every expected failure becomes one line on stderr and a non-zero exit, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (InvalidClientId, NoClientId, MessageProblem, PollError) as exc:
            fail(str(exc), 2)
        except (NoEncryptionKey, NoKeystore) as exc:  # refused before anything was sent
            fail(f"{exc} Nothing was sent." if isinstance(exc, NoEncryptionKey) else str(exc), 2)
        except EteeError as exc:
            fail(f"ETEE: {exc}")
        except EhealthboxError as exc:
            if isinstance(exc, Unauthorized) and (provider := _meta().get("provider")):
                provider.invalidate()  # the next command starts with a fresh token
            fail(describe_error(exc) + where(_settings(), exc))
        except IamError as exc:
            fail(f"I.AM Connect (M2M realm): {exc}{where(_settings(), exc)}")
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))

    return wrapper


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def box_client() -> tuple[Any, M2mTokenProvider]:
    """The organisation's eHealthBox client and token provider, for this command."""
    meta = _meta()
    instance = Path(current_app.instance_path) if meta.get("file_cache", True) else None
    client, provider = organisation_box(
        current_app.extensions["services"], client_id=meta.get("client_id"), instance_path=instance
    )
    meta["provider"] = provider
    return client, provider


@m2m_group.command("token")
@click.option("--raw", is_flag=True, help="Print the access token itself (a secret).")
@click.option("--json", "as_json", is_flag=True, help="Print the claims as JSON.")
@handle_errors
def token_command(raw: bool, as_json: bool) -> None:
    """Get the organisation's token and show its non-secret claims (iss, azp, exp, scope)."""
    _, provider = box_client()
    tokens = provider.tokens()
    if raw:
        warn(
            "this is a bearer token, a secret: anyone holding it acts as the organisation "
            "until it expires. Do not log, paste or commit it."
        )
        click.echo(tokens.access_token)
        return
    claims = token_claims(tokens.access_token)
    expires_in = int(tokens.expires_at - datetime.now(UTC).timestamp())
    if as_json:
        echo_json(
            {
                "client_id": provider.client.client_id,
                "exchanged_for": provider.audience,
                "expires_in": expires_in,
                "claims": claims,
            }
        )
        return
    click.echo(
        "\n".join(
            render.token_lines(provider.client.client_id, provider.audience, claims, expires_in)
        )
    )


@m2m_group.command("box-info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def box_info_command(as_json: bool) -> None:
    """The organisation's box: identifier, size and quota, messages in stand-by."""
    client, _ = box_client()
    info = client.box_info()
    for warning in render.box_warnings(info):
        warn(warning)
    if as_json:
        echo_json(dict(to_json(info), usage=round(info.usage, 4)))
    else:
        click.echo("\n".join(render.box_lines(info)))


@m2m_group.command("list")
@click.option("--folder", type=Folder, default="INBOX", show_default=True)
@click.option("--start", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--end", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--all", "all_", is_flag=True, help="Every message of the folder, page by page.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handle_errors
def list_command(
    ctx: click.Context, folder: str, start: int, end: int, all_: bool, as_json: bool
) -> None:
    """List a folder, newest first (index 1 is the newest; at most 100 per page)."""
    folder = folder.upper()
    default = click.core.ParameterSource.DEFAULT
    if all_ and any(ctx.get_parameter_source(n) is not default for n in ("start", "end")):
        fail("--all lists every page: leave out --start and --end", 2)
    if not all_ and not 0 <= end - start < 100:
        fail("--start..--end is a page of 1 to 100 messages (e.g. --start 101 --end 200)", 2)
    client, _ = box_client()
    if all_:
        messages, total = list(client.iter_messages(folder)), None
    else:
        page = client.list_messages(folder, start, end)
        messages, total = list(page.messages), page.total
    if as_json:
        echo_json(
            {"folder": folder, "start": 1 if all_ else start, "total": total, "messages": messages}
        )
        return
    for line in render.summary_lines(messages):
        click.echo(line)
    of = f" of {total}" if total is not None else ""
    click.echo(f"{len(messages)} message(s){of} in {folder} (flags: N new, ! important, @ annex)")


@m2m_group.command("get")
@click.argument("message_id")
@click.option("--folder", type=Folder, default="INBOX", show_default=True)
@click.option(
    "--save-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save metadata, document and annexes into DIR/<MessageId>/.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def get_command(message_id: str, folder: str, save_dir: Path | None, as_json: bool) -> None:
    """Show a message (reading it from the INBOX marks it read and sends read receipts)."""
    client, _ = box_client()
    folder = folder.upper()
    message = client.get_message(message_id, folder)
    if message.content_specification.is_encrypted:
        _get_encrypted(client, message, folder, save_dir, as_json)
        return
    saved = None
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        try:
            saved = files.write_message(client, message, folder, save_dir, datetime.now(UTC))
        except FileExistsError as exc:
            fail(f"{exc}: remove it or choose another --save-dir", 2)
    if as_json:
        echo_json({"message": message, "savedTo": str(saved) if saved else None})
        return
    click.echo("\n".join(render.message_lines(message)))
    if saved is not None:
        click.echo(f"saved to:    {saved}{os.sep} ({', '.join(sorted(os.listdir(saved)))})")


def _get_encrypted(
    client: Any, message: Any, folder: str, save_dir: Path | None, as_json: bool
) -> None:
    """`get` of an encrypted message: unseal every field, show the signer and the verdict."""
    opened = encrypted.open_message(client, message, folder)
    saved = None
    if save_dir is not None and opened.ok:
        save_dir.mkdir(parents=True, exist_ok=True)
        try:
            saved = encrypted.write_opened(opened, folder, save_dir, datetime.now(UTC))
        except FileExistsError as exc:
            fail(f"{exc}: remove it or choose another --save-dir", 2)
    if as_json:
        echo_json(
            {
                "message": opened.shown(),
                "sealed": sealed_json(opened),
                "savedTo": str(saved) if saved else None,
            }
        )
    else:
        click.echo("\n".join(render.message_lines(opened.shown())))
        click.echo("\n".join(encrypted.opened_lines(opened)))
        if saved is not None:
            click.echo(f"saved to:    {saved}{os.sep} ({', '.join(sorted(os.listdir(saved)))})")
    if not opened.ok:
        fail(f"the message cannot be opened ({opened.verdict}); nothing was saved")


@m2m_group.command("send")
@click.option(
    "--to",
    "to",
    multiple=True,
    required=True,
    metavar="TYPE:ID:QUALITY",
    help="A recipient, e.g. INSS:85071212390:DOCTOR (repeat for more).",
)
@click.option("--title", required=True, help="Never encrypted: keep patient data out of it.")
@click.option(
    "--encrypted",
    is_flag=True,
    help="Seal every field end to end (ETEE) for the recipients and the organisation.",
)
@click.option("--document", type=ExistingFile, help="The document to send.")
@click.option("--text", help="A short text document instead of --document.")
@click.option("--annex", multiple=True, type=ExistingFile, help="An annex (repeat for more).")
@click.option("--free-text", help="Free information shown with the message.")
@click.option("--patient", metavar="INSS", help="The patient's INSS.")
@click.option("--important", is_flag=True)
@click.option("--receipt", multiple=True, type=click.Choice(tuple(RECEIPTS), case_sensitive=False))
@click.option("--publication-id", help="Resend a message whose outcome was unknown.")
@click.option(
    "--ooo-processed",
    is_flag=True,
    help="Send even though recipients are out of office (after a 826 warning).",
)
@handle_errors
def send_command(**params: Any) -> None:
    """Send a message from the organisation's box."""
    with ExitStack() as opened:  # the files are closed once the message is sent
        client, _ = box_client()
        outgoing = build_message(
            recipients=params["to"],
            title=params["title"],
            document=params["document"],
            text=params["text"],
            annexes=params["annex"],
            free_text=params["free_text"],
            patient=params["patient"],
            important=params["important"],
            receipts=params["receipt"],
            publication_id=params["publication_id"],
            ooo_processed=params["ooo_processed"],
            encrypted=params["encrypted"],
            opened=opened,
        )
        if outgoing.encrypted:
            warn(encrypted.CLEAR_FIELDS_WARNING)
        try:
            result = client.send(outgoing)
        except SendOutcomeUnknown as exc:
            client_id = _meta().get("client_id")
            prefix = [*COMMAND, *(["--client-id", client_id] if client_id else [])]
            click.echo(
                f"error: {describe_error(exc)}\npublication id: {exc.publication_id}\n"
                "resend safely (same publication id, delivered at most once):\n  "
                + resend_command(prefix, params, exc.publication_id),
                err=True,
            )
            raise click.exceptions.Exit(3) from None
        except RecipientsOutOfOffice as exc:
            for line in render.out_of_office_lines(exc.recipients):
                warn(line)
            fail(describe_error(exc) + " Resend with --ooo-processed (and/or --to a substitute).")
        except InvalidDestination as exc:
            named = "; ".join(str(r) for r in exc.recipients)
            fail(describe_error(exc) + (f" Recipients at fault: {named}" if named else ""))
    lines, warnings = render.send_lines(result, len(outgoing.message.recipients))
    click.echo("\n".join(lines))
    for warning in warnings:
        warn(warning)


@m2m_group.command("move")
@click.argument("message_ids", nargs=-1, required=True)
@click.option("--from", "source", type=Folder, required=True)
@click.option("--to", "destination", type=Folder, required=True)
@handle_errors
def move_command(message_ids: tuple[str, ...], source: str, destination: str) -> None:
    """Move messages to the bin (INBOX->BININBOX, SENTBOX->BINSENTBOX) or back."""
    source, destination = source.upper(), destination.upper()
    if (source, destination) not in ALLOWED_MOVES:
        fail(
            f"messages cannot move from {source} to {destination}: only INBOX<->BININBOX and "
            "SENTBOX<->BINSENTBOX",
            2,
        )
    client, _ = box_client()
    not_moved = client.move(message_ids, source, destination)
    click.echo(f"moved {len(message_ids) - len(not_moved)} message(s) to {destination}")
    if not_moved:
        fail(f"not moved (not in {source}?): {' '.join(not_moved)}")


@m2m_group.command("delete")
@click.argument("message_ids", nargs=-1, required=True)
@click.option("--folder", type=Folder, required=True)
@click.option("--yes", is_flag=True, help="Confirm: the messages are deleted for good.")
@handle_errors
def delete_command(message_ids: tuple[str, ...], folder: str, yes: bool) -> None:
    """Delete messages for good (physical delete; `move` to the bin is reversible)."""
    folder = folder.upper()
    if not yes:
        fail(
            f"refusing to delete {len(message_ids)} message(s) from {folder} without --yes: a "
            "delete is physical and cannot be undone (use `move --to BININBOX` to bin them)",
            2,
        )
    client, _ = box_client()
    not_deleted = client.delete(message_ids, folder)
    click.echo(f"deleted {len(message_ids) - len(not_deleted)} message(s) from {folder}")
    if not_deleted:
        fail(f"not deleted (not in {folder}?): {' '.join(not_deleted)}")


@m2m_group.command("poll")
@click.option(
    "--into",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory that receives one folder per message.",
)
@click.option(
    "--interval",
    type=float,
    default=DEFAULT_INTERVAL,
    show_default=True,
    help="Seconds between polls (at least 60; 1 in the sandbox).",
)
@click.option("--once", is_flag=True, help="Poll once and exit.")
@click.option(
    "--folder",
    type=click.Choice(tuple(BINS), case_sensitive=False),
    default="INBOX",
    show_default=True,
)
@click.option("--keep", is_flag=True, help="Leave fetched messages in the folder (no bin).")
@handle_errors
def poll_command(into: Path, interval: float, once: bool, folder: str, keep: bool) -> None:
    """Fetch new messages into DIR/<MessageId>/, then move them to the bin (unless --keep).

    Resumable: the state is in DIR/.ehbox-poll.json. Ctrl-C (or SIGTERM) finishes the
    current message, saves the state and exits 0; a second Ctrl-C abandons the message.
    """
    check_interval(interval, sandbox=current_app.config["SETTINGS"].is_sandbox)
    client, provider = box_client()
    stop = threading.Event()
    into.mkdir(parents=True, exist_ok=True, mode=0o700)
    with directory_lock(into), StopOnSignals(stop):
        counter = Counter()
        poller = Poller(
            client,
            into,
            client_id=provider.client.client_id,
            folder=folder.upper(),
            keep=keep,
            echo=counter.echo,
            warn=lambda message: (counter.clear(), warn(message)),
            on_progress=lambda done, total: counter.show(f"[{done}/{total}] fetching…"),
            explain=lambda exc: f"{exc}{where(_settings(), exc)}",
            stop=stop,
            on_unauthorized=provider.invalidate,
            save_encrypted=encrypted.poll_saver(client),
        )
        try:
            report = poller.run(interval, once=once)
        except KeyboardInterrupt:
            counter.clear()
            click.echo(
                "aborted: the message being written was discarded and will be fetched "
                "again; the state is saved",
                err=True,
            )
            raise click.exceptions.Exit(130) from None
    counter.clear()
    if stop.is_set():
        click.echo("stopped: the state is saved; run the same command to resume", err=True)
    elif once and not report.ok:
        raise click.exceptions.Exit(1)
