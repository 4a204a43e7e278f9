"""JSON for /api/v1: the eHealthBox models as camelCase objects.

The models are plain dataclasses, so one generic conversion serves them all;
dates become ISO 8601 strings and empty optional values are left out.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import date, datetime
from typing import Any


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON key) pairs of a dataclass, worked out once per class."""
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
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
