"""RFC 9457 problem documents for the sandbox eHealthBox API.

Generic problems use the Belgif REST guide's `urn:problem-type:belgif:*` types
(eHealth's REST APIs follow that guide, docs/ehealth-platform.md §1.9);
eHealthBox business errors add `code`, the eHealthBox status code. The consultation
codes 806-815 are INFERRED from the sister service eJustBox (same 801-816 family;
docs/ehealth-platform.md §3.6); the HTTP statuses they travel with are modelled.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response, g

PROBLEM_JSON = "application/problem+json"

# eHealthBox status code -> (HTTP status, problem type, title)
CODES: dict[str, tuple[int, str, str]] = {
    "801": (
        413,
        "urn:problem-type:ehealthbox:messageTooLarge",
        "The message exceeds the maximum authorized size",
    ),
    "802": (
        422,
        "urn:problem-type:ehealthbox:invalidDestination",
        "Invalid destination identifier",
    ),
    "803": (422, "urn:problem-type:ehealthbox:invalidQuality", "Invalid quality"),
    "804": (422, "urn:problem-type:ehealthbox:invalidType", "Invalid type"),
    "805": (422, "urn:problem-type:ehealthbox:invalidSubType", "Invalid subtype"),
    "806": (404, "urn:problem-type:ehealthbox:invalidMessageId", "Invalid MessageId"),
    "807": (
        400,
        "urn:problem-type:ehealthbox:invalidIndexes",
        "EndIndex is smaller than StartIndex",
    ),
    "808": (400, "urn:problem-type:ehealthbox:tooManyMessages", "More than 100 messages asked"),
    "809": (
        403,
        "urn:problem-type:ehealthbox:notTheSender",
        "MessageId invalid for the acknowledgment status: the caller is not the sender",
    ),
    "810": (403, "urn:problem-type:ehealthbox:invalidBox", "Invalid BoxId or no access to it"),
    "812": (
        400,
        "urn:problem-type:ehealthbox:moveNotAllowed",
        "Messages cannot move between INBOX and SENTBOX",
    ),
    "814": (
        403,
        "urn:problem-type:ehealthbox:qualityNotAllowed",
        "Not authorised to publish to this quality",
    ),
    "816": (
        422,
        "urn:problem-type:ehealthbox:digestMismatch",
        "The digest does not match the content",
    ),
    "826": (
        409,
        "urn:problem-type:ehealthbox:recipientsOutOfOffice",
        "One or more recipients are out of office",
    ),
}
GENERIC: dict[int, tuple[str, str]] = {
    400: ("urn:problem-type:belgif:badRequest", "Bad Request"),
    401: ("urn:problem-type:belgif:noAccessToken", "No Access Token"),
    404: ("urn:problem-type:belgif:resourceNotFound", "Resource Not Found"),
    413: ("urn:problem-type:belgif:payloadTooLarge", "Payload Too Large"),
    429: ("urn:problem-type:belgif:tooManyRequests", "Too Many Requests"),
    500: ("urn:problem-type:belgif:internalServerError", "Internal Server Error"),
    503: ("urn:problem-type:belgif:serviceUnavailable", "Service Unavailable"),
}


class ApiProblem(Exception):
    """Raise anywhere in a view: the blueprint turns it into a problem response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        type_: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail)
        if code in CODES:
            status, default_type, default_title = CODES[code]
        else:
            default_type, default_title = GENERIC.get(status, ("about:blank", "Error"))
        self.status = status
        self.body: dict[str, Any] = {
            "type": type_ or default_type,
            "title": title or default_title,
            "status": status,
            "detail": detail,
        }
        if code:
            self.body["code"] = code
        self.body.update({k: v for k, v in extensions.items() if v is not None})
        self.headers = headers or {}


def bad_request(detail: str, *params: tuple[str, str], where: str = "body") -> ApiProblem:
    """A 400 naming the invalid parameters: (name, reason) pairs."""
    invalid = [{"in": where, "name": name, "reason": reason} for name, reason in params]
    return ApiProblem(400, detail, invalidParams=invalid or None)


def problem_response(problem: ApiProblem) -> Response:
    body = dict(problem.body)
    request_id = getattr(g, "request_id", None)
    if request_id:
        body.setdefault("instance", f"urn:uuid:{request_id}")
    response = json_response(body, problem.status, mimetype=PROBLEM_JSON)
    response.headers.update(problem.headers)
    return response


def json_response(body: Any, status: int = 200, *, mimetype: str = "application/json") -> Response:
    """JSON as UTF-8 text; nothing escaped (the web layer escapes what it renders)."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)


def new_request_id() -> str:
    return str(uuid.uuid4())
