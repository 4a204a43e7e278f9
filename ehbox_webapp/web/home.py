"""The home page: who is logged in."""

from flask import Blueprint, g, render_template

bp = Blueprint("home", __name__)


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
        return render_template("home/welcome.html")
    return render_template(
        "home/index.html",
        user=user,
        masked_ssin=mask_ssin(user.get("ssin")),
        professions=professions(user.get("userProfile")),
    )
