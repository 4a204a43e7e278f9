"""The sandbox ETEE key directory: eHealth's JWKS service for the personas and the organisation.

    GET /sandbox/etee/v1/pubKeys/cacerts/jwks?identifier=<id>&type=<TYPE>
        [&applicationIdentifier=<APP>]&use=enc|sig

The same URL layout as eHealth's (ehealth-platform-notes §2.1). `use=sig` publishes the
authentication certificate, `use=enc` the encryption certificate(s), several after a renewal.
Personas are published under type SSIN, the organisation under its keystore's identifier
(CBE 0899999949 by default). The keys come from `depot.KeyDepot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from .depot import KeyDepot
from .routes import EXTENSION, bp

if TYPE_CHECKING:
    from .. import SandboxSettings

JWKS_PREFIX = "/etee/v1/pubKeys/cacerts"

__all__ = ["JWKS_PREFIX", "KeyDepot", "init_etee"]


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
