"""Start and stop the servers under test: gunicorn (app or bare handler) and Redis.

Servers listen on 127.0.0.1 only, on free ports, with the environment of
tests/test_instances.py (EHBOX_ENV=sandbox, PUBLIC_URL, PORT, ETEE_KEYSTORE,
INSTANCE_PATH and, with several workers, REDIS_URL).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from ehbox_webapp.sandbox.loopback import free_port, start_gunicorn, start_redis, wait_for

ROOT = Path(__file__).resolve().parent.parent
BENCH_AGENT = "ehbox-bench/0.1.0"
EHEALTHBOX_API = "/sandbox/ehealthbox/v1"
BENCH_FROM = "bench@example.org"
# Milliseconds every sandbox eHealthBox call waits first (read by bench/wsgi.py).
LATENCY_ENV = "BENCH_EHEALTH_LATENCY_MS"
# Settings the bench decides; never inherited from the caller's environment.
CONTROLLED = frozenset(
    {
        "SANDBOX_MAX_MESSAGE_MB",
        "MAX_UPLOAD_MB",
        "WEB_CONCURRENCY",
        "REDIS_URL",
        "GUNICORN_THREADS",
        "INSTANCE_PATH",
        "ETEE_KEYSTORE",
        "PUBLIC_URL",
        LATENCY_ENV,
        "EHBOX_API_URL",
        "SANDBOX_FAULTS",
    }
)


def make_keystore(directory: Path) -> Path:
    """A sandbox keystore of the same structure as eHealth's (as the tests make it)."""
    from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD
    from ehbox_webapp.ehealth.keystore import generate_keystore

    return generate_keystore(
        directory / "sandbox.acc-p12",
        SANDBOX_KEYSTORE_PASSWORD,
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
    )


@dataclass
class Redis:
    """A throw-away redis-server on loopback (no persistence)."""

    url: str
    process: subprocess.Popen

    @classmethod
    def start(cls, workdir: Path) -> Redis | None:
        started = start_redis(workdir)
        return cls(*started) if started else None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@dataclass
class Server:
    """One gunicorn (master + workers) serving `target` with gunicorn.conf.py."""

    url: str
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str]
    _log: IO[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        target: str,
        workdir: Path,
        name: str,
        *,
        workers: int = 1,
        keystore: Path | None = None,
        instance: Path | None = None,
        redis_url: str = "",
        ready_path: str = "/healthz",
        port: int | None = None,
        public_url: str | None = None,
        root: Path = ROOT,
        **extra_env: str,
    ) -> Server:
        """`port` (default: a free one); `public_url` when it is not the server's own URL;
        `root`: the checkout whose code it serves (another one to compare with)."""
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        inherited = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
        env = {
            **inherited,
            "EHBOX_ENV": "sandbox",
            "PUBLIC_URL": public_url or url,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "LOG_FORMAT": "json",
            "HTTP_TIMEOUT": "30",
            "SANDBOX_FAULTS": "on",  # the bench may inject faults; a shared demo may not
            **extra_env,
        }
        if keystore is not None:
            env["ETEE_KEYSTORE"] = str(keystore)
        if instance is not None:
            env["INSTANCE_PATH"] = str(instance)
        if redis_url:
            env["REDIS_URL"] = redis_url
        log_path = workdir / f"gunicorn-{name}.log"
        log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        try:
            process = start_gunicorn(target, port, env, cwd=root, log=log)
        except FileNotFoundError as exc:
            log.close()
            raise RuntimeError(f"{exc} (pip install -e '.[bench]')") from None
        server = cls(url=url, process=process, log_path=log_path, env=env, _log=log)
        try:
            wait_for(url + ready_path, process=process)
        except RuntimeError:
            server.stop()
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{target} did not start; end of its log:\n{tail}") from None
        return server

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- the bench wrapper's endpoints (bench.wsgi) ---------------------------------------------
    def counts(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/_bench/counts", timeout=10).json()

    def reset_counts(self) -> None:
        requests.post(f"{self.url}/_bench/reset", timeout=10).raise_for_status()

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children (the app runs in those)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)


def latency_env(latency_ms: int) -> dict[str, str]:
    """The environment that makes a bench.wsgi server's eHealthBox wait `latency_ms` first."""
    return {LATENCY_ENV: str(latency_ms)} if latency_ms else {}


def start_bare(workdir: Path, name: str, upstream_api: str, token: str, workers: int = 1) -> Server:
    """The bare Flask view of bench/bare_app.py, calling `upstream_api` with `token`."""
    return Server.start(
        "bench.bare_app:app",
        workdir,
        name,
        workers=workers,
        BENCH_UPSTREAM=upstream_api,
        BENCH_UPSTREAM_TOKEN=token,
    )


def start_pair(
    workdir: Path,
    name: str,
    *,
    workers: int = 1,
    keystore: Path,
    instance: Path,
    redis_url: str = "",
    latency_ms: int = 0,
) -> tuple[Server, Server]:
    """(eHealthBox, app): the sandbox in a server of its own, the app calling it over HTTP.

    As eHealth runs elsewhere than the app, the app's eHealthBox calls (EHBOX_API_URL)
    go to another gunicorn serving the same instance folder. That server's public URL
    is the app's, so the app's own (embedded) realm issues the tokens it accepts; the
    app's embedded eHealthBox is not used. With `latency_ms`, that server makes every
    eHealthBox request wait so long first (bench/wsgi.py).
    """
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    upstream = Server.start(
        "bench.wsgi:app",
        workdir,
        f"{name}-ehealthbox",
        workers=workers,
        keystore=keystore,
        instance=instance,
        redis_url=redis_url,
        public_url=app_url,
        **latency_env(latency_ms),
    )
    try:
        app = Server.start(
            "bench.wsgi:app",
            workdir,
            name,
            workers=workers,
            keystore=keystore,
            instance=instance,
            redis_url=redis_url,
            port=app_port,
            EHBOX_API_URL=upstream.url + EHEALTHBOX_API,
        )
    except BaseException:
        upstream.stop()
        raise
    return upstream, app
