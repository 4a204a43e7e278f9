"""Belgian identifiers (INSS, CBE, NIHII, EHP) and eHealthBox recipient validation.

The check-digit rules are public (INSS: Rijksregister/Registre national; CBE:
KBO/BCE; NIHII: RIZIV/INAMI). The quality list is the connector's copy of the
eHealth cookbook annex (docs/ehealth-platform.md §3.3); the cookbook is normative.
Messages are user-facing sentences that name the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BOX_TYPES = ("INSS", "NIHII", "CBE", "EHP")

PERSON_QUALITIES = (
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
)
CITIZEN_QUALITY = "CITIZEN"
# Organisations identified by an 8-digit NIHII; the SubType equals the quality.
NIHII_ORGANISATION_QUALITIES = (
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
)
# quality -> (type, subtype) for organisations identified by CBE or EHP.
OTHER_ORGANISATION_QUALITIES: dict[str, tuple[str, str | None]] = {
    "INSTITUTION": ("CBE", None),
    "TREATMENT_CENTER": ("CBE", "TREATMENT_CENTER"),
    "CONSORTIUM": ("CBE", "CONSORTIUM"),
    "INSTITUTION_EHP": ("EHP", None),
    "CTRL_ORGANISM": ("EHP", "CTRL_ORGANISM"),
}
QUALITIES = (
    PERSON_QUALITIES
    + (CITIZEN_QUALITY,)
    + NIHII_ORGANISATION_QUALITIES
    + tuple(OTHER_ORGANISATION_QUALITIES)
)
BROADCAST_ID = "ALL"  # every box of a quality; publishing to it needs special rights

# eHealthBox status code per field at fault (docs/ehealth-platform.md §3.6).
CODE_BY_FIELD = {"id": "802", "quality": "803", "type": "804", "subType": "805"}

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: `\d` takes any Unicode digit


def clean(identifier: str) -> str:
    """Drop the separators people type (spaces, dots, dashes, slashes)."""
    return re.sub(r"[\s./-]", "", identifier or "")


def _mod97_check(base: int) -> int:
    return 97 - base % 97


def is_valid_inss(value: str) -> bool:
    """INSS/SSIN: 11 digits, YYMMDD + 3-digit serial + 2 check digits.

    Check = 97 - (first 9 digits mod 97); for people born in 2000 or later the
    base is prefixed with 2 (2000000000 + base). Bis and ter numbers add 20 or 40
    to the month; month 00 and day 00 mean "unknown" and are allowed.
    """
    if len(value) != 11 or not _DIGITS.fullmatch(value):
        return False
    month, day = int(value[2:4]), int(value[4:6])
    if not any(lo <= month <= lo + 12 for lo in (0, 20, 40)) or day > 31:
        return False
    base, check = int(value[:9]), int(value[9:])
    return check in (_mod97_check(base), _mod97_check(2_000_000_000 + base))


def is_valid_cbe(value: str) -> bool:
    """CBE/KBO/BCE enterprise number: 10 digits starting with 0 or 1; check = 97 - first8 % 97."""
    if len(value) != 10 or not _DIGITS.fullmatch(value) or value[0] not in "01":
        return False
    return int(value[8:]) == _mod97_check(int(value[:8]))


def is_valid_nihii(value: str) -> bool:
    """NIHII/RIZIV/INAMI: 8 digits (check = 97 - first6 % 97), or 11 with a qualification code."""
    if len(value) not in (8, 11) or not _DIGITS.fullmatch(value):
        return False
    return int(value[6:8]) == _mod97_check(int(value[:6]))


def is_valid_ehp(value: str) -> bool:
    """EHP (eHealth partner) number: 10 digits. No public check-digit rule is known."""
    return len(value) == 10 and bool(_DIGITS.fullmatch(value))


@dataclass(frozen=True)
class RecipientProblem:
    """One thing wrong with a recipient: the field (`id`, `type`, `subType`, `quality`)."""

    field: str
    message: str
    kind: str = ""  # a stable code for the entry points to word: `check-digits`, ...
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return CODE_BY_FIELD[self.field]


def expected_type(quality: str) -> tuple[tuple[str, ...], str | None]:
    """The identifier types allowed for a quality, and the SubType it requires."""
    if quality in PERSON_QUALITIES:
        return ("INSS", "NIHII"), None
    if quality == CITIZEN_QUALITY:
        return ("INSS",), None
    if quality in NIHII_ORGANISATION_QUALITIES:
        return ("NIHII",), quality
    box_type, sub_type = OTHER_ORGANISATION_QUALITIES[quality]
    return (box_type,), sub_type


def check_recipient(
    box_type: str, identifier: str, quality: str, sub_type: str | None = None
) -> list[RecipientProblem]:
    """Everything wrong with a recipient, as structured problems (empty when valid)."""
    problems: list[RecipientProblem] = []
    if quality not in QUALITIES:
        problems.append(
            RecipientProblem(
                "quality",
                f"The quality “{quality}” is not an eHealthBox quality.",
                "unknown-quality",
                {"quality": quality},
            )
        )
    if box_type not in BOX_TYPES:
        problems.append(
            RecipientProblem(
                "type",
                f"The identifier type “{box_type}” is not one of {', '.join(BOX_TYPES)}.",
                "unknown-type",
                {"type": box_type, "allowed": BOX_TYPES},
            )
        )
    if problems:
        return problems

    types, wanted_sub = expected_type(quality)
    if box_type not in types:
        problems.append(
            RecipientProblem(
                "type",
                f"The quality {quality} needs an identifier of type "
                f"{' or '.join(types)}, not {box_type}.",
                "type-for-quality",
                {"quality": quality, "allowed": types, "type": box_type},
            )
        )
        return problems
    if (sub_type or None) != wanted_sub:
        wanted = f"the subtype {wanted_sub}" if wanted_sub else "no subtype"
        problems.append(
            RecipientProblem(
                "subType",
                f"The quality {quality} needs {wanted}, not “{sub_type}”.",
                "sub-type-for-quality" if wanted_sub else "no-sub-type-for-quality",
                {"quality": quality, "wanted": wanted_sub, "given": sub_type},
            )
        )

    if identifier == BROADCAST_ID:
        return problems
    if box_type == "INSS" and not is_valid_inss(identifier):
        problems.append(
            RecipientProblem(
                "id",
                "The INSS number must have 11 digits with valid check digits.",
                "check-digits",
                {"type": "INSS", "length": 11},
            )
        )
    elif box_type == "NIHII":
        length = 11 if quality in PERSON_QUALITIES else 8
        if len(identifier) != length or not is_valid_nihii(identifier):
            problems.append(
                RecipientProblem(
                    "id",
                    f"The NIHII number for {quality} must have {length} digits "
                    "with valid check digits.",
                    "check-digits",
                    {"type": "NIHII", "length": length, "quality": quality},
                )
            )
    elif box_type == "CBE" and not is_valid_cbe(identifier):
        problems.append(
            RecipientProblem(
                "id",
                "The CBE number must have 10 digits, start with 0 or 1, "
                "and have valid check digits.",
                "check-digits",
                {"type": "CBE", "length": 10},
            )
        )
    elif box_type == "EHP" and not is_valid_ehp(identifier):
        problems.append(
            RecipientProblem(
                "id",
                "The EHP number must have 10 digits.",
                "check-digits",
                {"type": "EHP", "length": 10},
            )
        )
    return problems


def validate_recipient(
    box_type: str, identifier: str, quality: str, sub_type: str | None = None
) -> list[str]:
    """User-facing sentences for everything wrong with a recipient (empty when valid)."""
    return [p.message for p in check_recipient(box_type, identifier, quality, sub_type)]
