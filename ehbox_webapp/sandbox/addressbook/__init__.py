"""The sandbox AddressBook: eHealth's AddressBook (modelled REST face) over a made-up directory.

`directory.py` makes a few hundred Belgian professionals and organisations (the personas
among them) from a seed; `routes.py` serves the four operations; `mount.py` mounts them at
`/sandbox/addressbook/v1` and gives everyone in the directory a box in the sandbox
eHealthBox. Like the rest of the sandbox it imports none of the app's layers, nor the app's
AddressBook client.
"""

from __future__ import annotations

from .mount import API_PREFIX, init_addressbook

__all__ = ["API_PREFIX", "init_addressbook"]
