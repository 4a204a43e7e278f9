"""A PDF's pages as pictures with their text, so that a web page can print the letter itself.

A browser prints a PDF shown in a frame or an `<embed>` as the viewer's toolbar, not as the
document (Chromium's print of such a page holds "1 / 1 100%" and no letter). So the message's
print view draws each page itself: a PNG of the page (rendered by PDFium, the engine of
Chromium's own viewer, through pypdfium2) under the page's text, placed where PDFium found it
and drawn transparent, as a scanned letter's recognised text is. Printed, the paper shows the
letter as it was written; the PDF the browser makes of it holds its text (searchable,
copyable, read by a screen reader).

A PDF comes from any sender: it is opened in a child process (`python -m
ehbox_webapp.pdfpages`), with a time limit and a memory limit, so a hostile or broken file can
only fail its own print view. At most `MAX_PAGES` pages are drawn.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zlib
from dataclasses import dataclass

MAX_PAGES = 30  # a letter, a report; beyond that the user prints the downloaded file
SCALE = 1.5  # 108 dpi: sharp on paper, about 100 kB a page
TIMEOUT = 30  # seconds for the whole document
MEMORY = 1024 * 1024 * 1024  # bytes of address space for the child


@dataclass(frozen=True)
class Text:
    """A run of text on a page, in PDF points from the page's top left."""

    x: float
    y: float  # the baseline
    size: float
    length: float
    text: str


@dataclass(frozen=True)
class Page:
    width: float  # points
    height: float
    png: str  # base64
    texts: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Pages:
    pages: tuple[Page, ...]
    total: int  # the document's page count (more than `pages` when cut at MAX_PAGES)


class CannotDraw(Exception):
    """The PDF could not be drawn (broken, protected, too slow or too large)."""


def draw(pdf: bytes, max_pages: int = MAX_PAGES, timeout: float = TIMEOUT) -> Pages:
    """The first `max_pages` pages of `pdf`, drawn in a child process."""
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, this module, no shell
            [sys.executable, "-m", "ehbox_webapp.pdfpages", str(max_pages)],
            input=pdf,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CannotDraw("timed out") from exc
    if done.returncode != 0:
        raise CannotDraw(done.stderr.decode("utf-8", "replace")[-300:] or "failed")
    try:
        data = json.loads(done.stdout)
        pages = tuple(
            Page(p["width"], p["height"], p["png"], tuple(Text(*t) for t in p["texts"]))
            for p in data["pages"]
        )
        return Pages(pages, int(data["total"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CannotDraw("unreadable answer") from exc


def _png(width: int, height: int, rgb: bytes, stride: int) -> bytes:
    """An RGB picture as PNG (zlib and struct: no image library needed)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + rgb[y * stride : y * stride + width * 3] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def _draw_here(pdf: bytes, max_pages: int) -> dict:
    """In the child: render and read the pages (pypdfium2)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for index in range(min(len(document), max_pages)):
            page = document[index]
            width, height = page.get_size()
            bitmap = page.render(scale=SCALE, rev_byteorder=True, may_draw_forms=True)
            buffer = bytes(bitmap.buffer)
            if bitmap.n_channels == 4:  # RGBA or RGBX: keep RGB
                buffer = b"".join(
                    bytes(row[i : i + 3])
                    for y in range(bitmap.height)
                    for row in (buffer[y * bitmap.stride : (y + 1) * bitmap.stride],)
                    for i in range(0, bitmap.width * 4, 4)
                )
                stride = bitmap.width * 3
            else:
                stride = bitmap.stride
            png = _png(bitmap.width, bitmap.height, buffer, stride)
            textpage = page.get_textpage()
            texts = []
            for r in range(textpage.count_rects()):
                left, bottom, right, top = textpage.get_rect(r)
                text = textpage.get_text_bounded(left, bottom, right, top).strip()
                if text:
                    size = max(top - bottom, 1.0)
                    texts.append([left, height - bottom - size * 0.2, size, right - left, text])
            pages.append(
                {
                    "width": width,
                    "height": height,
                    "png": base64.b64encode(png).decode("ascii"),
                    "texts": texts,
                }
            )
        return {"pages": pages, "total": len(document)}
    finally:
        document.close()


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    except (ImportError, ValueError, OSError):  # not on this system: the time limit stays
        pass


if __name__ == "__main__":
    _limit_memory()
    try:
        result = _draw_here(sys.stdin.buffer.read(), int(sys.argv[1]))
    except Exception as exc:  # noqa: BLE001 - any failure is this file's, said on stderr
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.write(json.dumps(result))
