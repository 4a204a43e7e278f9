"""The onboarding assistant: client-id rules, the forms, the e-mail, the CLI and the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from ehbox_webapp.config import ConfigError, Settings
from ehbox_webapp.ehealth.keystore import generate_keystore
from ehbox_webapp.onboarding import OnboardingOptions, onboarding, to_markdown
from ehbox_webapp.onboarding import procedure as P
from ehbox_webapp.onboarding.client_ids import (
    check_healthcare_client_id,
    check_m2m_client_id,
    parse_m2m_client_id,
    suggest_m2m_client_id,
)
from ehbox_webapp.onboarding.email import build_email, subject
from ehbox_webapp.onboarding.forms import build_registration, infer_use_case
from ehbox_webapp.paths import ROOT

PROCEDURE = (ROOT / "docs" / "onboarding-procedure.txt").read_text(encoding="utf-8")
KEYSTORE_PASSWORD = "Keystore-Pw-that-must-never-show-9f3"
ACCEPTANCE = {
    "EHBOX_ENV": "acceptance",
    "PUBLIC_URL": "https://ehbox.acme.example",
    "SECRET_KEY": "k" * 40,
    "IAM_CLIENT_ID": "acme",
    "IAM_PUBLIC_CLIENT_ID": "acme-ehbox",
    "IAM_M2M_CLIENT_ID": "cbe-0899999949",
    "ETEE_KEYSTORE": "/secrets/acme.acc-p12",
    "ETEE_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD,
    "ETEE_IDENTIFIER": "0899999949",
    "ETEE_IDENTIFIER_TYPE": "CBE",
    "ETEE_APPLICATION_ID": "EHBOX",
    "EHBOX_API_URL": "https://api-acpt.ehealth.fgov.be/ehealthbox/v1",
    "EHBOX_AUDIENCE": "ehealthbox-api",
    "EHEALTH_FROM": "ops@acme.example",
}
OPTIONS = OnboardingOptions(
    company="Acme Software",
    client_name="Acme Box",
    volume_users=250,
    volume_messages_per_day=4000,
    volume_peak_per_hour=600,
    user_groups="General practitioners and their group practices",
)


def normalise(text: str) -> str:
    """The procedure's text without Markdown emphasis, with straight quotes and single spaces."""
    text = text.replace("**", "").replace("*", "").replace("\u2019", "'")
    return re.sub(r"\s+", " ", text)


def quoted(rule: str) -> bool:
    """The rule is the procedure's own words (each part around an elision `[...]`)."""
    return all(normalise(part).strip() in normalise(PROCEDURE) for part in rule.split("[...]"))


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings.from_env(ACCEPTANCE)


# -- the procedure's words --

QUOTES = [
    name
    for name in dir(P)
    if name.isupper()
    and not name.endswith(("_CHECK", "SYNTAX"))
    and name not in ("MAIL_TITLE", "HEALTHCARE_REALM", "M2M_REALM", "MAIL_TO", "MAIL_CC")
]


@pytest.mark.parametrize("name", QUOTES)
def test_every_quote_is_the_procedures_text(name):
    assert quoted(getattr(P, name)), getattr(P, name)


def test_inferred_rules_say_so():
    for rule in (P.HEALTHCARE_SYNTAX, P.CBE_CHECK, P.NIHII_CHECK, P.EHP_CHECK):
        assert rule.startswith("INFERRED")


# -- client ids --


@pytest.mark.parametrize(
    ("client_id", "existing"),
    [
        ("softwarename", "none"),
        ("softwarename-ehbox", "cannot-reuse"),
        ("acme-soft2", "reuse"),
    ],
)
def test_good_healthcare_client_ids(client_id, existing):
    assert check_healthcare_client_id(client_id, existing) == []


@pytest.mark.parametrize(
    ("client_id", "existing", "rule"),
    [
        ("Bad_Name", "none", P.HEALTHCARE_SYNTAX),
        ("softwarename", "cannot-reuse", P.HEALTHCARE_SUFFIX),
        ("-ehbox", "none", P.HEALTHCARE_SYNTAX),
        ("softwarename-ehbox", "reuse", P.HEALTHCARE_REUSE),
        ("", "none", P.HEALTHCARE_CLIENT_ID),
    ],
)
def test_bad_healthcare_client_ids_quote_the_rule(client_id, existing, rule):
    problems = check_healthcare_client_id(client_id, existing)
    assert rule in [p.rule for p in problems]
    assert all(f'"{p.rule}"' in str(p) for p in problems)


def test_the_suffix_problem_quotes_the_procedure():
    [problem] = check_healthcare_client_id("softwarename", "cannot-reuse")
    assert (
        "add a suffix '-ehbox' after the company or software name (e.g. softwarename-ehbox)"
        in str(problem)
    )
    assert quoted(problem.rule)


@pytest.mark.parametrize(
    ("client_id", "parsed"),
    [
        ("cbe-0899999949", ("cbe", "0899999949", "", None)),
        ("cbe-0899999949-ehbox", ("cbe", "0899999949", "-ehbox", None)),
        ("nihdi-hospital-12345625", ("nihdi", "12345625", "", "hospital")),
        ("nihdi-guard-post-12345625-ehbox", ("nihdi", "12345625", "-ehbox", "guard-post")),
        ("ehp-1990001916", ("ehp", "1990001916", "", None)),
    ],
)
def test_good_m2m_client_ids(client_id, parsed):
    result = parse_m2m_client_id(client_id)
    assert (result.kind, result.identifier, result.suffix, result.institution_type) == parsed
    assert check_m2m_client_id(client_id, "cannot-reuse" if parsed[2] else "none") == []


@pytest.mark.parametrize(
    ("client_id", "rule"),
    [
        ("cbe-0899999948", P.CBE_CHECK),  # bad check digits
        ("cbe-2899999949", P.CBE_CHECK),  # not 0 or 1 first
        ("cbe-089999994", P.M2M_CBE),  # 9 digits
        ("CBE-0899999949", P.M2M_CBE),  # upper case
        ("nihdi-hospital-12345678", P.NIHII_CHECK),
        ("nihdi-12345625", P.M2M_NIHDI),  # no type of institution
        ("nihdi-Hospital-12345625", P.M2M_NIHDI),
        ("ehp-1990001917", P.EHP_CHECK),
        ("ehp-199000191", P.M2M_EHP),
        ("softwarename-ehbox", P.M2M_EHP),  # a healthcare id in the M2M realm: all three forms
        ("Bad_Name", P.M2M_CBE),
    ],
)
def test_bad_m2m_client_ids_quote_the_rule(client_id, rule):
    problems = check_m2m_client_id(client_id)
    assert problems and any(rule in p.rule for p in problems), problems


def test_m2m_suffix_and_certificate_consistency():
    [suffix] = check_m2m_client_id("cbe-0899999949", "cannot-reuse")
    assert suffix.rule == P.M2M_SUFFIX and "-ehbox" in suffix.message
    [other] = check_m2m_client_id("ehp-1990001916", identifier="1990001916", identifier_type="CBE")
    assert "ETEE_IDENTIFIER_TYPE" in other.message
    [wrong] = check_m2m_client_id("cbe-0899999949", identifier="0123456749")
    assert "ETEE_IDENTIFIER" in wrong.message and wrong.rule == P.IDENTIFIER


def test_m2m_client_id_suggestions():
    assert suggest_m2m_client_id("CBE", "0899999949") == "cbe-0899999949"
    assert suggest_m2m_client_id("NIHII-GUARD_POST", "12345625") == "nihdi-guard-post-12345625"
    assert suggest_m2m_client_id("EHP", "1990001916", "cannot-reuse") == "ehp-1990001916-ehbox"
    assert suggest_m2m_client_id("SSIN", "74010414733") == ""


# -- the forms --

# Every field the procedure names, per use case and section: (name, essential).
HEALTHCARE_GENERAL = [("Client ID", True), ("Name", True), ("Description", False)]
JWKS_FIELDS = [
    ("Identifier", True),
    ("Type", True),
    ("Application identifier", False),
    ("JWKS URL", True),
]
EXPECTED = {
    "public": (
        P.HEALTHCARE_FORM,
        "healthcare",
        {
            "4": HEALTHCARE_GENERAL,
            "5.1": [("Redirect URIs", True), ("Root / Base URL", False)],
            "5.3": [("Access type", True)],
            "5.4": [("Credentials", False)],
            "5.6": [("Client scope", True)],
        },
    ),
    "confidential": (
        P.HEALTHCARE_FORM,
        "healthcare",
        {
            "4": HEALTHCARE_GENERAL,
            "5.1": [("Redirect URIs", True), ("Root / Base URL", True)],
            "5.3": [("Access type", True)],
            "5.4": JWKS_FIELDS,
            "5.6": [("Client scope", True)],
        },
    ),
    "m2m": (
        P.M2M_FORM,
        "M2M",
        {
            "4": [("Client ID", True), ("Name", True), ("Description", False)],
            "5.1": JWKS_FIELDS,
            "5.2": [("Client scope", True)],
        },
    ),
}


@pytest.mark.parametrize("use_case", sorted(EXPECTED))
def test_each_form_holds_every_field_of_the_procedure(settings, use_case):
    form, realm, sections = EXPECTED[use_case]
    reg = build_registration(settings, use_case, OPTIONS)
    assert (reg.form, reg.realm) == (form, realm)
    got = {s.number: [(f.name, f.essential) for f in s.fields] for s in reg.sections}
    assert got == sections
    for f in reg.fields:
        assert f.rule and (f.value or not f.essential), f
        assert quoted(f.rule.split(" For a company")[0]), f.rule
    assert reg.problems == []


def test_form_values(settings):
    public = build_registration(settings, "public", OPTIONS)
    assert public.value("Client ID") == "acme-ehbox"
    assert public.value("Redirect URIs") == "https://ehbox.acme.example/public-client/"
    assert public.value("Access type") == "Public" and public.value("Credentials") == "N/A"
    confidential = build_registration(settings, "confidential", OPTIONS)
    assert confidential.value("Client ID") == "acme"
    assert confidential.value("Name") == "Acme Box"
    assert confidential.value("Description") == "eHealthBox"
    assert confidential.value("Redirect URIs") == "https://ehbox.acme.example/auth/callback"
    assert confidential.value("Root / Base URL") == "https://ehbox.acme.example"
    assert confidential.value("Access type") == "Confidential"
    assert confidential.value("Application identifier") == "EHBOX"
    assert confidential.value("JWKS URL") == (
        "https://api-acpt.ehealth.fgov.be/etee/v1/pubKeys/cacerts/jwks?identifier=0899999949"
        "&type=CBE&applicationIdentifier=EHBOX&use=sig"
    )
    assert confidential.value("Client scope") == "ehbox"
    m2m = build_registration(settings, "m2m", OPTIONS)
    assert m2m.value("Client ID") == "cbe-0899999949"
    assert m2m.value("Description") == "Software provider: Acme Software"


def test_sandbox_shows_the_acceptance_jwks_url_and_derives_ids():
    sandbox = Settings.from_env({})
    reg = build_registration(sandbox, "confidential", OnboardingOptions(company="Acme Soft"))
    assert reg.value("JWKS URL").startswith("https://api-acpt.ehealth.fgov.be/etee/")
    assert reg.value("Client ID") == "acme-soft"
    suffixed = OnboardingOptions(company="Acme Soft", existing_client="cannot-reuse")
    assert build_registration(sandbox, "public", suffixed).value("Client ID") == "acme-soft-ehbox"
    assert any("sandbox" in note for note in reg.notes)


def test_form_problems_are_reported(settings):
    reg = build_registration(
        settings.with_(iam_client_id="Bad_Name"),
        "confidential",
        OnboardingOptions(existing_client="cannot-reuse"),
    )
    rules = [p.rule for p in reg.problems]
    assert P.HEALTHCARE_SYNTAX in rules and P.HEALTHCARE_SUFFIX in rules
    assert P.NAME_HEALTHCARE in rules  # the essential Name is empty


def test_use_case_inference(settings):
    assert infer_use_case(settings)[0] == "confidential"
    assert infer_use_case(settings.with_(iam_client_id=""))[0] == "m2m"
    only_public = settings.with_(iam_client_id="", iam_m2m_client_id="")
    assert infer_use_case(only_public)[0] == "public"
    assert build_registration(settings).use_case == "confidential"


# -- the e-mail --


@pytest.mark.parametrize(
    ("use_case", "realm"),
    [("public", "healthcare"), ("confidential", "healthcare"), ("m2m", "M2M")],
)
def test_email(settings, use_case, realm):
    reg = build_registration(settings, use_case, OPTIONS)
    mail = build_email(reg, settings, OPTIONS)
    assert mail.to == ("integration-support@ehealth.fgov.be",)
    assert mail.cc == ("wolf.wauters@ehealth.fgov.be",)
    assert mail.subject == f"Configure Client REST eHealthBox for Acme Box in realm {realm}"
    body = mail.body
    for heading in (
        "Context",
        "Purpose",
        "Methods",
        "User groups",
        "IDP display",
        "Volumetric estimate",
        "Attachments",
    ):
        assert heading in body
    assert "General practitioners and their group practices" in body
    assert "Users: 250" in body and "Messages per day: 4 000" in body and "Peak: 600" in body
    assert "RFC 8693 token exchange" in body and "ehealthbox-api" in body
    if use_case == "m2m":
        assert "client credentials" in body and "private_key_jwt" in body
    else:
        assert "PKCE (S256)" in body and "Acme Box – Acme Software" in body
    if use_case == "confidential":
        assert "private_key_jwt" in body and "use=sig" in body
    assert mail.attachments == (
        f"{reg.form} form, filled in (use case {reg.procedure_section}: {reg.use_case_title})",
    )
    assert mail.attachments[0] in body
    assert mail.missing == ()
    assert KEYSTORE_PASSWORD not in body


def test_email_lists_what_is_missing(settings):
    reg = build_registration(settings, "confidential", OnboardingOptions())
    mail = build_email(reg, settings, OnboardingOptions())
    assert "[TO FILL IN: client's name]" in mail.subject
    missing = " ".join(mail.missing)
    assert "user groups" in missing and "volumetric estimate" in missing and "IDP" in missing


def test_subject_only_for_the_two_realms():
    assert subject("X", "M2M") == "Configure Client REST eHealthBox for X in realm M2M"
    with pytest.raises(ValueError):
        subject("X", "m2m")


def test_markdown_and_json_say_the_same(settings):
    data = onboarding(settings, "m2m", OPTIONS.__class__(company="<b>Acme</b> | *x*"))
    text = to_markdown(data)
    assert json.loads(json.dumps(data)) == data
    assert data["email"]["subject"] in text.replace("\\", "")
    for section in data["form"]["sections"]:
        for f in section["fields"]:
            assert f["name"] in text
    assert "<b>" not in text.split("```")[0]  # escaped outside the e-mail block
    assert KEYSTORE_PASSWORD not in text and KEYSTORE_PASSWORD not in json.dumps(data)


# -- the CLI --


def test_cli_json(app):
    result = app.test_cli_runner().invoke(
        args=[
            "ehbox",
            "onboarding",
            "--json",
            "--use-case",
            "m2m",
            "--company",
            "Acme Software",
            "--client-name",
            "Acme Box",
            "--volume-users",
            "20",
            "--volume-messages-per-day",
            "300",
            "--user-groups",
            "hospitals",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["form"]["title"] == P.M2M_FORM
    assert data["email"]["subject"] == "Configure Client REST eHealthBox for Acme Box in realm M2M"


def test_cli_markdown_to_a_file(app, tmp_path: Path):
    target = tmp_path / "onboarding.md"
    result = app.test_cli_runner().invoke(args=["ehbox", "onboarding", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("# eHealthBox onboarding")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--use-case", "hybrid"], "hybrid"),
        (["--volume-users", "-3"], "--volume-users"),
        (["--volume-messages-per-day", "many"], "many"),
        (["--existing-client", "maybe"], "maybe"),
        (["--company", "x" * 3000], "at most"),
    ],
)
def test_cli_bad_option(app, args, message):
    result = app.test_cli_runner().invoke(args=["ehbox", "onboarding", *args])
    assert result.exit_code != 0
    assert message in result.output


# -- the page --


def test_page_renders_the_form_and_the_email(live_app):
    response = requests.get(
        f"{live_app.url}/onboarding",
        timeout=10,
        params={
            "use_case": "confidential",
            "company": "Acme Software",
            "client_name": "Acme Box",
            "volume_users": "250",
            "user_groups": "GPs",
        },
    )
    assert response.status_code == 200
    html = response.text
    for name in (
        "Client ID",
        "Redirect URIs",
        "Root / Base URL",
        "Access type",
        "Identifier",
        "Application identifier",
        "JWKS URL",
        "Client scope",
        P.HEALTHCARE_FORM,
        "integration-support@ehealth.fgov.be",
        "wolf.wauters@ehealth.fgov.be",
        "Configure Client REST eHealthBox for Acme Box in realm healthcare",
        f"{live_app.url}/auth/callback",
    ):
        assert name in html, name
    # No inline script or style (the CSP forbids them): scripts come from the static files.
    assert not re.search(r"<script(?![^>]*\ssrc=\"/static/)", html) and "style=" not in html.lower()


def test_the_page_is_served_only_when_switched_on(make_live_app):
    """A tool for the integrator: on in the sandbox, off elsewhere unless ONBOARDING_PAGE=on."""
    live = make_live_app({"ONBOARDING_PAGE": "off"}, sub="off")
    for path in ("/onboarding", "/onboarding.md", "/onboarding.json"):
        assert requests.get(f"{live.url}{path}", timeout=10).status_code == 404, path
    assert Settings.from_env({"EHBOX_ENV": "sandbox"}).onboarding_page
    assert not Settings.from_env(ACCEPTANCE).onboarding_page
    assert Settings.from_env({**ACCEPTANCE, "ONBOARDING_PAGE": "on"}).onboarding_page
    with pytest.raises(ConfigError, match="ONBOARDING_PAGE"):
        Settings.from_env({**ACCEPTANCE, "ONBOARDING_PAGE": "yes"})


def test_page_escapes_what_it_is_given(live_app):
    attack = '<script>alert("x")</script>'
    response = requests.get(f"{live_app.url}/onboarding", params={"company": attack}, timeout=10)
    assert response.status_code == 200
    assert attack not in response.text
    assert "&lt;script&gt;alert(" in response.text


def test_downloads_are_attachments(live_app):
    params = {"use_case": "m2m", "company": "Acme <Software>", "client_name": "Acme Box"}
    md = requests.get(f"{live_app.url}/onboarding.md", params=params, timeout=10)
    assert md.status_code == 200
    assert md.headers["Content-Disposition"] == 'attachment; filename="ehbox-onboarding-m2m.md"'
    assert md.text.startswith("# eHealthBox onboarding: " + P.M2M_FORM)
    js = requests.get(f"{live_app.url}/onboarding.json", params=params, timeout=10)
    assert js.headers["Content-Disposition"].startswith("attachment;")
    assert js.json()["email"]["subject"].endswith("in realm M2M")
    page = requests.get(f"{live_app.url}/onboarding", params=params, timeout=10).text
    assert "/onboarding.md?use_case=m2m&amp;company=Acme+%3CSoftware%3E" in page


def test_bad_values_are_refused(live_app):
    page = requests.get(f"{live_app.url}/onboarding", params={"volume_users": "lots"}, timeout=10)
    assert page.status_code == 400 and "volume_users: a whole number" in page.text
    js = requests.get(f"{live_app.url}/onboarding.json", params={"use_case": "nope"}, timeout=10)
    assert js.status_code == 400
    assert requests.post(f"{live_app.url}/onboarding", timeout=10).status_code == 405


def test_page_shows_no_secret(make_live_app, tmp_path):
    keystore = generate_keystore(
        tmp_path / "own.acc-p12",
        KEYSTORE_PASSWORD,
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
    )
    live = make_live_app(
        {"ETEE_KEYSTORE": str(keystore), "ETEE_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD}, sub="own"
    )
    secret_key = live.app.config["SECRET_KEY"]
    for path in ("/onboarding", "/onboarding.md", "/onboarding.json"):
        text = requests.get(f"{live.url}{path}", timeout=10).text
        assert KEYSTORE_PASSWORD not in text and secret_key not in text


def test_the_subject_is_the_procedures_mail_title():
    title = P.MAIL_TITLE.format(client_name="<Client's name>", realm="<Name Realm>")
    assert quoted(title)
