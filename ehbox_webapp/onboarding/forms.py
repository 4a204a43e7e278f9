"""The I.AM Connect registration form to fill in, field by field, for one use case (§2.2).

`build_registration(settings, use_case, options)` answers: which of the two forms,
and the value of every field the procedure names, by section, each with the
procedure's words and any problem with the value. Framework-neutral.

Values come from, in this order: the vendor's options, the settings (outside the
sandbox: the ids you configured are the ids you ask for), then a default derived
from the company name (healthcare) or the ETEE certificate's identifier (M2M).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from . import procedure as P
from .client_ids import (
    Problem,
    check_healthcare_client_id,
    check_m2m_client_id,
    suggest_healthcare_client_id,
    suggest_m2m_client_id,
)
from .options import USE_CASE_TITLES, USE_CASES, OnboardingOptions

PUBLIC_CLIENT_PATH = "/public-client/"  # the app's browser-only page (public PKCE client)
CLIENT_ID_VARIABLE = {
    "public": "IAM_PUBLIC_CLIENT_ID",
    "confidential": "IAM_CLIENT_ID",
    "m2m": "IAM_M2M_CLIENT_ID",
}
PROCEDURE_SECTION = {"public": "2.2.1", "confidential": "2.2.2", "m2m": "2.2.3"}


@dataclass(frozen=True)
class FormField:
    """One field of the form: its value, whether the procedure needs it, and its rule."""

    name: str
    value: str
    essential: bool
    rule: str
    source: str = ""
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class FormSection:
    number: str
    title: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class Registration:
    """The filled-in form for one use case, with what still needs the vendor's attention."""

    use_case: str
    use_case_title: str
    procedure_section: str
    form: str
    realm: str
    use_case_reason: str
    sections: tuple[FormSection, ...]
    notes: tuple[str, ...] = ()

    @property
    def fields(self) -> list[FormField]:
        return [f for section in self.sections for f in section.fields]

    def value(self, name: str) -> str:
        """The value of the first field called `name` ("" when absent)."""
        return next((f.value for f in self.fields if f.name == name), "")

    @property
    def problems(self) -> list[Problem]:
        missing = [
            Problem(f"'{f.name}' is empty", f.rule)
            for f in self.fields
            if f.essential and not f.value
        ]
        return missing + [p for f in self.fields for p in f.problems]


def infer_use_case(settings: Settings) -> tuple[str, str]:
    """(use case, the reason) from the configuration, when the vendor does not say.

    The rule: an M2M client id and no healthcare web client -> m2m; a healthcare
    web client (IAM_CLIENT_ID: this app signs with its ETEE key) -> confidential;
    only a public client id -> public; nothing configured -> confidential, the app's design.
    """
    if settings.iam_m2m_client_id and not settings.iam_client_id:
        return "m2m", "IAM_M2M_CLIENT_ID is set and IAM_CLIENT_ID is not"
    if settings.iam_client_id:
        return "confidential", "IAM_CLIENT_ID (a confidential web client) is set"
    if settings.iam_public_client_id:
        return "public", "only IAM_PUBLIC_CLIENT_ID is set"
    return "confidential", "no client id is configured; this app is a confidential web app"


def _client_id(settings: Settings, use_case: str, options: OnboardingOptions) -> tuple[str, str]:
    if options.client_id:
        return options.client_id, "given"
    variable = CLIENT_ID_VARIABLE[use_case]
    configured = {
        "public": settings.iam_public_client_id,
        "confidential": settings.iam_client_id,
        "m2m": settings.iam_m2m_client_id,
    }[use_case]
    if configured and not settings.is_sandbox:
        return configured, variable
    if use_case == "m2m":
        derived = suggest_m2m_client_id(
            settings.etee_identifier_type, settings.etee_identifier, options.existing_client
        )
        source = "derived from ETEE_IDENTIFIER_TYPE and ETEE_IDENTIFIER"
    else:
        derived = suggest_healthcare_client_id(options.company, options.existing_client)
        source = "derived from the company or software name"
    if derived:
        return derived, source
    return configured, f"{variable} (sandbox value)" if settings.is_sandbox else variable


def jwks_url(settings: Settings) -> tuple[str, str]:
    """(the eHealth ETEE JWKS URL, where it comes from); the acceptance one in the sandbox."""
    if settings.etee_jwks_url:
        return settings.etee_jwks_url, "built from the three fields above (use=sig)"
    return (
        settings.with_(env="acceptance").etee_jwks_url or "",
        "sandbox: what it will be in acceptance (the sandbox realm reads the app's own "
        f"{settings.jwks_url})",
    )


def client_auth_asked(settings: Settings) -> str:
    """The web client's authentication (IAM_CLIENT_AUTH), as the notes and the e-mail word it.

    The procedure does not say how a confidential healthcare client authenticates
    (UNKNOWN, docs/ehealth-platform.md §1.3): the output says which method was asked.
    """
    if settings.iam_client_auth == "private_key_jwt":
        return "private_key_jwt (RS256, signed with the ETEE certificate of the JWKS URL)"
    where = "HTTP Basic header" if settings.iam_client_auth == "client_secret_basic" else "form"
    return f"{settings.iam_client_auth} (a client secret issued by eHealth, sent in the {where})"


def _credentials(settings: Settings, m2m: bool) -> tuple[FormField, ...]:
    url, source = jwks_url(settings)
    type_problems: tuple[Problem, ...] = ()
    if m2m and settings.etee_identifier_type in ("SSIN", "NIHII", "NIHII11"):
        type_problems = (
            Problem(
                f"{settings.etee_identifier_type} is a person's identifier; an "
                "M2M client is an organisation's",
                P.M2M_CLIENT_ID,
            ),
        )
    return (
        FormField("Identifier", settings.etee_identifier, True, P.IDENTIFIER, "ETEE_IDENTIFIER"),
        FormField(
            "Type",
            settings.etee_identifier_type,
            True,
            P.IDENTIFIER_TYPE,
            "ETEE_IDENTIFIER_TYPE",
            type_problems,
        ),
        FormField(
            "Application identifier",
            settings.etee_application_id,
            False,
            P.APPLICATION_ID,
            "ETEE_APPLICATION_ID (blank: the certificate has none)",
        ),
        FormField("JWKS URL", url, True, P.JWKS_INFO, source),
    )


def _general(settings: Settings, use_case: str, options: OnboardingOptions) -> FormSection:
    client_id, source = _client_id(settings, use_case, options)
    name = options.client_name or options.company
    if use_case == "m2m":
        problems = check_m2m_client_id(
            client_id,
            options.existing_client,
            identifier=settings.etee_identifier,
            identifier_type=settings.etee_identifier_type,
        )
        existing = {"reuse": P.M2M_REUSE, "cannot-reuse": P.M2M_SUFFIX}.get(options.existing_client)
        forms = " ".join(r for r in (P.M2M_CBE, P.M2M_NIHDI, P.M2M_EHP, existing) if r)
        rules = f"{P.M2M_CLIENT_ID}: {forms}"
        description = options.description or (
            f"Software provider: {options.company}" if options.company else ""
        )
        return FormSection(
            "4",
            "General Information / information about your software",
            (
                FormField("Client ID", client_id, True, rules, source, tuple(problems)),
                FormField("Name", name, True, P.NAME_M2M, "client name or company"),
                FormField("Description", description, False, P.DESCRIPTION_M2M),
            ),
        )
    problems = check_healthcare_client_id(client_id, options.existing_client)
    existing = {"reuse": P.HEALTHCARE_REUSE, "cannot-reuse": P.HEALTHCARE_SUFFIX}.get(
        options.existing_client
    )
    rule = f"{P.HEALTHCARE_CLIENT_ID} {existing}" if existing else P.HEALTHCARE_CLIENT_ID
    # "eHealthBox if dedicated client": a reused client is not dedicated to the eHealthBox.
    description = options.description or (
        "" if options.existing_client == "reuse" else "eHealthBox"
    )
    return FormSection(
        "4",
        "General Information / information about your software",
        (
            FormField("Client ID", client_id, True, rule, source, tuple(problems)),
            FormField("Name", name, True, P.NAME_HEALTHCARE, "client name or company"),
            FormField("Description", description, False, P.DESCRIPTION_HEALTHCARE),
        ),
    )


def _healthcare_sections(settings: Settings, use_case: str) -> tuple[FormSection, ...]:
    public = use_case == "public"
    redirect = f"{settings.public_url}{PUBLIC_CLIENT_PATH}" if public else settings.redirect_uri
    url_title = "URL" if public else "URL (of the Web App concerned)"
    root_rule = P.OTHER_URL_FIELDS if public else P.ROOT_URL
    credentials = (
        (FormField("Credentials", "N/A", False, P.CREDENTIALS_NA),)
        if public
        else _credentials(settings, m2m=False)
    )
    return (
        FormSection(
            "5.1",
            url_title,
            (
                FormField("Redirect URIs", redirect, True, P.REDIRECT_URIS, "PUBLIC_URL"),
                FormField(
                    "Root / Base URL", settings.public_url, not public, root_rule, "PUBLIC_URL"
                ),
            ),
        ),
        FormSection(
            "5.3",
            "Access Type",
            (
                FormField(
                    "Access type",
                    "Public" if public else "Confidential",
                    True,
                    P.ACCESS_PUBLIC if public else P.ACCESS_CONFIDENTIAL,
                ),
            ),
        ),
        FormSection("5.4", "Credentials", credentials),
        FormSection("5.6", "Scopes", (FormField("Client scope", "ehbox", True, P.SCOPES),)),
    )


def _notes(settings: Settings, use_case: str) -> list[str]:
    notes: list[str] = []
    if settings.is_sandbox:
        notes.append(
            "EHBOX_ENV=sandbox: the URLs are the sandbox's. Fill the form in with your "
            "acceptance deployment's https PUBLIC_URL and identifiers."
        )
    if use_case == "public":
        notes.append(
            "The browser page calls the token endpoint itself: INFERRED (Keycloak), "
            f"the client's web origin is {settings.public_url}."
        )
    if use_case == "confidential":
        notes.append(
            "Not in the procedure, INFERRED from Keycloak client settings: the app "
            f"logs out to {settings.post_logout_redirect_uri} and receives back-channel "
            f"logouts at {settings.public_url}/auth/backchannel-logout."
        )
    secret = use_case == "confidential" and settings.iam_client_auth != "private_key_jwt"
    if use_case == "confidential":
        notes.append(
            "Not in the procedure (UNKNOWN for the healthcare realm): the client "
            f"authentication asked of eHealth is {client_auth_asked(settings)} "
            "(IAM_CLIENT_AUTH)."
            + (
                " Put the secret eHealth issues in IAM_CLIENT_SECRET, never in the "
                "repository; `ehbox doctor` checks that the realm accepts it."
                if secret
                else ""
            )
        )
    if use_case != "public" and settings.etee_key_alias and not secret:
        notes.append(
            "The client assertion (private_key_jwt, RS256) is signed with the ETEE "
            f"keystore entry '{settings.etee_key_alias}'; `ehbox doctor` checks that "
            "its key is the one published at the JWKS URL."
        )
    if settings.ehbox_audience:
        notes.append(
            "The eHealthBox is called with a token exchanged (RFC 8693) to audience "
            f"'{settings.ehbox_audience}' (EHBOX_AUDIENCE): the client needs that right."
        )
    return notes


def build_registration(
    settings: Settings, use_case: str | None = None, options: OnboardingOptions | None = None
) -> Registration:
    """The form for `use_case` (inferred from the settings when None), filled in."""
    options = options or OnboardingOptions()
    if use_case is None:
        use_case, reason = infer_use_case(settings)
    elif use_case in USE_CASES:
        reason = "chosen"
    else:
        raise ValueError(f"use_case must be one of {', '.join(USE_CASES)}")
    general = _general(settings, use_case, options)
    if use_case == "m2m":
        sections = (
            general,
            FormSection("5.1", "Credentials", _credentials(settings, m2m=True)),
            FormSection("5.2", "Scopes", (FormField("Client scope", "ehbox", True, P.SCOPES),)),
        )
    else:
        sections = (general, *_healthcare_sections(settings, use_case))
    m2m = use_case == "m2m"
    return Registration(
        use_case=use_case,
        use_case_title=USE_CASE_TITLES[use_case],
        procedure_section=PROCEDURE_SECTION[use_case],
        form=P.M2M_FORM if m2m else P.HEALTHCARE_FORM,
        realm=P.M2M_REALM if m2m else P.HEALTHCARE_REALM,
        use_case_reason=reason,
        sections=sections,
        notes=tuple(_notes(settings, use_case)),
    )
