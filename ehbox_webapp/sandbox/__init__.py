"""The embedded sandbox: a simulated I.AM Connect and eHealthBox.

It is a WSGI application of its own, mounted at `/sandbox` on the same server
when `EHBOX_ENV=sandbox`. The web app never imports it on a request path: it
reaches the sandbox over HTTP, exactly as it reaches eHealth. Only
`create_app` mounts it, and the CLI generates its keystore.

The sandbox plays the eHealth platform, so it states the platform's rules itself
(`ehealthbox/platform.py`, `ehealthbox/recipients.py`) and imports nothing of the
app's use cases (`mailbox`) or pages (`web`): a wrong limit in the app is then
refused by the sandbox as eHealth would refuse it.

This file only re-exports: the settings live in `settings.py`, the app in `app.py`.
"""

from __future__ import annotations

from .app import create_sandbox_app
from .settings import TEMPLATES, SandboxSettings

__all__ = ["TEMPLATES", "SandboxSettings", "create_sandbox_app"]
