"""Who may be addressed: a box identifier checked as the eHealthBox platform checks it.

The sandbox's own statement of the platform's rule, written apart from the app's
(`ehbox_webapp/ehealth/ehealthbox/identifiers.py`), so that a mistake in the app's recipient
checks is refused here as eHealth would refuse it.

A box is Type, Id, SubType? and Quality (core XSD v3 `BoxIdType`; docs/ehealth-platform.md
§3.3). What is wrong with it is answered with the platform's codes (§3.6, CONFIRMED): 802 an
invalid Id, 803 an invalid Quality, 804 an invalid Type, 805 an invalid SubType.

Identifier lengths are CONFIRMED (connector `IdentifierType`, notes §2.3): INSS 11, CBE 10,
NIHII 8 (organisations) or 11 (NIHII11, persons), EHP 10. The check digits are the public rules
of the registers (National Register for INSS, CBE for enterprise numbers, NIHII/RIZIV/INAMI);
that the platform applies exactly these is INFERRED. No check-digit rule is known for EHP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The eHealthBox form of the identifier types (core XSD v3; INSS, not the ETK's SSIN).
TYPES = ("INSS", "NIHII", "CBE", "EHP")
# Id of a broadcast to every box of a quality (connector logic, CONFIRMED); publishing to it
# needs rights no sandbox sender has.
BROADCAST_ID = "ALL"
# Status code by the field at fault (notes §3.6, CONFIRMED).
CODES = {"id": "802", "quality": "803", "type": "804", "subType": "805"}

# The qualities (the connector's copy of the cookbook annex, notes §3.3; the annex is normative).
# Persons: identified by INSS or by an 11-digit NIHII; no SubType.
PERSONS = frozenset(
    {
        "DOCTOR",
        "NURSE",
        "DENTIST",
        "PHARMACIST",
        "PHYSIOTHERAPIST",
        "MIDWIFE",
        "LOGOPEDIST",
        "DIETICIAN",
        "PSYCHOLOGIST",
        "ORTHOPTIST",
        "PODOLOGIST",
        "AUDIOLOGIST",
        "AUDICIEN",
        "OPTICIEN",
        "ORTHOPEDIST",
        "TRUSS_MAKER",
        "IMPLANTPROVIDER",
        "LAB_TECHNOLOGIST",
        "IMAGING_TECHNOLOGIST",
        "PRACTICALNURSE",
        "PEDIATRIC_NURSE",
        "PHARMACIST_ASSISTANT",
        "OCCUPATIONAL_THERAPIST",
        "SOCIAL_WORKER",
        "SPECIALIZED_EDUCATOR",
        "AMBULANCE_RESCUER",
        "APPLIED_PSYCH_BACHELOR",
        "FAMILY_SCIENCE_BACHELOR",
        "GERONTOLOGY_MASTER",
        "ORTHOPEDAGOGIST_MASTER",
        "PSYCHOMOTOR_THERAPY",
        "READAPTATION_BACHELOR",
    }
)
# Organisations with an 8-digit NIHII: Type NIHII, SubType the quality itself (NIHII-HOSPITAL).
NIHII_ORGANISATIONS = frozenset(
    {
        "HOSPITAL",
        "PHARMACY",
        "LABO",
        "MEDICAL_HOUSE",
        "GROUP",
        "GROUP_DOCTORS",
        "GUARD_POST",
        "HOME_SERVICES",
        "OFFICE_DOCTORS",
        "OFFICE_DENTISTS",
        "OF_BAND",
        "OF_PHYSIOS",
        "OTD_PHARMACY",
        "PALLIATIVE_CARE",
        "PROT_ACC",
        "PSYCH_HOUSE",
        "RETIREMENT",
    }
)


@dataclass(frozen=True)
class Addressing:
    """How a quality is addressed: the identifier types it takes, and the SubType it needs."""

    types: tuple[str, ...]
    sub_type: str | None = None


# Every quality -> how it is addressed.
ADDRESSING: dict[str, Addressing] = {
    **{quality: Addressing(("INSS", "NIHII")) for quality in PERSONS},
    "CITIZEN": Addressing(("INSS",)),
    **{quality: Addressing(("NIHII",), quality) for quality in NIHII_ORGANISATIONS},
    "INSTITUTION": Addressing(("CBE",)),
    "TREATMENT_CENTER": Addressing(("CBE",), "TREATMENT_CENTER"),
    "CONSORTIUM": Addressing(("CBE",), "CONSORTIUM"),
    "INSTITUTION_EHP": Addressing(("EHP",)),
    "CTRL_ORGANISM": Addressing(("EHP",), "CTRL_ORGANISM"),
}

_ASCII_DIGITS = re.compile(r"[0-9]+")
# An INSS's month: 00 (unknown) to 12, plus 20 or 40 in a bis number.
_INSS_MONTHS = frozenset(range(0, 13)) | frozenset(range(20, 33)) | frozenset(range(40, 53))


@dataclass(frozen=True)
class RecipientProblem:
    """One thing wrong with a box: the field at fault (`id`, `type`, `subType`, `quality`)."""

    field: str
    message: str

    @property
    def code(self) -> str:
        return CODES[self.field]


def _digits(value: str, length: int) -> bool:
    return len(value) == length and _ASCII_DIGITS.fullmatch(value) is not None


def _mod97(body: str, check: str) -> bool:
    """The registers' check: the last digits are 97 minus the body modulo 97."""
    return int(check) == 97 - int(body) % 97


def is_valid_inss(value: str) -> bool:
    """An INSS: YYMMDD, a 3-digit serial and 2 check digits (National Register rule).

    The check is taken on the first 9 digits, prefixed with a 2 for people born from 2000.
    Bis numbers add 20 or 40 to the month; a month or day of 00 means "unknown".
    """
    if not _digits(value, 11):
        return False
    month, day = int(value[2:4]), int(value[4:6])
    if month not in _INSS_MONTHS or day > 31:
        return False
    return _mod97(value[:9], value[9:]) or _mod97("2" + value[:9], value[9:])


def is_valid_nihii(value: str, length: int) -> bool:
    """A NIHII of `length` digits (8, or 11 with a qualification): check on the first 6."""
    return _digits(value, length) and _mod97(value[:6], value[6:8])


def is_valid_cbe(value: str) -> bool:
    """An enterprise number: 10 digits starting with 0 or 1, check on the first 8."""
    return _digits(value, 10) and value[0] in "01" and _mod97(value[:8], value[8:])


def _id_problem(box_type: str, identifier: str, quality: str) -> RecipientProblem | None:
    if box_type == "INSS":
        if not is_valid_inss(identifier):
            return RecipientProblem(
                "id", "The INSS number must have 11 digits with valid check digits."
            )
    elif box_type == "NIHII":
        length = 11 if quality in PERSONS else 8
        if not is_valid_nihii(identifier, length):
            return RecipientProblem(
                "id",
                f"The NIHII number for {quality} must have {length} digits "
                "with valid check digits.",
            )
    elif box_type == "CBE":
        if not is_valid_cbe(identifier):
            return RecipientProblem(
                "id",
                "The CBE number must have 10 digits, start with 0 or 1, "
                "and have valid check digits.",
            )
    elif not _digits(identifier, 10):  # EHP
        return RecipientProblem("id", "The EHP number must have 10 digits.")
    return None


def check_recipient(
    box_type: str, identifier: str, quality: str, sub_type: str | None = None
) -> list[RecipientProblem]:
    """Everything the platform finds wrong with a box (an empty list when it is a valid one).

    Whether such a box exists is the store's question, not this one.
    """
    problems: list[RecipientProblem] = []
    addressing = ADDRESSING.get(quality)
    if addressing is None:
        problems.append(
            RecipientProblem("quality", f"The quality “{quality}” is not an eHealthBox quality.")
        )
    if box_type not in TYPES:
        problems.append(
            RecipientProblem(
                "type",
                f"The identifier type “{box_type}” is not one of {', '.join(TYPES)}.",
            )
        )
    if addressing is None or problems:
        return problems
    if box_type not in addressing.types:
        return [
            RecipientProblem(
                "type",
                f"The quality {quality} needs an identifier of type "
                f"{' or '.join(addressing.types)}, not {box_type}.",
            )
        ]
    if (sub_type or None) != addressing.sub_type:
        wanted = f"the subtype {addressing.sub_type}" if addressing.sub_type else "no subtype"
        problems.append(
            RecipientProblem("subType", f"The quality {quality} needs {wanted}, not “{sub_type}”.")
        )
    if identifier != BROADCAST_ID:
        found = _id_problem(box_type, identifier, quality)
        if found is not None:
            problems.append(found)
    return problems
