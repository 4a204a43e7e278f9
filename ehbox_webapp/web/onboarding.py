"""`/onboarding`: the onboarding assistant in the browser (GET-only, read-only).

It is a tool for the integrator, not for the doctors who use the site: outside the
sandbox it is served only when `ONBOARDING_PAGE=on` (otherwise 404, as if absent).

The page shows the I.AM Connect form to fill in and the application e-mail, from the
app's settings and the few answers in the query string; `/onboarding.md` and
`/onboarding.json` download the same content. It shows no secret: the keystore
password and the secret key are not part of the result.

The page itself is translated; what it produces (the form, the e-mail, the procedure's
rules and the onboarding package's checks) is a document for eHealth and stays in English.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l

from ..onboarding import onboarding, options_from_mapping, to_markdown
from ..onboarding.client_ids import EXISTING_CHOICES
from ..onboarding.options import FIELDS, USE_CASE_TITLES
from .extensions import settings

bp = Blueprint("onboarding", __name__)
HTML_REPORT = "acceptance-report.html"  # the name ehbox_webapp/acceptance/report.py writes
QUERY_NAMES = ("use_case", *FIELDS)
EXISTING_LABELS = {  # the answers to "a client already exists in the realm"
    "none": _l("No"),
    "reuse": _l("Yes, and it is to be reused"),
    "cannot-reuse": _l("Yes, but it cannot be reused"),
}


@bp.before_request
def _only_when_switched_on() -> None:
    if not settings().onboarding_page:
        abort(404)


def _query() -> dict[str, str]:
    """The known, non-empty query parameters: carried over to the download links."""
    return {name: request.args[name] for name in QUERY_NAMES if request.args.get(name)}


def _result() -> tuple[dict, dict[str, str], object]:
    use_case, options, errors = options_from_mapping(request.args)
    return onboarding(settings(), use_case, options), errors, options


def _download(body: str, mimetype: str, extension: str, use_case: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="ehbox-onboarding-{use_case}.{extension}"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _refuse(errors: dict[str, str]) -> Response:
    return Response("\n".join(errors.values()) + "\n", status=400, mimetype="text/plain")


@bp.get("/onboarding")
def page():
    data, errors, options = _result()
    html = render_template(
        "onboarding/index.html",
        data=data,
        errors=errors,
        options=options,
        chosen=request.args.get("use_case", ""),
        use_cases=USE_CASE_TITLES,
        existing_choices=EXISTING_CHOICES,
        existing_labels=EXISTING_LABELS,
        query=_query(),
    )
    return html, 400 if errors else 200


@bp.get("/onboarding.md")
def markdown():
    data, errors, _ = _result()
    if errors:
        return _refuse(errors)
    return _download(to_markdown(data), "text/markdown", "md", data["use_case"]["id"])


@bp.get("/onboarding.json")
def as_json():
    data, errors, _ = _result()
    if errors:
        return _refuse(errors)
    body = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return _download(body, "application/json", "json", data["use_case"]["id"])


# --- the last acceptance report (`ehbox acceptance` writes instance/acceptance/<UTC stamp>/) ---
REPORTS_FOLDER = "acceptance"
_REPORT_POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


def last_acceptance_report() -> Path | None:
    """The HTML report of the latest run written in the instance folder, if any."""
    folder = Path(current_app.instance_path) / REPORTS_FOLDER
    runs = sorted(folder.glob(f"*/{HTML_REPORT}")) if folder.is_dir() else []
    return runs[-1] if runs else None


@bp.get("/onboarding/acceptance-report")
def acceptance_report():
    """The latest acceptance report, as written (no script; its own style by hash)."""
    found = last_acceptance_report()
    if found is None:
        abort(404)
    html = found.read_text(encoding="utf-8")
    declared = _REPORT_POLICY.search(html)
    policy = unescape(declared.group(1)) if declared else "default-src 'none'"
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = f"{policy}; frame-ancestors 'none'"
    return response
