"""THE mapping between the eHealthBox REST contract and the domain models.

No public copy of the eHealthBox REST v1 OpenAPI exists. The contract this app
uses is MODELLED on the confirmed SOAP v3 semantics and written down in
`openapi.yaml` next to this module. Everything that depends on that modelled
contract lives here and only here: paths, query parameters, JSON field names,
the multipart layout of a send, and which error answer becomes which exception.
With the official OpenAPI in hand, adapt this module (and replace openapi.yaml);
`client.py` and the rest of the app should not need to change.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, unquote

from . import errors
from .models import (
    Acknowledgment,
    AcknowledgmentStatus,
    Annex,
    BoxId,
    BoxInfo,
    ContentSpecification,
    CustomMeta,
    Document,
    ErrorMessage,
    FreeInformation,
    Message,
    MessagePage,
    MessageSummary,
    NewMessage,
    OutOfOffice,
    RecipientOutcome,
    Sender,
    SendResult,
    TableRow,
)

# --- which function maps which operation of openapi.yaml ------------------------------------
# Read by `flask ehbox contract diff`, which names these functions next to every difference
# it finds; `error_from_response` maps the error answers of every operation.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "getBoxInfo": ("box_info_from_json",),
    "getMessagesList": ("list_query", "page_from_json", "summary_from_json"),
    "sendMessage": ("new_message_to_json", "binary_parts", "send_result_from_json"),
    "getFullMessage": ("message_path", "message_from_json"),
    "getDocument": ("document_path", "download_filename", "download_digest"),
    "getAnnex": ("annex_path", "download_filename", "download_digest"),
    "getMessageAcknowledgmentsStatus": ("acknowledgments_path", "ack_statuses_from_json"),
    "getMessageHistory": (),  # modelled, not used by the client
    "moveMessage": ("move_to_json", "not_moved_from_json"),
    "deleteMessage": ("delete_to_json", "not_deleted_from_json"),
    "getOoOList": ("out_of_offices_from_json", "out_of_office_from_json"),
    "insertOoO": ("out_of_office_to_json", "out_of_office_from_json"),
    "deleteOoO": ("out_of_office_path",),
}
ERRORS_FUNCTION = "error_from_response"

# --- paths and parameters -------------------------------------------------------------------
BOX_INFO = "/boxInfo"
MESSAGES = "/messages"
MOVE = "/messages/move"
DELETE = "/messages/delete"
OUT_OF_OFFICES = "/outOfOffices"
SOURCE = "source"
START_INDEX, END_INDEX = "startIndex", "endIndex"
MESSAGE_PART = "message"  # the multipart part that carries the JSON of a send
DOCUMENT_REF = "document"
REQUEST_ID_HEADER = "X-Request-Id"


def message_path(message_id: str) -> str:
    return f"{MESSAGES}/{quote(message_id, safe='')}"


def document_path(message_id: str) -> str:
    return f"{message_path(message_id)}/document"


def annex_path(message_id: str, index: int) -> str:
    return f"{message_path(message_id)}/annexes/{int(index)}"


def acknowledgments_path(message_id: str) -> str:
    return f"{message_path(message_id)}/acknowledgments"


def out_of_office_path(ooo_id: str) -> str:
    return f"{OUT_OF_OFFICES}/{quote(ooo_id, safe='')}"


def list_query(folder: str, start: int, end: int) -> dict[str, Any]:
    return {SOURCE: folder, START_INDEX: start, END_INDEX: end}


def annex_ref(index: int) -> str:
    return f"annex-{index}"


# --- JSON -> models ---------------------------------------------------------------------------
def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def box_id_from_json(data: dict[str, Any]) -> BoxId:
    return BoxId(
        id=data["id"], type=data["type"], quality=data["quality"], sub_type=data.get("subType")
    )


def box_id_to_json(box: BoxId) -> dict[str, Any]:
    data = {"id": box.id, "type": box.type, "quality": box.quality}
    if box.sub_type:
        data["subType"] = box.sub_type
    return data


def sender_from_json(data: dict[str, Any]) -> Sender:
    return Sender(
        id=data["id"],
        type=data["type"],
        quality=data["quality"],
        sub_type=data.get("subType"),
        name=data.get("name", ""),
        first_name=data.get("firstName"),
        person_in_organisation=data.get("personInOrganisation"),
    )


def box_info_from_json(data: dict[str, Any]) -> BoxInfo:
    return BoxInfo(
        box_id=box_id_from_json(data["boxId"]),
        nbr_messages_in_standby=int(data.get("nbrMessagesInStandBy", 0)),
        current_size=int(data["currentSize"]),
        max_size=int(data["maxSize"]),
    )


def content_specification_from_json(data: dict[str, Any]) -> ContentSpecification:
    return ContentSpecification(
        content_type=data["contentType"],
        is_important=bool(data.get("isImportant")),
        is_encrypted=bool(data.get("isEncrypted")),
        publication_receipt=bool(data.get("publicationReceipt")),
        received_receipt=bool(data.get("receivedReceipt")),
        read_receipt=bool(data.get("readReceipt")),
        application_name=data.get("applicationName"),
    )


def _metas(items: list[dict[str, Any]] | None) -> tuple[CustomMeta, ...]:
    return tuple(CustomMeta(m["key"], m["value"]) for m in items or ())


def summary_from_json(data: dict[str, Any]) -> MessageSummary:
    info, content = data.get("messageInfo", {}), data.get("contentInfo", {})
    return MessageSummary(
        message_id=data["messageId"],
        publication_id=data.get("publicationId"),
        sender=sender_from_json(data["sender"]),
        destination=box_id_from_json(data["destination"]),
        publication_date=_dt(info["publicationDate"]),  # type: ignore[arg-type]
        expiration_date=_dt(info.get("expirationDate")),
        size=int(info.get("size", 0)),
        title=content.get("title", ""),
        mime_type=content.get("mimeType"),
        has_free_informations=bool(content.get("hasFreeInformations")),
        has_annex=bool(content.get("hasAnnex")),
        patient_inss=content.get("patientInss"),
        content_specification=content_specification_from_json(data["contentSpecification"]),
        custom_metas=_metas(data.get("customMetas")),
        read=bool(data.get("read")),
    )


def page_from_json(data: dict[str, Any]) -> MessagePage:
    return MessagePage(
        folder=data["source"],
        start=int(data["startIndex"]),
        end=int(data["endIndex"]),
        messages=tuple(summary_from_json(m) for m in data.get("messages", ())),
        total=data.get("total"),
        unread=data.get("unread"),
    )


def _free_information(data: dict[str, Any] | None) -> FreeInformation | None:
    if not data:
        return None
    if "freeText" in data:
        return FreeInformation(text=data["freeText"])
    table = data.get("table") or {}
    return FreeInformation(
        table_title=table.get("title"),
        rows=tuple(
            TableRow(r.get("leftCell", ""), r.get("rightCell", "")) for r in table.get("rows", ())
        ),
    )


def _acknowledgment(data: dict[str, Any] | None) -> Acknowledgment | None:
    if not data:
        return None
    recipient = data.get("recipient")
    return Acknowledgment(
        message_id=data["messageId"],
        ack_type=data["ackType"],
        date_time=_dt(data["dateTime"]),  # type: ignore[arg-type]
        recipient=box_id_from_json(recipient) if recipient else None,
    )


def _error(data: dict[str, Any] | None) -> ErrorMessage | None:
    if not data:
        return None
    return ErrorMessage(
        code=str(data["code"]),
        messages=tuple(data.get("messages", ())),
        publication_id=data.get("publicationId"),
        destinations=tuple(box_id_from_json(d) for d in data.get("destinations", ())),
        failures=tuple(data.get("failures", ())),
    )


def message_from_json(data: dict[str, Any]) -> Message:
    context, info = data["contentContext"], data.get("messageInfo", {})
    content = context.get("content", {})
    doc = content.get("document")
    return Message(
        message_id=data["messageId"],
        publication_id=data.get("publicationId"),
        sender=sender_from_json(data["sender"]),
        destinations=tuple(box_id_from_json(d) for d in data.get("destinationContexts", ())),
        document=Document(
            doc["title"],
            doc["downloadFileName"],
            doc["mimeType"],
            doc.get("digest"),
            int(doc.get("size", 0)),
        )
        if doc
        else None,
        content_specification=content_specification_from_json(context["contentSpecification"]),
        publication_date=_dt(info.get("publicationDate")),
        expiration_date=_dt(info.get("expirationDate")),
        size=int(info.get("size", 0)),
        free_information=_free_information(content.get("freeInformations")),
        patient_inss=content.get("patientInss"),
        annexes=tuple(
            Annex(
                a["index"],
                a["title"],
                a["downloadFileName"],
                a["mimeType"],
                a.get("digest"),
                int(a.get("size", 0)),
            )
            for a in content.get("annexes", ())
        ),
        acknowledgment=_acknowledgment(content.get("acknowledgment")),
        error=_error(content.get("error")),
        custom_metas=_metas(context.get("customMetas")),
        copy_mail_to=tuple(data.get("copyMailTo", ())),
        read=bool(data.get("read")),
    )


def ack_statuses_from_json(data: dict[str, Any]) -> list[AcknowledgmentStatus]:
    return [
        AcknowledgmentStatus(
            recipient=box_id_from_json(r["recipient"]),
            published=_dt(r.get("published")),
            received=_dt(r.get("received")),
            read=_dt(r.get("read")),
        )
        for r in data.get("acknowledgments", ())
    ]


def recipient_outcome_from_json(data: dict[str, Any]) -> RecipientOutcome:
    return RecipientOutcome(
        box=box_id_from_json(data),
        absent_from=_date(data.get("absentFrom")),
        absent_to=_date(data.get("absentTo")),
        substitutes=tuple(box_id_from_json(s) for s in data.get("substitutes", ())),
        stand_by=bool(data.get("standBy")),
    )


def send_result_from_json(data: dict[str, Any], *, replayed: bool) -> SendResult:
    return SendResult(
        message_id=data["messageId"],
        publication_id=data["publicationId"],
        recipients=tuple(recipient_outcome_from_json(r) for r in data.get("recipients", ())),
        replayed=replayed,
    )


def out_of_office_from_json(data: dict[str, Any]) -> OutOfOffice:
    return OutOfOffice(
        id=str(data["id"]),
        start_date=date.fromisoformat(data["startDate"]),
        end_date=date.fromisoformat(data["endDate"]),
        substitutes=tuple(box_id_from_json(s) for s in data.get("substitutes", ())),
    )


def out_of_offices_from_json(data: dict[str, Any]) -> list[OutOfOffice]:
    return [out_of_office_from_json(o) for o in data.get("outOfOffices", ())]


# --- models -> JSON ---------------------------------------------------------------------------
def new_message_to_json(msg: NewMessage) -> dict[str, Any]:
    """The `message` part of a send. Binary parts are referenced by `contentRef`."""
    if msg.document is not None:
        document = {
            "title": msg.title,
            "downloadFileName": msg.document.filename,
            "mimeType": msg.document.mime_type,
            "digest": msg.document.digest,
            "contentRef": DOCUMENT_REF,
        }
    else:
        document = {
            "title": msg.title,
            "downloadFileName": msg.text_filename,
            "mimeType": "text/plain",
            "digest": msg.text_digest,
            "textContent": msg.text,
        }
    content: dict[str, Any] = {"document": document}
    info = msg.free_information
    if info is not None:
        content["freeInformations"] = (
            {"freeText": info.text}
            if not info.is_table
            else {
                "table": {
                    "title": info.table_title or "",
                    "rows": [{"leftCell": r.left, "rightCell": r.right} for r in info.rows],
                }
            }
        )
    if msg.patient_inss:
        content["patientInss"] = msg.patient_inss
    content["annexes"] = [
        {
            "title": a.title,
            "downloadFileName": a.filename,
            "mimeType": a.mime_type,
            "digest": a.digest,
            "contentRef": annex_ref(i),
        }
        for i, a in enumerate(msg.annexes, start=1)
    ]
    spec = msg.content_specification
    specification: dict[str, Any] = {
        "contentType": spec.content_type,
        "isImportant": spec.is_important,
        "isEncrypted": spec.is_encrypted,
        "publicationReceipt": spec.publication_receipt,
        "receivedReceipt": spec.received_receipt,
        "readReceipt": spec.read_receipt,
    }
    if spec.application_name:
        specification["applicationName"] = spec.application_name
    return {
        "publicationId": msg.publication_id,
        "destinationContexts": [
            dict(box_id_to_json(r), ooOProcessed=r.ooo_processed) for r in msg.recipients
        ],
        "content": content,
        "contentSpecification": specification,
        "customMetas": [{"key": m.key, "value": m.value} for m in msg.custom_metas],
        "copyMailTo": list(msg.copy_mail_to),
    }


def binary_parts(msg: NewMessage) -> list[tuple[str, Any]]:
    """(contentRef, Attachment) for every binary part of a send, in order."""
    parts = [(DOCUMENT_REF, msg.document)] if msg.document is not None else []
    return parts + [(annex_ref(i), a) for i, a in enumerate(msg.annexes, start=1)]


def move_to_json(ids: list[str], source: str, destination: str) -> dict[str, Any]:
    return {"source": source, "destination": destination, "messageIds": list(ids)}


def not_moved_from_json(data: dict[str, Any]) -> list[str]:
    return list(data.get("notMoved", ()))


def delete_to_json(ids: list[str], source: str) -> dict[str, Any]:
    return {"source": source, "messageIds": list(ids)}


def not_deleted_from_json(data: dict[str, Any]) -> list[str]:
    return list(data.get("notDeleted", ()))


def out_of_office_to_json(start: date, end: date, substitutes: list[BoxId]) -> dict[str, Any]:
    return {
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "substitutes": [box_id_to_json(s) for s in substitutes],
    }


# --- downloads --------------------------------------------------------------------------------
_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([^']*)'[^']*'([^;]+)", re.I)
_FILENAME = re.compile(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"|filename\s*=\s*([^;\s]+)', re.I)


def download_filename(content_disposition: str | None, default: str = "download") -> str:
    """The file name of a download, preferring the RFC 6266 `filename*` form."""
    value = content_disposition or ""
    if match := _FILENAME_STAR.search(value):
        return unquote(match.group(2).strip(), encoding=match.group(1) or "utf-8")
    if match := _FILENAME.search(value):
        return match.group(1) if match.group(1) is not None else match.group(2)
    return default


def download_digest(headers: Any) -> str | None:
    """The base64 SHA-256 of a download, from `Digest: SHA-256=…` (RFC 3230)."""
    for item in (headers.get("Digest") or "").split(","):
        algorithm, _, value = item.strip().partition("=")
        if algorithm.lower() == "sha-256" and value:
            return value
    return None


# --- errors -----------------------------------------------------------------------------------
# 806-815 are INFERRED from the sister service eJustBox (docs/ehealth-platform.md §3.6).
# 813 (not all moved) and 815 (not all deleted) come with a successful answer: the ids
# left behind are in its `notMoved` / `notDeleted` list, which `move`/`delete` return.
_BY_CODE: dict[str, type[errors.EhealthboxError]] = {
    "801": errors.MessageTooLarge,
    "802": errors.InvalidDestination,
    "803": errors.InvalidDestination,
    "804": errors.InvalidDestination,
    "805": errors.InvalidDestination,
    "806": errors.InvalidMessageId,
    "807": errors.InvalidPaging,
    "808": errors.InvalidPaging,
    "809": errors.NotTheSender,
    "810": errors.InvalidBox,
    "812": errors.MoveNotAllowed,
    "814": errors.QualityNotAllowed,
    "816": errors.DigestMismatch,
    "826": errors.RecipientsOutOfOffice,
}
_BY_STATUS: dict[int, type[errors.EhealthboxError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    413: errors.MessageTooLarge,
    422: errors.BadRequest,
}


def error_from_response(status: int, headers: Any, body: Any) -> errors.EhealthboxError:
    """The exception for a non-success answer (a problem+json body, or anything else)."""
    problem = body if isinstance(body, dict) else {}
    code = str(problem["code"]) if problem.get("code") is not None else None
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = errors.Unavailable if status >= 500 or status == 429 else errors.EhealthboxError
    listed = problem.get("recipients") or []
    recipients: list[Any] = []
    if issubclass(cls, errors.InvalidDestination):
        recipients = [box_id_from_json(r) for r in listed]
    elif issubclass(cls, errors.RecipientsOutOfOffice):
        recipients = [recipient_outcome_from_json(r) for r in listed]
    return cls(
        status=status,
        code=code,
        detail=problem.get("detail"),
        problem=problem,
        request_id=headers.get(REQUEST_ID_HEADER) or problem.get("instance"),
        recipients=recipients,
    )
