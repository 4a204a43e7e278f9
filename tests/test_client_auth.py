"""IAM_CLIENT_AUTH: how the web client authenticates is UNKNOWN for I.AM Connect, so a setting.

`private_key_jwt` (default), `client_secret_basic` or `client_secret_post` with
IAM_CLIENT_SECRET. The sandbox registers the web client the way the app was told to
authenticate; the doctor checks the chosen method; the onboarding output says which one
was asked of eHealth.
"""

from __future__ import annotations

import base64
from urllib.parse import quote_plus, urlsplit

import pytest
import requests
from conftest import Browser
from test_doctor import by_check, doctor
from test_sandbox_iam import (  # noqa: F401 - fixtures
    WEB,
    Sandbox,
    assert_oauth_error,
    realm_key,
    relying_party,
)

from ehbox_webapp.config import ConfigError, Settings
from ehbox_webapp.onboarding.doctor import FAIL, OK
from ehbox_webapp.onboarding.email import build_email
from ehbox_webapp.onboarding.forms import build_registration

SECRET = "s3cr3t: with/odd+chars"  # noqa: S105 - a test value
SECRET_METHODS = ["client_secret_basic", "client_secret_post"]


@pytest.mark.parametrize("method", SECRET_METHODS)
def test_a_user_logs_in_with_the_web_client_authenticated_by_a_secret(make_live_app, method):
    live = make_live_app({"IAM_CLIENT_AUTH": method, "IAM_CLIENT_SECRET": SECRET})
    with Browser(live) as browser:
        inbox = browser.login("dr-alice")
        assert urlsplit(inbox.url).path == "/box/INBOX" and "Alice Peeters" in inbox.text
        assert inbox.status_code == 200  # code exchange, then token exchange, both with it


@pytest.mark.parametrize("method", SECRET_METHODS)
def test_the_doctor_checks_the_chosen_method(make_live_app, method):
    live = make_live_app({"IAM_CLIENT_AUTH": method, "IAM_CLIENT_SECRET": SECRET})
    checks = by_check(doctor(live))
    check = checks["client secret (healthcare)"]
    assert check.status == OK and method in check.found
    assert checks["healthcare realm"].status == OK  # the realm advertises the method

    wrong = by_check(doctor(live, IAM_CLIENT_SECRET="not-the-secret"))
    assert wrong["client secret (healthcare)"].status == FAIL
    assert "invalid_client" in wrong["client secret (healthcare)"].found


def test_the_default_is_private_key_jwt(live_app):
    assert live_app.app.config["SETTINGS"].iam_client_auth == "private_key_jwt"
    check = by_check(doctor(live_app))["client assertion (healthcare)"]
    assert check.status == OK and "private_key_jwt" in check.found


@pytest.mark.parametrize(
    "environ, variable",
    [
        ({"IAM_CLIENT_AUTH": "client_secret_jwt"}, "IAM_CLIENT_AUTH"),
        ({"IAM_CLIENT_AUTH": "client_secret_basic"}, "IAM_CLIENT_SECRET"),
    ],
)
def test_a_wrong_or_incomplete_choice_stops_start_up_naming_the_variable(
    environ, variable, tmp_path
):
    acceptance = {
        "EHBOX_ENV": "acceptance",
        "PUBLIC_URL": "https://ehbox.example.be",
        "SECRET_KEY": "x" * 40,
        "IAM_CLIENT_ID": "acme-ehbox",
        "ETEE_KEYSTORE": str(tmp_path / "k.p12"),
        "ETEE_KEYSTORE_PASSWORD": "pw",
        "ETEE_IDENTIFIER": "0123456749",
        "EHBOX_API_URL": "https://api-acpt.ehealth.fgov.be/ehealthbox/v1",
        "EHEALTH_FROM": "ops@example.be",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**acceptance, **environ})
    assert caught.value.variable == variable


def test_the_secret_never_shows_in_the_settings_repr():
    settings = Settings.from_env(
        {"IAM_CLIENT_AUTH": "client_secret_post", "IAM_CLIENT_SECRET": SECRET}
    )
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    "method, asked",
    [
        ("private_key_jwt", "private_key_jwt (RS256"),
        ("client_secret_basic", "client_secret_basic (a client secret issued by eHealth"),
    ],
)
def test_the_onboarding_output_says_which_method_was_asked(method, asked):
    settings = Settings.from_env({"IAM_CLIENT_AUTH": method, "IAM_CLIENT_SECRET": SECRET})
    registration = build_registration(settings, "confidential")
    assert any(asked in note and "UNKNOWN" in note for note in registration.notes)
    assert asked in build_email(registration, settings).body


# -- the sandbox realm, registered either way ---------------------------------------------------


@pytest.fixture
def secret_sandbox(tmp_path, relying_party, realm_key):  # noqa: F811 - the imported fixtures
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "sandbox-realm-key.pem").write_bytes(realm_key)
    box = Sandbox(instance, relying_party)
    box.settings = type(box.settings)(
        **{
            **box.settings.__dict__,
            "web_client_auth": "client_secret_basic",
            "web_client_secret": SECRET,
        }
    )
    box.restart()
    yield box
    box.server.close()


def exchange_probe(box: Sandbox, **kwargs) -> requests.Response:
    """A token request whose grant cannot succeed: only the client authentication matters."""
    data = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": box.rp.callback}
    return requests.post(
        box.endpoint("token"), data={**data, **kwargs.pop("data", {})}, timeout=10, **kwargs
    )


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()  # RFC 6749 §2.3.1
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_the_sandbox_accepts_the_secret_in_the_basic_header_or_the_form(secret_sandbox):
    by_header = exchange_probe(secret_sandbox, headers=basic(WEB, SECRET))
    assert_oauth_error(by_header, "invalid_grant")  # authenticated; the code is what fails
    in_form = exchange_probe(secret_sandbox, data={"client_id": WEB, "client_secret": SECRET})
    assert_oauth_error(in_form, "invalid_grant")


def test_the_sandbox_refuses_a_wrong_secret_an_assertion_or_nothing(secret_sandbox):
    wrong = exchange_probe(secret_sandbox, headers=basic(WEB, "guess"))
    assert_oauth_error(wrong, "invalid_client", 401)
    assertion = exchange_probe(
        secret_sandbox,
        data={
            "client_id": WEB,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": secret_sandbox.assertion(),
        },
    )
    assert_oauth_error(assertion, "invalid_client", 401)
    nothing = exchange_probe(secret_sandbox, data={"client_id": WEB})
    assert_oauth_error(nothing, "invalid_client", 401)
    both = exchange_probe(
        secret_sandbox, headers=basic(WEB, SECRET), data={"client_secret": SECRET}
    )
    assert_oauth_error(both, "invalid_client", 401)


def test_a_private_key_jwt_client_refuses_a_secret(tmp_path, relying_party, realm_key):  # noqa: F811
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "sandbox-realm-key.pem").write_bytes(realm_key)
    box = Sandbox(instance, relying_party)
    try:
        response = exchange_probe(box, headers=basic(WEB, ""))
        assert_oauth_error(response, "invalid_client", 401)
        discovery = requests.get(f"{box.issuer()}/.well-known/openid-configuration", timeout=10)
        assert {"private_key_jwt", "client_secret_basic", "client_secret_post"} <= set(
            discovery.json()["token_endpoint_auth_methods_supported"]
        )
    finally:
        box.server.close()
