"""What is wrong with an input: a stable code, the field and the values, never a sentence.

Each entry point words a problem its own way: the pages translate it next to its field,
`/api/v1` lists it in an RFC 9457 problem's `invalidParams`, the CLI prints one line.
`english()` is the wording shared by the API (whose problem documents stay in English) and
the CLI; the pages have their own, translated (`web/pages/wording.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong: `code` (e.g. `too-long`), the `field` at fault, and its `values`."""

    code: str
    field: str
    values: Mapping[str, Any] = field(default_factory=dict)


class Invalid(ValueError):
    """The input cannot make a valid request; `problems` says every reason at once."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {english(p)}" for p in self.problems))


# code -> English, formatted with the problem's values.
ENGLISH = {
    "required": "required",
    "not-a-text": "must be a text",
    "not-an-object": "must be an object",
    "not-a-list": "must be a list",
    "not-a-boolean": "must be true or false",
    "too-long": "at most {max} characters",
    "too-many": "at most {max} items",
    "control-characters": "must not hold control characters",
    "pattern": "must match {pattern}",
    "unknown": "must be one of {allowed}",
    "out-of-range": "a whole number from {min} to {max}",
    "one-of": "give exactly one of {options}",
    "check-digits": "not a valid {type} number (digits and check digits)",
    "unknown-quality": "{quality} is not an eHealthBox quality",
    "unknown-type": "{type} is not one of {allowed}",
    "type-for-quality": "the quality {quality} needs an identifier of type {allowed}",
    "sub-type-for-quality": "the quality {quality} needs the subtype {wanted}",
    "no-sub-type-for-quality": "the quality {quality} takes no subtype",
    "move-not-allowed": "messages move only between {allowed}",
    "bad-mime-type": "not a MIME type (type/subtype)",
    "recipient-format": "write it TYPE:ID:QUALITY, e.g. INSS:85071212390:DOCTOR",
    "end-before-start": "the end is before the start",
    "in-the-past": "the period is over already",
    "too-long-period": "at most {max} days",
    "substitute-is-self": "you cannot be your own substitute",
}


def english(problem: Problem) -> str:
    """The problem in a few English words (for the API and the CLI)."""
    values = {
        k: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v
        for k, v in problem.values.items()
    }
    template = ENGLISH.get(problem.code, problem.code)
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return problem.code
