"""`/api/v1`: where the API starts, for a browser and for a program.

- `GET /api/v1` answers a JSON client with a small index (links to the OpenAPI document and
  the reference page, and how to authenticate), and sends a browser to the reference page.
- `GET /api/v1/reference` renders the OpenAPI document with Swagger UI, served by the app
  (static/vendor/swagger-ui/), under the app's usual Content-Security-Policy. Without
  JavaScript it lists the operations.

Both are public, like the document itself: they show no data, only how to ask for it.
"""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for

from ..extensions import settings
from .blueprint import bp
from .openapi import openapi_document

METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/", strict_slashes=False)
def index():
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wanted == "text/html":
        return redirect(url_for("api.reference"), 303)
    base = settings().public_url
    info = openapi_document()["info"]
    return jsonify(
        title=info["title"],
        version=info["version"],
        openapi=f"{base}{url_for('api.openapi')}",
        reference=f"{base}{url_for('api.reference')}",
        authentication=(
            "Authorization: Bearer <an I.AM Connect access token for this application>, "
            "or the web login's session cookie with X-CSRFToken on POST and DELETE"
        ),
    )


@bp.get("/reference")
def reference():
    operations = [
        {"method": method.upper(), "path": f"/api/v1{path}", "summary": op.get("summary", "")}
        for path, item in openapi_document()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    return render_template("api/reference.html", operations=operations)
