"""The /api/v1 blueprint, on its own so that the route modules import it, not the package."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
