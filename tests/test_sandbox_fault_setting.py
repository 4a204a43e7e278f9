"""The sandbox's fault injection (issue 25): anyone may call it, so a shared demo has none.

`SANDBOX_FAULTS` is off by default (`make run`, a demo); the tests (conftest) and the bench
turn it on for the sandboxes they start.
"""

from __future__ import annotations

import requests

from ehbox_webapp.config import Settings

TIMEOUT = 20


def test_fault_injection_is_off_unless_the_tests_or_the_bench_turn_it_on(make_live_app):
    assert Settings.from_env({"EHBOX_ENV": "sandbox"}).sandbox_faults is False  # make run
    demo = make_live_app({"SANDBOX_FAULTS": "off"}, sub="demo")
    fault = {"operation": "send", "status": 503, "times": 1}
    for path in ("/ehealthbox/_faults", "/auth/_faults"):
        assert requests.post(demo.sandbox(path), json=fault, timeout=TIMEOUT).status_code == 404
        assert requests.delete(demo.sandbox(path), timeout=TIMEOUT).status_code == 404
    tested = make_live_app(sub="tests")  # conftest turns it on
    armed = requests.post(tested.sandbox("/ehealthbox/_faults"), json=fault, timeout=TIMEOUT)
    assert armed.status_code == 201
    requests.delete(tested.sandbox("/ehealthbox/_faults"), timeout=TIMEOUT)
