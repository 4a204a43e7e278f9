"""Typed AddressBook objects, independent of the wire format.

Named after eHealth's AddressBook v1 (SOAP, `urn:be:fgov:ehealth:addressbook:protocol:v1`;
docs/ehealth-platform.md §10) in snake_case: a search answers `HealthCareProfessional`s or
`HealthCareOrganization`s, a page at a time (`Offset`, `MaxElements`); the contact
information of one adds its addresses and the eHealthBoxes it receives at (`EHealthBox`:
Id, Type, SubType, Quality, the eHealthBox's own `BoxIdType`, hence `BoxId` here).
`rest.py` converts JSON to these objects; nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..ehealthbox.models import BoxId
from .codes import box_of_organization, box_of_profession

LANGUAGES = ("nl", "fr", "de", "en")
T = TypeVar("T")


def in_language(texts: Mapping[str, str], language: str | None) -> str:
    """The text in `language`, else in Dutch, French, German, English, else any ("" if none)."""
    for lang in (language, *LANGUAGES):
        if lang and texts.get(lang):
            return texts[lang]
    return next(iter(texts.values()), "")


@dataclass(frozen=True)
class Profession:
    """One recognised profession: its code (`PHYSICIAN`, ...), its names, its NIHII."""

    code: str
    names: Mapping[str, str] = field(default_factory=dict)  # ProfessionFriendlyName by language
    nihii: str | None = None

    def name(self, language: str | None = None) -> str:
        return in_language(self.names, language) or self.code


@dataclass(frozen=True)
class Address:
    """A work address; the municipality's name by language (Gent, Gand)."""

    street: str = ""
    house_number: str = ""
    zip_code: str = ""
    municipality: Mapping[str, str] = field(default_factory=dict)
    country: str = "BE"

    def city(self, language: str | None = None) -> str:
        return in_language(self.municipality, language)


@dataclass(frozen=True)
class Professional:
    """A healthcare professional as a search finds them (`HealthCareProfessional`)."""

    last_name: str
    first_name: str = ""
    ssin: str | None = None
    language: str | None = None  # nl, fr, de, en
    gender: str | None = None
    professions: tuple[Profession, ...] = ()

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def boxes(self) -> tuple[BoxId, ...]:
        """Where they most likely receive: one box per profession with an eHealthBox quality.

        A search answers no eHealthBox (SOAP v1); the box is made from the SSIN and the
        profession (`codes.box_of_profession`, INFERRED). The contact information
        (`AddressBookClient.professional_contact_info`) gives the exact ones.
        """
        boxes = (box_of_profession(self.ssin, p.code) for p in self.professions if self.ssin)
        return tuple(dict.fromkeys(b for b in boxes if b is not None))


@dataclass(frozen=True)
class ProfessionalInformation:
    """One profession of a professional, where they practise it, and its eHealthBox."""

    profession: Profession
    addresses: tuple[Address, ...] = ()
    ehealthbox: BoxId | None = None


@dataclass(frozen=True)
class ProfessionalContactInfo:
    """`GetProfessionalContactInfo`: a professional, per profession its addresses and box."""

    last_name: str
    first_name: str = ""
    ssin: str | None = None
    language: str | None = None
    gender: str | None = None
    informations: tuple[ProfessionalInformation, ...] = ()

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def professions(self) -> tuple[Profession, ...]:
        return tuple(i.profession for i in self.informations)

    @property
    def boxes(self) -> tuple[BoxId, ...]:
        """The eHealthBoxes they receive at, as the address book states them."""
        return tuple(dict.fromkeys(i.ehealthbox for i in self.informations if i.ehealthbox))


@dataclass(frozen=True)
class OrganizationId:
    """An organisation's identifier: `NIHII` (8 digits), `CBE` (10) or `EHP` (10)."""

    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type} {self.value}"


@dataclass(frozen=True)
class Organization:
    """A healthcare organisation as a search finds it (`HealthCareOrganization`).

    `part_of` names the organisation a department belongs to (a hospital's ward or service
    with its own identifier and box); the SOAP contract has no such field (INFERRED, §10).
    """

    id: OrganizationId
    type_code: str  # OrganizationTypeCode: HOSPITAL, PHARMACY, LABO, ...
    type_names: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    part_of: str | None = None

    def name(self, language: str | None = None) -> str:
        return in_language(self.names, language) or str(self.id)

    def type_name(self, language: str | None = None) -> str:
        return in_language(self.type_names, language) or self.type_code

    @property
    def boxes(self) -> tuple[BoxId, ...]:
        """Its most likely eHealthBox, made from its identifier and type (INFERRED)."""
        box = box_of_organization(self.id.type, self.id.value, self.type_code)
        return (box,) if box is not None else ()


@dataclass(frozen=True)
class OrganizationContactInfo(Organization):
    """`GetOrganizationContactInfo`: an organisation, its addresses and its eHealthBoxes."""

    addresses: tuple[Address, ...] = ()
    ehealthboxes: tuple[BoxId, ...] = ()

    @property
    def boxes(self) -> tuple[BoxId, ...]:
        return tuple(dict.fromkeys(self.ehealthboxes))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a search: `items` from index `offset` (0-based), at most `max_elements`.

    `total` is how many match in all when the service says so (the SOAP answer does not:
    INFERRED, optional); without it a page shorter than asked is the last one.
    """

    items: tuple[T, ...]
    offset: int
    max_elements: int
    total: int | None = None

    @property
    def is_last(self) -> bool:
        if not self.items:
            return True
        if self.total is not None:
            return self.offset + len(self.items) >= self.total
        return len(self.items) < self.max_elements

    @property
    def next_offset(self) -> int | None:
        return None if self.is_last else self.offset + len(self.items)
