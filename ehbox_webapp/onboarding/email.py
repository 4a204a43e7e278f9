"""The application e-mail to eHealth's Integration Support team (procedure §2.1 and §3.2).

The procedure fixes the recipients, the subject and what the body must explain:
context, purpose, methods, a volumetric estimate, the user groups and a proposal for
the IDP display; the filled-in form goes as attachment. What the vendor has not told
us yet is written as a visible `[TO FILL IN: ...]` placeholder and listed in `missing`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from . import procedure as P
from .forms import Registration, client_auth_asked, jwks_url
from .options import OnboardingOptions

TO = (P.MAIL_TO,)
CC = (P.MAIL_CC,)


def placeholder(what: str) -> str:
    return f"[TO FILL IN: {what}]"


def subject(client_name: str, realm: str) -> str:
    """`Configure Client REST eHealthBox for <Client's name> in realm <Name Realm>`."""
    if realm not in (P.HEALTHCARE_REALM, P.M2M_REALM):
        raise ValueError(f"realm must be {P.HEALTHCARE_REALM} or {P.M2M_REALM}")
    return P.MAIL_TITLE.format(client_name=client_name or placeholder("client's name"), realm=realm)


@dataclass(frozen=True)
class ApplicationEmail:
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[str, ...]
    missing: tuple[str, ...]  # what the vendor still has to write, with the procedure's words


def _methods(reg: Registration, settings: Settings) -> list[str]:
    url, _ = jwks_url(settings)
    signed = (
        f"client authentication private_key_jwt (RS256), the assertion signed with the "
        f"ETEE certificate of {settings.etee_identifier_type} {settings.etee_identifier}"
        f"; its public key is read from the eHealth ETEE JWKS URL {url}"
    )
    if settings.ehbox_audience:
        exchange = (
            "RFC 8693 token exchange of the access token for a token meant for the "
            f"eHealthBox REST API (audience '{settings.ehbox_audience}'): please grant "
            "this client that exchange"
        )
    else:
        exchange = (
            "RFC 8693 token exchange, if the eHealthBox REST API expects an exchanged "
            "token: please tell us its audience (client id)"
        )
    login = (
        "authorization code flow with PKCE (S256); the user authenticates through the "
        "eHealth IDP and FAS"
    )
    if reg.use_case == "public":
        methods = [
            login + "; the application runs entirely on the user's side and holds no "
            "key (public access type)",
            exchange,
        ]
    elif reg.use_case == "confidential":
        asked = (
            signed
            if settings.iam_client_auth == "private_key_jwt"
            else f"client authentication {client_auth_asked(settings)}"
        )
        methods = [
            login + "; the access token goes from the browser side to our server side",
            asked,
            exchange,
            "refresh tokens while the user's session lasts",
        ]
    else:
        methods = [
            "client credentials grant: no end user, the organisation itself is authenticated",
            signed,
            exchange,
        ]
    return [
        *methods,
        "client scope: ehbox",
        f"every call carries the User-Agent '{settings.ehealth_user_agent}' and the "
        f"From '{settings.ehealth_from}' headers",
    ]


def _defaults(reg: Registration, options: OnboardingOptions) -> tuple[str, str, str]:
    """Default context, purpose and IDP display, from what the vendor told us."""
    company = options.company or placeholder("company name")
    name = reg.value("Name") or placeholder("client's name")
    kind = {
        "public": "a distributed application that runs entirely on the user's side",
        "confidential": f"a web application whose server side runs at {company}",
        "m2m": f"a server-side application of the organisation {name}, without end users",
    }[reg.use_case]
    context = options.context or (
        f"{company} integrates the eHealthBox REST service in {name}, {kind}."
    )
    if reg.use_case == "m2m":
        purpose = options.purpose or (
            f"Let {name} consult, send and manage the messages of its institution's eHealthBox "
            "automatically, without a user logging in."
        )
        idp = options.idp_display or "Not applicable: no end-user login in the M2M realm."
    else:
        purpose = options.purpose or (
            "Let healthcare professionals, and the organisations they act for, read, send, "
            f"move and delete the messages of their eHealthBox from {name}."
        )
        shown = " – ".join(dict.fromkeys(v for v in (reg.value("Name"), options.company) if v))
        idp = options.idp_display or shown or placeholder("package name / company name")
    return context, purpose, idp


def _volume(options: OnboardingOptions) -> tuple[list[str], list[str]]:
    unknown: list[str] = []

    def count(value: int | None, what: str) -> str:
        if value is None:
            unknown.append(what)
            return placeholder(what)
        return f"{value:,}".replace(",", " ")

    lines = [
        f"- Users: {count(options.volume_users, 'number of users')}",
        f"- Messages per day: {count(options.volume_messages_per_day, 'messages per day')}",
        f"- Peak: {count(options.volume_peak_per_hour, 'messages per hour at peak')} "
        "messages per hour",
    ]
    if not unknown:
        return lines, []
    return lines, [f"the volumetric estimate: {', '.join(unknown)} ({P.MAIL_CONTENT})"]


def build_email(
    reg: Registration, settings: Settings, options: OnboardingOptions | None = None
) -> ApplicationEmail:
    """The application e-mail for the filled-in form `reg`."""
    options = options or OnboardingOptions()
    context, purpose, idp = _defaults(reg, options)
    missing: list[str] = []
    if not reg.value("Name"):
        missing.append("the client's name (subject and form section 4)")
    groups = options.user_groups
    if not groups:
        missing.append(f"the description of user groups ({P.USER_GROUPS})")
        groups = placeholder(
            "the user groups and/or organisations that will use the service "
            "(e.g. doctors, nurses, group of doctors, proxy, hospitals)"
        )
    if idp.startswith("[TO FILL IN"):
        missing.append(f"the IDP display proposal ({P.IDP_PROPOSAL})")
    volume, volume_missing = _volume(options)
    missing += volume_missing
    attachment = (
        f"{reg.form} form, filled in (use case {reg.procedure_section}: {reg.use_case_title})"
    )
    summary = [f"- {f.name}: {f.value or '(blank)'}" for f in reg.fields]
    body = "\n".join(
        [
            "Dear Integration Support team,",
            "",
            "We ask you to configure an I.AM Connect client for the eHealthBox REST service in "
            f"realm {reg.realm}, in ACCEPTANCE first (use case {reg.procedure_section} of the "
            'procedure "Onboarding I.AM Connect eHealthBox"). The filled-in form is attached.',
            "",
            "1. Context",
            context,
            "",
            "2. Purpose",
            purpose,
            "",
            "3. Methods",
            *(f"- {m}" for m in _methods(reg, settings)),
            "",
            "4. User groups",
            groups,
            "",
            "5. Proposal for the IDP display (package name / company name)",
            idp,
            "",
            "6. Volumetric estimate",
            *volume,
            "",
            f"7. Summary of the attached form ({reg.form})",
            *summary,
            "",
            "Attachments:",
            f"- {attachment}",
            "",
            "Kind regards,",
            options.company or placeholder("company name"),
        ]
    )
    return ApplicationEmail(
        to=TO,
        cc=CC,
        subject=subject(reg.value("Name"), reg.realm),
        body=body,
        attachments=(attachment,),
        missing=tuple(missing),
    )
