"""The AddressBook client's exceptions: one hierarchy, each with a user-facing sentence.

`str(error)` is the sentence to show a user (the pages translate it: `N_` marks it);
`.status`, `.detail`, `.problem` and `.request_id` are for logs and support. Which answer
becomes which class is decided in `rest.py`.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802  (gettext_noop: the pages translate these sentences)
    return message


class AddressBookError(Exception):
    """Base class: anything the address book answered that is not a success."""

    default_message = N_("The address book could not process the search.")

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        detail: str | None = None,
        problem: dict[str, Any] | None = None,
        request_id: str | None = None,
        url: str | None = None,
    ):
        self.user_message = message or self.default_message
        super().__init__(self.user_message)
        self.status = status
        self.detail = detail
        self.problem = problem or {}
        self.request_id = request_id
        self.url = url  # what was called, when no answer came (for operators)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, request_id={self.request_id!r})"


class BadRequest(AddressBookError):
    """The search criteria were refused (a malformed INSS, NIHII or CBE, no criterion...)."""

    default_message = N_("The address book refused these search criteria.")

    @property
    def invalid_params(self) -> list[dict[str, Any]]:
        return list(self.problem.get("invalidParams") or [])


class InvalidCriteria(BadRequest):
    """Refused before anything was sent: no criterion, or a page out of bounds."""


class Unauthorized(AddressBookError):
    default_message = N_("Your eHealth session is no longer valid. Please log in again.")


class Forbidden(AddressBookError):
    default_message = N_("You are not allowed to search the address book.")


class NotFound(AddressBookError):
    """No professional or organisation with this identifier (contact information)."""

    default_message = N_("Nobody with this identifier is in the address book.")


class Unavailable(AddressBookError):
    default_message = N_("The address book is not available at the moment. Please try again later.")
