"""A real Keycloak 26 on loopback, set up as eHealth's I.AM Connect realms: `make keycloak`.

I.AM Connect is Keycloak (docs/ehealth-platform.md §1). This fetches the pinned
distribution from Maven Central by name (`org.keycloak:keycloak-quarkus-dist`, checked
against the SHA-256 in `keycloak-dist.sha256` beside this file), keeps it in a git-ignored
cache folder, and starts it in development mode with the two realms of this folder:

- `healthcare`: the app's confidential client (signed-JWT authentication, keys from the
  app's JWKS URL), the public PKCE client, the eHealthBox API's client as the
  token-exchange audience, one user per sandbox persona;
- `M2M`: the organisation client `cbe-0899999949` (signed JWT, same keys).

The realm files name the app by `${EHBOX_APP_URL}` (its PUBLIC_URL) and the personas'
password by `${EHBOX_PERSONA_PASSWORD}`; Keycloak fills them in from the environment when
it imports them. The legacy (V1) token exchange needs a fine-grained permission that a
realm file cannot carry: :func:`grant_v1_exchange` sets it through the admin API.

Used by `make keycloak` (`python deploy/keycloak/keycloak.py`) and by the tests'
session fixture (tests/keycloak_fixtures.py). Only the standard library: it runs before
anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PIN = HERE / "keycloak-dist.sha256"
REALM_FILES = ("realm-healthcare.json", "realm-M2M.json")
ARTIFACT = "org.keycloak:keycloak-quarkus-dist"
JAVA_NEEDED = 21  # Keycloak 26 runs on Java 21 or newer
# Development mode, in memory: every start imports the committed realms afresh.
# token-exchange:v1 with admin-fine-grained-authz:v1 is the legacy exchange eHealth's
# sample implies; the standard (V2) exchange is on by default.
FEATURES = "token-exchange:v1,admin-fine-grained-authz:v1"
RELATIVE_PATH = "/auth"  # I.AM Connect's layout: https://api-acpt.ehealth.fgov.be/auth/realms/...
DEFAULT_PORT = 8180
START_TIMEOUT = 240.0
EHBOX_AUDIENCE = "sandbox-ehealthbox"
V1_CLIENT = "ehbox-webapp-public"  # exchanges with the legacy V1 permission, as eHealth's sample


class MissingTool(RuntimeError):
    """Java 21+ or Maven is not installed: the message says what to install."""


def cache_folder() -> Path:
    return Path(os.environ.get("KEYCLOAK_CACHE") or ROOT / ".cache" / "keycloak")


def pinned() -> tuple[str, str, str]:
    """(version, sha256, file name) of the pinned distribution."""
    digest, name = PIN.read_text().split()[:2]
    match = re.fullmatch(r"keycloak-quarkus-dist-(.+)\.tar\.gz", name)
    if not match:
        raise ValueError(f"{PIN}: unexpected file name {name!r}")
    return match.group(1), digest, name


# -- Java -----------------------------------------------------------------------------
def java_version(home: Path) -> int | None:
    """The feature version of the Java at `home` (its `release` file), or None."""
    release = home / "release"
    if not (home / "bin" / "java").exists() or not release.exists():
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(errors="replace"), re.M)
    return int(match.group(1)) if match else None


def find_java() -> Path:
    """A Java home of version 21 or newer: KEYCLOAK_JAVA_HOME, JAVA_HOME, /usr/lib/jvm, PATH."""
    candidates: list[Path] = []
    for variable in ("KEYCLOAK_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(variable):
            candidates.append(Path(os.environ[variable]))
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += sorted((p for p in jvm.iterdir() if p.is_dir()), reverse=True)
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve().parents[1])
    seen = []
    for home in candidates:
        version = java_version(home)
        seen.append(f"{home} ({version or 'unknown'})")
        if version is not None and version >= JAVA_NEEDED:
            return home
    raise MissingTool(
        f"Keycloak 26 needs Java {JAVA_NEEDED} or newer (a JDK or JRE, e.g. Temurin 21 or 25); "
        "install one and set JAVA_HOME or KEYCLOAK_JAVA_HOME to it. Looked at: "
        + (", ".join(seen) or "nothing: no JAVA_HOME, no /usr/lib/jvm, no java on PATH")
    )


# -- the distribution -----------------------------------------------------------------
def fetch(cache: Path | None = None, log=print) -> Path:
    """The pinned Keycloak, unpacked in the cache (fetched and checked the first time)."""
    cache = cache or cache_folder()
    version, digest, name = pinned()
    home = cache / f"keycloak-{version}"
    marker = home / ".sha256-checked"
    if marker.exists() and marker.read_text().strip() == digest:
        return home
    archive = cache / name
    cache.mkdir(parents=True, exist_ok=True)
    if not archive.exists() or sha256(archive) != digest:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise MissingTool(
                "Maven (mvn) fetches Keycloak from Maven Central: install it "
                "(Debian: apt-get install maven)"
            )
        log(f"Fetching {ARTIFACT}:{version} from Maven Central...")
        fetched = subprocess.run(  # noqa: S603 - mvn from PATH, fixed arguments
            [
                mvn,
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact={ARTIFACT}:{version}:tar.gz",
                f"-DoutputDirectory={cache}",
            ],
            cwd=cache,
            capture_output=True,
            text=True,
        )
        if fetched.returncode != 0 or not archive.exists():
            raise RuntimeError(
                f"mvn could not fetch {ARTIFACT}:{version} (exit {fetched.returncode}):\n"
                + (fetched.stdout + fetched.stderr)[-4000:]
            )
    actual = sha256(archive)
    if actual != digest:
        archive.unlink()
        raise RuntimeError(
            f"{name}: SHA-256 {actual} is not the pinned {digest} ({PIN.name}); file removed"
        )
    if home.exists():
        shutil.rmtree(home)
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")
    (home / "bin" / "kc.sh").chmod(0o755)
    marker.write_text(digest + "\n")
    return home


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- running it -----------------------------------------------------------------------
@dataclass
class Keycloak:
    """A started Keycloak: its process, URLs and the passwords it was started with."""

    process: subprocess.Popen
    port: int
    admin_password: str
    persona_password: str
    log_path: Path
    started_at: float
    ready_after: float | None = None  # seconds from start to both realms answering

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{RELATIVE_PATH}"

    def issuer(self, realm: str) -> str:
        return f"{self.base_url}/realms/{realm}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start(
    app_url: str,
    *,
    port: int = DEFAULT_PORT,
    persona_password: str | None = None,
    home: Path | None = None,
    java_home: Path | None = None,
    log_path: Path | None = None,
) -> Keycloak:
    """Start Keycloak in the background (returns at once; then call :func:`wait_ready`)."""
    home = home or fetch()
    java_home = java_home or find_java()
    import_dir = home / "data" / "import"
    import_dir.mkdir(parents=True, exist_ok=True)
    for name in REALM_FILES:
        shutil.copyfile(HERE / name, import_dir / name)
    admin_password = secrets.token_urlsafe(18)
    persona_password = persona_password or secrets.token_urlsafe(12)
    log_path = log_path or cache_folder() / f"keycloak-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "JAVA_HOME": str(java_home),
        "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
        "KC_BOOTSTRAP_ADMIN_PASSWORD": admin_password,
        "EHBOX_APP_URL": app_url.rstrip("/"),
        "EHBOX_PERSONA_PASSWORD": persona_password,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the pinned distribution's own script
            [
                str(home / "bin" / "kc.sh"),
                "start-dev",
                "--http-host=127.0.0.1",
                f"--http-port={port}",
                f"--http-relative-path={RELATIVE_PATH}",
                "--db=dev-mem",
                "--import-realm",
                f"--features={FEATURES}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C in `make keycloak` is forwarded by us, once
        )
    return Keycloak(process, port, admin_password, persona_password, log_path, time.monotonic())


def wait_ready(keycloak: Keycloak, timeout: float = START_TIMEOUT) -> Keycloak:
    """Wait until both realms answer and the V1 exchange permission is set; raise if not."""
    deadline = time.monotonic() + timeout
    while True:
        exited = keycloak.process.poll()
        if exited is not None:
            raise RuntimeError(
                f"Keycloak exited with {exited} before it was ready; its log ends with:\n"
                + keycloak.log()[-4000:]
            )
        if all(
            _answers(keycloak.issuer(r) + "/.well-known/openid-configuration")
            for r in (
                "healthcare",
                "M2M",
            )
        ):
            break
        if time.monotonic() > deadline:
            keycloak.stop()
            raise RuntimeError(
                f"Keycloak did not answer within {timeout:.0f} s; its log ends with:\n"
                + keycloak.log()[-4000:]
            )
        time.sleep(0.5)
    grant_v1_exchange(keycloak)
    keycloak.ready_after = time.monotonic() - keycloak.started_at
    return keycloak


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


# -- the admin API ----------------------------------------------------------------------
class Admin:
    """The few admin REST calls the set-up and the tests need (master realm's admin)."""

    def __init__(self, keycloak: Keycloak):
        self.base = keycloak.base_url
        body = urllib.parse.urlencode(
            {
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": "admin",
                "password": keycloak.admin_password,
            }
        ).encode()
        token_url = f"{self.base}/realms/master/protocol/openid-connect/token"
        self.token = self._send("POST", token_url, body, "application/x-www-form-urlencoded")[
            "access_token"
        ]

    def _send(self, method: str, url: str, body: bytes | None, content_type: str | None):
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            data = response.read()
        return json.loads(data) if data else None

    def call(self, method: str, path: str, payload=None):
        body = None if payload is None else json.dumps(payload).encode()
        return self._send(
            method, f"{self.base}/admin/realms{path}", body, "application/json" if body else None
        )

    def client(self, realm: str, client_id: str) -> dict:
        found = self.call("GET", f"/{realm}/clients?clientId={urllib.parse.quote(client_id)}")
        if not found:
            raise LookupError(f"no client {client_id} in realm {realm}")
        return found[0]

    def update_client(self, realm: str, client_id: str, **changes) -> dict:
        """Change a client's representation (attributes are merged); return what it was."""
        before = self.client(realm, client_id)
        after = json.loads(json.dumps(before))
        attributes = changes.pop("attributes", None)
        after.update(changes)
        if attributes:
            after["attributes"] = {**after.get("attributes", {}), **attributes}
        self.call("PUT", f"/{realm}/clients/{before['id']}", after)
        return before

    def restore_client(self, realm: str, representation: dict) -> None:
        self.call("PUT", f"/{realm}/clients/{representation['id']}", representation)


def grant_v1_exchange(
    keycloak: Keycloak, realm: str = "healthcare", target: str = EHBOX_AUDIENCE
) -> None:
    """Let V1_CLIENT exchange its tokens for `target` (the legacy fine-grained permission).

    Keycloak's documented procedure (token exchange, "Granting permission for the
    exchange"): enable the target client's permissions, give its `token-exchange`
    permission a client policy naming the requesting client.
    """
    admin = Admin(keycloak)
    target_id = admin.client(realm, target)["id"]
    requester_id = admin.client(realm, V1_CLIENT)["id"]
    permissions = admin.call(
        "PUT", f"/{realm}/clients/{target_id}/management/permissions", {"enabled": True}
    )
    permission_id = permissions["scopePermissions"]["token-exchange"]
    management = admin.client(realm, "realm-management")["id"]
    server = f"/{realm}/clients/{management}/authz/resource-server"
    name = f"{V1_CLIENT} may exchange"
    policies = admin.call("GET", f"{server}/policy?name={urllib.parse.quote(name)}") or []
    policy = next((p for p in policies if p["name"] == name), None)
    if policy is None:
        policy = admin.call(
            "POST",
            f"{server}/policy/client",
            {"name": name, "logic": "POSITIVE", "clients": [requester_id]},
        )
    permission = admin.call("GET", f"{server}/permission/scope/{permission_id}")
    permission["policies"] = [policy["id"]]
    admin.call("PUT", f"{server}/permission/scope/{permission_id}", permission)


# -- make keycloak --------------------------------------------------------------------
def persona_password_file() -> Path:
    return cache_folder() / "persona-password"


def local_persona_password() -> str:
    """The personas' password of `make keycloak`: made on this machine once, kept in the cache."""
    path = persona_password_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("KEYCLOAK_PORT", DEFAULT_PORT))
    )
    parser.add_argument(
        "--app-url",
        default=os.environ.get("PUBLIC_URL") or "http://localhost:5000",
        help="the app's PUBLIC_URL (redirect, JWKS and back-channel logout URLs hang off it)",
    )
    parser.add_argument("--fetch-only", action="store_true", help="fetch and check, do not start")
    args = parser.parse_args(argv)
    # Keycloak runs in a session of its own: a TERM sent to us (kill, a timeout) stops it too.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        home = fetch()
        java_home = find_java()
    except MissingTool as exc:
        print(f"make keycloak: {exc}", file=sys.stderr)
        return 2
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        print(f"make keycloak: {exc}", file=sys.stderr)
        return 1
    if args.fetch_only:
        print(f"Keycloak {pinned()[0]} is in {home}; Java: {java_home}")
        return 0
    keycloak = start(
        args.app_url,
        port=args.port,
        persona_password=local_persona_password(),
        home=home,
        java_home=java_home,
    )
    print(f"Starting Keycloak {pinned()[0]} (Java: {java_home}); log: {keycloak.log_path}")
    try:
        wait_ready(keycloak)
    except RuntimeError as exc:
        print(f"make keycloak: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        keycloak.stop()
        return 130
    print(
        f"""
Keycloak is ready after {keycloak.ready_after:.0f} s, realms healthcare and M2M:
  {keycloak.base_url}
  admin console: {keycloak.base_url}/admin/  (admin / {keycloak.admin_password}, this run only)
  personas: dr-alice, nurse-bram, dr-chloe, password {keycloak.persona_password}
            (kept in {persona_password_file()})

Point the app at it (in .env, then `make run`); the eHealthBox stays the sandbox's:
  PUBLIC_URL={args.app_url.rstrip("/")}
  IAM_ISSUER={keycloak.issuer("healthcare")}
  IAM_M2M_ISSUER={keycloak.issuer("M2M")}

Ctrl-C stops Keycloak (its realms live in memory: the next start imports them afresh)."""
    )
    sys.stdout.flush()
    try:
        return keycloak.process.wait()
    except KeyboardInterrupt:
        keycloak.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
