"""The organisation's eHealthBox client, assembled from the app's `Services`.

Shared by the CLI and anything else that works for the organisation (a worker):
check the client id, reuse `Services.m2m` when it is the same client, and give the
eHealthBox client a token provider with the caches described in `tokens.py`.
"""

from __future__ import annotations

from pathlib import Path

from ..ehealth.ehealthbox import EhealthboxError, Unauthorized
from ..ehealth.iam import IamClient
from ..mailbox.actions import Mailbox
from ..services import Services
from .client_id import check_client_id
from .tokens import CACHE_FILE, M2mTokenProvider, TokenFileCache


class NoClientId(ValueError):
    """Neither IAM_M2M_CLIENT_ID nor an explicit client id is set."""


def organisation_box(
    services: Services,
    *,
    client_id: str | None = None,
    instance_path: Path | None = None,
) -> tuple[Mailbox, M2mTokenProvider]:
    """The mailbox of the organisation (names made safe on the way in), and its token provider.

    `client_id` overrides IAM_M2M_CLIENT_ID; `instance_path`, when given (and the
    platform has POSIX file modes), holds the 0600 token cache file.
    """
    settings = services.settings
    client_id = client_id or settings.iam_m2m_client_id
    if not client_id:
        raise NoClientId("no M2M client id: set IAM_M2M_CLIENT_ID or pass --client-id")
    check_client_id(
        client_id,
        identifier=settings.etee_identifier,
        identifier_type=settings.etee_identifier_type,
    )
    iam = services.m2m
    if iam is None or iam.client_id != client_id:
        iam = IamClient(
            settings.iam_m2m_issuer,
            client_id,
            http=services.http,
            identity=services.identity,
            timeout=settings.http_timeout,
            jwks=iam.jwks if iam is not None else None,
        )
    cache = None
    if instance_path is not None and TokenFileCache.supported():
        cache = TokenFileCache(Path(instance_path) / CACHE_FILE)
    provider = M2mTokenProvider(iam, audience=settings.ehbox_audience or None, file_cache=cache)
    box = Mailbox(services.ehealthbox(provider), keys=services.keys, directory=services.directory)
    return box, provider


def describe_error(exc: EhealthboxError) -> str:
    """One line: the sentence, the platform's detail, and the references support needs."""
    text = str(exc)
    if isinstance(exc, Unauthorized):  # the default sentence speaks of a user's login
        text = (
            "the eHealthBox refused the organisation's token; the cached token was "
            "dropped, run the command again"
        )
    refs = [
        f"HTTP {exc.status}" if exc.status else "",
        f"code {exc.code}" if exc.code else "",
        f"request {exc.request_id}" if exc.request_id else "",
    ]
    detail = f" ({exc.detail})" if exc.detail and exc.detail != text else ""
    refs_text = f" [{', '.join(r for r in refs if r)}]" if any(refs) else ""
    return f"eHealthBox: {text}{detail}{refs_text}"
