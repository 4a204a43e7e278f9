"""The procedure's client-id rules: healthcare realm (§2.2.1, §2.2.2) and M2M realm (§2.2.3).

Each check returns a list of :class:`Problem`; an empty list means the value follows
the rules. A problem quotes the rule it breaks, in the procedure's words, or says
INFERRED when the rule is a convention the procedure does not write down.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from . import procedure as P

SUFFIX: Final = "-ehbox"
# Whether a client already exists in the realm, as the procedure distinguishes it.
EXISTING_CHOICES: Final = ("none", "reuse", "cannot-reuse")

_HEALTHCARE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CBE = re.compile(r"cbe-(\d{10})(-ehbox)?")
# INFERRED: the institution type is written in lower-case words ("guard post" is written
# guard-post or guard_post); the procedure gives examples, not a list.
_NIHDI = re.compile(r"nihdi-([a-z]+(?:[-_][a-z]+)*)-(\d{8})(-ehbox)?")
_EHP = re.compile(r"ehp-(\d{10})(-ehbox)?")


@dataclass(frozen=True)
class Problem:
    """What is wrong with a value, and the rule it breaks (quoted)."""

    message: str
    rule: str

    def __str__(self) -> str:
        return f'{self.message} (rule: "{self.rule}")'

    def to_dict(self) -> dict[str, str]:
        return {"message": self.message, "rule": self.rule}


@dataclass(frozen=True)
class M2mClientId:
    """An M2M client id taken apart: `cbe`, `nihdi` (with its institution type) or `ehp`."""

    kind: str
    identifier: str
    suffix: str = ""
    institution_type: str | None = None


def mod97_check(number: str, body: int) -> bool:
    """True when the last two digits are 97 - (the first `body` digits mod 97)."""
    if not number.isdigit() or len(number) != body + 2:
        return False
    return 97 - int(number[:body]) % 97 == int(number[body:])


def _check_existing(
    client_id: str, existing: str, suffix_rule: str, reuse_rule: str, suffixed: bool
) -> list[Problem]:
    if existing not in EXISTING_CHOICES:
        raise ValueError(f"existing must be one of {', '.join(EXISTING_CHOICES)}")
    if existing == "cannot-reuse" and not suffixed:
        return [
            Problem(
                f"{client_id!r} must end with '{SUFFIX}': a client already exists in "
                "this realm and cannot be reused",
                suffix_rule,
            )
        ]
    if existing == "reuse" and suffixed:
        # Not forbidden, but a reused client keeps its id; a new '-ehbox' id is a new client.
        return [
            Problem(
                f"{client_id!r} carries the '{SUFFIX}' suffix while the existing client "
                "is to be reused: give the existing client's id",
                reuse_rule,
            )
        ]
    return []


def check_healthcare_client_id(client_id: str, existing: str = "none") -> list[Problem]:
    """Problems with a healthcare-realm client id (public 2.2.1 or confidential 2.2.2)."""
    if not client_id:
        return [Problem("the Client ID is empty", P.HEALTHCARE_CLIENT_ID)]
    problems: list[Problem] = []
    if not _HEALTHCARE.fullmatch(client_id):
        problems.append(
            Problem(
                f"{client_id!r} should be the company or software name in lower-case letters, "
                "digits and hyphens",
                P.HEALTHCARE_SYNTAX,
            )
        )
    suffixed = client_id.endswith(SUFFIX)
    if client_id in (SUFFIX, SUFFIX[1:]):
        problems.append(
            Problem(
                f"{client_id!r} has no company or software name before the suffix",
                P.HEALTHCARE_SUFFIX,
            )
        )
    problems += _check_existing(
        client_id, existing, P.HEALTHCARE_SUFFIX, P.HEALTHCARE_REUSE, suffixed
    )
    return problems


def parse_m2m_client_id(client_id: str) -> M2mClientId | None:
    """(kind, identifier, suffix) of an M2M client id, or None when it has none of the forms."""
    if match := _CBE.fullmatch(client_id):
        return M2mClientId("cbe", match[1], match[2] or "")
    if match := _NIHDI.fullmatch(client_id):
        return M2mClientId("nihdi", match[2], match[3] or "", institution_type=match[1])
    if match := _EHP.fullmatch(client_id):
        return M2mClientId("ehp", match[1], match[2] or "")
    return None


def _form_rule(client_id: str) -> str:
    """The one form the value was meant to have, judging by its prefix; else all three."""
    lowered = client_id.lower()
    for prefix, rule in (("cbe-", P.M2M_CBE), ("nihdi-", P.M2M_NIHDI), ("ehp-", P.M2M_EHP)):
        if lowered.startswith(prefix):
            return rule
    return " / ".join((P.M2M_CBE, P.M2M_NIHDI, P.M2M_EHP))


# The certificate's identifier type (ETEE_IDENTIFIER_TYPE) each kind of M2M id belongs with.
_KIND_OF_TYPE = {"CBE": "cbe", "EHP": "ehp", "NIHII": "nihdi"}


def check_m2m_client_id(
    client_id: str,
    existing: str = "none",
    *,
    identifier: str | None = None,
    identifier_type: str | None = None,
) -> list[Problem]:
    """Problems with an M2M client id; `identifier(_type)`: the ETEE certificate's, if known."""
    if not client_id:
        return [Problem("the Client ID is empty", P.M2M_CLIENT_ID)]
    parsed = parse_m2m_client_id(client_id)
    if parsed is None:
        return [
            Problem(
                f"{client_id!r} has none of the organisation client-id forms (lower "
                "case, the exact number of digits)",
                _form_rule(client_id),
            )
        ]
    problems: list[Problem] = []
    if parsed.kind in ("cbe", "ehp") and not mod97_check(parsed.identifier, 8):
        rule = P.CBE_CHECK if parsed.kind == "cbe" else P.EHP_CHECK
        problems.append(
            Problem(
                f"{parsed.identifier} is not a valid {parsed.kind.upper()} "
                "number: its check digits are wrong",
                rule,
            )
        )
    if parsed.kind == "cbe" and parsed.identifier[0] not in "01":
        problems.append(
            Problem(f"{parsed.identifier} is not a CBE number: it starts with 0 or 1", P.CBE_CHECK)
        )
    if parsed.kind == "nihdi" and not mod97_check(parsed.identifier, 6):
        problems.append(
            Problem(
                f"{parsed.identifier} is not a valid NIHII institution number: "
                "its check digits are wrong",
                P.NIHII_CHECK,
            )
        )
    # INFERRED: the procedure writes "after the company or software name" (a copy of §2.2.2);
    # for an organisation id the suffix follows the identifier, e.g. cbe-0899999949-ehbox.
    problems += _check_existing(client_id, existing, P.M2M_SUFFIX, P.M2M_REUSE, bool(parsed.suffix))
    if identifier and parsed.identifier != identifier:
        problems.append(
            Problem(
                f"{client_id!r} names organisation {parsed.identifier}, but the ETEE certificate "
                f"(ETEE_IDENTIFIER) belongs to {identifier}",
                P.IDENTIFIER,
            )
        )
    family = _KIND_OF_TYPE.get((identifier_type or "").split("-")[0])
    if identifier_type and family and family != parsed.kind:
        problems.append(
            Problem(
                f"{client_id!r} is a {parsed.kind} id, but the certificate's identifier type "
                f"(ETEE_IDENTIFIER_TYPE) is {identifier_type}",
                P.IDENTIFIER_TYPE,
            )
        )
    return problems


def slug(name: str) -> str:
    """A company or software name as a client id: accents dropped, lower case, hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def suggest_healthcare_client_id(name: str, existing: str = "none") -> str:
    """The default healthcare client id: the name, plus '-ehbox' when the old client stays."""
    base = slug(name)
    if not base:
        return ""
    return f"{base}{SUFFIX}" if existing == "cannot-reuse" else base


def suggest_m2m_client_id(identifier_type: str, identifier: str, existing: str = "none") -> str:
    """The M2M client id for the certificate's organisation, or "" for a person's certificate."""
    family, _, subtype = identifier_type.upper().partition("-")
    if family == "CBE":
        base = f"cbe-{identifier}"
    elif family == "EHP":
        base = f"ehp-{identifier}"
    elif family == "NIHII" and subtype:
        base = f"nihdi-{subtype.lower().replace('_', '-')}-{identifier}"
    else:
        return ""  # SSIN, NIHII (a person), NIHII11: no organisation, no M2M client
    return f"{base}{SUFFIX}" if existing == "cannot-reuse" else base
