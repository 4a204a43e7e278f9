"""`make token PERSONA=...` (`ehbox token`): a sandbox user's access token that /api/v1 accepts,
obtained through the sandbox's real login; refused outside the sandbox."""

from __future__ import annotations

import socket

import requests
from test_acceptance import acceptance_environ

from ehbox_webapp import create_app
from ehbox_webapp.sandbox.personas import persona


def token_of(live_app, *args: str):
    return live_app.app.test_cli_runner().invoke(args=["ehbox", "token", *args])


def test_the_token_is_accepted_by_the_api_as_that_persona(live_app):
    bram = persona("nurse-bram")
    result = token_of(live_app, "nurse-bram")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token  # the token alone on standard output
    assert "Bram Janssens (nurse-bram)" in result.stderr and "valid 300 s" in result.stderr
    assert f"{live_app.url}/api/v1/box" in result.stderr
    box = requests.get(
        f"{live_app.url}/api/v1/box", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert box.status_code == 200, box.text
    assert box.json()["boxId"]["id"] == bram.ssin
    who = requests.get(
        f"{live_app.url}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert who["via"] == "bearer" and who["claims"]["name"] == bram.name
    # Through the real login: the sandbox's login form and the public client's code exchange.
    assert who["claims"]["azp"] == "ehbox-webapp-public"


def test_an_unknown_persona_is_named_with_the_known_ones(live_app):
    result = token_of(live_app, "dr-nobody")
    assert result.exit_code == 2
    assert "'dr-nobody' is not a sandbox persona (dr-alice, nurse-bram, dr-chloe)" in (
        result.stderr
    )


def test_an_app_that_is_not_serving_is_said_so(make_live_app):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    live = make_live_app({"PUBLIC_URL": url})
    result = token_of(live)
    assert result.exit_code == 1
    assert f"the app does not answer at {url}" in result.stderr
    assert "`make run`" in result.stderr and "Traceback" not in result.output


def test_outside_the_sandbox_no_command_logs_a_person_in(sandbox_keystore, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)}, environ=acceptance_environ(sandbox_keystore))
    result = app.test_cli_runner().invoke(args=["ehbox", "token", "dr-alice"])
    assert result.exit_code == 2
    assert "ehbox token only runs in the sandbox (EHBOX_ENV is acceptance)" in result.stderr
    assert result.stdout == ""
