"""The container, checked statically (no Docker engine runs here).

The start command itself (gunicorn with gunicorn.conf.py) runs for real in
tests/test_instances.py, outside a container, against the sandbox.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [
    line.strip()
    for line in re.sub(r"\\\n", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def instructions(name: str) -> list[str]:
    return [i.split(None, 1)[1] for i in INSTRUCTIONS if i.upper().startswith(name + " ")]


def test_multi_stage_with_pinned_slim_bases():
    bases = [b.split()[0] for b in instructions("FROM")]
    assert len(bases) >= 2
    for base in bases:
        image, _, tag = base.partition(":")
        assert tag and tag != "latest" and re.match(r"^\d+\.\d+", tag), base
        assert "slim" in tag


def test_runs_as_a_non_root_user():
    users = instructions("USER")
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, line in enumerate(INSTRUCTIONS) if line.startswith("USER "))
    last_cmd = max(i for i, line in enumerate(INSTRUCTIONS) if line.startswith("CMD "))
    assert last_user < last_cmd


def test_healthcheck_uses_readiness():
    (check,) = instructions("HEALTHCHECK")
    assert "/readyz" in check


def test_starts_gunicorn_with_its_config():
    (cmd,) = instructions("CMD")
    assert "gunicorn" in cmd and "gunicorn.conf.py" in cmd
    config = (ROOT / "gunicorn.conf.py").read_text()
    assert 'worker_class = "gthread"' in config  # threads: an eHealth call blocks no worker


def test_no_secret_or_keystore_is_copied():
    copied = " ".join(instructions("COPY") + instructions("ADD"))
    for forbidden in ("certs", ".env", ".p12", "instance", " . ."):
        assert forbidden not in copied, forbidden
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"certs/", ".env", "instance/", "**/*.p12"} <= set(ignored)
    assert "ARG" not in DOCKERFILE.upper().split() or "PASSWORD" not in DOCKERFILE.upper()


def test_compose_runs_the_app_twice_behind_a_proxy_with_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    apps = [s for s in services.values() if s.get("build")]
    assert len(apps) == 2
    assert all(a["environment"]["REDIS_URL"].startswith("redis://") for a in apps)
    assert all(v.endswith(":ro") for a in apps for v in a["volumes"] if "etee" in v)
    assert "redis" in services and any("nginx" in s.get("image", "") for s in services.values())
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "app1:8000" in nginx and "app2:8000" in nginx


def test_translations_are_compiled_into_the_image_and_the_app_runs_beside_its_templates():
    assert any("pybabel compile" in r for r in instructions("RUN"))
    copied = instructions("COPY")
    assert any(c.endswith("./templates") for c in copied)
    assert any("ehbox_webapp" in c and "--from=build" in c for c in copied)
    assert "PYTHONPATH=/app" in " ".join(instructions("ENV"))


def test_compose_keeps_redis_across_restarts_bounded_and_shares_the_drafts():
    """A Redis restart loses no session nor any Idempotency-Key's message (append-only file
    on a volume); its memory is bounded with a policy that drops the keys nearest their end
    first; both instances read and write one drafts volume."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    command = services["redis"]["command"]
    option = {command[i]: command[i + 1] for i in range(1, len(command) - 1, 2)}
    assert option["--appendonly"] == "yes" and option["--maxmemory-policy"] == "volatile-ttl"
    assert option["--maxmemory"].endswith("mb")
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    apps = [s for s in services.values() if s.get("build")]
    assert {a["environment"]["DRAFTS_DIR"] for a in apps} == {"/app/drafts"}
    assert all("drafts:/app/drafts" in a["volumes"] for a in apps)
    assert "drafts" in compose["volumes"]
    assert "drafts" in next(r for r in instructions("RUN") if "mkdir" in r)  # owned by the app
