"""The doctor's calls that authenticate: client assertions at both realms, and the eHealthBox API.

No token is shown or kept: a successful client-credentials token is dropped at once.
"""

from __future__ import annotations

import requests

from ..config import Settings
from ..ehealth.iam import IamClient, IamError, TokenError
from .doctor_app import start_app_hint
from .doctor_report import FAIL, OK, WARNING, CheckResult, KeyState, skipped

PROBE_SUBJECT_TOKEN = "ehbox-doctor-probe-not-a-token"  # noqa: S105 - deliberately invalid
# Errors about the subject token, which the realm only examines after it authenticated us.
SUBJECT_TOKEN_ERRORS = ("invalid_grant", "invalid_request", "invalid_token")


def _client(
    settings: Settings,
    keys: KeyState,
    issuer: str,
    client_id: str,
    http: requests.Session,
    *,
    client_auth: str = "private_key_jwt",
) -> IamClient:
    secret = settings.iam_client_secret if client_auth != "private_key_jwt" else ""
    return IamClient(
        issuer,
        client_id,
        http=http,
        identity=keys.identity,
        timeout=settings.http_timeout,
        client_auth=client_auth,
        client_secret=secret,
    )


def check_healthcare_assertion(
    settings: Settings, keys: KeyState, realm_ok: bool, http: requests.Session
) -> CheckResult:
    """Is our client authentication (IAM_CLIENT_AUTH) accepted by the healthcare realm?

    Without a user there is no grant a healthcare client can complete, so we send an RFC 8693
    token exchange with a subject token that cannot be valid. The token endpoint (Keycloak,
    like the sandbox) authenticates the client before it looks at the grant: `invalid_client`
    means our assertion was refused; `invalid_grant` / `invalid_request` are about the subject
    token, so the assertion was accepted. No token can come out of it.
    """
    method = settings.iam_client_auth
    secret = method != "private_key_jwt"
    check = f"client {'secret' if secret else 'assertion'} (healthcare)"
    what = "client secret" if secret else "assertion"
    if not realm_ok:
        return skipped(check, "the healthcare realm did not answer")
    if not secret and (keys.identity is None or not keys.valid):
        return skipped(check, keys.reason)
    client_id = settings.iam_client_id
    audience = settings.ehbox_audience or client_id
    client = _client(settings, keys, settings.iam_issuer, client_id, http, client_auth=method)
    try:
        client.exchange_token(PROBE_SUBJECT_TOKEN, audience)
    except TokenError as exc:
        said = f"{exc.error}" + (f" ({exc.description})" if exc.description else "")
        needed = FAIL if settings.ehbox_audience else WARNING
        if exc.error == "invalid_client":
            return CheckResult(
                FAIL,
                check,
                f"the realm refused {client_id}'s {what}: {said}",
                "check IAM_CLIENT_ID and IAM_CLIENT_SECRET, and that eHealth registered the "
                f"client for {method}"
                if secret
                else "check IAM_CLIENT_ID, and that the client is registered with "
                "this certificate's JWKS URL (form section 5.4)",
            )
        if exc.error in SUBJECT_TOKEN_ERRORS:
            return CheckResult(
                OK,
                check,
                f"{method} accepted for {client_id} (the realm then refused "
                f"the deliberately invalid subject token: {exc.error})",
            )
        if exc.error == "unauthorized_client":
            return CheckResult(
                needed,
                check,
                f"accepted, but {client_id} may not use token exchange: {said}",
                "ask eHealth to allow token exchange for this client",
            )
        if exc.error == "access_denied":
            return CheckResult(
                needed,
                check,
                f"accepted, but the exchange to '{audience}' is refused: {said}",
                "ask eHealth for the exchange right to EHBOX_AUDIENCE",
            )
        return CheckResult(
            WARNING,
            check,
            f"the token endpoint answered {said}",
            "read the realm's answer; the assertion may be refused",
        )
    except IamError as exc:
        return CheckResult(FAIL, check, str(exc), "check IAM_ISSUER")
    return CheckResult(OK, check, f"accepted for {client_id}")


def check_m2m_assertion(
    settings: Settings, keys: KeyState, realm_ok: bool, http: requests.Session
) -> CheckResult:
    """A client-credentials request in the M2M realm: the real thing, token not shown."""
    check = "client assertion (M2M)"
    if not realm_ok:
        return skipped(check, "the M2M realm did not answer")
    if keys.identity is None or not keys.valid:
        return skipped(check, keys.reason)
    client_id = settings.iam_m2m_client_id
    try:
        tokens = _client(
            settings, keys, settings.iam_m2m_issuer, client_id, http
        ).client_credentials()
    except TokenError as exc:
        said = f"{exc.error}" + (f" ({exc.description})" if exc.description else "")
        if exc.error == "invalid_client":
            todo = (
                "check IAM_M2M_CLIENT_ID, and that the client is registered with this "
                "certificate's JWKS URL (form section 5.1)"
            )
        else:
            todo = "ask eHealth to allow client_credentials with scope ehbox for this client"
        return CheckResult(FAIL, check, f"the realm refused {client_id}: {said}", todo)
    except IamError as exc:
        return CheckResult(FAIL, check, str(exc), "check IAM_M2M_ISSUER")
    scope = f" with scope '{tokens.scope}'" if tokens.scope else ""
    return CheckResult(
        OK, check, f"a client_credentials token was issued to {client_id}{scope} (not shown)"
    )


def check_ehealthbox_api(settings: Settings, http: requests.Session) -> CheckResult:
    """Any HTTP answer from `/boxInfo` without a token (401 is the expected one)."""
    check = "eHealthBox API"
    url = f"{settings.ehbox_api_url}/boxInfo"
    try:
        response = http.get(url, headers={"Accept": "application/json"}, allow_redirects=False)
    except requests.RequestException as exc:
        return CheckResult(
            FAIL,
            check,
            f"{url} does not answer ({type(exc).__name__})",
            "check EHBOX_API_URL" + start_app_hint(settings),
        )
    status = response.status_code
    found = f"{url} answers HTTP {status} without a token"
    if status in (401, 403) or 200 <= status < 300:
        return CheckResult(OK, check, found)
    if status == 404:
        return CheckResult(
            WARNING,
            check,
            found,
            "is EHBOX_API_URL the eHealthBox REST base "
            "URL (see portal(-acpt).api.ehealth.fgov.be)?",
        )
    if status >= 500:
        return CheckResult(WARNING, check, found, "the service has a problem: retry later")
    return CheckResult(WARNING, check, found, "check EHBOX_API_URL")
