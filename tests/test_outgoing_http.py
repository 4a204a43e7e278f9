"""The eHealth session prepares a plain call itself: it must send what `requests` would."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ehbox_webapp.ehealth.http import REQUEST_ID, build_session


class Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = json.dumps(
            {"line": self.requestline, "headers": dict(self.headers), "body": body.decode()}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/cookie"):
            self.send_header("Set-Cookie", "seen=1; Path=/")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def echo_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def sent(session, method, url, **kwargs):
    answer = session.request(method, url, **kwargs)
    assert answer.status_code == 200
    return answer, answer.json()


def test_a_plain_call_sends_what_requests_sends(echo_url):
    ours = build_session("ehbox-test/1", "ops@example.org", timeout=5)
    theirs = requests.Session()
    theirs.headers.update({"User-Agent": "ehbox-test/1", "From": "ops@example.org"})
    theirs.trust_env = False
    seen = []
    ours.hooks["response"].append(lambda r, *a, **k: seen.append(r.url))
    token = REQUEST_ID.set("req-12345678")
    try:
        for method, kwargs in [
            ("GET", {"params": {"source": "INBOX", "a b": "é&"}, "headers": {"Accept": "x/y"}}),
            ("POST", {"json": {"title": "Résultats"}, "headers": {"From": None}}),
            ("POST", {"data": {"grant_type": "x"}}),
        ]:
            answer, mine = sent(ours, method, echo_url + "/p?q=1", **kwargs)
            _, reference = sent(theirs, method, echo_url + "/p?q=1", **kwargs)
            assert mine["line"] == reference["line"]
            assert mine["body"] == reference["body"]
            assert mine["headers"].pop("X-Request-Id") == "req-12345678"
            assert mine["headers"] == reference["headers"]
            assert answer.elapsed.total_seconds() >= 0
    finally:
        REQUEST_ID.reset(token)
    assert len(seen) == 3  # the session's hooks still run
    assert not ours.cookies
    # A cookie the server set is kept, and from then on the call goes through requests'
    # own merging, which sends it.
    sent(ours, "GET", echo_url + "/cookie")
    assert ours.cookies.get("seen") == "1"
    _, after = sent(ours, "GET", echo_url + "/p")
    assert after["headers"].get("Cookie") == "seen=1"


def test_errors_are_requests_own(echo_url):
    session = build_session("ehbox-test/1", "ops@example.org", timeout=0.5)
    with pytest.raises(requests.ConnectionError):
        session.request("GET", "http://127.0.0.1:9/")  # nothing listens on the discard port
