"""Every shell block of the README works pasted into a new shell while `make run` serves.

The app is started as `make run` starts it (`.venv/bin/python app.py`, on a free port, in a
throw-away instance folder: `INSTANCE_PATH`, so the repository's own instance is left alone).
Then each ```sh block runs as written in a new `bash -e -o pipefail`: no virtualenv active,
no `PORT` or `PUBLIC_URL`, and another `flask` first on the PATH that knows no `ehbox`
command, as on a machine with Flask installed elsewhere. A block that must not run says so
on its first line (`# not run by the README test: <why>`, see the README's contributor notes).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest
import requests

from ehbox_webapp.paths import ROOT
from ehbox_webapp.sandbox.loopback import free_port, wait_for

README = ROOT / "README.md"
VENV = ROOT / ".venv" / "bin"
NOT_RUN = "# not run by the README test:"
BLOCK_SECONDS = 180
BLOCK = re.compile(r"^```sh\n(.*?)^```\n", re.S | re.M)
# What a new shell does not have: a virtualenv, make's own variables (a nested make would
# print "Entering directory" into `$(make token)`), the port or URL make run was given.
NOT_IN_A_NEW_SHELL = ("VIRTUAL_ENV", "PORT", "PUBLIC_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
ANOTHER_FLASK = """#!/bin/sh
echo "Usage: flask [OPTIONS] COMMAND [ARGS]..." >&2
echo "Error: No such command '$3'." >&2
exit 2
"""


def blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


RUN = [(line, body) for line, body in blocks() if not body.startswith(NOT_RUN)]


def test_every_block_left_out_says_why():
    left_out = [body.splitlines()[0] for _, body in blocks() if body.startswith(NOT_RUN)]
    assert left_out and all(len(line) > len(NOT_RUN) + 10 for line in left_out), left_out
    assert len(RUN) >= 5


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app as `make run` serves it; (the new shell's environment, its URL)."""
    if not (VENV / "flask").exists():
        pytest.skip(f"{VENV} is missing: the README's commands need `make run`'s virtualenv")
    if (ROOT / ".env").exists():
        pytest.skip("a .env is present: the README's commands would run against its settings")
    folder = tmp_path_factory.mktemp("readme")
    instance = folder / "instance"
    fake = folder / "another-flask"
    fake.mkdir()
    (fake / "flask").write_text(ANOTHER_FLASK)
    (fake / "flask").chmod(0o755)
    base = {k: v for k, v in os.environ.items() if k not in NOT_IN_A_NEW_SHELL}
    base.pop("LOG_FORMAT", None)
    shell = {
        **base,
        "PATH": f"{fake}:/usr/local/bin:/usr/bin:/bin",
        "INSTANCE_PATH": str(instance),
    }
    # `make keystore`, then `make run`'s own command.
    subprocess.run(
        [str(VENV / "flask"), "--app", "app", "ehbox", "sandbox-keystore"],
        cwd=ROOT,
        env=shell,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = (folder / "make-run.log").open("wb")
    server = subprocess.Popen(
        [str(VENV / "python"), "app.py"],
        cwd=ROOT,
        env={**shell, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://localhost:{port}/healthz", 90, server)
        yield shell, f"http://localhost:{port}"
    finally:
        server.terminate()
        server.wait(15)
        log.close()


@pytest.mark.parametrize(("line", "body"), RUN, ids=[f"README.md:{line}" for line, _ in RUN])
def test_the_readme_command_works_pasted_into_a_new_shell(served, line, body):
    shell, url = served
    # A session of its own: a block that starts a server by mistake is ended whole.
    block = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", body],
        cwd=ROOT,
        env=shell,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = block.communicate(timeout=BLOCK_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(block.pid, signal.SIGKILL)
        output, _ = block.communicate()
        pytest.fail(f"README.md:{line} still ran after {BLOCK_SECONDS} s:\n{output[-3000:]}")
    assert block.returncode == 0, f"README.md:{line} exited {block.returncode}:\n{output[-3000:]}"
    assert "No such command" not in output and "Traceback" not in output, output[-3000:]


def test_the_commands_went_where_make_run_serves(served):
    """`make url` in a new shell names the port the server was started on, not 5000."""
    shell, url = served
    said = subprocess.run(
        ["make", "url"], cwd=ROOT, env=shell, capture_output=True, text=True, timeout=60
    )
    assert said.stdout == f"{url}\n", said.stderr
    assert requests.get(f"{said.stdout.strip()}/api/v1", timeout=10).json()["reference"] == (
        f"{url}/api/v1/reference"
    )


def test_readme_names_no_bare_flask_command():
    """`flask --app app ...` fails where another flask comes first: the README spells
    `.venv/bin/flask` (in blocks and in the text)."""
    text = README.read_text(encoding="utf-8")
    bare = [m.group(0) for m in re.finditer(r"(?<![/\w-])flask --app app[^\n`]*", text)]
    assert bare == []
