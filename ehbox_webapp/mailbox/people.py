"""How an identifier is written for people to read: INSS 49.11.02-284.83, CBE 0899.999.949.

The platform and every form take the digits alone; the pages, wherever they show an
identifier, write it the way Belgian documents do (the identity card and the eID for the
INSS, the Crossroads Bank for Enterprises for the CBE, the NIHII's own grouping for a care
provider's 11 digits). Anything not of the expected length is shown as it came.
"""

from __future__ import annotations


def format_identifier(kind: str | None, value: str | None) -> str:
    """`value` grouped as people read it, by its identifier type (INSS, SSIN, CBE, NIHII)."""
    digits = value or ""
    if not digits.isascii() or not digits.isdigit():
        return digits
    kind = (kind or "").upper()
    if kind in ("INSS", "SSIN") and len(digits) == 11:
        return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}-{digits[6:9]}.{digits[9:11]}"
    if kind == "CBE" and len(digits) == 10:
        return f"{digits[0:4]}.{digits[4:7]}.{digits[7:10]}"
    if kind == "NIHII" and len(digits) == 11:
        return f"{digits[0]}-{digits[1:6]}-{digits[6:8]}-{digits[8:11]}"
    return digits


def format_inss(value: str | None) -> str:
    """A patient's or a person's INSS as people read it (49.11.02-284.83)."""
    return format_identifier("INSS", value)
