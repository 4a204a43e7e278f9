"""Mount the sandbox eHealthBox on the sandbox app: its store, its API, faults and directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from ..trusted import TrustedRealms
from . import routes, routes_manage, routes_send  # noqa: F401 - they add their views to `bp`
from .api import EXTENSION, Context, bp
from .directory import directory_bp
from .faults import faults_bp
from .seed import seed
from .store import Store

if TYPE_CHECKING:
    from ..settings import SandboxSettings
    from ..tokens import RealmSigner

DEFAULT_MAX_BOX_BYTES = 100 * 1024 * 1024  # the real quota is unknown (notes §3.5)
API_PREFIX = "/ehealthbox/v1"
FAULTS_PREFIX = "/ehealthbox/_faults"
DIRECTORY_PREFIX = "/ehealthbox/_directory"  # the personas by name (directory.py)


def init_ehealthbox(app: Flask, settings: SandboxSettings, signer: RealmSigner) -> Store:
    """Open (and on first start, seed) the store; mount the API, the faults and the directory."""
    store = Store(
        settings.instance_path / "sandbox-ehealthbox.sqlite3",
        settings.instance_path / "sandbox-ehealthbox-blobs",
        DEFAULT_MAX_BOX_BYTES,
    )
    with store.first_start():  # the other workers wait, then find the boxes seeded
        seed(store)
    app.extensions[EXTENSION] = Context(
        settings, signer, store, TrustedRealms(settings.trusted_issuers)
    )
    app.register_blueprint(bp, url_prefix=API_PREFIX)
    app.register_blueprint(faults_bp, url_prefix=FAULTS_PREFIX)
    app.register_blueprint(directory_bp, url_prefix=DIRECTORY_PREFIX)
    return store
