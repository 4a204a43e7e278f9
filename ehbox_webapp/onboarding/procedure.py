"""The words of eHealth's "Procedure : Onboarding I.AM Connect eHealthBox", quoted once.

Every rule the onboarding assistant applies and every message it shows cites one of
these quotes, so that a vendor can find the sentence in the procedure (docs/
onboarding-procedure.txt) and eHealth can recognise its own wording. Where the
assistant goes beyond the procedure, the text says INFERRED.
"""

from __future__ import annotations

from typing import Final

HEALTHCARE_FORM: Final = "I.AM Connect – HealthCare Client registration"
M2M_FORM: Final = "I.AM Connect – M2M Client registration"
HEALTHCARE_REALM: Final = "healthcare"
M2M_REALM: Final = "M2M"

# §2.2.1 and §2.2.2: Section 4, Client ID.
HEALTHCARE_CLIENT_ID: Final = (
    "Client ID : Client's identifier which, by default, is the name of your company or software."
)
HEALTHCARE_REUSE: Final = (
    "If an IAM Connect client for your company already exists in the healthcare realm, you "
    "should try to reuse the existing client (and therefore the client ID)."
)
HEALTHCARE_SUFFIX: Final = (
    "If an IAM Connect client for your company already exists in the healthcare realm but it is "
    "not possible to reuse it, you need a new Client ID and add a suffix '-ehbox' after the "
    "company or software name (e.g. softwarename-ehbox)."
)
# INFERRED: the procedure does not spell the allowed characters out; Keycloak client ids seen
# at eHealth (nihdi-uhmep-hcp, nihdi-vidis-mobile, cbe-...) are lower case with hyphens.
HEALTHCARE_SYNTAX: Final = (
    "INFERRED convention (not written in the procedure): lower-case letters, digits and "
    "hyphens, as in the eHealth client ids seen in public (e.g. nihdi-uhmep-hcp)."
)

# §2.2.3: Section 4, Client ID of the organisation.
M2M_CLIENT_ID: Final = (
    "Client ID : Identifier of the organization, which is different depending on the type of "
    "organization"
)
M2M_CBE: Final = "For a company: cbe-XXXXXXXXXX where XXXXXXXXXXXX is the CBE identifier."
M2M_NIHDI: Final = (
    "For a health care institution: nihdi-<type>-XXXXXXXX where the type is the type of "
    "institution (e.g. hospital, lab, guard post,...) and XXXXXXXX is the NIHII identifier."
)
M2M_EHP: Final = (
    "For an eHealth institution: ehp-XXXXXXXXXX where XXXXXXXXXXXX is the EHP identifier."
)
M2M_REUSE: Final = (
    "If an IAM Connect client for your organization already exists in the M2M realm, you should "
    "try to reuse the existing client (and therefore the client ID)."
)
M2M_SUFFIX: Final = (
    "If an IAM Connect client for your organization already exists in the M2M realm, but it is "
    "not possible to reuse it, you need a new Client ID and add a suffix '-ehbox' after the "
    "company or software name (e.g. softwarename-ehbox)."
)
# INFERRED: check digits are the Belgian numbering rules, not part of the procedure.
CBE_CHECK: Final = (
    "INFERRED (Belgian CBE numbering, not in the procedure): a CBE number has 10 digits, the "
    "last two being 97 - (first 8 digits mod 97)."
)
NIHII_CHECK: Final = (
    "INFERRED (NIHII numbering, not in the procedure): an institution's NIHII number has 8 "
    "digits, the last two being 97 - (first 6 digits mod 97)."
)
EHP_CHECK: Final = (
    "INFERRED (not in the procedure): an EHP number has 10 digits; its last two digits follow "
    "the same modulo-97 rule as a CBE number (true of the public EHP 1990001916)."
)

NAME_HEALTHCARE: Final = "Name: Client's name"
NAME_M2M: Final = "Name : name of the organization."
DESCRIPTION_HEALTHCARE: Final = "Description (optional): eHealthBox if dedicated client"
DESCRIPTION_M2M: Final = "Description (optional): You can mention the software provider."
REDIRECT_URIS: Final = "Redirect URI's for redirection after a successful log-in are essential."
OTHER_URL_FIELDS: Final = "The other fields are optional, see in case of web application."
ROOT_URL: Final = "The Root / Base URL of the Web App."
ACCESS_PUBLIC: Final = "Tick « Public access type »"
ACCESS_CONFIDENTIAL: Final = "Tick « Confidential access type »"
CREDENTIALS_NA: Final = "N/A in this case"
JWKS_INFO: Final = "JWKS information of the ETEE certificate for the JWKS URL"
IDENTIFIER: Final = "Identifier : identifier of the client's identity (NIHII or CBE or EHP number)"
IDENTIFIER_TYPE: Final = "Type : type of identifier(e.g.: EHP, CBE, NIHII-HOSPITAL,...)"
APPLICATION_ID: Final = (
    "Application identifier (optional): Application ID for this identifier. [...] If your used "
    "certificate does not contain an application ID, leave this field blank."
)
SCOPES: Final = "Mention client scope : ehbox"

# §2.1 and §3.2: the application e-mail.
USER_GROUPS: Final = (
    "It is requested to clearly describe the different user groups and/or organizations that "
    "will use your service (e.g. doctors, nurses, group of doctors, proxy, hospitals, etc...). "
    "This description should be part of the application email, with the IAM Connect form "
    "attached."
)
IDP_PROPOSAL: Final = (
    "You are asked to make a proposal on what will be displayed in the IDP interface (package "
    "name / company name)."
)
MAIL_TO: Final = "integration-support@ehealth.fgov.be"
MAIL_CC: Final = "wolf.wauters@ehealth.fgov.be"
MAIL_TITLE: Final = "Configure Client REST eHealthBox for {client_name} in realm {realm}"
MAIL_CONTENT: Final = (
    "The email should explain the context of the use of the eHealthBox service, the purpose, "
    "the methods you will use, as well as a volumetric estimate of your project"
)
MAIL_ATTACHMENT: Final = "Ad-hoc form (see section 2.2) filled in accurately"
