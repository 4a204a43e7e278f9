"""THE mapping between the AddressBook REST contract and the models. INFERRED.

eHealth's AddressBook has a public SOAP v1 contract (`urn:be:fgov:ehealth:addressbook:
protocol:v1`: SearchProfessionals, SearchOrganizations, GetProfessionalContactInfo,
GetOrganizationContactInfo). An "AddressBook REST cookbook v1.3" exists, but its contract is
not public. The REST face used here is MODELLED on the SOAP semantics (docs/ehealth-platform.md
§10): one GET per operation, the SOAP request fields as query parameters in camelCase, the
SOAP answer as JSON with the XSD's names in camelCase, errors as RFC 9457 problem documents
(the Belgif REST guide eHealth's REST APIs follow). Everything that depends on that model
lives here and only here: paths, parameter names, JSON field names, which answer becomes which
exception. With the official contract in hand, adapt this module; `client.py` and the rest of
the app should not need to change. The sandbox serves the same model
(`ehbox_webapp/sandbox/addressbook/`), written apart from this module.

    GET /professionals?lastName=&firstName=&profession=&nihii=&ssin=&zipCode=&city=
                      &offset=&maxElements=            -> {offset, maxElements, total?,
                                                          healthCareProfessionals: [...]}
    GET /professionals/contactInfo?ssin=|nihii=        -> a professional with
                                                          professionalInformations: [...]
    GET /organizations?institutionName=&institutionType=&nihii=&cbe=&ehp=&zipCode=&city=
                      &offset=&maxElements=            -> {offset, maxElements, total?,
                                                          healthCareOrganizations: [...]}
    GET /organizations/contactInfo?nihii=|cbe=|ehp=[&institutionType=]
                                                       -> an organisation with addresses
                                                          and eHealthBoxes: [...]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..ehealthbox.models import BoxId
from . import errors
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

# --- paths and parameters -------------------------------------------------------------------
PROFESSIONALS = "/professionals"
PROFESSIONAL_CONTACT_INFO = "/professionals/contactInfo"
ORGANIZATIONS = "/organizations"
ORGANIZATION_CONTACT_INFO = "/organizations/contactInfo"
REQUEST_ID_HEADER = "X-Request-Id"

# Keyword of the client -> query parameter (the SOAP element, camelCase).
PROFESSIONAL_CRITERIA = {
    "last_name": "lastName",
    "first_name": "firstName",
    "profession": "profession",
    "nihii": "nihii",
    "ssin": "ssin",
    "zip_code": "zipCode",
    "city": "city",
}
ORGANIZATION_CRITERIA = {
    "name": "institutionName",
    "type": "institutionType",
    "nihii": "nihii",
    "cbe": "cbe",
    "ehp": "ehp",
    "zip_code": "zipCode",
    "city": "city",
}
OFFSET, MAX_ELEMENTS = "offset", "maxElements"


def query(criteria: Mapping[str, str | None], names: Mapping[str, str]) -> dict[str, str]:
    """The query parameters of the given criteria (empty ones left out)."""
    return {names[k]: v.strip() for k, v in criteria.items() if v is not None and v.strip()}


def paging(offset: int, max_elements: int) -> dict[str, int]:
    return {OFFSET: offset, MAX_ELEMENTS: max_elements}


# --- JSON -> models ---------------------------------------------------------------------------
def _texts(items: Any) -> dict[str, str]:
    """[{"lang": "nl", "value": "Arts"}, ...] -> {"nl": "Arts", ...}"""
    return {
        str(i.get("lang") or ""): str(i["value"])
        for i in items or ()
        if isinstance(i, dict) and i.get("value")
    }


def _opt(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return str(value) if value not in (None, "") else None


def box_from_json(data: dict[str, Any]) -> BoxId:
    return BoxId(
        id=str(data["id"]),
        type=str(data["type"]),
        quality=str(data["quality"]),
        sub_type=_opt(data, "subType"),
    )


def profession_from_json(data: dict[str, Any]) -> Profession:
    return Profession(
        code=str(data["professionCode"]),
        names=_texts(data.get("professionFriendlyNames")),
        nihii=_opt(data, "nihii"),
    )


def address_from_json(data: dict[str, Any]) -> Address:
    return Address(
        street=str(data.get("street") or ""),
        house_number=str(data.get("houseNumber") or ""),
        zip_code=str(data.get("zipCode") or ""),
        municipality=_texts(data.get("municipality")),
        country=str(data.get("country") or "BE"),
    )


def _person(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "last_name": str(data["lastName"]),
        "first_name": str(data.get("firstName") or ""),
        "ssin": _opt(data, "ssin"),
        "language": _opt(data, "language"),
        "gender": _opt(data, "gender"),
    }


def professional_from_json(data: dict[str, Any]) -> Professional:
    return Professional(
        **_person(data),
        professions=tuple(profession_from_json(p) for p in data.get("professions") or ()),
    )


def professional_contact_from_json(data: dict[str, Any]) -> ProfessionalContactInfo:
    return ProfessionalContactInfo(
        **_person(data),
        informations=tuple(
            ProfessionalInformation(
                profession=profession_from_json(i["profession"]),
                addresses=tuple(address_from_json(a) for a in i.get("addresses") or ()),
                ehealthbox=box_from_json(i["eHealthBox"]) if i.get("eHealthBox") else None,
            )
            for i in data.get("professionalInformations") or ()
        ),
    )


def _organization(data: dict[str, Any]) -> dict[str, Any]:
    ident, part_of = data["id"], data.get("partOf")
    return {
        "id": OrganizationId(str(ident["type"]), str(ident["value"])),
        "type_code": str(data["organizationTypeCode"]),
        "type_names": _texts(data.get("organizationTypeFriendlyNames")),
        "names": _texts(data.get("names")),
        "part_of": _opt(part_of, "name") if isinstance(part_of, dict) else None,
    }


def organization_from_json(data: dict[str, Any]) -> Organization:
    return Organization(**_organization(data))


def organization_contact_from_json(data: dict[str, Any]) -> OrganizationContactInfo:
    return OrganizationContactInfo(
        **_organization(data),
        addresses=tuple(address_from_json(a) for a in data.get("addresses") or ()),
        ehealthboxes=tuple(box_from_json(b) for b in data.get("eHealthBoxes") or ()),
    )


def _page(data: dict[str, Any], items: tuple) -> Page:
    total = data.get("total")
    return Page(
        items=items,
        offset=int(data.get(OFFSET, 0)),
        max_elements=int(data.get(MAX_ELEMENTS, len(items) or 1)),
        total=int(total) if total is not None else None,
    )


def professionals_page_from_json(data: dict[str, Any]) -> Page[Professional]:
    found = data.get("healthCareProfessionals") or ()
    return _page(data, tuple(professional_from_json(p) for p in found))


def organizations_page_from_json(data: dict[str, Any]) -> Page[Organization]:
    found = data.get("healthCareOrganizations") or ()
    return _page(data, tuple(organization_from_json(o) for o in found))


# --- errors -----------------------------------------------------------------------------------
_BY_STATUS: dict[int, type[errors.AddressBookError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    422: errors.BadRequest,
}


def error_from_response(status: int, headers: Any, body: Any) -> errors.AddressBookError:
    """The exception for a non-success answer (a problem+json body, or anything else)."""
    problem = body if isinstance(body, dict) else {}
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = errors.Unavailable if status >= 500 or status == 429 else errors.AddressBookError
    return cls(
        status=status,
        detail=problem.get("detail"),
        problem=problem,
        request_id=headers.get(REQUEST_ID_HEADER) or problem.get("instance"),
    )
