"""The sandbox WSGI app: both I.AM realms, the eHealthBox, the AddressBook, the ETEE keys."""

from __future__ import annotations

from flask import Flask, abort, request

from ..flaskapp import App
from .settings import TEMPLATES, SandboxSettings
from .tokens import RealmSigner


def create_sandbox_app(settings: SandboxSettings) -> Flask:
    """Build the sandbox WSGI app: both realms, the eHealthBox, the AddressBook, the ETEE keys."""
    # Imported here: `import ehbox_webapp.sandbox` (for its settings) loads none of them.
    from .addressbook import init_addressbook
    from .ehealthbox import init_ehealthbox
    from .etee import init_etee
    from .iam import init_iam

    app = App(
        __name__,
        template_folder=str(TEMPLATES),
        static_folder=None,
        instance_path=str(settings.instance_path),
    )
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    signer = RealmSigner(settings.instance_path / "sandbox-realm-key.pem")
    app.extensions["sandbox"] = {"settings": settings, "signer": signer}
    init_iam(app, settings, signer)
    store = init_ehealthbox(app, settings, signer)
    init_addressbook(app, store)  # after the eHealthBox: everyone in it gets a box there
    init_etee(app, settings)
    if not settings.fault_injection:
        app.before_request(_no_fault_injection)
    return app


# The blueprints that inject faults (`ehealthbox/faults.py`, `iam/faults.py`).
FAULT_INJECTION = frozenset({"ehealthbox_faults", "sandbox_iam_faults"})


def _no_fault_injection() -> None:
    """Off (`SandboxSettings.fault_injection`): the fault endpoints are not there (404)."""
    if request.blueprint in FAULT_INJECTION:
        abort(404)
