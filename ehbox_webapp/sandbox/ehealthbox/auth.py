"""Who is calling: Bearer token verification, box selection, identifying headers.

The box comes from the token (docs/ehealth-platform.md §7 q.3 leaves the real
rule open): a healthcare-realm token with `ssin` selects that person's box, with
the quality of the profession in `userProfile`; an M2M token selects the box of
the organisation whose client id is `azp`.
"""

from __future__ import annotations

from typing import Any

from ..personas import organisation, persona_by_ssin
from ..tokens import InvalidToken, RealmSigner
from ..trusted import TrustedRealms, unverified_issuer
from .problems import ApiProblem

# userProfile keys (eHealth token, lower case) -> eHealthBox quality.
PROFESSION_QUALITY = {
    "physician": "DOCTOR",
    "doctor": "DOCTOR",
    "nurse": "NURSE",
    "dentist": "DENTIST",
    "pharmacist": "PHARMACIST",
    "physiotherapist": "PHYSIOTHERAPIST",
    "midwife": "MIDWIFE",
    "logopedist": "LOGOPEDIST",
    "dietician": "DIETICIAN",
    "psychologist": "PSYCHOLOGIST",
    "orthoptist": "ORTHOPTIST",
    "podologist": "PODOLOGIST",
    "audiologist": "AUDIOLOGIST",
    "occupational_therapist": "OCCUPATIONAL_THERAPIST",
    "citizen": "CITIZEN",
}
REALM = 'Bearer realm="eHealthBox"'


def verify_bearer(
    authorization: str | None,
    signer: RealmSigner,
    issuers: tuple[str, ...],
    audience: str,
    trusted: TrustedRealms | None = None,
) -> dict[str, Any]:
    """The token's claims, or a 401 problem with a `WWW-Authenticate` challenge.

    Tokens of the sandbox realms are checked with the sandbox's key; those of a trusted
    real realm (`trusted`, e.g. `make keycloak`) with that realm's published keys.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(
            401,
            "An access token is required (Authorization: Bearer ...).",
            headers={"WWW-Authenticate": REALM},
        )
    try:
        token = token.strip()
        issuer = unverified_issuer(token)
        if trusted is not None and issuer in trusted:
            return trusted.verify(token, issuer=issuer, audience=audience)
        return signer.verify(token, issuer=issuers, audience=audience)
    except InvalidToken as exc:
        # The reason names the check that failed, never the token itself.
        reason = str(exc).replace('"', "'")
        raise ApiProblem(
            401,
            f"The access token is not valid: {reason}.",
            type_="urn:problem-type:belgif:invalidAccessToken",
            title="Invalid Access Token",
            headers={
                "WWW-Authenticate": f'{REALM}, error="invalid_token", error_description="{reason}"'
            },
        ) from None


def profile_qualities(profile: Any) -> set[str]:
    """Qualities named by a `userProfile` claim (a dict keyed by profession, or names)."""
    if isinstance(profile, dict):
        keys = [
            k
            for k, v in profile.items()
            if not isinstance(v, dict) or v.get("recognised", True) is not False
        ]
    elif isinstance(profile, str):
        keys = [profile]
    elif isinstance(profile, list):
        keys = [k for k in profile if isinstance(k, str)]
    else:
        keys = []
    return {PROFESSION_QUALITY[k.lower()] for k in keys if k.lower() in PROFESSION_QUALITY}


def box_for_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The caller's box as {id, type, quality[, subType]}, or a 403 problem (810)."""
    ssin = claims.get("ssin")
    if isinstance(ssin, str) and ssin:
        person = persona_by_ssin(ssin)
        if person is not None:
            profile = claims.get("userProfile")
            # A token without userProfile gets the persona's own box; one that names
            # professions must name the persona's.
            if profile is None or person.quality in profile_qualities(profile):
                return dict(person.box)
        raise ApiProblem(403, "There is no eHealthBox for this person and profession.", code="810")
    client_id = claims.get("azp") or claims.get("client_id")
    org = organisation(client_id) if isinstance(client_id, str) else None
    if org is not None:
        return dict(org.box)
    raise ApiProblem(403, "The access token does not identify an eHealthBox.", code="810")


# What HTTP libraries send by themselves: not a product identification.
LIBRARY_AGENTS = ("python-requests/", "python-urllib3/", "python-httpx/", "python-urllib/")


def require_identifying_headers(headers: Any) -> None:
    """eHealth REST APIs require User-Agent and From; refuse calls without them.

    A library's default User-Agent counts as missing: eHealth wants the product.
    """
    invalid = [
        {"in": "header", "name": h, "reason": "missing"}
        for h in ("User-Agent", "From")
        if not (headers.get(h) or "").strip()
    ]
    agent = (headers.get("User-Agent") or "").strip().lower()
    if agent.startswith(LIBRARY_AGENTS):
        invalid.append(
            {
                "in": "header",
                "name": "User-Agent",
                "reason": "the product and version, not the HTTP library's default",
            }
        )
    if invalid:
        raise ApiProblem(400, "User-Agent and From headers are required.", invalidParams=invalid)
