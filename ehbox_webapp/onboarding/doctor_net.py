"""The doctor's network checks: the realms and the clock here, then doctor_app and doctor_tokens.

In the sandbox the realms, the JWKS and the eHealthBox are served by the app itself,
so these checks need the app running (`make run`, then `flask --app app ehbox doctor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests

from ..config import Settings
from ..ehealth import iam
from ..ehealth.iam import CLOCK_LEEWAY, TOKEN_EXCHANGE
from .doctor_app import (
    check_app,
    check_published_key,
    check_redirect_registered,
    check_redirect_uri,
    start_app_hint,
)
from .doctor_report import FAIL, OK, WARNING, CheckResult, KeyState, skipped
from .doctor_tokens import check_ehealthbox_api, check_healthcare_assertion, check_m2m_assertion

# Seconds. Within it, nothing to do. Up to iam.CLOCK_LEEWAY the app copes (tokens are given
# that leeway, client assertions are dated by the realm's clock) but NTP should be fixed;
# beyond it logins fail.
CLOCK_TOLERANCE = 5


@dataclass
class Realm:
    """A realm's discovery answer: the document and the server's `Date` against ours."""

    name: str
    result: CheckResult
    metadata: dict | None = None
    skew: float | None = None  # server Date - our clock, seconds
    usable: bool = False  # it answered as the configured issuer: the client checks can run


def discover(
    name: str,
    variable: str,
    issuer: str,
    settings: Settings,
    http: requests.Session,
    needs: list[tuple[str, str, str, bool]],
) -> Realm:
    """Fetch the discovery document; `needs`: (field, value, what, essential)."""
    check = f"{name} realm"
    url = f"{issuer}/.well-known/openid-configuration"
    before = iam.now()  # the clock the app's token checks read
    try:
        response = http.get(url, headers={"Accept": "application/json"})
        after = iam.now()
        document = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError) as exc:
        return Realm(
            name,
            CheckResult(
                FAIL,
                check,
                f"{url} does not answer ({type(exc).__name__})",
                f"check {variable}" + start_app_hint(settings),
            ),
        )
    if not isinstance(document, dict):
        return Realm(
            name,
            CheckResult(
                FAIL,
                check,
                f"{url} answered HTTP {response.status_code}, not a discovery document",
                f"check {variable}",
            ),
        )
    skew = None
    if date := response.headers.get("Date"):
        try:
            # Date is truncated to the second: compare it with the middle of our request.
            skew = parsedate_to_datetime(date).timestamp() + 0.5 - (before + after) / 2
        except (TypeError, ValueError):
            skew = None
    realm = Realm(name, CheckResult(OK, check, ""), document, skew)
    if document.get("issuer") != issuer:
        realm.result = CheckResult(
            FAIL,
            check,
            f"the document names issuer {document.get('issuer')!r}",
            f"set {variable} to it",
        )
        return realm
    realm.usable = True
    lacking, unsaid = [], []
    for key, value, what, essential in needs:
        advertised = document.get(key)
        if advertised is None:
            unsaid.append(what)  # Keycloak omits some lists: not advertised is not refused
        elif value not in advertised and essential:
            lacking.append(what)
        elif value not in advertised:
            unsaid.append(what)
    said = ", ".join(what for _, _, what, _ in needs)
    if lacking:
        realm.result = CheckResult(
            FAIL,
            check,
            f"answers but does not offer {', '.join(lacking)}",
            f"check {variable}: is it the eHealth realm?",
        )
    elif unsaid:
        realm.result = CheckResult(
            WARNING,
            check,
            f"answers; does not advertise {', '.join(unsaid)}",
            "the client checks below tell",
        )
    else:
        realm.result = CheckResult(OK, check, f"answers at {issuer}; offers {said}")
    return realm


def check_clock(realms: list[Realm]) -> CheckResult:
    """This machine's clock against the realm's `Date`: Keycloak allows a client assertion
    15 s of skew, the app corrects up to CLOCK_LEEWAY (and gives tokens that leeway)."""
    realm = next((r for r in realms if r.skew is not None), None)
    if realm is None:
        return skipped("clock", "no realm answered with a Date header")
    skew = realm.skew
    found = (
        f"our clock is {abs(skew):.1f} s {'behind' if skew > 0 else 'ahead of'} the "
        f"{realm.name} realm's (HTTP Date)"
    )
    if abs(skew) > CLOCK_LEEWAY:
        return CheckResult(
            FAIL,
            "clock",
            found,
            f"synchronise the clock with NTP: logins fail beyond {CLOCK_LEEWAY} s",
        )
    if abs(skew) > CLOCK_TOLERANCE + 0.5:
        return CheckResult(
            WARNING,
            "clock",
            f"{found}; the app corrects up to {CLOCK_LEEWAY} s",
            f"synchronise the clock with NTP (tolerance {CLOCK_TOLERANCE} s)",
        )
    return CheckResult(OK, "clock", found)


# What each realm's discovery document must offer: (field, value, what, essential).
HEALTHCARE_NEEDS = [
    ("code_challenge_methods_supported", "S256", "PKCE S256", True),
    ("token_endpoint_auth_signing_alg_values_supported", "RS256", "RS256", True),
]
M2M_NEEDS = [
    ("grant_types_supported", "client_credentials", "client_credentials", True),
    ("token_endpoint_auth_methods_supported", "private_key_jwt", "private_key_jwt", True),
    ("token_endpoint_auth_signing_alg_values_supported", "RS256", "RS256", True),
]


def _client_auth_need(settings: Settings) -> tuple[str, str, str, bool]:
    """The healthcare realm must offer the client authentication IAM_CLIENT_AUTH chose."""
    method = settings.iam_client_auth
    return ("token_endpoint_auth_methods_supported", method, method, True)


def network_checks(settings: Settings, keys: KeyState, http: requests.Session) -> list[CheckResult]:
    """Every check that needs the network, in order."""
    results = [check_app(settings, http), check_published_key(settings, keys, http)]
    # Not advertising token exchange is only a warning: Keycloak lists it in some versions
    # only, and the healthcare client-assertion check below tries a real exchange anyway.
    exchange = ("grant_types_supported", TOKEN_EXCHANGE, "token exchange", False)
    healthcare = discover(
        "healthcare",
        "IAM_ISSUER",
        settings.iam_issuer,
        settings,
        http,
        [*HEALTHCARE_NEEDS, _client_auth_need(settings), exchange],
    )
    realms = [healthcare]
    if settings.iam_m2m_client_id:
        realms.append(
            discover("M2M", "IAM_M2M_ISSUER", settings.iam_m2m_issuer, settings, http, M2M_NEEDS)
        )
    results += [realm.result for realm in realms]
    endpoint = (
        (healthcare.metadata or {}).get("authorization_endpoint") if healthcare.usable else None
    )
    results += [
        check_clock(realms),
        check_redirect_uri(settings),
        check_redirect_registered(settings, endpoint, http),
        check_healthcare_assertion(settings, keys, healthcare.usable, http),
    ]
    if len(realms) > 1:
        results.append(check_m2m_assertion(settings, keys, realms[1].usable, http))
    results.append(check_ehealthbox_api(settings, http))
    return results
