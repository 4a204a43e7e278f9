"""Settings: presets per environment, and one clear line for each bad value."""

import subprocess
import sys

import pytest

from ehbox_webapp.config import ConfigError, Settings

ACCEPTANCE = {
    "EHBOX_ENV": "acceptance",
    "PUBLIC_URL": "https://ehbox.example.be",
    "SECRET_KEY": "x" * 40,
    "IAM_CLIENT_ID": "mysoftware-ehbox",
    "ETEE_KEYSTORE": "/secrets/CBE=0899999949.acc-p12",
    "ETEE_KEYSTORE_PASSWORD": "pw",
    "ETEE_IDENTIFIER": "0899999949",
    "EHBOX_API_URL": "https://api-acpt.ehealth.fgov.be/ehbox/v1",
    "EHEALTH_FROM": "ops@example.be",
}


def test_sandbox_needs_no_setting():
    settings = Settings.from_env({})
    assert settings.is_sandbox
    assert settings.iam_issuer == "http://localhost:5000/sandbox/auth/realms/healthcare"
    assert settings.iam_m2m_issuer == "http://localhost:5000/sandbox/auth/realms/M2M"
    assert settings.ehbox_api_url == "http://localhost:5000/sandbox/ehealthbox/v1"
    assert settings.redirect_uri == "http://localhost:5000/auth/callback"
    assert settings.scopes == ["openid", "ehbox"]


def test_port_moves_the_sandbox_urls():
    settings = Settings.from_env({"PORT": "5050"})
    assert settings.public_url == "http://localhost:5050"
    assert settings.iam_issuer.startswith("http://localhost:5050/sandbox/")


def test_acceptance_presets_the_confirmed_realms():
    settings = Settings.from_env(ACCEPTANCE)
    assert settings.iam_issuer == "https://api-acpt.ehealth.fgov.be/auth/realms/healthcare"
    assert settings.iam_m2m_issuer == "https://api-acpt.ehealth.fgov.be/auth/realms/M2M"
    assert settings.etee_jwks_url == (
        "https://api-acpt.ehealth.fgov.be/etee/v1/pubKeys/cacerts/jwks"
        "?identifier=0899999949&type=CBE&use=sig"
    )


def test_production_presets_the_production_realms():
    settings = Settings.from_env(
        {**ACCEPTANCE, "EHBOX_ENV": "production", "ETEE_APPLICATION_ID": "EHBOX"}
    )
    assert settings.iam_issuer == "https://api.ehealth.fgov.be/auth/realms/healthcare"
    assert "applicationIdentifier=EHBOX" in settings.etee_jwks_url


def test_overrides_win_over_presets():
    settings = Settings.from_env({**ACCEPTANCE, "IAM_ISSUER": "https://idp.example/realms/x/"})
    assert settings.iam_issuer == "https://idp.example/realms/x"


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"EHBOX_ENV": "staging"}, "EHBOX_ENV"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"PUBLIC_URL": "http://ehbox.example.be"}, "PUBLIC_URL"),
        ({"PUBLIC_URL": "not a url"}, "PUBLIC_URL"),
        ({"IAM_CLIENT_ID": ""}, "IAM_CLIENT_ID"),
        ({"ETEE_KEYSTORE": ""}, "ETEE_KEYSTORE"),
        ({"ETEE_IDENTIFIER": "08999-99949"}, "ETEE_IDENTIFIER"),
        ({"ETEE_IDENTIFIER_TYPE": "VAT"}, "ETEE_IDENTIFIER_TYPE"),
        ({"EHBOX_API_URL": "ftp://x"}, "EHBOX_API_URL"),
        ({"EHEALTH_FROM": ""}, "EHEALTH_FROM"),
        ({"HTTP_TIMEOUT": "soon"}, "HTTP_TIMEOUT"),
        ({"MAX_UPLOAD_MB": "0"}, "MAX_UPLOAD_MB"),
        ({"IAM_ISSUER": "https://idp.example/realms/x?y=1"}, "IAM_ISSUER"),
    ],
)
def test_bad_setting_names_the_variable(change, variable):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**ACCEPTANCE, **change})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")
    assert "\n" not in str(caught.value)


def test_start_up_stops_with_one_line(tmp_path):
    """`python app.py` with a bad setting prints one line and exits non-zero."""
    env = {"PATH": "/usr/bin:/bin", "EHBOX_ENV": "acceptance", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(__import__("pathlib").Path(__file__).parent.parent),
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("configuration error: "), result.stderr


def test_env_example_lists_every_setting_with_an_explanation():
    """Every variable the settings read is in .env.example, under a comment line."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = (root / "ehbox_webapp" / "config.py").read_text()
    read = set(re.findall(r'(?:get|setting|megabytes|whole)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    example = (root / ".env.example").read_text().splitlines()
    listed = {}
    for i, line in enumerate(example):
        match = re.match(r"^([A-Z][A-Z0-9_]+)=", line)
        if match:
            listed[match.group(1)] = i
    assert read - set(listed) == set(), "missing from .env.example"
    for name, i in listed.items():
        above = next(
            example[j] for j in range(i - 1, -1, -1) if not re.match(r"^[A-Z]", example[j])
        )
        assert above.startswith("# "), f"{name} has no explanation"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRUSTED_PROXIES", "-1"),
        ("TRUSTED_PROXIES", "yes"),
        ("RATE_LIMIT_LOGIN", "twenty a minute"),
        ("RATE_LIMIT_SEND", "30/fortnight"),
        ("SANDBOX_ACCESS_TOKEN_SECONDS", "10"),  # inside the 30 s refresh margin
        ("SANDBOX_REFRESH_TOKEN_SECONDS", "60"),  # shorter than the access token
    ],
)
def test_operations_settings_are_checked(variable, value):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable


def test_operations_settings_have_safe_defaults():
    settings = Settings.from_env({})
    assert settings.trusted_proxies == 0  # forwarded headers are not believed unless told
    assert settings.rate_limit_login == "20/minute"
    assert (settings.sandbox_access_token_seconds, settings.sandbox_refresh_token_seconds) == (
        300,
        1800,
    )


def test_make_run_installs_the_app_and_its_server_only(tmp_path):
    """`make run` on a fresh machine: no test tools in the virtualenv a user runs."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    venv = tmp_path / "venv"

    def planned(target: str) -> str:
        result = subprocess.run(
            ["make", "-n", target, f"VENV={venv}"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run = planned("run")
    assert "install --quiet -e '.[server]'" in run and ".[test]" not in run
    assert "install --quiet -e '.[test]'" in planned("test")


def test_the_address_book_url_follows_the_environment():
    """The sandbox's own AddressBook; eHealth's (INFERRED hosts) in acceptance and production."""
    assert Settings.from_env({"PORT": "5050"}).addressbook_api_url == (
        "http://localhost:5050/sandbox/addressbook/v1"
    )
    acceptance = Settings.from_env(ACCEPTANCE)
    assert acceptance.addressbook_api_url == "https://api-acpt.ehealth.fgov.be/addressbook/v1"
    assert acceptance.addressbook_audience == ""  # the eHealthBox's token then
    production = Settings.from_env({**ACCEPTANCE, "EHBOX_ENV": "production"})
    assert production.addressbook_api_url == "https://api.ehealth.fgov.be/addressbook/v1"
    own = Settings.from_env(
        {
            **ACCEPTANCE,
            "ADDRESSBOOK_API_URL": "https://api-acpt.ehealth.fgov.be/addressbook/v2/",
            "ADDRESSBOOK_AUDIENCE": "addressbook-api",
        }
    )
    assert own.addressbook_api_url == "https://api-acpt.ehealth.fgov.be/addressbook/v2"
    assert own.addressbook_audience == "addressbook-api"
    with pytest.raises(ConfigError) as bad:
        Settings.from_env({**ACCEPTANCE, "ADDRESSBOOK_API_URL": "addressbook.example"})
    assert bad.value.variable == "ADDRESSBOOK_API_URL"
    sandbox = Settings.from_env({})
    assert sandbox.setting_for(sandbox.addressbook_api_url + "/professionals") == "PUBLIC_URL"
    assert own.setting_for(own.addressbook_api_url + "/professionals") == "ADDRESSBOOK_API_URL"
