"""How the sandbox's address book matches: case and accents folded, names by their beginning.

How eHealth's AddressBook matches a name is not public (INFERRED): here a name matches when
it, or one of its words, begins with what was asked, spaces, hyphens and apostrophes aside
("vandenb" and "van den b" find Vandenberghe, "hondt" finds D'Hondt, "chloe" finds Chloé).
An organisation matches when every word asked begins one of the words of its name, or of
the name of the hospital a department belongs to ("groeninge cardio").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+")


def folded(text: str) -> str:
    """Lower case, accents removed: "Chloé" -> "chloe"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(folded(text))


def begins(asked: str, name: str) -> bool:
    """Whether `name`, or one of its words, begins with `asked` (see above)."""
    wanted = "".join(words(asked))
    if not wanted:
        return False
    parts = words(name)
    return "".join(parts).startswith(wanted) or any(w.startswith(wanted) for w in parts)


def every_word_begins(asked: str, names: Iterable[str]) -> bool:
    """Whether every word of `asked` begins a word of one of `names`."""
    wanted = words(asked)
    if not wanted:
        return False
    known = [w for name in names for w in words(name)]
    return all(any(k.startswith(w) for k in known) for w in wanted)
