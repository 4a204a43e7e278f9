"""The sandbox eHealthBox: the modelled REST contract (openapi.yaml), implemented on its own.

It deliberately does not import the client's `rest.py`: if a user adapts
`rest.py` to the official contract, this stays the reference of the modelled one.
Nor does it import the app's rules: the platform's limits and recipient checks are
its own (`platform.py`, `recipients.py`), as eHealth documents them.
State lives in `instance/sandbox-ehealthbox.sqlite3` and, content-addressed,
in `instance/sandbox-ehealthbox-blobs/`.

This file only re-exports `mount.py`, which registers the routes and mounts them.
"""

from __future__ import annotations

from .mount import (
    API_PREFIX,
    DEFAULT_MAX_BOX_BYTES,
    DIRECTORY_PREFIX,
    FAULTS_PREFIX,
    init_ehealthbox,
)

__all__ = [
    "API_PREFIX",
    "DEFAULT_MAX_BOX_BYTES",
    "DIRECTORY_PREFIX",
    "FAULTS_PREFIX",
    "init_ehealthbox",
]
