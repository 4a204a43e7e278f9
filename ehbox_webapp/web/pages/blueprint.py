"""The mailbox pages' blueprint, on its own so that the view modules import it, not the package."""

from flask import Blueprint

bp = Blueprint("mailbox", __name__, url_prefix="/box")
