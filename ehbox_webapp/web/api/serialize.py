"""JSON for /api/v1: the eHealthBox models as camelCase objects.

The models are plain dataclasses, so one generic conversion serves them all;
dates become ISO 8601 strings and empty optional values are left out.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any


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
        return lambda value: {k: to_json(v) for k, v in value.items()}
    if issubclass(cls, datetime | date):
        return lambda value: value.isoformat()
    return lambda value: value
