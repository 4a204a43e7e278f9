"""The sandbox I.AM Connect: Keycloak's `healthcare` and `M2M` realms, simulated.

It speaks the HTTP of eHealth's Keycloak (discovery, code flow with PKCE,
`private_key_jwt`, refresh rotation, client credentials, RFC 8693 token
exchange, userinfo, introspection, logout with back-channel notification), so
the app cannot tell it from the real thing. Its state lives in SQLite in the
instance folder and survives a restart.

This file only re-exports `mount.py`.
"""

from __future__ import annotations

from .mount import DATABASE, init_iam

__all__ = ["DATABASE", "init_iam"]
