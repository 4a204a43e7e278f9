"""A small zero-copy BER reader and DER writer for the large parts of CMS messages.

asn1crypto copies every nested value when it parses (each level slices its bytes), which for a
50 MB attachment wrapped in four levels means several copies. Here the big OCTET STRINGs are
located by offset in a `memoryview` and handed out as views; only the small structures around
them (signer infos, certificates, recipient infos, algorithm identifiers) are copied out and
parsed with asn1crypto. The reader accepts BER (indefinite lengths, constructed OCTET STRINGs)
because the BouncyCastle stream generators used by the Java and .NET eHealth libraries write it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .errors import MalformedSeal

__all__ = ["Buffer", "Tlv", "children", "header", "octets", "read_tlv", "tlv", "total_length"]

Buffer = bytes | bytearray | memoryview
Parts = list[Buffer]
_MAX_DEPTH = 24  # CMS nests about ten levels deep; more is an attack on the recursion


@dataclass(frozen=True)
class Tlv:
    """One BER element located in a buffer: [start, value_start) header, value, end."""

    tag: int  # the identifier octet: class, constructed bit and (low) tag number
    start: int
    value_start: int
    value_end: int  # before the end-of-contents octets of an indefinite length
    end: int

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)


def read_tlv(buf: memoryview, pos: int, limit: int, depth: int = 0) -> Tlv:
    """The element starting at `pos`, which must end at or before `limit`."""
    if depth > _MAX_DEPTH:
        raise MalformedSeal("the structure is nested too deeply")
    if pos + 2 > limit:
        raise MalformedSeal("an element is cut short")
    tag, first = buf[pos], buf[pos + 1]
    if tag & 0x1F == 0x1F:
        raise MalformedSeal("an element uses a high tag number, which CMS does not")
    cursor = pos + 2
    if first == 0x80:  # indefinite length: children up to the end-of-contents octets
        if not tag & 0x20:
            raise MalformedSeal("a primitive element has an indefinite length")
        inner = cursor
        while True:
            if inner + 2 > limit:
                raise MalformedSeal("an indefinite-length element is not terminated")
            if buf[inner] == 0 and buf[inner + 1] == 0:
                return Tlv(tag, pos, cursor, inner, inner + 2)
            inner = read_tlv(buf, inner, limit, depth + 1).end
    if first & 0x80:
        count = first & 0x7F
        if count > 8 or cursor + count > limit:
            raise MalformedSeal("an element has an impossible length")
        length = int.from_bytes(buf[cursor : cursor + count], "big")
        cursor += count
    else:
        length = first
    if cursor + length > limit:
        raise MalformedSeal("an element is longer than what contains it")
    return Tlv(tag, pos, cursor, cursor + length, cursor + length)


def children(buf: memoryview, parent: Tlv, depth: int = 0) -> Iterator[Tlv]:
    """The elements inside a constructed element, in order."""
    if not parent.constructed:
        raise MalformedSeal("a primitive element was expected to hold other elements")
    pos = parent.value_start
    while pos < parent.value_end:
        child = read_tlv(buf, pos, parent.value_end, depth + 1)
        yield child
        pos = child.end


def octets(buf: memoryview, element: Tlv, depth: int = 0) -> list[memoryview]:
    """The value of an OCTET STRING (any tag) as views; a constructed one gives its chunks."""
    if not element.constructed:
        return [buf[element.value_start : element.value_end]]
    chunks: list[memoryview] = []
    for child in children(buf, element, depth):
        if child.tag not in (0x04, 0x24):
            raise MalformedSeal("a constructed OCTET STRING holds something else")
        chunks += octets(buf, child, depth + 1)
    return chunks


def header(tag: int, length: int) -> bytes:
    """The DER identifier and length octets of an element."""
    if length < 0x80:
        return bytes((tag, length))
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big")


def total_length(parts: Sequence[Buffer]) -> int:
    return sum(len(p) for p in parts)


def tlv(tag: int, *parts: Buffer | Parts) -> Parts:
    """A DER element around `parts`, as a list of pieces: nothing large is copied."""
    flat: Parts = []
    for part in parts:
        if isinstance(part, list):
            flat += part
        else:
            flat.append(part)
    return [header(tag, total_length(flat)), *flat]
