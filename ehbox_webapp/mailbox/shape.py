"""The one JSON shape of the models: `/api/v1` answers and every `--json` of the CLI.

The models are plain dataclasses, so one generic conversion serves them all: camelCase
keys as in the eHealthBox contract, dates as ISO 8601 strings, empty optional values left
out. Keys are worked out once per class.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import date, datetime
from typing import Any

from ..ehealth.ehealthbox.unsealing import OpenedMessage
from .problems import Problem, english


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, camel(f.name)) for f in dataclasses.fields(cls))


def to_json(value: Any) -> Any:
    """Dataclasses, tuples, lists, dates -> JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for name, key in _keys(type(value)):
            item = getattr(value, name)
            if item is not None:
                out[key] = to_json(item)
        return out
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def sealed_json(opened: OpenedMessage) -> dict[str, Any]:
    """Who sealed an encrypted message and whether it holds; never any key material."""
    signer = opened.signer
    return {
        "verdict": opened.verdict,
        "description": opened.describe(),
        "signer": to_json(signer) if signer else None,
        "signingTime": opened.signing_time.isoformat() if opened.signing_time else None,
        "problems": [to_json(p) for p in opened.problems],
        "warnings": list(opened.warnings),
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    """An input problem as an RFC 9457 `invalidParams` entry (English `reason`)."""
    return {"name": problem.field, "reason": english(problem), "code": problem.code}
