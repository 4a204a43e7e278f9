"""Compare an official eHealthBox OpenAPI document with the modelled `openapi.yaml`.

The first thing to run when eHealth hands over the real contract: it lists, operation
by operation, what differs (paths, operation ids, parameters, request and response
fields and their types, status codes) and names the functions of `rest.py` that map
that operation, which is where the app adapts.

Operations are matched by method and path, then the rest by `operationId` (so a renamed
path shows as one operation whose path changed). Fields are compared as flattened paths
(`content.annexes[].digest`) with their types, local `$ref`s resolved, `allOf` merged and
`oneOf`/`anyOf` united. Hand-written because the one OpenAPI differ found for Python
is unmaintained and none knows about `rest.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from . import OPENAPI_PATH, rest

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
FETCH_TIMEOUT = 30
MAX_DEPTH = 12  # recursive schemas stop here


class Unreadable(Exception):
    """The document cannot be fetched, parsed, or is no OpenAPI document."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    parameters: dict[tuple[str, str], str]  # (in, name) -> type (+ " required")
    request: dict[str, str]  # field path -> type
    responses: dict[str, dict[str, str]]  # status -> field path -> type

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def title(self) -> str:
        return f"{self.operation_id or '(no operationId)'}  {self.method.upper()} {self.path}"


@dataclass
class OperationDiff:
    """What differs for one operation; `modelled` or `official` is None if it is missing."""

    modelled: Operation | None
    official: Operation | None
    lines: list[str] = field(default_factory=list)

    @property
    def operation_id(self) -> str:
        either = self.modelled or self.official
        return either.operation_id if either else ""

    def functions(self) -> tuple[str, ...]:
        """The rest.py functions that map this operation (the modelled id's)."""
        if self.modelled is None:
            return ()
        return rest.OPERATIONS.get(self.modelled.operation_id, ())


def load(source: str) -> dict[str, Any]:
    """An OpenAPI document from a file path or an http(s) URL, YAML or JSON."""
    try:
        if source.startswith(("http://", "https://")):
            response = requests.get(source, timeout=FETCH_TIMEOUT)
            response.raise_for_status()
            text = response.text
        else:
            text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, requests.RequestException) as exc:
        raise Unreadable(f"cannot read {source}: {exc}") from None
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise Unreadable(f"{source} is neither JSON nor YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise Unreadable(f"{source} is not an OpenAPI document (no `paths`)")
    return document


def modelled() -> dict[str, Any]:
    return load(str(OPENAPI_PATH))


def operations(document: dict[str, Any]) -> dict[tuple[str, str], Operation]:
    """Every operation of a document, by (method, path)."""
    found: dict[tuple[str, str], Operation] = {}
    for path, item in document["paths"].items():
        item = _deref(document, item)
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in METHODS:
            op = _deref(document, item.get(method))
            if not isinstance(op, dict):
                continue
            found[(method, path)] = Operation(
                method=method,
                path=path,
                operation_id=str(op.get("operationId", "")),
                parameters=_parameters(document, [*shared, *(op.get("parameters") or [])]),
                request=_content_fields(document, _deref(document, op.get("requestBody"))),
                responses={
                    str(status): _content_fields(document, _deref(document, answer))
                    for status, answer in (op.get("responses") or {}).items()
                },
            )
    return found


def diff(modelled_doc: dict[str, Any], official_doc: dict[str, Any]) -> list[OperationDiff]:
    """The operations that differ, in the modelled document's order, then the official's."""
    ours, theirs = operations(modelled_doc), operations(official_doc)
    pairs: list[tuple[Operation | None, Operation | None]] = []
    unmatched = dict(theirs)
    for key, op in ours.items():
        other = unmatched.pop(key, None)
        if other is None and op.operation_id:
            other_key = next(
                (k for k, o in unmatched.items() if o.operation_id == op.operation_id), None
            )
            other = unmatched.pop(other_key) if other_key else None
        pairs.append((op, other))
    pairs += [(None, op) for op in unmatched.values()]
    result = []
    for mine, official in pairs:
        found = OperationDiff(mine, official, _compare(mine, official))
        if found.lines:
            result.append(found)
    return result


def report(diffs: list[OperationDiff]) -> list[str]:
    """The lines `contract diff` prints: one block per operation."""
    if not diffs:
        return ["The official contract agrees with the modelled one."]
    lines = [
        f"{len(diffs)} operation(s) differ. '-' only in the modelled contract, '+' only in "
        "the official one, '~' changed. Adapt the rest.py functions named."
    ]
    for d in diffs:
        op = d.modelled or d.official
        assert op is not None
        functions = ", ".join(d.functions()) or (
            "none yet: a new operation" if d.modelled is None else "none (not used)"
        )
        lines += ["", op.title(), f"  rest.py: {functions}"]
        lines += [f"  {line}" for line in d.lines]
        if any("status" in line for line in d.lines):
            lines.append(f"  rest.py (errors): {rest.ERRORS_FUNCTION}")
    return lines


# --- comparing ----------------------------------------------------------------------------------


def _compare(mine: Operation | None, official: Operation | None) -> list[str]:
    if official is None:
        return ["- the whole operation: not in the official contract"]
    if mine is None:
        return ["+ the whole operation: only in the official contract"]
    lines = []
    if mine.path != official.path or mine.method != official.method:
        lines.append(
            f"~ path: {mine.method.upper()} {mine.path} -> "
            f"{official.method.upper()} {official.path}"
        )
    if mine.operation_id != official.operation_id:
        lines.append(f"~ operationId: {mine.operation_id} -> {official.operation_id}")
    lines += _compare_fields(
        "parameter",
        {f"{name} (in {where})": t for (where, name), t in mine.parameters.items()},
        {f"{name} (in {where})": t for (where, name), t in official.parameters.items()},
    )
    lines += _compare_fields("request field", mine.request, official.request)
    for status in sorted(set(mine.responses) - set(official.responses)):
        lines.append(f"- status {status}: not in the official contract")
    for status in sorted(set(official.responses) - set(mine.responses)):
        lines.append(f"+ status {status}: only in the official contract")
    for status in sorted(set(mine.responses) & set(official.responses)):
        lines += _compare_fields(
            f"response {status} field", mine.responses[status], official.responses[status]
        )
    return lines


def _compare_fields(what: str, mine: dict[str, str], official: dict[str, str]) -> list[str]:
    lines = [f"- {what} {name}: {mine[name]}" for name in sorted(set(mine) - set(official))]
    lines += [f"+ {what} {name}: {official[name]}" for name in sorted(set(official) - set(mine))]
    lines += [
        f"~ {what} {name}: {mine[name]} -> {official[name]}"
        for name in sorted(set(mine) & set(official))
        if mine[name] != official[name]
    ]
    return lines


# --- reading a document -------------------------------------------------------------------------


def _deref(document: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """Follow local `$ref`s (`#/components/...`); an external one stays as it is."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < MAX_DEPTH:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        if target is None:
            raise Unreadable(f"unresolved reference {ref}")
        node, depth = target, depth + 1
    return node


def _parameters(document: dict[str, Any], items: list[Any]) -> dict[tuple[str, str], str]:
    found = {}
    for item in items:
        param = _deref(document, item)
        if not isinstance(param, dict) or "name" not in param:
            continue
        kind = _type(document, _deref(document, param.get("schema")) or {})
        found[(str(param.get("in", "")), str(param["name"]))] = kind + (
            " required" if param.get("required") else ""
        )
    return found


def _content_fields(document: dict[str, Any], body: Any) -> dict[str, str]:
    """The fields of a request body or response, over all its media types."""
    if not isinstance(body, dict):
        return {}
    fields: dict[str, str] = {}
    for media, content in (body.get("content") or {}).items():
        schema = (content or {}).get("schema")
        if schema is None:
            continue
        flat = _flatten(document, schema, "", 0)
        for name, kind in flat.items():
            fields[name or f"({media} body)"] = kind
    return fields


def _flatten(document: dict[str, Any], schema: Any, prefix: str, depth: int) -> dict[str, str]:
    schema = _deref(document, schema)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return {}
    fields: dict[str, str] = {}
    for combined in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(combined) or []:
            for name, kind in _flatten(document, part, prefix, depth + 1).items():
                fields[name] = (
                    kind
                    if name not in fields or fields[name] == kind
                    else (f"{fields[name]}|{kind}")
                )
    kind = _type(document, schema)
    if "properties" in schema:
        for name, sub in schema["properties"].items():
            path = f"{prefix}.{name}" if prefix else name
            fields[path] = _type(document, _deref(document, sub))
            fields.update(_flatten(document, sub, path, depth + 1))
    elif "items" in schema:
        fields.update(_flatten(document, schema["items"], f"{prefix}[]", depth + 1))
        if not prefix:
            fields[""] = kind
    elif not prefix and not fields:
        fields[""] = kind
    return fields


def _type(document: dict[str, Any], schema: Any) -> str:
    schema = _deref(document, schema)
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
        kind = "|".join(str(k) for k in kind)
    if kind is None:
        if "properties" in schema or "allOf" in schema:
            kind = "object"
        elif "oneOf" in schema or "anyOf" in schema:
            kind = "|".join(
                sorted({_type(document, s) for s in schema.get("oneOf") or schema["anyOf"]})
            )
        else:
            kind = "any"
    if kind == "array":
        kind = f"array of {_type(document, schema.get('items'))}"
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)
