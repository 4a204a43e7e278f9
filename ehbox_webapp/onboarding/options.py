"""What a vendor tells the onboarding assistant, and how to read it from a form or query string.

The CLI builds :class:`OnboardingOptions` from click options; the web page and the
downloads read the same names from the query string through :func:`options_from_mapping`,
so a link and a command line say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from .client_ids import EXISTING_CHOICES

USE_CASES = ("public", "confidential", "m2m")
USE_CASE_TITLES = {
    "public": "distributed application (public client, PKCE)",
    "confidential": "confidential healthcare client (web app)",
    "m2m": "confidential client – machine to machine (organisation)",
}
MAX_TEXT = 2000  # a form field, not a document: keeps pages and e-mails readable
MAX_COUNT = 100_000_000


@dataclass(frozen=True)
class OnboardingOptions:
    """The vendor's answers; empty values are filled from the settings or left to fill in."""

    company: str = ""
    client_name: str = ""
    client_id: str = ""
    description: str = ""
    existing_client: str = "none"
    volume_users: int | None = None
    volume_messages_per_day: int | None = None
    volume_peak_per_hour: int | None = None
    user_groups: str = ""
    idp_display: str = ""
    context: str = ""
    purpose: str = ""

    def __post_init__(self) -> None:
        if self.existing_client not in EXISTING_CHOICES:
            raise ValueError(f"existing_client must be one of {', '.join(EXISTING_CHOICES)}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# The query-string (and web form) names: the field names themselves.
FIELDS = tuple(OnboardingOptions.__dataclass_fields__)
COUNTS = ("volume_users", "volume_messages_per_day", "volume_peak_per_hour")


def parse_count(raw: str, name: str) -> int | None:
    """A non-negative whole number, or None when empty; ValueError names the field."""
    raw = raw.strip().replace("_", "").replace(" ", "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_COUNT:
        raise ValueError(f"{name}: a whole number from 0 to {MAX_COUNT}, not {raw[:20]!r}")
    return int(raw)


def options_from_mapping(
    values: Mapping[str, str],
) -> tuple[str | None, OnboardingOptions, dict[str, str]]:
    """(use case or None, options, errors by field name) from a query string or form."""
    errors: dict[str, str] = {}
    use_case = (values.get("use_case") or "").strip() or None
    if use_case is not None and use_case not in USE_CASES:
        errors["use_case"] = f"use_case: one of {', '.join(USE_CASES)}"
        use_case = None
    kwargs: dict[str, object] = {}
    for name in FIELDS:
        raw = (values.get(name) or "").strip()
        if len(raw) > MAX_TEXT:
            errors[name] = f"{name}: at most {MAX_TEXT} characters"
            continue
        if name in COUNTS:
            try:
                kwargs[name] = parse_count(raw, name)
            except ValueError as exc:
                errors[name] = str(exc)
        elif name == "existing_client":
            if raw and raw not in EXISTING_CHOICES:
                errors[name] = f"existing_client: one of {', '.join(EXISTING_CHOICES)}"
            else:
                kwargs[name] = raw or "none"
        else:
            kwargs[name] = raw
    return use_case, OnboardingOptions(**kwargs), errors
