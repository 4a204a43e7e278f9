"""JSON from outside the app, read within bounds: size first, then depth, then Unicode.

Everything the app reads as JSON from a caller goes through `loads`: request bodies, the
`message` part of a send, the header and payload of every token it is handed (Bearer
tokens, logout tokens). The standard library's parser recurses once per nesting level, so
`[` repeated 100,000 times, or 1,000 valid levels, ends in `RecursionError` there and in
every validator that walks the result. orjson refuses more than 1,024 levels without
recursing; the result is then walked without recursion and refused past `MAX_DEPTH`
levels, far more than any document the app reads (a message is 4 deep). Text that is not
valid Unicode (a lone UTF-16 surrogate, escaped or raw) is refused too: it could not be
written back out as UTF-8 anywhere further on.

A refusal is a `ValueError` whose `reason` is a fixed phrase: never the input's own text.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 32  # nesting levels of arrays and objects


class JsonRefused(ValueError):
    """The input is not accepted as JSON; `code` is stable, `reason` a fixed phrase."""

    REASONS = {
        "too-large": "it is larger than accepted",
        "too-deep": f"it is nested more than {MAX_DEPTH} levels deep",
        "not-unicode": "it holds text that is not valid Unicode",
        "not-json": "it is not valid JSON",
    }

    def __init__(self, code: str):
        self.code = code
        self.reason = self.REASONS[code]
        super().__init__(self.reason)


def loads(data: bytes | str, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in `data`, or `JsonRefused` (too large, too deep, not Unicode, not JSON)."""
    if len(data) > max_bytes:  # characters of a str: at most 4 bytes each, still bounded
        raise JsonRefused("too-large")
    try:
        if isinstance(data, str):
            data.encode("utf-8")
        else:
            data.decode("utf-8")
    except UnicodeError:
        raise JsonRefused("not-unicode") from None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
        if "depth" in message or "recursion" in message:
            raise JsonRefused("too-deep") from None
        if "surrogate" in message:
            raise JsonRefused("not-unicode") from None
        raise JsonRefused("not-json") from None
    if not _within_depth(value, max_depth):
        raise JsonRefused("too-deep")
    return value


def _within_depth(value: Any, limit: int) -> bool:
    """True when no array or object in `value` is nested deeper than `limit` levels."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        container, depth = stack.pop()
        if depth > limit:
            return False
        children = container.values() if isinstance(container, dict) else container
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True
