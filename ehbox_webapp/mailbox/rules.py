"""Every rule a message must respect, defined once for the pages, the API, the CLI and the sandbox.

Limits come from the publication XSD v3 where it has one (docs/ehealth-platform.md §3); the
others are this application's own and say so. Text rules compare Unicode code points; digit
rules are ASCII only (`str.isdigit()` and `\\d` accept any Unicode digit, eHealth does not).
"""

from __future__ import annotations

import re

TITLE_MAX = 400  # DocumentTitle / annex Title (XSD v3)
FREE_TEXT_MAX = 20_000  # no published limit; a screenful of notes, not a document
PUBLICATION_ID_MAX = 13  # PublicationId (XSD v3)
# What this application sends and accepts from callers: ASCII letters and digits, as
# `models.new_publication_id` makes them (the platform itself takes visible ASCII). A
# PublicationId also names a draft's folder, so it is only ever checked whole: through
# `is_publication_id()`, or as the anchored pattern in the API's document.
_PUBLICATION_ID = re.compile(rf"[A-Za-z0-9]{{1,{PUBLICATION_ID_MAX}}}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9]{13}")  # system-generated, exactly 13 (XSD v3)
PUBLICATION_ID_PATTERN = f"^{_PUBLICATION_ID.pattern}$"
MESSAGE_ID_PATTERN = f"^{_MESSAGE_ID.pattern}$"
FILENAME_MAX = 255  # DownloadFileName is 1-255 characters (publication XSD v3)
MAX_RECIPIENTS = 50  # one form's worth; the platform publishes no lower limit
MAX_IDS_PER_CALL = 100  # list, move and delete take at most 100 messages per call (XSD v3)
MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000  # a million messages at the largest page size: far beyond any box
IDEMPOTENCY_KEY_LENGTH = (8, 200)

# Receipt name (API, CLI, pages) -> ContentSpecification field.
RECEIPTS = {
    "publication": "publication_receipt",
    "received": "received_receipt",
    "read": "read_receipt",
}

# type/subtype with optional parameters (RFC 6838 restricted names, RFC 9110 parameters).
MIME_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(\"[^\"\\\r\n]*\"|[A-Za-z0-9!#$&^_.+-]+))*"
)
FALLBACK_MIME_TYPE = "application/octet-stream"

# No control characters in a one-line value (title, name); a text may hold tab and new lines.
CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ASCII_DIGITS = re.compile(r"[0-9]+")


def is_publication_id(value: object) -> bool:
    """`value` is a whole PublicationId as this application issues them (safe as a folder name)."""
    return isinstance(value, str) and _PUBLICATION_ID.fullmatch(value) is not None


def is_message_id(value: object) -> bool:
    """`value` is a whole MessageId (13 ASCII letters and digits)."""
    return isinstance(value, str) and _MESSAGE_ID.fullmatch(value) is not None


def is_ascii_number(value: str, low: int = 1, high: int | None = None) -> bool:
    """`value` is ASCII digits only, a whole number from `low` to `high` (inclusive)."""
    if not isinstance(value, str) or not ASCII_DIGITS.fullmatch(value) or len(value) > 12:
        return False
    number = int(value)
    return number >= low and (high is None or number <= high)
