"""Fixtures: the app wired to panva's oidc-provider (tests/oidc_provider/server.mjs).

One node process serves two realms, `.../auth/realms/healthcare` and `.../auth/realms/M2M`;
the app is configured for them through its ordinary settings only (IAM_ISSUER,
IAM_M2M_ISSUER, IAM_CLIENT_ID, IAM_M2M_CLIENT_ID, EHBOX_AUDIENCE). The provider registers
the app as a private_key_jwt client whose `jwks_uri` is the app's own JWKS URL, so the
app's port must be known before node starts: the app's server is bound first (with a
placeholder), node is started with that URL, then the app is built against node's issuers.

Expose the fixtures in a test module with `oidc_app = oidc_fixtures.oidc_app` (an
assignment, as with tests/ehbox_fixtures.py).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveApp, sandbox_environ
from npm_tools import npm_installed
from werkzeug.serving import make_server

from ehbox_webapp import create_app
from ehbox_webapp.config import SANDBOX_PUBLIC_CLIENT_ID

SERVER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "ehbox-webapp"
PUBLIC_CLIENT_ID = SANDBOX_PUBLIC_CLIENT_ID  # the app's IAM_PUBLIC_CLIENT_ID, left as is
M2M_CLIENT_ID = "cbe-0899999949"
EHBOX_AUDIENCE = "ehbox-api"
START_TIMEOUT = 60.0  # it starts in about 0.4 s; a busy shared machine can stall it


@dataclass
class OidcProvider:
    """The running `node server.mjs`: its issuers and everything it printed."""

    process: subprocess.Popen
    port: int
    issuer: str
    m2m_issuer: str
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "".join(self.output[-200:])

    def wait_for_output(self, text: str, timeout: float = 5.0) -> bool:
        """Whether `text` shows up in what the provider printed, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in list(self.output)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class OidcApp:
    """The app under test (`live`) and the provider it trusts (`op`)."""

    live: LiveApp
    op: OidcProvider

    @property
    def app(self) -> Any:
        return self.live.app

    @property
    def services(self) -> Any:
        return self.live.app.extensions["services"]


def node_executable() -> str:
    """`node`, with oidc-provider installed (`npm ci` once if needed), or skip with why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the oidc-provider interop tests need Node.js >= 20.19")
    npm_installed(SERVER_DIR, "oidc-provider")
    return node


def start_provider(node: str, app_url: str, **config: Any) -> OidcProvider:
    """Start server.mjs for the app at `app_url`; return once it printed its ready line."""
    settings = {
        "appUrl": app_url,
        "port": 0,
        "clientId": CLIENT_ID,
        "publicClientId": PUBLIC_CLIENT_ID,
        "m2mClientId": M2M_CLIENT_ID,
        "audiences": [EHBOX_AUDIENCE],
        **config,
    }
    process = subprocess.Popen(  # noqa: S603 - node from PATH, our own script and settings
        [node, "server.mjs", json.dumps(settings)],
        cwd=SERVER_DIR,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env={**os.environ, "NODE_ENV": "test"},
    )
    output: list[str] = []
    ready: queue.Queue[dict] = queue.Queue()

    def drain() -> None:  # keep reading, or a chatty provider would block on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("ready "):
                ready.put(json.loads(line[len("ready ") :]))

    reader = threading.Thread(target=drain, daemon=True, name="oidc-provider-output")
    reader.start()
    started = time.monotonic()
    while True:
        try:
            info = ready.get(timeout=0.1)
            break
        except queue.Empty:
            exited = process.poll()
            waited = time.monotonic() - started
            if exited is None and waited <= START_TIMEOUT:
                continue
            if exited is None:
                process.kill()
                why = f"no ready line after {waited:.0f} s (killed)"
            else:
                why = f"it exited with {exited} after {waited:.1f} s"
            process.wait(10)
            reader.join(10)  # what it printed last (an error, often) is read to the end
            raise RuntimeError(f"oidc-provider did not start: {why}\n" + "".join(output)) from None
    return OidcProvider(
        process=process,
        port=info["port"],
        issuer=info["issuer"],
        m2m_issuer=info["m2mIssuer"],
        output=output,
    )


def serve_with_provider(tmp_path: Path, keystore: Path, node: str) -> OidcApp:
    """Bind the app's port, start oidc-provider for it, then build the app for its issuers."""

    def placeholder(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]

    server = make_server("127.0.0.1", 0, placeholder, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        op = start_provider(node, url)
    except BaseException:
        server.server_close()
        raise
    env = sandbox_environ(
        url,
        keystore,
        IAM_ISSUER=op.issuer,
        IAM_M2M_ISSUER=op.m2m_issuer,
        IAM_CLIENT_ID=CLIENT_ID,
        IAM_M2M_CLIENT_ID=M2M_CLIENT_ID,
        EHBOX_AUDIENCE=EHBOX_AUDIENCE,
    )
    instance = tmp_path / "instance"
    try:
        app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True}, environ=env)
    except BaseException:
        op.stop()
        server.server_close()
        raise
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="app-under-test")
    thread.start()
    live = LiveApp(
        url=url, app=app, server=server, thread=thread, instance_path=instance, environ=env
    )
    return OidcApp(live=live, op=op)


@pytest.fixture(scope="session")
def oidc_app(tmp_path_factory, sandbox_keystore) -> Iterator[OidcApp]:
    """The app, on a loopback port, configured for the oidc-provider realms (one per run)."""
    node = node_executable()
    world = serve_with_provider(
        tmp_path_factory.mktemp("oidc-provider-app"), sandbox_keystore, node
    )
    try:
        yield world
    finally:
        world.live.stop()
        world.live.server.server_close()
        world.op.stop()
