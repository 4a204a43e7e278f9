"""The sandbox ETEE key directory: eHealth's JWKS service for the personas and the organisation.

    GET /sandbox/etee/v1/pubKeys/cacerts/jwks?identifier=<id>&type=<TYPE>
        [&applicationIdentifier=<APP>]&use=enc|sig

The same URL layout as eHealth's (ehealth-platform-notes §2.1). `use=sig` publishes the
authentication certificate, `use=enc` the encryption certificate(s), several after a renewal.
Personas are published under type SSIN, the organisation under its keystore's identifier
(CBE 0899999949 by default). The keys come from `depot.KeyDepot`.

This file only re-exports `mount.py` and the depot.
"""

from __future__ import annotations

from .depot import KeyDepot
from .mount import JWKS_PREFIX, init_etee

__all__ = ["JWKS_PREFIX", "KeyDepot", "init_etee"]
