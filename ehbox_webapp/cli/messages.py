"""Where a command looked: the URL it tried and the setting that decides it.

"Unreachable" alone sends an operator guessing (a wrong port? a wrong issuer? the app
not running?); every such line names the URL and the setting to change.
"""

from __future__ import annotations

from ..config import Settings


def setting_hint(settings: Settings, url: str | None) -> str:
    """` (set by IAM_M2M_ISSUER)`, or in the sandbox ` (set by PUBLIC_URL: is the app …)`."""
    if not url:
        return ""
    setting = settings.setting_for(url)
    if settings.is_sandbox and setting == "PUBLIC_URL":
        return (
            f" (set by PUBLIC_URL={settings.public_url}: is the app serving there? "
            "`make run`, or PUBLIC_URL/PORT as it runs)"
        )
    return f" (set by {setting})"


def tried(settings: Settings, url: str | None) -> str:
    """` Tried <url> (set by …).` for errors whose sentence does not name the URL."""
    return f" Tried {url}{setting_hint(settings, url)}." if url else ""


def where(settings: Settings, exc: Exception) -> str:
    """What to add to an error's sentence: the URL it tried (unless named) and its setting."""
    url = getattr(exc, "url", None)
    if not url:
        return ""
    return setting_hint(settings, url) if url in str(exc) else tried(settings, url)
