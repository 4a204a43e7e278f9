"""Check HTTP answers against an OpenAPI 3.1 document (status and JSON body schema)."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


class OpenApiChecker:
    """`check(method, path, response)` raises AssertionError when the answer strays."""

    def __init__(self, spec: dict[str, Any], base_path: str):
        self.spec = spec
        self.base_path = base_path.rstrip("/")
        self.registry = Registry().with_resource(
            "urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self.seen: set[tuple[str, str]] = set()

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        path = path.split("?")[0].removeprefix(self.base_path) or "/"
        # Concrete paths match before templated ones (/messages/search before /messages/{id}).
        paths = sorted(self.spec["paths"].items(), key=lambda kv: "{" in kv[0])
        for template, item in paths:
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method.lower() in item:
                return template, item[method.lower()]
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def check(self, method: str, path: str, response) -> None:
        template, operation = self.operation(method, path)
        self.seen.add((method.lower(), template))
        status = str(response.status_code)
        responses = operation["responses"]
        assert status in responses, (
            f"{method} {template} answered {status}, not documented ({sorted(responses)})"
        )
        documented = self._resolve(responses[status])
        content = documented.get("content")
        if not content:
            return
        media = response.headers.get("Content-Type", "").split(";")[0]
        if media in content and "json" in media:
            schema = content[media]["schema"]
            if "$ref" in schema:
                schema = {"$ref": "urn:spec" + schema["$ref"]}
            validator = Draft202012Validator(_rebase(schema), registry=self.registry)
            errors = sorted(validator.iter_errors(response.json()), key=str)
            assert not errors, f"{method} {template} {status}: {errors[0].message}"
        elif "json" in media or not any("octet-stream" in c or c == "*/*" for c in content):
            assert media in content, f"{method} {template} {status} sent {media}"

    def unseen(self) -> set[tuple[str, str]]:
        every = {
            (m, p)
            for p, item in self.spec["paths"].items()
            for m in item
            if m in ("get", "post", "delete", "put", "patch")
        }
        return every - self.seen


def _rebase(schema: Any) -> Any:
    """Point local `#/...` references at the registered document."""
    if isinstance(schema, dict):
        return {
            k: ("urn:spec" + v if k == "$ref" and v.startswith("#") else _rebase(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema
