"""The configuration doctor: is this configuration ready to talk to eHealth? Framework-neutral.

`run_checks(settings, root)` returns one :class:`CheckResult` per check, in the order a
person fixes things: the keystore and its certificate first (read here, so that a wrong
password is diagnosed instead of stopping the app), then the network checks in
`doctor_net` (JWKS, realms, clock, redirect URI, client assertions, eHealthBox API).
Never shows the keystore password or any token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from ..config import Settings
from ..ehealth.http import build_session
from ..ehealth.keystore import (
    AliasNotFound,
    EteeKeystore,
    KeyEntry,
    KeystoreError,
    SigningIdentity,
    WrongPassword,
    certificate_identity,
)
from .doctor_net import network_checks
from .doctor_report import FAIL, OK, WARNING, CheckResult, KeyState, exit_code, skipped

__all__ = ["FAIL", "OK", "WARNING", "CheckResult", "KeyState", "exit_code", "run_checks"]

EXPIRY_WARNING_DAYS = 30


def _open(
    path: Path, password: str, variable: str, sandbox: bool, check: str
) -> tuple[CheckResult, EteeKeystore | None]:
    try:
        keystore = EteeKeystore.load(path, password)
    except WrongPassword:
        return CheckResult(
            FAIL,
            check,
            f"{variable}_PASSWORD does not open {path}",
            f"set {variable}_PASSWORD to this keystore's password",
        ), None
    except KeystoreError as exc:
        todo = f"point {variable} at the eHealth PKCS#12 keystore (.p12 / .acc-p12)"
        if sandbox and not path.exists():
            todo = "run `flask --app app ehbox sandbox-keystore` (make run does it)"
        return CheckResult(FAIL, check, str(exc), todo), None
    found = f"{path} opens ({len(keystore.entries)} key entries)"
    return CheckResult(OK, check, found), keystore


def _certificate(entry: KeyEntry, variable: str, now: datetime) -> CheckResult:
    cert = entry.certificate
    until = f"{cert.not_valid_after_utc:%Y-%m-%d}"
    renew = (
        f"renew the certificate with eHealth's certificate tool and point {variable} at the "
        "new keystore"
    )
    if now < cert.not_valid_before_utc:
        return CheckResult(
            FAIL,
            "certificate",
            f"'{entry.alias}' is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            "check the machine's clock, or use the current keystore",
        )
    if now > cert.not_valid_after_utc:
        return CheckResult(FAIL, "certificate", f"'{entry.alias}' expired on {until}", renew)
    days = int((cert.not_valid_after_utc - now).total_seconds() // 86400)
    kind = (
        "RSA " + str(entry.private_key.key_size)
        if isinstance(entry.private_key, rsa.RSAPrivateKey)
        else "EC"
    )
    found = f"'{entry.alias}' ({kind}) valid until {until}, {days} days left"
    if days < EXPIRY_WARNING_DAYS:
        return CheckResult(
            WARNING, "certificate", found, f"{renew}; publish it first with ETEE_NEXT_KEYSTORE"
        )
    if kind == "EC":
        # Every eHealth sample signs assertions with RS256; EC support at eHealth is UNKNOWN.
        return CheckResult(
            WARNING,
            "certificate",
            found + " but not RSA",
            "eHealth's client assertions are RS256: use the RSA key",
        )
    return CheckResult(OK, "certificate", found)


def _identity(settings: Settings, entry: KeyEntry) -> CheckResult:
    try:
        ident = certificate_identity(entry.certificate)
    except KeystoreError as exc:
        return CheckResult(
            FAIL,
            "certificate identity",
            str(exc),
            "use the keystore eHealth issued for your organisation",
        )
    typed = f"{ident.identifier_type}={ident.identifier}"
    app = f", application id {ident.application_id}" if ident.application_id else ""
    who = f" ({ident.name})" if ident.name else ""
    found = f"the certificate is {typed}{app}{who}"
    wrong = []
    if ident.identifier != settings.etee_identifier:
        wrong.append(f"ETEE_IDENTIFIER={ident.identifier}")
    if ident.identifier_type != settings.etee_identifier_type:
        wrong.append(f"ETEE_IDENTIFIER_TYPE={ident.identifier_type}")
    if (ident.application_id or "") != settings.etee_application_id:
        wrong.append(f"ETEE_APPLICATION_ID={ident.application_id or ''}")
    if wrong:
        configured = f"{settings.etee_identifier_type}={settings.etee_identifier}" + (
            f", application id {settings.etee_application_id}"
            if settings.etee_application_id
            else ""
        )
        return CheckResult(
            FAIL,
            "certificate identity",
            f"{found}, but the settings say {configured}",
            "set " + " and ".join(wrong) + " (the JWKS URL and the client registration use them)",
        )
    return CheckResult(OK, "certificate identity", found + ", as configured")


def keystore_checks(
    settings: Settings, root: Path, now: datetime | None = None
) -> tuple[list[CheckResult], KeyState]:
    """Open the keystore, find the alias, check the certificate's dates and identity."""
    now = now or datetime.now(UTC)
    state = KeyState()
    if not settings.etee_keystore:
        return [
            CheckResult(
                FAIL,
                "keystore",
                "ETEE_KEYSTORE is not set",
                "point ETEE_KEYSTORE at the eHealth keystore",
            )
        ], state
    opened, keystore = _open(
        settings.keystore_path(root),
        settings.etee_keystore_password,
        "ETEE_KEYSTORE",
        settings.is_sandbox,
        "keystore",
    )
    results = [opened]
    if keystore is None:
        return results + [
            skipped(c, state.reason) for c in ("key alias", "certificate", "certificate identity")
        ], state
    try:
        entry = keystore.entry(settings.etee_key_alias)
    except AliasNotFound as exc:
        state.reason = "the key alias is missing"
        results.append(
            CheckResult(
                FAIL, "key alias", str(exc), "set ETEE_KEY_ALIAS to one of the aliases listed"
            )
        )
        return results + [
            skipped(c, state.reason) for c in ("certificate", "certificate identity")
        ], state
    results.append(CheckResult(OK, "key alias", f"entry '{entry.alias}' found"))
    results.append(_certificate(entry, "ETEE_KEYSTORE", now))
    results.append(_identity(settings, entry))
    state.identity = SigningIdentity(entry.private_key, entry.certificate, entry.chain)
    cert = entry.certificate
    state.valid = cert.not_valid_before_utc <= now <= cert.not_valid_after_utc
    state.reason = "" if state.valid else "the certificate is not valid now"
    if settings.etee_next_keystore:
        results.append(_next_keystore(settings, root, now))
    return results, state


def _next_keystore(settings: Settings, root: Path, now: datetime) -> CheckResult:
    """The renewed keystore published next to the current one (rotation), when configured."""
    path = Path(settings.etee_next_keystore)
    if not path.is_absolute():  # as Services reads it: next to the current keystore
        path = settings.keystore_path(root).parent / path
    opened, keystore = _open(
        path, settings.etee_next_keystore_password, "ETEE_NEXT_KEYSTORE", False, "next keystore"
    )
    if keystore is None:
        return opened
    try:
        entry = keystore.entry(settings.etee_key_alias)
    except AliasNotFound as exc:
        return CheckResult(FAIL, "next keystore", str(exc), "use a keystore eHealth issued")
    result = _certificate(entry, "ETEE_NEXT_KEYSTORE", now)
    return CheckResult(result.status, "next keystore", result.found, result.todo)


def run_checks(
    settings: Settings,
    root: Path,
    *,
    http: requests.Session | None = None,
    now: datetime | None = None,
) -> list[CheckResult]:
    """Every check, in order; never raises for a configuration problem."""
    first = CheckResult(
        OK,
        "settings",
        f"EHBOX_ENV={settings.env}, PUBLIC_URL="
        f"{settings.public_url}, IAM_CLIENT_ID={settings.iam_client_id}"
        + (
            f", IAM_M2M_CLIENT_ID={settings.iam_m2m_client_id}"
            if settings.iam_m2m_client_id
            else ""
        ),
    )
    results, keys = keystore_checks(settings, root, now)
    session = http or build_session(
        settings.ehealth_user_agent, settings.ehealth_from, timeout=settings.http_timeout
    )
    return [first, *results, *network_checks(settings, keys, session)]
