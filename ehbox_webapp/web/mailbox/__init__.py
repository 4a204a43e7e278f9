"""The mailbox pages: folders, message list, message, compose (being written)."""

from flask import Blueprint

bp = Blueprint("mailbox", __name__, url_prefix="/box")
