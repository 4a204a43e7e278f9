"""The eHealthBox client's exceptions: one hierarchy, each with a user-facing sentence.

`str(error)` is the sentence to show a user; `.status`, `.code`, `.detail`,
`.problem` and `.request_id` are for logs and support (they hold no message
content: the platform's problem documents only name fields and identifiers).
Which HTTP answer becomes which class is decided in `rest.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .models import BoxId, RecipientOutcome


def N_(message: str) -> str:  # noqa: N802  (gettext_noop: the pages translate these sentences)
    return message


class EhealthboxError(Exception):
    """Base class: anything the eHealthBox answered that is not a success."""

    default_message = N_("The eHealthBox could not process the request.")

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        problem: dict[str, Any] | None = None,
        request_id: str | None = None,
        url: str | None = None,
        recipients: Sequence[Any] = (),
    ):
        self.user_message = message or self.default_message
        super().__init__(self.user_message)
        self.status = status
        self.code = code
        self.detail = detail
        self.problem = problem or {}
        self.request_id = request_id
        # The boxes the failure is about, as models (`rest.py` reads them from the problem).
        self.recipients: list[Any] = list(recipients)
        self.url = url  # what was called, when no answer came (for operators)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"request_id={self.request_id!r})"
        )


class BadRequest(EhealthboxError):
    default_message = N_("The eHealthBox rejected the request as malformed.")

    @property
    def invalid_params(self) -> list[dict[str, Any]]:
        return list(self.problem.get("invalidParams") or [])


class Unauthorized(EhealthboxError):
    default_message = N_("Your eHealth session is no longer valid. Please log in again.")


class Forbidden(EhealthboxError):
    default_message = N_("You are not allowed to do this in the eHealthBox.")


class InvalidBox(Forbidden):
    default_message = N_("There is no eHealthBox for your identity, or you have no access to it.")


class QualityNotAllowed(Forbidden):
    default_message = N_("You are not authorised to send messages to this quality.")


class NotFound(EhealthboxError):
    default_message = N_("This message no longer exists in that folder.")


class InvalidMessageId(NotFound):
    """806 (INFERRED from eJustBox): no message with this MessageId in the box."""


class NotTheSender(Forbidden):
    """809 (INFERRED from eJustBox): receipts asked for a message this box did not send."""


class InvalidPaging(BadRequest):
    """807 EndIndex before StartIndex, 808 more than 100 messages asked (INFERRED, eJustBox)."""


class MoveNotAllowed(BadRequest):
    """812 (INFERRED from eJustBox): a move between INBOX and SENTBOX."""


class MessageTooLarge(EhealthboxError):
    """801, or refused before sending: `size` and `limit` (bytes) when the client measured."""

    default_message = N_("The message is larger than the eHealthBox accepts. Send smaller files.")

    def __init__(
        self, message: str | None = None, *, size: int | None = None, limit: int | None = None, **kw
    ):
        super().__init__(message, **kw)
        self.size = size
        self.limit = limit

    @classmethod
    def before_sending(cls, size: int, limit: int) -> MessageTooLarge:
        mib = 1024 * 1024
        return cls(
            f"The message weighs {size / mib:.1f} MB with its attachments; the eHealthBox "
            f"accepts at most {limit / mib:g} MB. Nothing was sent.",
            code="801",
            size=size,
            limit=limit,
        )


class InvalidDestination(BadRequest):
    """802 to 805: a recipient's identifier, quality, type or subtype is wrong or unknown."""

    default_message = N_("One of the recipients is not a valid eHealthBox address.")

    recipients: list[BoxId]  # the recipients at fault


class DigestMismatch(EhealthboxError):
    default_message = N_(
        "A file was damaged on its way to the eHealthBox (its checksum does not "
        "match). Please send the message again."
    )


class RecipientsOutOfOffice(EhealthboxError):
    """826: nothing was delivered; confirm per recipient (or add substitutes) and resend."""

    default_message = N_("Some recipients are out of office. Nothing was sent yet.")

    recipients: list[RecipientOutcome]  # who is out of office, and their substitutes


class Unavailable(EhealthboxError):
    default_message = N_("The eHealthBox is not available at the moment. Please try again later.")


class SendOutcomeUnknown(EhealthboxError):
    """The send's answer was lost: resend the same `NewMessage` (same publicationId)."""

    default_message = N_(
        "We could not confirm that the message was sent. Sending it again is "
        "safe: it will be delivered only once."
    )

    def __init__(self, publication_id: str, message: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.publication_id = publication_id
