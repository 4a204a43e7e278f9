"""The configuration doctor: all green against the sandbox, one clear FAIL per broken setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from ehbox_webapp.cli.doctor import doctor_command
from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD, Settings
from ehbox_webapp.ehealth.keystore import generate_keystore
from ehbox_webapp.onboarding.doctor import (
    FAIL,
    OK,
    WARNING,
    CheckResult,
    exit_code,
    keystore_checks,
    run_checks,
)
from ehbox_webapp.onboarding.doctor_net import Realm, check_clock
from ehbox_webapp.paths import ROOT

EVERY_CHECK = {
    "settings",
    "keystore",
    "key alias",
    "certificate",
    "certificate identity",
    "app",
    "published key (JWKS)",
    "healthcare realm",
    "M2M realm",
    "clock",
    "redirect URI",
    "redirect URI registered",
    "client assertion (healthcare)",
    "client assertion (M2M)",
    "eHealthBox API",
}


def doctor(live_app, **overrides: str) -> list[CheckResult]:
    return run_checks(Settings.from_env({**live_app.environ, **overrides}), ROOT)


def by_check(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check: r for r in results}


def report(results: list[CheckResult]) -> str:
    return "\n".join(r.line() for r in results)


def invoke(environ: dict[str, str]):
    return CliRunner().invoke(doctor_command, [], obj={"environ": environ})


def test_all_green_against_the_sandbox(live_app):
    results = doctor(live_app)
    assert {r.check for r in results} == EVERY_CHECK
    assert all(r.status == OK for r in results), report(results)
    assert exit_code(results) == 0
    checks = by_check(results)
    assert "kid to use" in checks["published key (JWKS)"].found
    assert "PKCE S256" in checks["healthcare realm"].found
    assert "client_credentials" in checks["M2M realm"].found
    assert "not shown" in checks["client assertion (M2M)"].found
    assert "HTTP 401" in checks["eHealthBox API"].found


def test_cli_green_standalone_and_through_flask(live_app):
    result = invoke(live_app.environ)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(line.startswith("ok ") for line in lines[:-1]), result.output
    assert lines[-1].endswith("0 warning(s), 0 FAIL")
    flask_result = live_app.app.test_cli_runner().invoke(args=["ehbox", "doctor"])
    assert flask_result.exit_code == 0, flask_result.output


def test_wrong_keystore_password(live_app):
    environ = {**live_app.environ, "ETEE_KEYSTORE_PASSWORD": "not-the-password-4711"}
    result = invoke(environ)
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if x.startswith("FAIL") and "keystore:" in x)
    assert "ETEE_KEYSTORE_PASSWORD does not open" in line
    assert "— set ETEE_KEYSTORE_PASSWORD" in line
    assert "not-the-password-4711" not in result.output  # never the password
    checks = by_check(doctor(live_app, ETEE_KEYSTORE_PASSWORD="not-the-password-4711"))
    assert checks["certificate"].status == WARNING  # not checked, not a second FAIL
    assert checks["client assertion (M2M)"].found.startswith("not checked")


def test_wrong_identifier(live_app):
    environ = {**live_app.environ, "ETEE_IDENTIFIER": "0123456749"}
    result = invoke(environ)
    assert result.exit_code == 1
    identity = by_check(doctor(live_app, ETEE_IDENTIFIER="0123456749"))["certificate identity"]
    assert identity.status == FAIL
    assert "the certificate is CBE=0899999949" in identity.found
    assert "CBE=0123456749" in identity.found
    assert "set ETEE_IDENTIFIER=0899999949" in identity.todo


def test_wrong_identifier_type(live_app):
    identity = by_check(doctor(live_app, ETEE_IDENTIFIER_TYPE="EHP"))["certificate identity"]
    assert identity.status == FAIL and "ETEE_IDENTIFIER_TYPE=CBE" in identity.todo


def test_expired_certificate(live_app, tmp_path):
    now = datetime.now(UTC)
    expired = generate_keystore(
        tmp_path / "expired.acc-p12",
        SANDBOX_KEYSTORE_PASSWORD,
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
        not_before=now - timedelta(days=800),
        not_after=now - timedelta(days=1),
    )
    environ = {**live_app.environ, "ETEE_KEYSTORE": str(expired)}
    result = invoke(environ)
    assert result.exit_code == 1
    checks = by_check(doctor(live_app, ETEE_KEYSTORE=str(expired)))
    assert checks["certificate"].status == FAIL
    assert "expired on" in checks["certificate"].found
    assert "renew the certificate" in checks["certificate"].todo
    # An expired key signs nothing: the assertion checks say so instead of failing again.
    assert checks["client assertion (healthcare)"].found == (
        "not checked: the certificate is not valid now"
    )


def test_certificate_expiring_soon_is_a_warning(tmp_path):
    path = generate_keystore(
        tmp_path / "soon.acc-p12",
        "pw",
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
        not_after=datetime.now(UTC) + timedelta(days=10),
        key_size=1024,
    )
    settings = Settings.from_env({"ETEE_KEYSTORE": str(path), "ETEE_KEYSTORE_PASSWORD": "pw"})
    results, keys = keystore_checks(settings, ROOT)
    certificate = by_check(results)["certificate"]
    assert certificate.status == WARNING and "days left" in certificate.found
    assert "ETEE_NEXT_KEYSTORE" in certificate.todo
    assert keys.valid


def test_unreachable_realm(live_app):
    issuer = "http://127.0.0.1:9/auth/realms/healthcare"
    result = invoke({**live_app.environ, "IAM_ISSUER": issuer})
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "healthcare realm:" in x)
    assert line.startswith("FAIL") and "does not answer" in line and "check IAM_ISSUER" in line
    checks = by_check(doctor(live_app, IAM_ISSUER=issuer))
    assert checks["client assertion (healthcare)"].status == WARNING
    assert checks["M2M realm"].status == OK  # only the broken setting is red


def test_unknown_client_is_refused(live_app):
    checks = by_check(doctor(live_app, IAM_CLIENT_ID="not-registered"))
    assert checks["client assertion (healthcare)"].status == FAIL
    assert "invalid_client" in checks["client assertion (healthcare)"].found
    assert checks["redirect URI registered"].status == FAIL


def test_unregistered_redirect_uri(live_app):
    # The same app reached under another name: the realm knows only the registered URI.
    other = live_app.url.replace("127.0.0.1", "localhost")
    checks = by_check(
        doctor(
            live_app, PUBLIC_URL=other, IAM_ISSUER=f"{live_app.url}/sandbox/auth/realms/healthcare"
        )
    )
    assert checks["redirect URI registered"].status == FAIL
    assert "register this Redirect URI" in checks["redirect URI registered"].todo


def test_bad_setting_is_one_fail_line():
    result = invoke({"EHBOX_ENV": "staging"})
    assert result.exit_code == 1
    assert result.output.startswith("FAIL     settings: EHBOX_ENV: one of")


@pytest.mark.parametrize(
    ("skew", "status"),
    [(0.2, OK), (-4.0, OK), (9.0, WARNING), (-45.0, WARNING), (61.0, FAIL), (-90.0, FAIL)],
)
def test_clock_tolerance(skew, status):
    realm = Realm("healthcare", CheckResult(OK, "healthcare realm", ""), {}, skew)
    assert check_clock([realm]).status == status


def test_json_output(live_app):
    import json

    result = CliRunner().invoke(doctor_command, ["--json"], obj={"environ": live_app.environ})
    data = json.loads(result.stdout)
    assert data["exit_code"] == 0 and {r["check"] for r in data["results"]} == EVERY_CHECK


def test_module_entry_point_runs_without_the_app(live_app):
    """`python -m ehbox_webapp doctor` diagnoses what keeps the app itself from starting."""
    import os
    import subprocess
    import sys

    environ = {**os.environ, **live_app.environ, "ETEE_KEYSTORE_PASSWORD": "wrong-pw-4711"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ehbox_webapp", "doctor"],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "FAIL     keystore: ETEE_KEYSTORE_PASSWORD does not open" in done.stdout
    assert "wrong-pw-4711" not in done.stdout + done.stderr


# -- outside the sandbox, against canned eHealth answers --


class FakeResponse:
    def __init__(self, status: int, body: object, headers: dict | None = None):
        self.status_code, self._body, self.headers = status, body, headers or {}

    def json(self) -> object:
        return self._body


class FakeSession:
    """Answers GETs from a dict of URL -> FakeResponse (no network)."""

    def __init__(self, answers: dict[str, FakeResponse]):
        self.answers = answers

    def get(self, url: str, **kwargs) -> FakeResponse:
        return self.answers.get(url, FakeResponse(404, {}))


ACCEPTANCE = {
    "EHBOX_ENV": "acceptance",
    "PUBLIC_URL": "https://ehbox.acme.example",
    "SECRET_KEY": "k" * 40,
    "IAM_CLIENT_ID": "acme",
    "ETEE_KEYSTORE": "unused.p12",
    "ETEE_KEYSTORE_PASSWORD": "unused",
    "ETEE_IDENTIFIER": "0899999949",
    "EHBOX_API_URL": "https://api-acpt.ehealth.fgov.be/ehealthbox/v1",
    "EHEALTH_FROM": "ops@acme.example",
}


def _keys(sandbox_keystore):
    from ehbox_webapp.ehealth.keystore import EteeKeystore
    from ehbox_webapp.onboarding.doctor import KeyState

    identity = EteeKeystore.load(sandbox_keystore, SANDBOX_KEYSTORE_PASSWORD).signing_identity()
    return KeyState(identity=identity, valid=True, reason="")


def test_published_key_at_the_ehealth_jwks_url(sandbox_keystore):
    import base64

    from ehbox_webapp.onboarding.doctor_app import check_published_key

    settings = Settings.from_env(ACCEPTANCE)
    keys = _keys(sandbox_keystore)
    jwk = keys.identity.public_jwk()
    # eHealth's own kid, and a modulus with a leading zero byte: still the same key.
    n = base64.urlsafe_b64decode(jwk["n"] + "==")
    published = {**jwk, "kid": "E1757512889", "n": base64.urlsafe_b64encode(b"\0" + n).decode()}
    url = settings.etee_jwks_url
    assert url.startswith("https://api-acpt.ehealth.fgov.be/etee/v1/pubKeys/cacerts/jwks?")
    result = check_published_key(
        settings, keys, FakeSession({url: FakeResponse(200, {"keys": [published]})})
    )
    assert result.status == WARNING and "E1757512889" in result.found
    assert result.todo == "the client assertion must carry kid 'E1757512889'"
    same_kid = FakeSession({url: FakeResponse(200, {"keys": [jwk]})})
    assert check_published_key(settings, keys, same_kid).status == OK
    other = FakeSession({url: FakeResponse(200, {"keys": [{**jwk, "n": "AQAB"}]})})
    assert check_published_key(settings, keys, other).status == FAIL
    missing = check_published_key(settings, keys, FakeSession({}))
    assert missing.status == FAIL and "HTTP 404" in missing.found


def test_discovery_features():
    from ehbox_webapp.onboarding.doctor_net import HEALTHCARE_NEEDS, discover

    settings = Settings.from_env(ACCEPTANCE)
    issuer = settings.iam_issuer
    url = f"{issuer}/.well-known/openid-configuration"
    full = {
        "issuer": issuer,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
    }

    def run(document):
        answers = {url: FakeResponse(200, document, {"Date": "Sat, 28 Nov 2026 09:00:00 GMT"})}
        return discover(
            "healthcare", "IAM_ISSUER", issuer, settings, FakeSession(answers), HEALTHCARE_NEEDS
        )

    assert run(full).result.status == OK
    no_pkce = run({**full, "code_challenge_methods_supported": ["plain"]}).result
    assert no_pkce.status == FAIL and "PKCE S256" in no_pkce.found
    unsaid = run({k: v for k, v in full.items() if k != "code_challenge_methods_supported"})
    assert unsaid.result.status == WARNING and unsaid.usable
    other = run({**full, "issuer": "https://elsewhere.example/realms/x"}).result
    assert other.status == FAIL and other.todo == "set IAM_ISSUER to it"
    assert run(full).skew is not None


def test_against_an_app_on_another_port_the_doctor_names_public_url(live_app):
    """`PORT=5088 make run` and a doctor without PORT: it says where it looked, not just
    "start the app"."""
    from ehbox_webapp.sandbox.loopback import free_port

    elsewhere = f"http://127.0.0.1:{free_port()}"
    result = invoke({**live_app.environ, "PUBLIC_URL": elsewhere})
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if " app: " in x)
    assert line.startswith("FAIL") and f"{elsewhere}/healthz does not answer" in line
    assert "nothing answers at PUBLIC_URL" in line and "PORT" in line
