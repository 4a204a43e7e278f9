"""What caches may keep: nothing personal, and static files for good.

Every answer a view makes (pages, API answers, redirects, errors) depends on the session
or shows personal data, so it is `Cache-Control: no-store` with `Vary: Cookie`: neither a
shared proxy nor the browser's back-forward cache keeps the inbox after a logout. A view
that knows better sets its own `Cache-Control` (the public JWKS does).

Static files carry a hash of their content in their URL (`url_for('static', ...)` adds
`?v=`), so they are cached for a year: a changed file gets a new URL. Asked for without
the current hash, a file must be revalidated.

A served app works a file's hash out once per file name (the static files do not change
under a running server; a page asks some ten of them): no `stat` per `url_for`. With
debug or template auto-reload on, a file edited in place gets its new hash at once.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

STATIC_MAX_AGE = 365 * 24 * 3600
_hashes: dict[tuple[str, int, int], str] = {}
# (static folder, file name) -> hash, kept when the app runs without debug and reload.
# Only regular files under the name they have (no `./`, no `//`: a name from a request
# can be spelled in endless ways) are kept, so it holds no more than the folder's files.
_named: dict[tuple[str, str], str] = {}


def content_hash(filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256; None when it is not a static file.

    `filename` may come from a request (`/static/<filename>`): only a regular file inside
    the static folder is read, never `../` anything (a device would be read for ever).
    """
    app = current_app
    folder = app.static_folder
    if folder is None:
        return None
    kept = not (app.debug or app.config.get("TEMPLATES_AUTO_RELOAD"))
    if kept:
        digest = _named.get((folder, filename))
        if digest is not None:
            return digest
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    key = (path, found.st_mtime_ns, found.st_size)  # a file edited in place gets a new hash
    digest = _hashes.get(key)
    if digest is None:
        digest = _hashes[key] = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    if kept and os.path.normpath(filename) == filename:
        _named[(folder, filename)] = digest
    return digest


def add_static_hash(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        digest = content_hash(values["filename"])
        if digest:
            values["v"] = digest


def set_cache_headers(response: Response) -> Response:
    if request.endpoint == "static":
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == content_hash(filename):
            response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if "no-store" in response.headers["Cache-Control"]:
        response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(add_static_hash)
    app.after_request(set_cache_headers)
