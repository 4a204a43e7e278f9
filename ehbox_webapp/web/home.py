"""The home page: who is logged in; in the sandbox, also the developer's corner.

The developer's corner lists the personas to log in as and the ways in for the one who
integrates: the onboarding assistant, the public client, the API reference, the last
acceptance report, and `make token`.
"""

from flask import Blueprint, g, render_template

from .extensions import settings
from .onboarding import last_acceptance_report
from .pages.qualities import QUALITY_LABELS

bp = Blueprint("home", __name__)


def developer_corner() -> dict | None:
    """What the sandbox's front page offers a developer; None outside the sandbox."""
    if not settings().is_sandbox:
        return None
    # The sandbox's own list, read only when the sandbox is mounted (as register_sandbox
    # imports it): production never loads the sandbox's code.
    from ..sandbox.personas import PERSONAS

    return {
        "personas": [
            {"id": p.id, "name": p.name, "ssin": p.ssin, "quality": QUALITY_LABELS[p.quality]}
            for p in PERSONAS
        ],
        "report": settings().onboarding_page and last_acceptance_report() is not None,
    }


def mask_ssin(ssin: str | None) -> str:
    """Show only the last two digits of a national number."""
    if not ssin:
        return ""
    return "•" * (len(ssin) - 2) + ssin[-2:]


def professions(user_profile: dict | None) -> list[dict]:
    """The professional profiles of an eHealth `userProfile` claim (physician, nurse, ...)."""
    if not isinstance(user_profile, dict):
        return []
    return [
        {
            "profession": key,
            "nihii11": value.get("nihii11", ""),
            "recognised": bool(value.get("recognised")),
        }
        for key, value in sorted(user_profile.items())
        if isinstance(value, dict)
    ]


@bp.get("/")
def index():
    user = g.get("user")
    if user is None:
        return render_template("home/welcome.html", developer=developer_corner())
    return render_template(
        "home/index.html",
        developer=developer_corner(),
        user=user,
        masked_ssin=mask_ssin(user.get("ssin")),
        professions=professions(user.get("userProfile")),
    )
