"""A tiny, dependency-free generator of valid one-page PDF documents (demo and test content).

Text uses the standard Helvetica font with WinAnsiEncoding, so Dutch and
French accents render; characters outside Windows-1252 become "?". The output
is deterministic (no creation date), which keeps seeded blobs stable.
"""

from __future__ import annotations

import textwrap

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MAX_LINES = 48
WRAP = 88


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def make_pdf(title: str, lines: list[str] | tuple[str, ...] = ()) -> bytes:
    """A one-page A4 PDF with a bold-ish title and wrapped body lines."""
    body: list[str] = []
    for line in lines:
        body += textwrap.wrap(line, WRAP) or [""]
    body = body[:MAX_LINES]

    stream = b"BT /F2 16 Tf 56 780 Td " + _pdf_string(title) + b" Tj /F1 11 Tf 0 -30 Td 15 TL"
    for line in body:
        stream += b" " + _pdf_string(line) + b" Tj T*"
    stream += b" ET"

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Title " + _pdf_string(title) + b" /Producer (ehbox-webapp) >>",
    ]

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(out)
