"""Where the project lives on disk: the repository root (templates, static files, certs,
`.env`, the default instance folder).

On its own so that the command line can use it without importing the app factory.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
