"""The onboarding result as a JSON-serialisable dict (scripts) and as Markdown (people).

The Markdown is rendered from the dict, so both always say the same thing. Text the
vendor typed is escaped for Markdown, so the file
stays inert when a Markdown viewer turns it into HTML: `<` and `>` are backslash-escaped
(CommonMark), so no tag can be formed.
"""

from __future__ import annotations

import re
from typing import Any

from ..config import Settings
from .email import build_email
from .forms import build_registration
from .options import OnboardingOptions

PROCEDURE = "Procedure : Onboarding I.AM Connect eHealthBox"


def onboarding(
    settings: Settings, use_case: str | None = None, options: OnboardingOptions | None = None
) -> dict[str, Any]:
    """Everything the vendor needs for the application: the form, the e-mail, what is missing."""
    options = options or OnboardingOptions()
    reg = build_registration(settings, use_case, options)
    mail = build_email(reg, settings, options)
    return {
        "procedure": PROCEDURE,
        "environment": settings.env,
        "use_case": {
            "id": reg.use_case,
            "title": reg.use_case_title,
            "procedure_section": reg.procedure_section,
            "reason": reg.use_case_reason,
        },
        "form": {
            "title": reg.form,
            "realm": reg.realm,
            "sections": [
                {
                    "number": s.number,
                    "title": s.title,
                    "fields": [
                        {
                            "name": f.name,
                            "value": f.value,
                            "essential": f.essential,
                            "rule": f.rule,
                            "source": f.source,
                            "problems": [p.to_dict() for p in f.problems],
                        }
                        for f in s.fields
                    ],
                }
                for s in reg.sections
            ],
        },
        "email": {
            "to": list(mail.to),
            "cc": list(mail.cc),
            "subject": mail.subject,
            "body": mail.body,
            "attachments": list(mail.attachments),
        },
        "problems": [p.to_dict() for p in reg.problems],
        "missing": list(mail.missing),
        "notes": list(reg.notes),
    }


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#<>])")


def md(text: object) -> str:
    """Inline text made safe for Markdown: specials (and `<`, `>`) backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))


def _fence(text: str) -> str:
    """A fenced block longer than any backtick run inside, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def to_markdown(data: dict[str, Any]) -> str:
    """The dict from :func:`onboarding` as a Markdown document."""
    use_case, form, mail = data["use_case"], data["form"], data["email"]
    out = [
        f"# eHealthBox onboarding: {md(form['title'])}",
        "",
        f"{md(data['procedure'])}, use case {md(use_case['procedure_section'])}: "
        f"{md(use_case['title'])} ({md(use_case['reason'])}). Environment: "
        f"{md(data['environment'])}. Realm: {md(form['realm'])}.",
        "",
    ]
    if data["problems"] or data["missing"]:
        out += ["## To fix before sending", ""]
        out += [
            f"- {md(p['message'])} (rule: \u201c{md(p['rule'])}\u201d)" for p in data["problems"]
        ]
        out += [f"- missing: {md(m)}" for m in data["missing"]]
        out.append("")
    out += [f"## The form: {md(form['title'])}", ""]
    for section in form["sections"]:
        out += [f"### Section {md(section['number'])} {md(section['title'])}", ""]
        for f in section["fields"]:
            need = "essential" if f["essential"] else "optional"
            value = md(f["value"]) if f["value"] else "(leave blank)"
            source = f"; source: {md(f['source'])}" if f["source"] else ""
            out.append(f"- **{md(f['name'])}** ({need}{source}): {value}")
            out.append(f"  - procedure: \u201c{md(f['rule'])}\u201d")
            out += [f"  - problem: {md(p['message'])}" for p in f["problems"]]
        out.append("")
    out += [
        "## The application e-mail",
        "",
        f"- To: {md(', '.join(mail['to']))}",
        f"- CC: {md(', '.join(mail['cc']))}",
        f"- Subject: {md(mail['subject'])}",
        f"- Attachments: {md('; '.join(mail['attachments']))}",
        "",
        _fence(mail["body"]),
        "",
    ]
    if data["notes"]:
        out += ["## Notes", ""] + [f"- {md(n)}" for n in data["notes"]] + [""]
    return "\n".join(out)
