"""Mount the ETEE key directory's JWKS endpoint on the sandbox app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from .depot import KeyDepot
from .routes import EXTENSION, bp

if TYPE_CHECKING:
    from ..settings import SandboxSettings

JWKS_PREFIX = "/etee/v1/pubKeys/cacerts"


def init_etee(app: Flask, settings: SandboxSettings) -> KeyDepot:
    """Mount the JWKS endpoint on the sandbox app; return the depot (tests renew keys with it)."""
    depot = KeyDepot(
        settings.instance_path,
        settings.persona_keystore_password,
        export=settings.persona_keystores_export,
        organisation_keystore=settings.organisation_keystore,
    )
    app.extensions[EXTENSION] = depot
    app.register_blueprint(bp, url_prefix=JWKS_PREFIX)
    return depot
