"""Mount both sandbox realms (`healthcare` and `M2M`) on the sandbox app."""

from __future__ import annotations

from flask import Flask

from ..settings import SandboxSettings
from ..tokens import RealmSigner
from .assertions import ClientAuthenticator
from .clients import ClientRegistry
from .context import IamContext
from .endpoints import bp
from .faults import PREFIX as FAULTS_PREFIX
from .faults import faults_bp
from .store import IamStore

DATABASE = "sandbox-iam.sqlite3"


def init_iam(app: Flask, settings: SandboxSettings, signer: RealmSigner) -> IamContext:
    """Register both realms on the sandbox app; return their context (tests use it)."""
    store = IamStore(settings.instance_path / DATABASE)
    clients = ClientRegistry.from_settings(settings)
    ctx = IamContext(
        settings=settings,
        signer=signer,
        store=store,
        clients=clients,
        authenticator=ClientAuthenticator(clients, store),
    )
    app.extensions["sandbox_iam"] = ctx
    app.register_blueprint(bp)
    app.register_blueprint(faults_bp, url_prefix=FAULTS_PREFIX)
    return ctx
