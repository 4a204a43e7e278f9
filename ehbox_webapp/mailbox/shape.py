"""The one JSON shape of the models: `/api/v1` answers and every `--json` of the CLI.

The models are plain dataclasses, so one generic conversion serves them all: camelCase
keys as in the eHealthBox contract, dates as ISO 8601 strings, empty optional values left
out. How to convert each class is worked out once (a page has hundreds of values).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from ..ehealth.ehealthbox.unsealing import OpenedMessage
from .problems import Problem, english


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON key) pairs of a dataclass, worked out once per class."""
    return tuple((f.name, camel(f.name)) for f in dataclasses.fields(cls))


# Values that are already JSON: returned as they are, with no further look-up.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """Dataclasses, tuples, lists, dates -> JSON-ready values."""
    if type(value) in _PLAIN:
        return value
    return _converter(type(value))(value)


@functools.cache
def _converter(cls: type) -> Callable[[Any], Any]:
    """How to convert a value of `cls`, worked out once per class (a page has hundreds)."""
    if dataclasses.is_dataclass(cls):
        keys = _keys(cls)

        def dataclass_json(value: Any) -> dict[str, Any]:
            out = {}
            for name, key in keys:
                item = getattr(value, name)
                if item is not None:
                    out[key] = item if type(item) in _PLAIN else to_json(item)
            return out

        return dataclass_json
    if issubclass(cls, list | tuple):
        return lambda value: [to_json(v) for v in value]
    if issubclass(cls, dict):
        return lambda value: {str(k): to_json(v) for k, v in value.items()}
    if issubclass(cls, datetime | date):
        return lambda value: value.isoformat()
    return lambda value: value


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
