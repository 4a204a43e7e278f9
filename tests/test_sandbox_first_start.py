"""First start of the sandbox by several processes at once (gunicorn workers on a fresh instance).

Every process builds the whole sandbox (create_sandbox_app) on the same empty
instance folder at the same moment. They must end up with one realm key (the
same kid everywhere, so a token one worker signs verifies in the other), one
seed (as many boxes and messages as a single start makes), and one keystore per
persona in the key depot, whoever asked first.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey

from ehbox_webapp.sandbox import SandboxSettings, create_sandbox_app
from ehbox_webapp.sandbox.personas import ORGANISATIONS, PERSONAS
from ehbox_webapp.sandbox.tokens import RealmSigner

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = 3
KEY_FILE = "sandbox-realm-key.pem"

# One sandbox start, at a given moment; prints what it ended up with.
START = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from test_sandbox_first_start import start_sandbox
instance, start_at = Path(sys.argv[1]), float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
print(json.dumps(start_sandbox(instance)))
"""


def settings(instance: Path) -> SandboxSettings:
    base = "http://127.0.0.1:5999/sandbox"
    return SandboxSettings(
        base_url=base,
        instance_path=instance,
        client_jwks_url=f"{base}/jwks",
        web_client_id="ehbox-webapp",
        redirect_uris=(),
        post_logout_redirect_uris=(),
        public_client_id="ehbox-webapp-public",
        public_redirect_uris=(),
        m2m_client_id=ORGANISATIONS[0].client_id,
        ehbox_audience="sandbox-ehealthbox",
        persona_keystores_export=instance / "exported",
    )


def start_sandbox(instance: Path) -> dict[str, Any]:
    """Build the sandbox; sign a token; ask the depot for a persona's keys."""
    app = create_sandbox_app(settings(instance))
    signer = app.extensions["sandbox"]["signer"]
    token = signer.sign({"iss": "x", "exp": int(time.time()) + 60})
    keystores = app.extensions["sandbox_etee"].keystores(PERSONAS[0])
    return {"kid": signer.kid, "token": token, "keystores": len(keystores)}


def census(instance: Path) -> dict[str, int]:
    """How many rows the seed left, table by table."""
    with closing(sqlite3.connect(instance / "sandbox-ehealthbox.sqlite3")) as conn:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("boxes", "contents", "messages", "receipts", "publications")
        }


def assert_one_start(instance: Path, results: list[dict[str, Any]], reference: Path) -> None:
    kid = RSAKey.import_key((instance / KEY_FILE).read_bytes()).thumbprint()
    assert {r["kid"] for r in results} == {kid}, "every process signs with the key on disk"
    signer = RealmSigner(instance / KEY_FILE)
    for r in results:
        signer.verify(r["token"], issuer="x")
    assert census(instance) == census(reference), "seeded once"
    assert {r["keystores"] for r in results} == {1}
    assert len(list((instance / "sandbox-etee").glob("SSIN=*.acc-p12"))) == 1
    assert len(list((instance / "exported").glob("SSIN=*.acc-p12"))) == 1
    leftovers = [p.name for p in instance.rglob(".*") if p.is_file()]
    assert leftovers == [], leftovers


def reference_start(tmp_path: Path) -> Path:
    instance = tmp_path / "reference"
    start_sandbox(instance)
    return instance


def test_processes_starting_together_share_one_key_one_seed_one_keystore(tmp_path) -> None:
    reference = reference_start(tmp_path)
    instance = tmp_path / "instance"
    start_at = time.time() + 3.0  # after every interpreter has imported the app
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", START, str(instance), str(start_at), str(Path(__file__).parent)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert_one_start(instance, results, reference)


def test_threads_starting_together_share_one_key_one_seed_one_keystore(tmp_path) -> None:
    reference = reference_start(tmp_path)
    instance = tmp_path / "instance"
    barrier = threading.Barrier(PROCESSES)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(start_sandbox(instance))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(PROCESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert_one_start(instance, results, reference)


class _Finalized:
    """Garbage whose finalizer runs Python code: a collection may switch threads there."""

    def __init__(self) -> None:
        self.cycle = self

    def __del__(self) -> None:
        sum(range(50))


def test_apps_built_by_threads_at_once_all_build() -> None:
    """Werkzeug compiles each URL rule with `ast.parse`; on CPython 3.11 two threads doing
    that at once around a collection fail with "AST constructor recursion depth mismatch"
    (python/cpython#106905), as the sandbox started by threads once did at random. With
    plain Flask this fails every time under these settings; the factories' App class adds
    rules one thread at a time."""
    import gc

    from ehbox_webapp.flaskapp import App

    errors: list[BaseException] = []

    def build() -> None:
        try:
            for _ in range(10):
                app = App("built-in-a-thread")
                for i in range(30):
                    _Finalized()
                    app.add_url_rule(f"/r{i}/<int:a>", f"e{i}", lambda a: "")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    gc.set_threshold(50, 2, 2)  # and collect often
    try:
        threads = [threading.Thread(target=build) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
    assert errors == []


def test_realm_key_written_at_once_by_many_is_the_same_everywhere(tmp_path) -> None:
    """The key file itself, hammered: 8 threads create it; all read back the winner."""
    barrier = threading.Barrier(8)
    kids: list[str] = []

    def run() -> None:
        barrier.wait()
        kids.append(RealmSigner(tmp_path / KEY_FILE).kid)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(kids) == 8 and len(set(kids)) == 1
    # The signing key and the refresh-token key, each private, and no half-written file left.
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted([KEY_FILE, "sandbox-realm-refresh.key"])
    assert all((tmp_path / name).stat().st_mode & 0o777 == 0o600 for name in files)
