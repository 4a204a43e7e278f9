"""Mount the sandbox AddressBook on the sandbox app, and give everyone in it an eHealthBox."""

from __future__ import annotations

from flask import Flask

from ..ehealthbox.store import Store
from .directory import directory
from .routes import bp

API_PREFIX = "/addressbook/v1"


def init_addressbook(app: Flask, ehealthbox: Store) -> None:
    """Serve the directory at `API_PREFIX`; make sure every entry's box exists in `ehealthbox`.

    Run after the eHealthBox is seeded: its boxes are added to (never replaced), on every
    start, so a store made by an older version gets the people it did not know yet.
    """
    with ehealthbox.write() as conn:
        for box, name, first_name in directory().boxes():
            ehealthbox.ensure_box(conn, box, name, first_name)
    app.register_blueprint(bp, url_prefix=API_PREFIX)
