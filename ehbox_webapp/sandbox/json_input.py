"""JSON the sandbox is sent, read within bounds: size, then depth, then valid Unicode.

The sandbox plays eHealth's platform, which does not fall over on hostile input: the send
and move bodies, the fault-injection body and the header and payload of every token it is
handed (Bearer tokens, client assertions, subject tokens, ID token hints) are read here.
The standard library's parser recurses once per nesting level (`[` repeated 100,000 times
ends in `RecursionError`); orjson refuses more than 1,024 levels without recursing, and
the result is walked without recursion and refused past MAX_DEPTH levels. Lone UTF-16
surrogates are refused too. The sandbox's own copy: it imports none of the app's layers.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

MAX_DEPTH = 32
MAX_TOKEN_BYTES = 16 * 1024


class JsonRefused(ValueError):
    """Not accepted as JSON; the message is a fixed phrase, never the input's text."""


def loads(data: bytes | str, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in `data`, or `JsonRefused`."""
    if len(data) > max_bytes:
        raise JsonRefused("larger than accepted")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise JsonRefused("not valid JSON, too deep, or not valid Unicode") from None
    except UnicodeError:  # a str holding a lone surrogate
        raise JsonRefused("not valid Unicode") from None
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        container, depth = stack.pop()
        if depth > max_depth:
            raise JsonRefused(f"nested more than {max_depth} levels deep")
        children = container.values() if isinstance(container, dict) else container
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return value


def json_body(request: Any, max_bytes: int = 1024 * 1024) -> Any:
    """A request's JSON body (Content-Type application/json), or None when it has none or
    it is not accepted: what `request.get_json(silent=True)` answers, within bounds."""
    if not request.is_json:
        return None
    try:
        return loads(request.get_data(cache=True), max_bytes=max_bytes)
    except JsonRefused:
        return None


def check_jwt(token: str) -> None:
    """Refuse (`JsonRefused`) a compact JWS whose header or payload is not a JSON object
    within bounds: call before the JOSE library parses them."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_BYTES or len(parts) != 3:
        raise JsonRefused("not a JWT")
    for segment in parts[:2]:
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except ValueError:
            raise JsonRefused("not a JWT") from None
        if not isinstance(loads(raw, max_bytes=MAX_TOKEN_BYTES), dict):
            raise JsonRefused("not a JWT")
