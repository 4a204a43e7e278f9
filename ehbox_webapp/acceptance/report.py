"""The report eHealth asks for before production: a JSON file and a self-contained HTML page.

Both are rendered from one dict (`report_data`), so they always say the same thing.
The dict is built only from settings, box identifiers, verdicts, details and request
records: no token, code, password or message content is ever handed to it. The HTML
is rendered with autoescape, carries its CSS inline (report.css) and a CSP that forbids
scripts and every external resource and allows that one style by its hash, because it is
a file that gets mailed around. On a phone each row of a wide table reads as a card.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from ..ehealth.ehealthbox import BoxId
from .run import Run
from .runner import summary

FORMAT = "ehbox-webapp/acceptance-report/1"
JSON_NAME, HTML_NAME = "acceptance-report.json", "acceptance-report.html"
TEMPLATE = "report.html.j2"
STYLESHEET = Path(__file__).with_name("report.css")


def _box(box: BoxId | None) -> dict[str, str | None] | None:
    if box is None:
        return None
    return {"type": box.type, "sub_type": box.sub_type, "id": box.id, "quality": box.quality}


def report_data(run: Run) -> dict[str, Any]:
    """The whole report as JSON-serialisable data."""
    s = run.settings
    parties = [("run", run.me)] + ([("second box", run.other)] if run.other else [])
    identities = [
        {"role": role, "kind": p.kind, "box": _box(p.box), "access": p.client is not None}
        for role, p in parties
    ]
    counts: dict[str, int] = {}
    for record in run.recorder.records:
        counts[record.scenario] = counts.get(record.scenario, 0) + 1
    return {
        "format": FORMAT,
        "title": "eHealthBox acceptance tests",
        "environment": s.env,
        "run_as": run.options.run_as,
        "run_id": run.content.run_id,
        "started_at": _iso(run.started_at),
        "ended_at": _iso(run.ended_at) if run.ended_at else None,
        "software": {"user_agent": s.ehealth_user_agent, "from": s.ehealth_from},
        "realms": [
            {"realm": "healthcare", "issuer": s.iam_issuer, "client_id": s.iam_client_id},
            {"realm": "M2M", "issuer": s.iam_m2m_issuer, "client_id": s.iam_m2m_client_id or None},
        ],
        "ehealthbox": {"api_url": s.ehbox_api_url, "audience": s.ehbox_audience or None},
        "identities": identities,
        "summary": summary(run),
        "notes": list(run.notes),
        "scenarios": [
            {
                "id": r.id,
                "title": r.title,
                "verdict": r.verdict,
                "detail": r.detail,
                "started_at": _iso(r.started_at),
                "ended_at": _iso(r.ended_at),
                "duration_ms": round(r.seconds * 1000),
                "requests": counts.get(r.id, 0),
            }
            for r in run.results
        ],
        "requests": [r.to_json() for r in run.recorder.records],
    }


def render_html(data: dict[str, Any]) -> str:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = STYLESHEET.read_text(encoding="utf-8")
    return env.get_template(TEMPLATE).render(report=data, css=css, policy=policy(css))


def policy(css: str) -> str:
    """The report's Content-Security-Policy: no script, nothing fetched, its own style only
    (by hash, so that no other inline style could apply)."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


class ReportNotWritten(Exception):
    """The files could not be written; the message says why, in one line."""


def write_report(run: Run, directory: Path) -> tuple[Path, Path]:
    """Write both files into `directory` (created if needed); returns (json, html) paths."""
    data = report_data(run)
    json_path, html_path = directory / JSON_NAME, directory / HTML_NAME
    try:
        page = render_html(data)
        directory.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
        html_path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ReportNotWritten(f"{directory}: {exc.strerror or type(exc).__name__}") from None
    except TemplateNotFound:  # an install that left out the package data
        raise ReportNotWritten(f"{TEMPLATE} is missing next to {__file__}") from None
    return json_path, html_path


def _iso(moment: Any) -> str:
    return moment.isoformat(timespec="milliseconds")
