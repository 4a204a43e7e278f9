"""The organisation's client id in the M2M realm, checked before any token request.

The rules (cbe-/nihdi-<type>-/ehp-, check digits, the '-ehbox' suffix) are the
onboarding assistant's, in `ehbox_webapp.onboarding.client_ids`: they quote the
procedure's words, and this module only turns their problems into one exception.
"""

from __future__ import annotations

from ..onboarding.client_ids import Problem, check_m2m_client_id


class InvalidClientId(ValueError):
    """The client id breaks the procedure's rules; `str()` quotes each rule broken."""

    def __init__(self, client_id: str, problems: list[Problem]):
        self.client_id = client_id
        self.problems = problems
        super().__init__(
            f"invalid M2M client id {client_id!r}: " + "; ".join(str(p) for p in problems)
        )


def check_client_id(
    client_id: str, *, identifier: str | None = None, identifier_type: str | None = None
) -> str:
    """Return `client_id` when it follows §2.2.3, else raise :class:`InvalidClientId`.

    `identifier` and `identifier_type` are the ETEE certificate's (ETEE_IDENTIFIER,
    ETEE_IDENTIFIER_TYPE): the realm checks the client assertion against the
    certificate registered for the client id, so a mismatch can only fail later,
    less clearly.
    """
    problems = check_m2m_client_id(
        client_id, identifier=identifier, identifier_type=identifier_type
    )
    if problems:
        raise InvalidClientId(client_id, problems)
    return client_id
