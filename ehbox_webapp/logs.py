"""Logging set-up that never writes tokens, codes or personal data.

Query strings carry authorization codes, `state`, and `id_token_hint` on the
way through the login and logout redirects; access logs print request lines.
So every query string in a log line is cut before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

_QUERY = re.compile(r"\?[^\s\"']*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """Remove query strings, Bearer tokens and anything shaped like a JWT."""
    text = _QUERY.sub("?[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _JWT.sub("[jwt redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


# `json.dumps(entry, ensure_ascii=False)` builds this encoder anew for every line.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and `http` when present."""

    _stamped: tuple[int, str] = (-1, "")  # the last line's second, formatted

    def format(self, record: logging.LogRecord) -> str:
        second, stamp = self._stamped
        if second != int(record.created):  # a line per request: most share their second
            stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
            self._stamped = (int(record.created), stamp)
        entry = {
            "ts": stamp + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if hasattr(record, "http"):
            entry.update(record.http)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return _ENCODE(entry)


class TextFormatter(logging.Formatter):
    """A developer's terminal: `12:04:31 GET /box/INBOX 200 41 ms`, other lines as
    `12:04:31 WARNING logger: message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        http = getattr(record, "http", None)
        if not isinstance(http, dict):
            return super().format(record)
        took = http.get("duration_ms")
        line = f"{self.formatTime(record, self.datefmt)} {http.get('method')} {http.get('path')}"
        line += f" {http.get('status')}" + (f" {took:.0f} ms" if took is not None else "")
        return line


def install(level: int = logging.INFO, fmt: str = "json") -> None:
    """Configure the root logger once, with the redacting filter on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        root.addHandler(handler)
        root.setLevel(level)
    for handler in root.handlers:
        if fmt == "json":
            formatter = JsonFormatter()
            formatter.converter = time.gmtime
            handler.setFormatter(formatter)
        elif isinstance(handler.formatter, JsonFormatter) or handler.formatter is None:
            handler.setFormatter(TextFormatter())
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    # The app logs one line per request itself: the development server's access log
    # (werkzeug) and gunicorn's would only repeat it, without the request id.
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.setLevel(logging.WARNING)
    if not any(isinstance(f, RedactingFilter) for f in werkzeug.filters):
        werkzeug.addFilter(RedactingFilter())


def install_cli(level: int = logging.ERROR) -> None:
    """The commands' logging: plain text on stderr, errors only (a command words its own
    warnings and failures).

    JSON lines are for the server's log collector; in a terminal they would land in the
    middle of a command's own output.
    """
    install(level, "text")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler:  # ours, not a file's or a test's
            handler.setStream(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
