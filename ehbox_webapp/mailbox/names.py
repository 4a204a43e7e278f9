"""File names and MIME types made safe, whoever wrote them.

One rule for every way a name travels: an upload on its way out (pages, API, CLI), a
message's parts on their way in (listed, opened, downloaded, saved by `m2m poll`), and the
`Content-Disposition` of a download. A sender may be careless or hostile: a name can hold a
path (`../`, `..\\`), CR/LF (a header injection), NUL, shell or Windows-reserved characters,
or be a device name (`CON`). The sandbox keeps what it is sent, as the platform would; the
app cleans on the way in, so such mail still lists, opens and downloads.
"""

from __future__ import annotations

import re
import unicodedata

from .rules import FALLBACK_MIME_TYPE, FILENAME_MAX, MIME_TYPE

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;%`$]+')
_WINDOWS_RESERVED = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    }
)


def safe_filename(name: str | None, default: str = "file", max_length: int = FILENAME_MAX) -> str:
    """One harmless path component: no path, no control or reserved characters, capped.

    Keeps letters of any script (é, ü, ł stay). Longer than `max_length`, the stem is
    shortened and the extension kept.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]  # the last component only, for either separator
    name = "".join(
        " " if c.isspace() else "\x01" if unicodedata.category(c).startswith("C") else c
        for c in name
    )
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" ._")
    if not name:
        return default
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.upper() in _WINDOWS_RESERVED:
        name = f"_{name}"
    if len(name) > max_length:
        keep = f".{ext}" if dot and 0 < len(ext) <= 10 else ""
        name = name[: max_length - len(keep)].rstrip(" .") + keep
    return name


def is_mime_type(value: object) -> bool:
    return isinstance(value, str) and MIME_TYPE.fullmatch(value.strip()) is not None


def safe_mime_type(value: str | None) -> str:
    """The type as given if it is a well-formed MIME type, else application/octet-stream."""
    value = (value or "").strip()
    return value if is_mime_type(value) else FALLBACK_MIME_TYPE


def essence(mime_type: str) -> str:
    """`type/subtype` in lower case, without parameters."""
    return mime_type.split(";", 1)[0].strip().lower()
