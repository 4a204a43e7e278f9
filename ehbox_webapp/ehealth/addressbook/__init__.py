"""eHealth's AddressBook: professionals and organisations by name, and where they receive.

Modelled on the public SOAP v1 contract (`urn:be:fgov:ehealth:addressbook:protocol:v1`); its
REST face is INFERRED and confined to `rest.py` (docs/ehealth-platform.md §10). No web
framework here. The modules import one another in one direction only
(codes <- models <- errors <- rest <- client).
"""

from __future__ import annotations

from .client import MAX_ELEMENTS, PAGE_SIZE, AddressBookClient
from .codes import ORGANIZATION_TYPES, PROFESSION_QUALITY, PROFESSIONS
from .errors import (
    AddressBookError,
    BadRequest,
    Forbidden,
    InvalidCriteria,
    NotFound,
    Unauthorized,
    Unavailable,
)
from .models import (
    Address,
    Organization,
    OrganizationContactInfo,
    OrganizationId,
    Page,
    Profession,
    Professional,
    ProfessionalContactInfo,
    ProfessionalInformation,
)

__all__ = [
    "MAX_ELEMENTS",
    "ORGANIZATION_TYPES",
    "PAGE_SIZE",
    "PROFESSIONS",
    "PROFESSION_QUALITY",
    "Address",
    "AddressBookClient",
    "AddressBookError",
    "BadRequest",
    "Forbidden",
    "InvalidCriteria",
    "NotFound",
    "Organization",
    "OrganizationContactInfo",
    "OrganizationId",
    "Page",
    "Profession",
    "Professional",
    "ProfessionalContactInfo",
    "ProfessionalInformation",
    "Unauthorized",
    "Unavailable",
]
