"""Onboarding assistant and configuration doctor: framework-neutral (no Flask here).

- `client_ids`: the procedure's client-id rules (healthcare and M2M realms).
- `forms`: the I.AM Connect registration form to fill in, per use case.
- `email`: the application e-mail to eHealth's Integration Support team.
- `render`: the result as a JSON-serialisable dict and as Markdown.
- `doctor`: checks a configuration end to end (keystore, realm, JWKS, API).
"""

from .options import USE_CASES, OnboardingOptions, options_from_mapping
from .render import onboarding, to_markdown

__all__ = ["USE_CASES", "OnboardingOptions", "onboarding", "options_from_mapping", "to_markdown"]
