"""A framework-neutral eHealthBox REST client.

It speaks the contract through `rest.py` only (paths, JSON, errors), gets a
Bearer token from `token_provider` for every request, retries reads on
transient failures (`ehealth/http.py`), streams downloads and uploads, and
never retries a send by itself: a send whose answer is lost raises
:class:`SendOutcomeUnknown`, and resending the same `NewMessage` is safe
because its publicationId makes the platform deliver it once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from ..http import NO_RETRY, MultipartBody, RetryPolicy, call_with_retries, json_body_of
from . import errors, rest
from .models import (
    MAX_IDS_PER_CALL,
    MAX_MESSAGE_BYTES,
    AcknowledgmentStatus,
    BoxId,
    BoxInfo,
    Message,
    MessagePage,
    MessageSummary,
    NewMessage,
    OutOfOffice,
    SendResult,
)

log = logging.getLogger(__name__)

# A gateway error on a send may come after the platform stored the message.
_SEND_UNKNOWN_STATUSES = frozenset({500, 502, 504})


class Download:
    """A streamed document or annex. Use as a context manager, or call `close()`.

    `iter_bytes()` checks the bytes against the server's SHA-256 digest once the
    last chunk is read and raises :class:`DigestMismatch` if they differ.
    """

    def __init__(self, response: requests.Response):
        self._response = response
        headers = response.headers
        self.filename = rest.download_filename(headers.get("Content-Disposition"))
        self.mime_type = headers.get("Content-Type", "application/octet-stream")
        length = headers.get("Content-Length")
        self.size: int | None = int(length) if length and length.isdigit() else None
        self.digest = rest.download_digest(headers)

    def iter_bytes(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        sha = hashlib.sha256()
        try:
            for chunk in self._response.iter_content(chunk_size):
                sha.update(chunk)
                yield chunk
        except requests.RequestException as exc:
            raise errors.Unavailable("The download was interrupted. Please try again.") from exc
        if self.digest and base64.b64encode(sha.digest()).decode() != self.digest:
            raise errors.DigestMismatch(
                "The downloaded file is damaged (checksum mismatch). Please download it again."
            )

    def read(self) -> bytes:
        """All the bytes at once: only for small files."""
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> Download:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class EhealthboxClient:
    """One user's (or organisation's) eHealthBox, reached over the REST contract.

    `token_provider` is called before every request (it caches and refreshes);
    `session` should come from `ehealth.http.build_session` (User-Agent, From,
    pooling); `timeout` applies to connecting and to each wait for data;
    `retries` is the number of extra attempts of a read (GET, DELETE) on 429,
    502, 503, 504 (honouring Retry-After) and on connection errors. Sends,
    moves and deletes of messages are never retried. A message heavier than
    `max_message_bytes` is refused before anything is sent (None: let the
    platform decide, as the acceptance run does to see its 801).
    """

    def __init__(
        self,
        base_url: str,
        token_provider: Callable[[], str],
        *,
        session: requests.Session,
        timeout: float = 15,
        retries: int = 3,
        max_message_bytes: int | None = MAX_MESSAGE_BYTES,
    ):
        self.base_url = base_url.rstrip("/")
        self.max_message_bytes = max_message_bytes
        self._token = token_provider
        self._session = session
        self.timeout = timeout
        self._reads = RetryPolicy(attempts=retries + 1) if retries > 0 else NO_RETRY

    # --- plumbing ----------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        stream: bool = False,
        idempotent: bool = True,
    ) -> requests.Response:
        url = self.base_url + path

        def send() -> requests.Response:
            headers = self._headers()
            if stream:
                headers["Accept"] = "*/*"
            return self._session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                timeout=self.timeout,
                stream=stream,
            )

        try:
            response = call_with_retries(send, self._reads if idempotent else NO_RETRY)
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning("eHealthBox %s %s failed: %s", method, path, type(exc).__name__)
            raise errors.Unavailable(url=url) from exc
        if response.status_code >= 400:
            raise self._error(response)
        return response

    @staticmethod
    def _error(response: requests.Response) -> errors.EhealthboxError:
        try:
            body = response.json() if "json" in response.headers.get("Content-Type", "") else None
        except ValueError:
            body = None
        finally:
            response.close()
        error = rest.error_from_response(response.status_code, response.headers, body)
        log.info(
            "eHealthBox answered %s (code %s, request %s)",
            response.status_code,
            error.code,
            error.request_id,
        )
        return error

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return json_body_of(response)
        except ValueError as exc:
            raise errors.Unavailable("The eHealthBox sent an unreadable answer.") from exc

    # --- reading -----------------------------------------------------------------------------
    def box_info(self) -> BoxInfo:
        return rest.box_info_from_json(self._json("GET", rest.BOX_INFO))

    def list_messages(self, folder: str = "INBOX", start: int = 1, end: int = 100) -> MessagePage:
        """One page of a folder, newest first; index 1 is the newest message."""
        return rest.page_from_json(
            self._json("GET", rest.MESSAGES, params=rest.list_query(folder, start, end))
        )

    def iter_messages(
        self, folder: str = "INBOX", page_size: int = MAX_IDS_PER_CALL
    ) -> Iterator[MessageSummary]:
        """Every message of a folder, page by page, each message once.

        New mail shifts the indexes while we page (message 100 becomes 101), so
        a message may come back on the next page: we skip the ones already seen.
        """
        if not 1 <= page_size <= MAX_IDS_PER_CALL:
            raise ValueError(f"page_size must be between 1 and {MAX_IDS_PER_CALL}")
        seen: set[str] = set()
        start = 1
        while True:
            page = self.list_messages(folder, start, start + page_size - 1)
            for summary in page.messages:
                if summary.message_id not in seen:
                    seen.add(summary.message_id)
                    yield summary
            if len(page.messages) < page_size:
                return
            start += page_size

    def get_message(self, message_id: str, folder: str = "INBOX") -> Message:
        """The full message. Reading from the INBOX marks it read (and sends receipts)."""
        return rest.message_from_json(
            self._json("GET", rest.message_path(message_id), params={rest.SOURCE: folder})
        )

    def open_document(self, message_id: str, folder: str = "INBOX") -> Download:
        return Download(
            self._request(
                "GET", rest.document_path(message_id), params={rest.SOURCE: folder}, stream=True
            )
        )

    def open_annex(self, message_id: str, index: int, folder: str = "INBOX") -> Download:
        return Download(
            self._request(
                "GET", rest.annex_path(message_id, index), params={rest.SOURCE: folder}, stream=True
            )
        )

    def acknowledgments(self, message_id: str) -> list[AcknowledgmentStatus]:
        """Per recipient of a sent message: when it was published, received, read."""
        return rest.ack_statuses_from_json(self._json("GET", rest.acknowledgments_path(message_id)))

    # --- sending -----------------------------------------------------------------------------
    def send(self, message: NewMessage) -> SendResult:
        """Publish a message. Never retried here: see :class:`SendOutcomeUnknown`."""
        limit = self.max_message_bytes
        if limit is not None and message.content_size > limit:
            raise errors.MessageTooLarge.before_sending(message.content_size, limit)
        meta = json.dumps(rest.new_message_to_json(message)).encode("utf-8")
        parts: list[tuple[str, str | None, str, Callable[[], Any], int]] = [
            (rest.MESSAGE_PART, None, "application/json", lambda: iter((meta,)), len(meta))
        ]
        for ref, attachment in rest.binary_parts(message):
            parts.append((ref, ref, attachment.mime_type, attachment.chunks, attachment.size))
        body = MultipartBody(parts)
        headers = self._headers()
        headers["Content-Type"] = body.content_type
        try:
            response = self._session.post(
                self.base_url + rest.MESSAGES, data=body, headers=headers, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            if _never_sent(exc):
                raise errors.Unavailable(
                    "The eHealthBox could not be reached. The message was "
                    "not sent; please try again.",
                    url=self.base_url + rest.MESSAGES,
                ) from exc
            log.warning(
                "eHealthBox send %s: outcome unknown (%s)",
                message.publication_id,
                type(exc).__name__,
            )
            raise errors.SendOutcomeUnknown(message.publication_id) from exc
        if response.status_code in _SEND_UNKNOWN_STATUSES:
            error = self._error(response)
            raise errors.SendOutcomeUnknown(
                message.publication_id,
                status=error.status,
                code=error.code,
                detail=error.detail,
                problem=error.problem,
                request_id=error.request_id,
            )
        if response.status_code >= 400:
            raise self._error(response)
        return rest.send_result_from_json(response.json(), replayed=response.status_code == 200)

    # --- organising --------------------------------------------------------------------------
    def move(self, message_ids: Iterable[str], source: str, destination: str) -> list[str]:
        """Move messages (INBOX<->BININBOX, SENTBOX<->BINSENTBOX); returns those not moved."""
        not_moved: list[str] = []
        for batch in _batches(message_ids):
            data = self._json(
                "POST",
                rest.MOVE,
                idempotent=False,
                json_body=rest.move_to_json(batch, source, destination),
            )
            not_moved += rest.not_moved_from_json(data)
        return not_moved

    def delete(self, message_ids: Iterable[str], source: str) -> list[str]:
        """Delete messages for good; returns those not deleted."""
        not_deleted: list[str] = []
        for batch in _batches(message_ids):
            data = self._json(
                "POST", rest.DELETE, idempotent=False, json_body=rest.delete_to_json(batch, source)
            )
            not_deleted += rest.not_deleted_from_json(data)
        return not_deleted

    # --- out of office -----------------------------------------------------------------------
    def out_of_offices(self) -> list[OutOfOffice]:
        return rest.out_of_offices_from_json(self._json("GET", rest.OUT_OF_OFFICES))

    def add_out_of_office(
        self, start: date, end: date, substitutes: Iterable[BoxId] = ()
    ) -> OutOfOffice:
        body = rest.out_of_office_to_json(start, end, list(substitutes))
        return rest.out_of_office_from_json(
            self._json("POST", rest.OUT_OF_OFFICES, json_body=body, idempotent=False)
        )

    def delete_out_of_office(self, ooo_id: str) -> None:
        self._request("DELETE", rest.out_of_office_path(ooo_id)).close()


def _batches(ids: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for message_id in ids:
        batch.append(message_id)
        if len(batch) == MAX_IDS_PER_CALL:
            yield batch
            batch = []
    if batch:
        yield batch


def _never_sent(exc: Exception) -> bool:
    """True when the connection was never made, so the request cannot have arrived."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)
