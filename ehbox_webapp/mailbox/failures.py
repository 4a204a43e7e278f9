"""One failure table: each eHealthBox, I.AM Connect and encryption failure, and what it means.

For each class, most specific first: its stable `code`, the HTTP status an entry point
answers with, the RFC 9457 problem type, and the sentence a user reads (English, marked for
translation: the pages translate it, the API and the CLI print it as is). The sentence of an
eHealthBox failure is the client's own (`default_message` in `ehealth/ehealthbox/errors.py`);
this table only decides what it means for a caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ehealth.ehealthbox import errors as box_errors
from ..ehealth.ehealthbox.opening import NoSuchPart
from ..ehealth.ehealthbox.rest import error_from_response
from ..ehealth.etee.directory import DirectoryUnavailable, NoEncryptionKey
from ..ehealth.etee.errors import EteeError
from ..ehealth.etee.keys import NoKeystore
from ..ehealth.iam import IamError
from .sending import OriginalUnavailable


def N_(message: str) -> str:  # noqa: N802  (gettext_noop: marks a sentence for extraction)
    return message


PROBLEM_BASE = "https://ehbox-webapp.example/problems/"


@dataclass(frozen=True)
class Failure:
    """What one class of failure means for whoever called."""

    cls: type[Exception]
    code: str
    status: int
    message: str
    retry_after: int | None = None

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.code


def _box(cls: type[box_errors.EhealthboxError], code: str, status: int, **kw) -> Failure:
    return Failure(cls, code, status, cls.default_message, **kw)


FAILURES: tuple[Failure, ...] = (
    _box(box_errors.SendOutcomeUnknown, "send-outcome-unknown", 504),
    _box(box_errors.RecipientsOutOfOffice, "recipients-out-of-office", 409),
    _box(box_errors.MessageTooLarge, "message-too-large", 413),
    _box(box_errors.InvalidDestination, "invalid-destination", 422),
    _box(box_errors.DigestMismatch, "digest-mismatch", 422),
    _box(box_errors.QualityNotAllowed, "quality-not-allowed", 403),
    _box(box_errors.InvalidBox, "invalid-box", 403),
    _box(box_errors.Forbidden, "forbidden", 403),
    _box(box_errors.NotFound, "not-found", 404),
    _box(box_errors.Unauthorized, "ehealthbox-refused-token", 502),
    _box(box_errors.BadRequest, "rejected-by-ehealthbox", 422),
    _box(box_errors.Unavailable, "ehealthbox-unavailable", 503, retry_after=30),
    _box(box_errors.EhealthboxError, "ehealthbox-error", 502),
    Failure(
        OriginalUnavailable,
        "original-unavailable",
        422,
        N_("The message being forwarded could not be fetched or opened. Nothing was sent."),
    ),
    Failure(
        NoEncryptionKey,
        "no-encryption-key",
        422,
        N_("A recipient has no published encryption key. Nothing was sent."),
    ),
    Failure(NoKeystore, "no-keystore", 422, N_("You have no keystore for encryption here.")),
    Failure(
        DirectoryUnavailable,
        "key-directory-unavailable",
        503,
        N_("The key directory is unavailable. Try again in a moment."),
        retry_after=30,
    ),
    Failure(EteeError, "cannot-be-opened", 422, N_("This part cannot be opened.")),
    Failure(NoSuchPart, "not-found", 404, N_("This message has no such part.")),
    Failure(
        IamError,
        "iam-error",
        502,
        N_("I.AM Connect could not be reached or refused the request. Try again shortly."),
    ),
)
KNOWN = tuple(f.cls for f in FAILURES)


def failure_of(exc: BaseException) -> Failure:
    """The table's row for `exc` (the first class it is an instance of)."""
    for failure in FAILURES:
        if isinstance(exc, failure.cls):
            return failure
    raise LookupError(f"{type(exc).__name__} is not a known failure")


def failure_of_code(code: str | None) -> Failure:
    """The row for a platform status code (801-826), as an ERROR message carries it.

    The code means what it means in an answer (`rest.error_from_response`); a code the
    contract does not know is the general eHealthBox failure.
    """
    return failure_of(
        error_from_response(0, {}, {"code": code}) if code else box_errors.EhealthboxError()
    )
