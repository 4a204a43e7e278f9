"""Entry point: `app = create_app()`. `python app.py` (what `make run` runs) serves it on PORT
(default 5000) with Flask's development server; the container serves it with gunicorn."""

import os
import sys
from pathlib import Path

from dotenv import dotenv_values

from ehbox_webapp import ConfigError, create_app, serving
from ehbox_webapp.paths import ROOT

SERVING = __name__ == "__main__"

if SERVING and not (os.environ.get("LOG_FORMAT") or dotenv_values(ROOT / ".env").get("LOG_FORMAT")):
    # A developer's terminal: one readable line per request (none for static files);
    # gunicorn and the container keep JSON lines for the log collector.
    os.environ["LOG_FORMAT"] = "text"
elif serving.running_a_command():
    # A command typed in another shell talks to the server `make run` started (its port).
    serving.recall(serving.instance_folder())

try:
    app = create_app()
except ConfigError as exc:
    # One clear line naming the setting, not a traceback.
    print(f"configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None


def start_line(settings) -> str:
    """What the terminal says first: where the app serves and, in the sandbox, who to be."""
    line = f" * ehbox-webapp ({settings.env}) on {settings.public_url}"
    if settings.is_sandbox:
        from ehbox_webapp.sandbox.personas import PERSONAS

        people = ", ".join(f"{p.id} ({p.name}, {p.profession})" for p in PERSONAS)
        line += f"\n * log in as one of the sandbox personas: {people}"
    return line


if SERVING:
    port = int(os.environ.get("PORT", "5000"))
    host = os.environ.get("HOST", "127.0.0.1")
    settings = app.config["SETTINGS"]
    serving.remember(settings.public_url, Path(app.instance_path))
    print(start_line(settings), flush=True)
    app.run(host=host, port=port, threaded=True, debug=False)
