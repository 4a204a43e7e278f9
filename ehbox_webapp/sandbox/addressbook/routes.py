"""The sandbox AddressBook API: the modelled REST face of eHealth's AddressBook v1 (INFERRED).

Four GETs, one per SOAP operation (docs/ehealth-platform.md §10), the SOAP fields as query
parameters and JSON names in camelCase; problems as RFC 9457 documents with
`invalidParams`. Written apart from the app's client (`ehealth/addressbook/rest.py`), so the
sandbox stays the reference of the modelled contract when the client is adapted.

It accepts what the sandbox eHealthBox accepts: a token of either sandbox realm (or of a
trusted real realm) for the eHealthBox's audience, and the User-Agent and From headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ..ehealthbox.api import EXTENSION as EHEALTHBOX
from ..ehealthbox.auth import require_identifying_headers, verify_bearer
from ..ehealthbox.problems import ApiProblem, json_response, new_request_id, problem_response
from ..ehealthbox.recipients import is_valid_cbe, is_valid_inss, is_valid_nihii
from .directory import PROFESSIONS, Institution, Person, Place, directory
from .search import begins, every_word_begins, folded

log = logging.getLogger(__name__)

bp = Blueprint("addressbook_api", __name__)

MAX_ELEMENTS = 100  # per page (the connectors ask 100 at a time)
MAX_TEXT = 100  # characters of a name or city asked


@bp.before_request
def authenticate() -> None:
    g.request_id = new_request_id()
    context = current_app.extensions[EHEALTHBOX]
    settings = context.settings
    verify_bearer(
        request.headers.get("Authorization"),
        context.signer,
        (settings.issuer("healthcare"), settings.issuer("M2M")),
        settings.ehbox_audience,
        context.trusted,
    )
    require_identifying_headers(request.headers)


@bp.after_request
def add_request_id(response: Response) -> Response:
    if getattr(g, "request_id", None):
        response.headers["X-Request-Id"] = g.request_id
    return response


@bp.errorhandler(ApiProblem)
def on_problem(problem: ApiProblem) -> Response:
    log.info("AddressBook sandbox %s -> %s", request.path, problem.status)
    return problem_response(problem)


@bp.errorhandler(HTTPException)
def on_http_error(error: HTTPException) -> Response:
    return problem_response(
        ApiProblem(error.code or 500, error.description or error.name, title=error.name)
    )


# --- the four operations ------------------------------------------------------------------------
@bp.get("/professionals")
def search_professionals() -> Response:
    asked = _criteria(
        {
            "lastName": _text,
            "firstName": _text,
            "profession": _profession,
            "nihii": _person_nihii,
            "ssin": _ssin,
            "zipCode": _zip,
            "city": _text,
        }
    )
    found = [p for p in directory().people if _person_matches(p, asked)]
    found.sort(key=lambda p: (folded(p.last_name), folded(p.first_name), p.ssin))
    return _page(found, "healthCareProfessionals", _professional)


@bp.get("/professionals/contactInfo")
def professional_contact_info() -> Response:
    asked = _criteria({"ssin": _ssin, "nihii": _person_nihii}, wanted="an INSS or a NIHII")
    person = next((p for p in directory().people if _person_matches(p, asked)), None)
    if person is None:
        raise ApiProblem(404, "Nobody in the address book has this INSS or NIHII.")
    body = _professional(person, with_professions=False)
    body["professionalInformations"] = [
        {
            "profession": _profession_json(code, number),
            "addresses": [_address(person.place)],
            "eHealthBox": box,
        }
        for (code, number), box in zip(person.professions, person.boxes(), strict=True)
    ]
    return json_response(body)


@bp.get("/organizations")
def search_organizations() -> Response:
    asked = _criteria(
        {
            "institutionName": _text,
            "institutionType": _institution_type,
            "nihii": _organisation_nihii,
            "cbe": _cbe,
            "ehp": _ehp,
            "zipCode": _zip,
            "city": _text,
        }
    )
    found = [i for i in directory().institutions if _institution_matches(i, asked)]
    found.sort(key=lambda i: (folded(_full_name(i)), i.identifier))
    return _page(found, "healthCareOrganizations", _organization)


@bp.get("/organizations/contactInfo")
def organization_contact_info() -> Response:
    asked = _criteria(
        {
            "nihii": _organisation_nihii,
            "cbe": _cbe,
            "ehp": _ehp,
            "institutionType": _institution_type,
        },
        wanted="a NIHII, CBE or EHP number",
        required=("nihii", "cbe", "ehp"),
    )
    institution = next(
        (i for i in directory().institutions if _institution_matches(i, asked)), None
    )
    if institution is None:
        raise ApiProblem(404, "No organisation in the address book has this identifier.")
    body = _organization(institution)
    body["addresses"] = [_address(institution.place)]
    body["eHealthBoxes"] = [institution.box()]
    return json_response(body)


# --- criteria -----------------------------------------------------------------------------------
def _criteria(
    checks: dict[str, Callable[[str], str | None]],
    *,
    wanted: str = "at least one search criterion",
    required: Iterable[str] | None = None,
) -> dict[str, str]:
    """The query's criteria, each checked; a 400 naming every bad one, or none given."""
    asked: dict[str, str] = {}
    invalid: list[dict[str, str]] = []
    for name, check in checks.items():
        value = request.args.get(name, "").strip()
        if not value:
            continue
        reason = check(value)
        if reason:
            invalid.append({"in": "query", "name": name, "reason": reason})
        else:
            asked[name] = value
    if invalid:
        raise ApiProblem(400, "Some search criteria are not valid.", invalidParams=invalid)
    if not any(name in asked for name in (required or checks)):
        raise ApiProblem(400, f"Give {wanted}.")
    return asked


def _text(value: str) -> str | None:
    if len(value) > MAX_TEXT:
        return f"at most {MAX_TEXT} characters"
    if len("".join(c for c in folded(value) if c.isalnum())) < 2:
        return "at least 2 letters"
    return None


def _ssin(value: str) -> str | None:
    return None if is_valid_inss(value) else "an INSS of 11 digits with valid check digits"


def _person_nihii(value: str) -> str | None:
    if is_valid_nihii(value, 11) or is_valid_nihii(value, 8):
        return None
    return "a NIHII of 8 or 11 digits with valid check digits"


def _organisation_nihii(value: str) -> str | None:
    return None if is_valid_nihii(value, 8) else "a NIHII of 8 digits with valid check digits"


def _cbe(value: str) -> str | None:
    return None if is_valid_cbe(value) else "a CBE number of 10 digits with valid check digits"


def _ehp(value: str) -> str | None:
    return None if value.isascii() and value.isdigit() and len(value) == 10 else "10 digits"


def _zip(value: str) -> str | None:
    return None if value.isascii() and value.isdigit() and len(value) == 4 else "4 digits"


def _profession(value: str) -> str | None:
    return None if value in PROFESSIONS else f"one of {', '.join(PROFESSIONS)}"


def _institution_type(value: str) -> str | None:
    known = sorted({i.type_code for i in directory().institutions})
    return None if value in known else f"one of {', '.join(known)}"


def _paging() -> tuple[int, int]:
    invalid = []
    values = {}
    for name, default, low, high in (
        ("offset", "0", 0, 10**6),
        ("maxElements", "20", 1, MAX_ELEMENTS),
    ):
        raw = request.args.get(name, default)
        if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
            invalid.append({"in": "query", "name": name, "reason": f"a number {low} to {high}"})
        else:
            values[name] = int(raw)
    if invalid:
        raise ApiProblem(400, "The page asked is not valid.", invalidParams=invalid)
    return values["offset"], values["maxElements"]


# --- matching -----------------------------------------------------------------------------------
def _place_matches(place: Place, asked: dict[str, str]) -> bool:
    if "zipCode" in asked and place.zip_code != asked["zipCode"]:
        return False
    return "city" not in asked or any(begins(asked["city"], n) for n in place.municipality.values())


def _person_matches(person: Person, asked: dict[str, str]) -> bool:
    numbers = [number for _, number in person.professions]
    return (
        ("lastName" not in asked or begins(asked["lastName"], person.last_name))
        and ("firstName" not in asked or begins(asked["firstName"], person.first_name))
        and ("ssin" not in asked or asked["ssin"] == person.ssin)
        and ("nihii" not in asked or any(n.startswith(asked["nihii"]) for n in numbers))
        and (
            "profession" not in asked
            or any(code == asked["profession"] for code, _ in person.professions)
        )
        and _place_matches(person.place, asked)
    )


def _full_name(institution: Institution) -> str:
    parent = institution.part_of
    return f"{parent.name} {institution.name}" if parent else institution.name


def _institution_matches(institution: Institution, asked: dict[str, str]) -> bool:
    names = list(institution.names.values())
    if institution.part_of is not None:
        names.append(institution.part_of.name)
    ids = {"NIHII": "nihii", "CBE": "cbe", "EHP": "ehp"}
    for id_type, param in ids.items():
        if param in asked and (institution.id_type, institution.identifier) != (
            id_type,
            asked[param],
        ):
            return False
    return (
        ("institutionName" not in asked or every_word_begins(asked["institutionName"], names))
        and ("institutionType" not in asked or asked["institutionType"] == institution.type_code)
        and _place_matches(institution.place, asked)
    )


# --- answers ------------------------------------------------------------------------------------
def _texts(by_language: dict[str, str]) -> list[dict[str, str]]:
    return [{"lang": lang, "value": value} for lang, value in by_language.items()]


def _page(found: list, key: str, to_json: Callable[[Any], dict[str, Any]]) -> Response:
    offset, size = _paging()
    return json_response(
        {
            "offset": offset,
            "maxElements": size,
            "total": len(found),
            key: [to_json(entry) for entry in found[offset : offset + size]],
        }
    )


def _profession_json(code: str, number: str) -> dict[str, Any]:
    return {
        "professionCode": code,
        "professionFriendlyNames": _texts(PROFESSIONS[code][2]),
        "nihii": number,
    }


def _professional(person: Person, with_professions: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ssin": person.ssin,
        "lastName": person.last_name,
        "firstName": person.first_name,
        "language": person.language,
        "gender": person.gender,
    }
    if with_professions:
        body["professions"] = [_profession_json(code, n) for code, n in person.professions]
    return body


def _address(place: Place) -> dict[str, Any]:
    return {
        "street": place.street,
        "houseNumber": place.number,
        "zipCode": place.zip_code,
        "municipality": _texts(place.municipality),
        "country": "BE",
    }


def _organization(institution: Institution) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": {"type": institution.id_type, "value": institution.identifier},
        "organizationTypeCode": institution.type_code,
        "organizationTypeFriendlyNames": _texts(institution.type_names()),
        "names": _texts(institution.names),
    }
    parent = institution.part_of
    if parent is not None:
        body["partOf"] = {
            "id": {"type": parent.id_type, "value": parent.identifier},
            "name": parent.name,
        }
    return body
