"""The /api/v1 OpenAPI document, and the run-time check of every request against it.

The document is read once from openapi.yaml beside this module; the limits the mailbox
rules define (title length, PublicationId pattern, receipt names, ids per call, page size)
are written into it from `mailbox.rules` on loading, so the document, the checks and the
rules are one thing. Each request's parameters and body are validated with openapi-core
before the view runs; security is left to `authenticate` (it also knows the web session).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from flask import Request, g
from openapi_core import Config, OpenAPI
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequestBodyError,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.request.validators import (
    V31RequestBodyValidator,
    V31RequestParametersValidator,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from ...ehealth import json_input
from ...ehealth.ehealthbox.identifiers import QUALITIES
from ...ehealth.ehealthbox.models import ALLOWED_MOVES
from ...mailbox import rules
from ...mailbox.problems import Invalid
from ...mailbox.shape import camel, problem_json
from .problems import ApiProblem

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
T = TypeVar("T")


@functools.cache
def openapi_document() -> dict:
    doc = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    new = schemas["NewMessage"]["properties"]
    new["title"]["maxLength"] = rules.TITLE_MAX
    new["freeText"]["maxLength"] = rules.FREE_TEXT_MAX
    new["publicationId"]["pattern"] = rules.PUBLICATION_ID_PATTERN
    new["receipts"]["items"]["enum"] = list(rules.RECEIPTS)
    new["recipients"]["maxItems"] = rules.MAX_RECIPIENTS
    recipient = new["recipients"]["items"]["properties"]
    recipient["quality"]["enum"] = list(QUALITIES)
    recipient["id"]["minLength"] = 1
    substitute = copy.deepcopy(new["recipients"]["items"])  # a box, checked as a recipient is
    del substitute["properties"]["ooOProcessed"]
    schemas["OutOfOfficeRequest"]["properties"]["substitutes"]["items"] = substitute
    # A draft is kept under its PublicationId: the one pattern, wherever a draft is named.
    schemas["Draft"]["properties"]["publicationId"]["pattern"] = rules.PUBLICATION_ID_PATTERN
    doc["components"]["parameters"]["draftId"]["schema"]["pattern"] = rules.PUBLICATION_ID_PATTERN
    draft = schemas["DraftMessage"]["properties"]
    draft["title"]["maxLength"] = rules.TITLE_MAX
    draft["freeText"]["maxLength"] = rules.FREE_TEXT_MAX
    draft["receipts"]["items"]["enum"] = list(rules.RECEIPTS)
    draft["recipients"]["maxItems"] = rules.MAX_RECIPIENTS
    for name in ("MoveRequest", "DeleteRequest"):
        ids = schemas[name]["properties"]["messageIds"]
        ids["maxItems"] = rules.MAX_IDS_PER_CALL
        ids["items"]["pattern"] = rules.MESSAGE_ID_PATTERN
    schemas["MoveRequest"]["oneOf"] = [  # to the bin and back, nothing else
        {"properties": {"folder": {"const": a}, "destination": {"const": b}}}
        for a, b in sorted(ALLOWED_MOVES)
    ]
    doc["components"]["parameters"]["pageSize"]["schema"]["maximum"] = rules.MAX_PAGE_SIZE
    doc["components"]["parameters"]["page"]["schema"]["maximum"] = rules.MAX_PAGE
    low, high = rules.IDEMPOTENCY_KEY_LENGTH
    key = doc["components"]["parameters"]["idempotencyKey"]["schema"]
    key["minLength"], key["maxLength"] = low, high
    _every_status(doc)
    return doc


# What any call can meet: bad parameters, no or bad credentials, a request larger than the
# limit (a body sent even where none is expected is read by the check, and refused), the
# failure table's answers (refused, not found, rejected, eHealthBox or I.AM Connect failing).
ANY_CALL = ("400", "401", "403", "404", "413", "422", "502", "503")
WITH_A_BODY = ("415",)
RATE_LIMITED = ("429",)  # the views under `send_limit` and `action_limit`


def _every_status(doc: dict) -> None:
    """Each operation lists every status it can answer with (problem documents)."""
    for item in doc["paths"].values():
        for method, operation in item.items():
            if method not in ("get", "post", "delete") or operation.get("security") == []:
                continue
            statuses = list(ANY_CALL)
            if "requestBody" in operation:
                statuses += WITH_A_BODY
            if method in ("post", "delete"):
                statuses += RATE_LIMITED
            responses = operation["responses"]
            for status in statuses:
                if status not in responses:
                    ref = "Unauthorized" if status == "401" else "Problem"
                    responses[status] = {"$ref": f"#/components/responses/{ref}"}


class _ParametersAndBody(V31RequestParametersValidator):
    """Parameters, then the body; security is `authenticate`'s."""

    def iter_errors(self, request: Any) -> Iterator[Exception]:
        yield from V31RequestParametersValidator.iter_errors(self, request)
        yield from V31RequestBodyValidator.iter_errors(self, request)


# The host every request is checked under: what a caller sends as `Host` is no part of
# what the document describes, and the checker is built once (0.5 s), not once per host.
_CHECKED_HOST = "http://api.invalid/"


@functools.cache
def checker() -> OpenAPI:
    """The document, validated, made into openapi-core's checker: once per process (a
    worker builds it before its first request, `web.warm_up`)."""
    doc = {**openapi_document(), "servers": [{"url": _CHECKED_HOST + "api/v1"}]}
    return OpenAPI.from_dict(doc, config=Config(request_validator_cls=_ParametersAndBody))


def _where(error: Any) -> str:
    """`recipients[0].id` from a JSON Schema error's path (the `message` part dropped)."""
    path = list(error.absolute_path)
    if path and path[0] == "message":
        path = path[1:]
    if error.validator == "required":
        found = re.search(r"'([^']+)' is a required property", error.message)
        if found:
            path.append(found.group(1))
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _problem(error: Any) -> dict[str, str]:
    """One `invalidParams` entry; `code` is the JSON Schema keyword that failed."""
    return {"name": _where(error), "reason": _reason(error), "code": str(error.validator)}


def _reason(error: Any) -> str:
    if error.validator == "required":
        return "required"
    return error.message if len(error.message) <= 200 else f"not valid ({error.validator})"


class _Request(FlaskOpenAPIRequest):
    """Flask's view arguments under the document's names (`message_id` -> `messageId`)."""

    def __init__(self, request: Request):
        super().__init__(request)
        self.parameters.path = {camel(k): v for k, v in (request.view_args or {}).items()}

    @property
    def body(self) -> bytes | None:
        """A multipart body as the check reads it: its fields, and its files as named parts,
        the document's binary ones (`document`, `annex`) empty.

        openapi-core would read the whole body (`get_data`) and parse it as one email
        message: a 50 MB annex cost the worker 700 MB. A binary part's bytes are nothing
        the document describes; the fields (the `message` JSON) are checked as sent.
        """
        if self.request.mimetype != "multipart/form-data":
            return super().body
        return _multipart_outline(self.request)

    @property
    def host_url(self) -> str:
        return _CHECKED_HOST

    @property
    def path_pattern(self) -> str:
        return re.sub(
            r"\{([a-z_]+)\}", lambda m: "{" + camel(m.group(1)) + "}", super().path_pattern
        )


# Body-less reads found valid, by everything the check reads of them: checking is a pure
# function of the request, and the same calls come again and again (a client polling its
# inbox), while openapi-core costs about as much as the rest of the request. Bounded.
_VALID_READS: dict[tuple[str, ...], None] = {}
_VALID_READS_MAX = 4096


def _read_key(request: Request) -> tuple[str, ...] | None:
    """What the check of a GET without a body depends on; None for anything else."""
    if request.method not in ("GET", "HEAD") or request.content_length:
        return None
    if "Transfer-Encoding" in request.headers:
        return None
    return (
        request.method,
        request.path,
        request.query_string.decode("latin-1"),
        request.headers.get("Idempotency-Key", ""),
    )


@functools.cache
def _binary_parts() -> frozenset[str]:
    """The multipart properties the document declares as bytes (one file or many)."""
    names = set()
    for item in openapi_document()["paths"].values():
        for operation in item.values():
            content = (
                operation.get("requestBody", {}).get("content", {})
                if isinstance(operation, dict)
                else {}
            )
            schema = content.get("multipart/form-data", {}).get("schema", {})
            for name, prop in schema.get("properties", {}).items():
                prop = prop.get("items", prop) if prop.get("type") == "array" else prop
                if prop.get("contentMediaType") == "application/octet-stream" or (
                    prop.get("format") == "binary"
                ):
                    names.add(name)
    return frozenset(names)


def _multipart_outline(request: Request) -> bytes:
    """The request's multipart body with the binary files' bytes left out (Werkzeug has
    already spooled them to disk for the view), under the request's own boundary."""
    boundary = request.mimetype_params.get("boundary", "")
    binary = _binary_parts()
    out = []

    def part(name: str, filename: str | None, data: bytes) -> None:
        disposition = f'form-data; name="{_quoted(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quoted(filename)}"'
        out.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        out.append(data + b"\r\n")

    for name, value in request.form.items(multi=True):
        part(name, None, value.encode("utf-8"))
    for name, upload in request.files.items(multi=True):
        if name in binary:
            part(name, upload.filename or "", b"")
        else:
            part(name, upload.filename or "", upload.stream.read())
            upload.stream.seek(0)
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


# The `message` part of a send (its JSON): a text document inline is the largest field.
MESSAGE_PART_MAX = 1024 * 1024


def bounded_json(data: bytes | str, *, max_bytes: int, where: str) -> Any:
    """`data` parsed as JSON within bounds (`ehealth.json_input`), or an `ApiProblem`:
    413 when larger than `max_bytes`, else 400 naming `where` and what is wrong."""
    try:
        return json_input.loads(data, max_bytes=max_bytes)
    except json_input.JsonRefused as exc:
        if exc.code == "too-large":
            raise ApiProblem(
                413, "Too large", f"The {where} is larger than {max_bytes} bytes."
            ) from None
        raise ApiProblem(
            400,
            "Bad JSON",
            f"The {where} is not accepted: {exc.reason}.",
            invalidParams=[{"name": where, "reason": exc.reason, "code": exc.code}],
        ) from None


def message_part(request: Request) -> bytes | str | None:
    """The raw `message` part of a multipart send: a field, or a file part (what browsers
    send for a JSON Blob), read up to one byte past MESSAGE_PART_MAX."""
    raw = request.form.get("message")
    if raw is None and "message" in request.files:
        upload = request.files["message"]
        raw = upload.stream.read(MESSAGE_PART_MAX + 1)
        upload.stream.seek(0)
    return raw


def _check_json(request: Request) -> None:
    """The JSON a request carries, bounded before any parser reads it (openapi-core and the
    standard library recurse once per nesting level)."""
    if request.is_json:
        limit = request.max_content_length or MESSAGE_PART_MAX
        bounded_json(request.get_data(cache=True), max_bytes=limit, where="body")
    elif request.mimetype == "multipart/form-data":
        raw = message_part(request)
        if raw is not None:
            bounded_json(raw, max_bytes=MESSAGE_PART_MAX, where="message")


def check_request(request: Request) -> None:
    """Raise an `ApiProblem` for parameters off the document (400), an unreadable body
    (400, 413, 415); a body's schema faults wait for `body_checked`."""
    key = _read_key(request)
    if key is None:
        _check_json(request)
    if key is not None and key in _VALID_READS:
        return
    errors = list(checker().iter_request_errors(_Request(request)))
    if not errors:
        if key is not None:
            if len(_VALID_READS) >= _VALID_READS_MAX:
                _VALID_READS.clear()
            _VALID_READS[key] = None
        return
    params: list[dict[str, str]] = []
    body: list[dict[str, str]] = []
    for error in errors:
        cause = error.__cause__
        if isinstance(error, ParameterValidationError):
            reason = str(cause or error)
            if isinstance(cause, InvalidSchemaValue):
                reason = "; ".join(e.message for e in cause.schema_errors)
            params.append({"name": error.name, "reason": reason[:200]})
        elif isinstance(cause, MediaTypeNotFound) or isinstance(error, MissingRequestBodyError):
            raise ApiProblem(
                415,
                "Unsupported media type",
                "Send the body as " + ", ".join(_media_types(request)) + ".",
            )
        elif isinstance(cause, InvalidSchemaValue):
            body += [_problem(e) for e in cause.schema_errors]
        elif isinstance(error, RequestBodyValidationError):
            kind = type(cause or error).__name__  # its text may hold the undecodable bytes
            raise ApiProblem(400, "Bad body", f"The body could not be read ({kind}).")
        else:
            params.append({"name": "request", "reason": str(error)[:200]})
    if params:
        raise ApiProblem(
            400, "Bad parameters", "Some parameters are not valid.", invalidParams=params
        )
    # The view adds the mailbox rules' problems, so the caller learns every fault at once.
    g.body_problems = body


def body_checked(build: Callable[[], T]) -> T:
    """`build()`'s result when the body passed the document and the mailbox rules; else a 422
    listing the faults of both (one entry per field)."""
    found: list[dict[str, str]] = list(g.pop("body_problems", None) or [])
    try:
        result = build()
    except Invalid as exc:
        named = {p["name"] for p in found}
        found += [problem_json(p) for p in exc.problems if p.field not in named]
    if found:
        raise ApiProblem(422, "Invalid request", "Some fields are not valid.", invalidParams=found)
    return result


def _media_types(request: Request) -> list[str]:
    doc = openapi_document()
    for template, item in doc["paths"].items():
        pattern = "^/api/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        operation = item.get(request.method.lower())
        if operation and re.match(pattern, request.path) and "requestBody" in operation:
            return list(operation["requestBody"]["content"])
    return ["JSON"]
