"""openapi.yaml is a well-formed OpenAPI 3.1 document, and the sandbox answers conform to it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import ehbox_fixtures
import pytest
import yaml
from ehbox_fixtures import pdf_message, recipient, run_story
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ehbox_webapp.ehealth.ehealthbox import (
    OPENAPI_PATH,
    EhealthboxError,
    NewMessage,
    Recipient,
    rest,
)

# The shared fixtures (tests/ehbox_fixtures.py; no conftest of our own).
sandbox = ehbox_fixtures.sandbox
no_faults = ehbox_fixtures.no_faults

METHODS = ("get", "put", "post", "delete", "patch")
BASE = "urn:ehealthbox-openapi"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry(spec) -> Registry:
    return Registry().with_resource(
        BASE, Resource.from_contents(spec, default_specification=DRAFT202012)
    )


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow OpenAPI (non-schema) `$ref`s such as #/components/responses/X."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        refs = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return refs + [r for value in node.values() for r in _all_refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _all_refs(value)]
    return []


def test_openapi_document_shape(spec):
    assert re.fullmatch(r"3\.1\.\d+", spec["openapi"])
    info = spec["info"]
    assert info["title"] and info["version"]
    assert "MODELLED" in info["description"] and "rest.py" in info["description"]
    assert "CONFIRMED" in info["description"] and "INFERRED" in info["description"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operation_ids = []
    for path, item in spec["paths"].items():
        assert path.startswith("/")
        for name in re.findall(r"{(\w+)}", path):
            params = [_resolve(spec, p) for p in item.get("parameters", [])]
            params += [
                _resolve(spec, p)
                for m in METHODS
                if m in item
                for p in item[m].get("parameters", [])
            ]
            assert any(p["name"] == name and p["in"] == "path" and p["required"] for p in params), (
                path,
                name,
            )
        for method in METHODS:
            if method in item:
                operation = item[method]
                operation_ids.append(operation["operationId"])
                assert operation["responses"] and operation["summary"]
                for status in operation["responses"]:
                    assert re.fullmatch(r"[1-5]\d\d|default", status)
    assert len(operation_ids) == len(set(operation_ids))
    for ref in _all_refs(spec):
        assert ref.startswith("#/") and _resolve(spec, {"$ref": ref}) is not None, ref
    for name, schema in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name


def test_contract_covers_the_soap_operations(spec):
    operations = {
        item[m]["operationId"] for item in spec["paths"].values() for m in METHODS if m in item
    }
    assert {
        "getBoxInfo",
        "getMessagesList",
        "getFullMessage",
        "getMessageAcknowledgmentsStatus",
        "getMessageHistory",
        "moveMessage",
        "deleteMessage",
        "sendMessage",
        "insertOoO",
        "getOoOList",
        "deleteOoO",
    } <= operations


def _validator(registry: Registry, pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=registry)


def _operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    candidates = sorted(spec["paths"], key=lambda p: p.count("{"))  # literal paths first
    for template in candidates:
        pattern = "^" + re.sub(r"{\w+}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in spec["paths"][template]:
            return template, spec["paths"][template][method.lower()]
    raise AssertionError(f"no operation for {method} {path}")


def test_sandbox_answers_conform(sandbox, spec, registry, no_faults):
    sandbox.recorded.clear()
    seen = run_story(sandbox)
    alice = sandbox.client("dr-alice")
    alice.box_info()
    alice.list_messages("SENTBOX", 1, 3)
    alice.list_messages("BININBOX")
    for summary in alice.list_messages("INBOX", 1, 100).messages:
        if summary.content_specification.content_type == "ERROR" or summary.has_free_informations:
            alice.get_message(summary.message_id)
    sandbox.raw("GET", f"/messages/{seen['sent'].message_id}/history", params={"source": "SENTBOX"})
    ooo = sandbox.client("dr-chloe").add_out_of_office(
        date.today(), date.today() + timedelta(days=1)
    )
    sandbox.client("dr-chloe").out_of_offices()
    failures = [
        lambda: alice.send(NewMessage([recipient("dr-chloe")], "OoO", text="x")),  # 409
        lambda: alice.list_messages("INBOX", 1, 101),  # 400
        lambda: alice.get_message("AAAAAAAAAAAAA"),  # 404
        lambda: alice.send(
            NewMessage([Recipient("85071212309", "INSS", "DOCTOR")], "x", text="x")
        ),  # 422 / 802
        lambda: alice.send(NewMessage([Recipient("ALL", "INSS", "DOCTOR")], "x", text="x")),
    ]
    for failure in failures:
        with pytest.raises(EhealthboxError):
            failure()
    sandbox.client("dr-chloe").delete_out_of_office(ooo.id)
    sandbox.raw("GET", "/boxInfo", who=None)  # 401
    sandbox.fault(operation="boxInfo", status=503, retryAfter=0, times=1)
    alice.box_info()  # 503, then retried

    prefix = urlsplit(sandbox.api).path
    statuses = set()
    assert len(sandbox.recorded) > 30
    # The validation has teeth: an undocumented field or a wrong type is caught.
    summary = next(r["body"] for r in sandbox.recorded if r["url"].endswith("endIndex=3"))
    wrong = dict(summary, startIndex="1", extra=True)
    assert (
        len(list(_validator(registry, "/components/schemas/MessagePage").iter_errors(wrong))) == 2
    )
    for record in sandbox.recorded:
        path = urlsplit(record["url"]).path.removeprefix(prefix)
        template, operation = _operation(spec, record["method"], path)
        status = str(record["status"])
        statuses.add(status)
        assert status in operation["responses"], (record["method"], template, status)
        response = _resolve(spec, operation["responses"][status])
        content = response.get("content", {})
        if record["body"] is None:
            assert not record["content_type"] or "*/*" in content or not content, record
            continue
        media = record["content_type"].split(";")[0]
        assert media in content, (template, status, media)
        schema = content[media]["schema"]
        pointer = schema["$ref"].removeprefix("#")
        errors = list(_validator(registry, pointer).iter_errors(record["body"]))
        assert not errors, (record["method"], template, status, [e.message for e in errors])
    assert {"200", "201", "204", "400", "401", "403", "404", "409", "422", "503"} <= statuses


def test_client_send_json_conforms(spec, registry):
    message = pdf_message(
        [recipient("nurse-bram", ooo_processed=True)], annexes=2, patient_inss="56031412372"
    )
    validator = _validator(registry, "/components/schemas/NewMessage")
    assert not list(validator.iter_errors(rest.new_message_to_json(message)))
    text = NewMessage([recipient("dr-alice")], "Nota", text="Korte nota")
    assert not list(validator.iter_errors(rest.new_message_to_json(text)))
