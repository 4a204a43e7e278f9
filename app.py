"""Entry point: `app = create_app()`. `python app.py` serves it on PORT (default 5000)."""

import os
import sys

from ehbox_webapp import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    # One clear line naming the setting, not a traceback.
    print(f"configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    host = os.environ.get("HOST", "127.0.0.1")
    print(f" * ehbox-webapp ({app.config['SETTINGS'].env}) on {app.config['SETTINGS'].public_url}")
    app.run(host=host, port=port, threaded=True, debug=False)
