"""Shape checks of a send's `message` part, by the platform's own limits (`platform.py`)."""

from __future__ import annotations

from typing import Any

from . import platform
from .problems import bad_request
from .recipients import is_valid_inss
from .sealed import MAX_SEALED_TEXT, is_sealed_text

BOOLEAN_FLAGS = (
    "isImportant",
    "isEncrypted",
    "publicationReceipt",
    "receivedReceipt",
    "readReceipt",
)


class _Checker:
    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def fail(self, name: str, reason: str) -> None:
        self.errors.append((name, reason))

    def text(
        self,
        data: dict[str, Any],
        key: str,
        where: str,
        *,
        low: int = 1,
        high: int,
        required: bool = True,
    ) -> None:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(f"{where}{key}", "required")
        elif not isinstance(value, str) or not low <= len(value) <= high:
            self.fail(f"{where}{key}", f"a text of {low} to {high} characters")

    def part(
        self, data: Any, where: str, *, allow_text: bool, title_high: int = platform.TITLE_MAX
    ) -> None:
        """A document or annex: names, MIME type, digest and where its bytes are."""
        if not isinstance(data, dict):
            self.fail(where.rstrip("."), "an object")
            return
        self.text(data, "title", where, high=title_high)
        self.text(data, "downloadFileName", where, high=platform.DOWNLOAD_FILE_NAME_MAX)
        self.text(data, "mimeType", where, high=platform.MIME_TYPE_MAX)
        self.text(data, "digest", where, high=platform.DIGEST_MAX)
        has_ref, has_text = "contentRef" in data, "textContent" in data
        if has_ref == has_text or (has_text and not allow_text):
            either = "contentRef or textContent" if allow_text else "contentRef"
            self.fail(f"{where}contentRef", f"exactly one of {either}")
        elif has_ref:
            self.text(data, "contentRef", where, high=platform.CONTENT_REF_MAX)
        elif not isinstance(data["textContent"], str):
            self.fail(f"{where}textContent", "a text")


def check_message(msg: Any) -> dict[str, Any]:
    """The `message` JSON if well formed; otherwise a 400 problem listing every fault."""
    c = _Checker()
    if not isinstance(msg, dict):
        raise bad_request("The message part must be a JSON object.", ("message", "an object"))
    if not platform.is_publication_id(msg.get("publicationId")):
        c.fail("publicationId", f"1 to {platform.PUBLICATION_ID_MAX} visible ASCII characters")

    destinations = msg.get("destinationContexts")
    if not isinstance(destinations, list) or not destinations:
        c.fail("destinationContexts", "at least one destination")
    else:
        for i, dest in enumerate(destinations):
            where = f"destinationContexts[{i}]."
            if not isinstance(dest, dict):
                c.fail(where.rstrip("."), "an object")
                continue
            for key in ("id", "type", "quality"):
                c.text(dest, key, where, high=platform.DESTINATION_FIELD_MAX)
            c.text(dest, "subType", where, high=platform.DESTINATION_FIELD_MAX, required=False)
            if not isinstance(dest.get("ooOProcessed", False), bool):
                c.fail(f"{where}ooOProcessed", "a boolean")

    spec = msg.get("contentSpecification")
    if not isinstance(spec, dict):
        c.fail("contentSpecification", "an object")
        spec = {}
    if spec.get("contentType") not in platform.SENDABLE_CONTENT_TYPES:
        c.fail("contentSpecification.contentType", " or ".join(platform.SENDABLE_CONTENT_TYPES))
    for flag in BOOLEAN_FLAGS:
        if not isinstance(spec.get(flag, False), bool):
            c.fail(f"contentSpecification.{flag}", "a boolean")
    c.text(
        spec,
        "applicationName",
        "contentSpecification.",
        high=platform.APPLICATION_NAME_MAX,
        required=False,
    )

    content = msg.get("content")
    if not isinstance(content, dict):
        c.fail("content", "an object")
        content = {}
    c.part(content.get("document"), "content.document.", allow_text=True)
    annexes = content.get("annexes", [])
    if not isinstance(annexes, list):
        c.fail("content.annexes", "a list")
    else:
        for i, annex in enumerate(annexes):
            # A sealed annex title is the base64 of its seal: longer than a clear one (and a
            # sealed title in a clear message is refused by sealed.py, saying why).
            sealed = spec.get("isEncrypted") is True or (
                isinstance(annex, dict) and is_sealed_text(annex.get("title"))
            )
            c.part(
                annex,
                f"content.annexes[{i}].",
                allow_text=False,
                title_high=MAX_SEALED_TEXT if sealed else platform.TITLE_MAX,
            )
    _free_information(c, content.get("freeInformations"))
    inss = content.get("patientInss")
    # Sealed, the INSS is the base64 of its seal (sealed.py checks that it is one).
    if inss is not None and not (
        isinstance(inss, str) and (spec.get("isEncrypted") is True or is_valid_inss(inss))
    ):
        c.fail("content.patientInss", "an INSS of 11 digits with valid check digits")

    metas = msg.get("customMetas", [])
    if not isinstance(metas, list) or len(metas) > platform.CUSTOM_METAS_MAX:
        c.fail("customMetas", f"a list of at most {platform.CUSTOM_METAS_MAX} key/value pairs")
    else:
        for i, meta in enumerate(metas):
            if not isinstance(meta, dict):
                c.fail(f"customMetas[{i}]", "an object")
                continue
            c.text(meta, "key", f"customMetas[{i}].", high=platform.CUSTOM_META_TEXT_MAX)
            c.text(meta, "value", f"customMetas[{i}].", high=platform.CUSTOM_META_TEXT_MAX)
    mails = msg.get("copyMailTo", [])
    if not isinstance(mails, list) or not all(
        isinstance(m, str) and 3 <= len(m) <= platform.COPY_MAIL_TO_MAX and "@" in m for m in mails
    ):
        c.fail(
            "copyMailTo",
            f"a list of e-mail addresses of at most {platform.COPY_MAIL_TO_MAX} characters",
        )

    if c.errors:
        raise bad_request("The message is not well formed.", *c.errors)
    return msg


def _free_information(c: _Checker, info: Any) -> None:
    if info is None:
        return
    where = "content.freeInformations"
    if not isinstance(info, dict) or ("freeText" in info) == ("table" in info):
        c.fail(where, "exactly one of freeText or table")
        return
    if "freeText" in info:
        if not isinstance(info["freeText"], str) or not info["freeText"]:
            c.fail(f"{where}.freeText", "a non-empty text")
        return
    table = info["table"]
    if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
        c.fail(f"{where}.table", "an object with a title and rows")
        return
    c.text(table, "title", f"{where}.table.", high=platform.TABLE_TITLE_MAX, required=False)
    for i, row in enumerate(table["rows"]):
        if not (
            isinstance(row, dict)
            and isinstance(row.get("leftCell"), str)
            and isinstance(row.get("rightCell"), str)
        ):
            c.fail(f"{where}.table.rows[{i}]", "an object with leftCell and rightCell texts")
