"""`GET /jwks`: the JWKS of one identifier, shaped as eHealth's (notes §2.2, INFERRED).

Each key: `kty`, `n`, `e`, `kid` (RFC 7638 thumbprint: eHealth's own kid format is UNKNOWN),
`use`, `alg` for signature keys, `x5c` (the certificate) and `x5t#S256`. Public members only.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Response, current_app, request

EXTENSION = "sandbox_etee"
USES = ("enc", "sig")
PROBLEM_JSON = "application/problem+json"

bp = Blueprint("sandbox_etee", __name__)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return _b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def jwk(cert: x509.Certificate, use: str) -> dict:
    """The public JWK of a certificate's RSA key, with the certificate itself."""
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the sandbox issues RSA keys only")
    numbers = public.public_numbers()
    members = {"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    der = cert.public_bytes(serialization.Encoding.DER)
    key = {**members, "kid": _b64url(hashlib.sha256(canonical).digest()), "use": use}
    if use == "sig":
        key["alg"] = "RS256"
    key["x5c"] = [base64.b64encode(der).decode("ascii")]
    key["x5t#S256"] = _b64url(hashlib.sha256(der).digest())
    return key


def _problem(status: int, title: str, detail: str, invalid: list[dict] | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if invalid:
        body["invalidParams"] = invalid
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


@bp.get("/jwks")
def jwks() -> Response:
    args = request.args
    identifier, kind = args.get("identifier", "").strip(), args.get("type", "").strip().upper()
    use, application = args.get("use", "").strip(), args.get("applicationIdentifier") or None
    invalid = [
        {"in": "query", "name": name, "reason": "required"}
        for name, value in (("identifier", identifier), ("type", kind))
        if not value
    ]
    if use not in USES:
        invalid.append({"in": "query", "name": "use", "reason": "enc or sig"})
    if invalid:
        return _problem(
            400, "Bad Request", "identifier, type and use=enc|sig are required.", invalid
        )
    published = current_app.extensions[EXTENSION].published(kind, identifier, application)
    if published is None:
        return _problem(404, "Not Found", f"No certificate is registered for {kind} {identifier}.")
    certs = published.enc if use == "enc" else published.sig
    response = Response(
        json.dumps({"keys": [jwk(c, use) for c in certs]}), mimetype="application/json"
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
