"""Sending an eHealthBox document or annex on to the browser, safely and streamed.

Everything about a file in a message is untrusted: its name, its bytes and its
MIME type. So:

- `Content-Disposition` is `attachment` unless the caller asks for `inline` AND
  the type is one a browser shows harmlessly (PDF, plain text, raster images); the name goes
  out as RFC 6266 `filename*` (UTF-8) with a sanitized ASCII `filename` fallback.
- The MIME type is the one stored in the message (what eHealthBox sends back),
  never guessed from the file name. A malformed type becomes
  `application/octet-stream`. A well-formed but dangerous one (`text/html`,
  `image/svg+xml`...) is kept, because the receiving user may need the file as
  the sender labelled it, and it is made harmless instead: forced attachment,
  `X-Content-Type-Options: nosniff` and a sandboxing CSP, so it can never run
  as a page of this site.
- The bytes are streamed chunk by chunk: a 50 MB annex never sits in memory.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote

from flask import Response, stream_with_context

from ..ehealth.ehealthbox import Download, EhealthboxError
from ..ehealth.ehealthbox.opening import OpenedPart
from ..mailbox.names import essence, safe_filename, safe_mime_type

log = logging.getLogger(__name__)

HEADER_NAME_MAX = 150  # enough to recognise a file; keeps the header small
# Shown inline in the message page's sandboxed frame; SVG is not among the images (it can script).
INLINE_TYPES = frozenset(
    {"application/pdf", "text/plain", "image/png", "image/jpeg", "image/gif", "image/webp"}
)
# A sandboxed, script-less document: even a hostile PDF or text file cannot act as
# this origin. frame-ancestors lets the message page (same origin) frame it, nothing else.
SANDBOX_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
# Letters that Unicode does not decompose into an ASCII letter plus accents.
_NOT_DECOMPOSABLE = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "Đ": "D",
        "đ": "d",
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
    }
)


def stream_download(download: Download, *, inline: bool = False) -> Response:
    """A response that streams `download` to the browser (and closes it when done).

    `inline=True` shows PDF, plain text and raster images in the browser; any other type is
    still sent as an attachment.
    """
    mime_type = safe_mime_type(download.mime_type)
    response = Response(
        stream_with_context(_chunks(download)),
        mimetype=None,
        content_type=mime_type,
        direct_passthrough=True,
    )
    _safe_headers(response, download.filename, mime_type, inline)
    if download.size is not None:
        response.content_length = download.size
    # A HEAD request, or a client gone before the first byte, never runs the generator:
    # close the upstream connection when the response is closed, whatever happened.
    response.call_on_close(download.close)
    return response


def part_download(part: Download | OpenedPart, *, inline: bool = False) -> Response:
    """A streamed part, or one already opened (a sealed part, opened whole)."""
    if isinstance(part, OpenedPart):
        return content_download(
            part.content, part.download_file_name, part.mime_type, inline=inline
        )
    return stream_download(part, inline=inline)


def content_download(
    content: bytes, filename: str | None, mime_type: str | None, *, inline: bool = False
) -> Response:
    """A response with `content` already in memory (e.g. an opened sealed part).

    The same headers as `stream_download`: the stored type if well-formed, attachment
    unless `inline` and the type is one of INLINE_TYPES, nosniff, the sandboxing CSP, no-store.
    """
    safe_type = safe_mime_type(mime_type)
    response = Response(content, mimetype=None, content_type=safe_type)
    _safe_headers(response, filename, safe_type, inline)
    return response


def _safe_headers(response: Response, filename: str | None, mime_type: str, inline: bool) -> None:
    show_inline = inline and essence(mime_type) in INLINE_TYPES
    response.headers["Content-Disposition"] = content_disposition(filename, inline=show_inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Cache-Control"] = "private, no-store"  # patient data: no shared caches


def _chunks(download: Download) -> Iterator[bytes]:
    """The bytes, holding the last chunk back until eHealthBox's digest has been checked.

    `Download.iter_bytes()` raises `DigestMismatch` after the last chunk; by then
    a naive loop would have sent every byte and the browser would keep a damaged
    file. Holding one chunk back makes a mismatch end the response short of its
    Content-Length, which browsers report as a failed download.
    """
    try:
        previous: bytes | None = None
        for chunk in download.iter_bytes():
            if previous is not None:
                yield previous
            previous = chunk
        if previous is not None:
            yield previous
    except EhealthboxError as exc:
        log.warning("download aborted: %s", type(exc).__name__)
        raise
    finally:
        download.close()


def ascii_filename(name: str, default: str = "download") -> str:
    """The `filename=` fallback for old clients: plain ASCII letters, digits and `._-`."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_NOT_DECOMPOSABLE))
    decomposed = decomposed.encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", decomposed).strip("._")
    return cleaned or default


def content_disposition(filename: str | None, *, inline: bool = False) -> str:
    """An RFC 6266 Content-Disposition with both `filename` (ASCII) and `filename*` (UTF-8)."""
    name = safe_filename(filename, "download", HEADER_NAME_MAX)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_filename(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
