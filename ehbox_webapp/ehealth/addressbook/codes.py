"""The AddressBook's code lists, and the eHealthBox an entry most likely receives at.

Profession codes are the AddressBook's `ProfessionCode` values. `PHYSICIAN` is CONFIRMED
(XSD as used by the open-source connectors, which search with it by default); the others
are INFERRED from the eHealthBox qualities of the same professions (docs/ehealth-platform.md
§3.3, §10). Organisation types: the connectors search `HOSPITAL` by default (CONFIRMED); the
list is INFERRED from the eHealthBox's organisation qualities, which name the same kinds of
institution with the same codes. Check both lists against the AddressBook cookbook.

A search answers no eHealthBox. Its box is made here from the identifier and the code:
a professional's by INSS with the quality of the profession, an organisation's by its
NIHII (SubType its type), CBE or EHP (INFERRED; the contact information states the boxes).
"""

from __future__ import annotations

from ..ehealthbox.models import BoxId

# ProfessionCode -> the eHealthBox quality of that profession's box.
PROFESSION_QUALITY: dict[str, str] = {
    "PHYSICIAN": "DOCTOR",
    "NURSE": "NURSE",
    "PHARMACIST": "PHARMACIST",
    "DENTIST": "DENTIST",
    "PHYSIOTHERAPIST": "PHYSIOTHERAPIST",
    "MIDWIFE": "MIDWIFE",
    "LOGOPEDIST": "LOGOPEDIST",
    "DIETICIAN": "DIETICIAN",
    "PSYCHOLOGIST": "PSYCHOLOGIST",
    "ORTHOPTIST": "ORTHOPTIST",
    "PODOLOGIST": "PODOLOGIST",
    "AUDIOLOGIST": "AUDIOLOGIST",
    "OCCUPATIONAL_THERAPIST": "OCCUPATIONAL_THERAPIST",
    "PRACTICALNURSE": "PRACTICALNURSE",
    "LAB_TECHNOLOGIST": "LAB_TECHNOLOGIST",
    "IMAGING_TECHNOLOGIST": "IMAGING_TECHNOLOGIST",
}
PROFESSIONS = tuple(PROFESSION_QUALITY)

# Organisation types addressed by an 8-digit NIHII, SubType the type itself (NIHII-HOSPITAL).
NIHII_ORGANIZATION_TYPES = (
    "HOSPITAL",
    "PHARMACY",
    "LABO",
    "MEDICAL_HOUSE",
    "GROUP_DOCTORS",
    "GROUP",
    "GUARD_POST",
    "HOME_SERVICES",
    "OFFICE_DOCTORS",
    "OFFICE_DENTISTS",
    "OF_PHYSIOS",
    "PALLIATIVE_CARE",
    "PSYCH_HOUSE",
    "RETIREMENT",
)
# Organisation types addressed by CBE or EHP: type -> (identifier type, SubType, quality).
OTHER_ORGANIZATION_TYPES: dict[str, tuple[str, str | None, str]] = {
    "INSTITUTION": ("CBE", None, "INSTITUTION"),
    "TREATMENT_CENTER": ("CBE", "TREATMENT_CENTER", "TREATMENT_CENTER"),
    "CONSORTIUM": ("CBE", "CONSORTIUM", "CONSORTIUM"),
    "INSTITUTION_EHP": ("EHP", None, "INSTITUTION_EHP"),
    "CTRL_ORGANISM": ("EHP", "CTRL_ORGANISM", "CTRL_ORGANISM"),
}
ORGANIZATION_TYPES = NIHII_ORGANIZATION_TYPES + tuple(OTHER_ORGANIZATION_TYPES)
IDENTIFIER_TYPES = ("NIHII", "CBE", "EHP")  # of an organisation


def box_of_profession(ssin: str | None, profession: str) -> BoxId | None:
    """The eHealthBox of a professional for `profession`, by INSS (None when not known)."""
    quality = PROFESSION_QUALITY.get(profession)
    if not ssin or quality is None:
        return None
    return BoxId(ssin, "INSS", quality)


def box_of_organization(id_type: str, identifier: str, type_code: str) -> BoxId | None:
    """The eHealthBox of an organisation of type `type_code` (None when not known)."""
    if id_type == "NIHII" and type_code in NIHII_ORGANIZATION_TYPES:
        return BoxId(identifier, "NIHII", type_code, type_code)
    addressing = OTHER_ORGANIZATION_TYPES.get(type_code)
    if addressing is not None and addressing[0] == id_type:
        return BoxId(identifier, id_type, addressing[2], addressing[1])
    if id_type == "CBE":  # any other organisation with an enterprise number
        return BoxId(identifier, "CBE", "INSTITUTION")
    return None
