"""`make run`'s terminal and the commands of another shell.

`make run` is `python app.py`: one readable line per request (none for static files) and a
start line naming the personas; gunicorn and the container keep JSON lines. The URL it serves
on is remembered in the instance folder, so `make token`, `make url` and the CLI of a new
shell reach it without repeating `PORT=`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from ehbox_webapp import serving
from ehbox_webapp.logs import JsonFormatter, TextFormatter
from ehbox_webapp.paths import ROOT
from ehbox_webapp.sandbox.loopback import free_port, wait_for

ACCESS = "ehbox_webapp.access"


def access_lines(caplog, formatter) -> list[str]:
    return [formatter.format(r) for r in caplog.records if r.name == ACCESS]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_request_lines_are_readable_in_text_and_json_for_the_collector(make_live_app, caplog, fmt):
    live = make_live_app({"LOG_FORMAT": fmt})
    caplog.set_level(logging.INFO, logger=ACCESS)
    requests.get(f"{live.url}/", timeout=10)
    requests.get(f"{live.url}/static/style.css", timeout=10)

    if fmt == "text":
        lines = access_lines(caplog, TextFormatter())
        assert len(lines) == 1, lines  # the page, not its stylesheet
        assert re.fullmatch(r"\d\d:\d\d:\d\d GET / 200 \d+ ms", lines[0]), lines
    else:
        lines = [json.loads(line) for line in access_lines(caplog, JsonFormatter())]
        assert [(x["path"], x["status"]) for x in lines] == [("/", 200), ("/static/style.css", 200)]
        assert all(x["request_id"] for x in lines)


def shell_environ(instance: Path, **extra: str) -> dict[str, str]:
    """A new shell: no PORT or PUBLIC_URL, no virtualenv on the PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "PUBLIC_URL", "VIRTUAL_ENV")}
    return {**env, "INSTANCE_PATH": str(instance), "ETEE_KEYSTORE": "", **extra}


def test_make_run_names_the_personas_and_another_shell_finds_its_port(tmp_path, sandbox_keystore):
    port = free_port()
    instance = tmp_path / "instance"
    env = shell_environ(instance, PORT=str(port), ETEE_KEYSTORE=str(sandbox_keystore))
    env.pop("LOG_FORMAT", None)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(f"http://localhost:{port}/healthz", 60, server)
        requests.get(f"http://localhost:{port}/static/style.css", timeout=10)
        requests.get(f"http://localhost:{port}/", timeout=10)
        # Another shell, told nothing: the command goes where the server is.
        shell = shell_environ(instance, ETEE_KEYSTORE=str(sandbox_keystore))
        url = subprocess.run(
            [str(Path(sys.executable).with_name("flask")), "--app", "app", "ehbox", "url"],
            cwd=ROOT,
            env=shell,
            capture_output=True,
            text=True,
            timeout=60,
        )
        told = subprocess.run(
            [str(Path(sys.executable).with_name("flask")), "--app", "app", "ehbox", "url"],
            cwd=ROOT,
            env={**shell, "PORT": "5999"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.terminate()
        server.wait(10)
    assert url.stdout == f"http://localhost:{port}\n", url.stderr
    assert told.stdout == "http://localhost:5999\n"  # what the shell says wins
    text = log.read_text()
    assert f" * ehbox-webapp (sandbox) on http://localhost:{port}" in text
    assert "log in as one of the sandbox personas: dr-alice (Alice Peeters, physician)" in text
    assert re.search(r"^\d\d:\d\d:\d\d GET / 200 \d+ ms$", text, re.M), text
    assert "/static/" not in text and '"logger"' not in text


def test_what_a_command_is_told_wins_over_the_remembered_url(tmp_path):
    serving.remember("http://localhost:5050", tmp_path)
    nothing = tmp_path / "no.env"
    env: dict[str, str] = {}
    assert serving.recall(tmp_path, env, nothing) == "http://localhost:5050"
    assert env == {"PUBLIC_URL": "http://localhost:5050"}
    assert serving.recall(tmp_path, {"PORT": "6000"}, nothing) is None
    dotenv = tmp_path / ".env"
    dotenv.write_text("PUBLIC_URL=https://ehbox.example.be\n")
    assert serving.recall(tmp_path, {}, dotenv) is None
    assert serving.recall(tmp_path / "never-served", {}, nothing) is None
