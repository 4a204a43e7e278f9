"""The login page's words in eHealth's languages, picked by `ui_locales` as Keycloak does.

The sandbox speaks English unless the client asks otherwise: Keycloak shows its
login page in the first of the `ui_locales` it supports. The sandbox is a test
tool outside the app's catalogs, so its few words are kept here.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Identify yourself",
        "heading": "Choose how to identify",
        "asks": "asks you to log in to the realm",
        "sandbox": "Sandbox: pick a test persona",
        "name": "Name",
        "quality": "Quality",
        "login_as": "Log in as",
        "cancel": "Cancel",
        "choose": "Choose one of the test personas.",
    },
    "nl": {
        "title": "Identificeer u",
        "heading": "Kies hoe u zich identificeert",
        "asks": "vraagt u aan te melden bij de realm",
        "sandbox": "Sandbox: kies een testpersona",
        "name": "Naam",
        "quality": "Hoedanigheid",
        "login_as": "Aanmelden als",
        "cancel": "Annuleren",
        "choose": "Kies een van de testpersona's.",
    },
    "fr": {
        "title": "Identifiez-vous",
        "heading": "Choisissez comment vous identifier",
        "asks": "vous demande de vous connecter au realm",
        "sandbox": "Sandbox : choisissez une persona de test",
        "name": "Nom",
        "quality": "Qualité",
        "login_as": "Se connecter en tant que",
        "cancel": "Annuler",
        "choose": "Choisissez une des personas de test.",
    },
    "de": {
        "title": "Identifizieren Sie sich",
        "heading": "Wählen Sie, wie Sie sich identifizieren",
        "asks": "bittet Sie, sich am Realm anzumelden",
        "sandbox": "Sandbox: wählen Sie eine Testpersona",
        "name": "Name",
        "quality": "Eigenschaft",
        "login_as": "Anmelden als",
        "cancel": "Abbrechen",
        "choose": "Wählen Sie eine der Testpersonas.",
    },
}


def ui_locale(ui_locales: str | None) -> str | None:
    """The first supported language of a space-separated `ui_locales` (`nl-BE` counts as nl)."""
    for tag in (ui_locales or "").split():
        language = tag.split("-")[0].lower()
        if language in TEXTS:
            return language
    return None


def login_texts(lang: str | None) -> dict[str, str]:
    return TEXTS.get(lang or "en", TEXTS["en"])
