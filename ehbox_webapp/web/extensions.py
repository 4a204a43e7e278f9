"""Flask extensions, created here and bound to the app in `create_app`."""

from flask import current_app
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def services():
    """The app's :class:`ehbox_webapp.services.Services`."""
    return current_app.extensions["services"]


def settings():
    """The app's validated :class:`ehbox_webapp.config.Settings`."""
    return current_app.config["SETTINGS"]
