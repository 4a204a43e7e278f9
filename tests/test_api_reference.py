"""/api/v1 for a newcomer: an index, a reference page served by the app, an example for
every operation.

The reference page is Swagger UI (static/vendor/swagger-ui/), rendered in Chromium: it
must show every operation, fetch nothing from outside the app, and run under the app's
Content-Security-Policy (no inline script, no eval, no inline style).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from browser_fixtures import login_in_browser
from jsonschema import Draft202012Validator
from test_browser_pages import axe_source

from ehbox_webapp.web.api.openapi import openapi_document

METHODS = ("get", "post", "delete")


def operations():
    for path, item in openapi_document()["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op, item.get("parameters", [])


def resolve(node: dict) -> dict:
    """A `$ref` to a component, followed (responses and parameters)."""
    doc = openapi_document()
    while "$ref" in node:
        _, _, kind, name = node["$ref"].split("/")
        node = doc["components"][kind][name]
    return node


def json_media(holder: dict | None) -> list[dict]:
    content = (holder or {}).get("content", {})
    return [m for kind, m in content.items() if "json" in kind or "multipart" in kind]


def examples():
    """(where, schema, example) for every example of a body, an answer or a parameter."""
    for method, path, op, shared in operations():
        where = f"{method.upper()} {path}"
        for media in json_media(op.get("requestBody")):
            if "example" in media:
                yield f"{where} request", media["schema"], media["example"]
        for status, response in op["responses"].items():
            for media in json_media(resolve(response)):
                if "example" in media:
                    yield f"{where} {status}", media["schema"], media["example"]
        for parameter in map(resolve, [*shared, *op.get("parameters", [])]):
            if "example" in parameter:
                yield f"{where} {parameter['name']}", parameter["schema"], parameter["example"]


def test_every_operation_has_an_example():
    missing = []
    for method, path, op, shared in operations():
        success = [resolve(r) for s, r in op["responses"].items() if s.startswith("2")]
        answers = [m for r in success for m in json_media(r)]
        bodies = json_media(op.get("requestBody"))
        parameters = [resolve(p) for p in [*shared, *op.get("parameters", [])]]
        if answers:
            ok = all("example" in m for m in answers[:1]) and all("example" in m for m in bodies)
        else:  # a file or nothing comes back: the request is the example
            ok = any("example" in p for p in parameters) or any("example" in m for m in bodies)
        if not ok:
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_every_example_is_valid_against_its_schema():
    components = {"components": openapi_document()["components"]}
    wrong = {}
    for where, schema, example in examples():
        validator = Draft202012Validator({**schema, **components})
        errors = [e.message for e in validator.iter_errors(example)]
        if where.endswith("request") and "multipart" in where:
            continue
        if errors:
            wrong[where] = errors[:3]
    assert wrong == {}
    assert len(list(examples())) >= 25


def test_api_v1_answers_a_program_with_links_and_a_browser_with_the_reference(live_app):
    index = requests.get(f"{live_app.url}/api/v1", timeout=10)  # as curl asks: Accept */*
    assert index.status_code == 200 and index.headers["Content-Type"] == "application/json"
    body = index.json()
    assert body["openapi"] == f"{live_app.url}/api/v1/openapi.json"
    assert body["reference"] == f"{live_app.url}/api/v1/reference"
    assert requests.get(body["openapi"], timeout=10).json()["openapi"] == "3.1.0"
    browser = requests.get(
        f"{live_app.url}/api/v1/",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        allow_redirects=False,
        timeout=10,
    )
    assert browser.status_code == 303 and browser.headers["Location"] == "/api/v1/reference"


def test_without_javascript_the_reference_lists_every_operation(live_app):
    page = requests.get(f"{live_app.url}/api/v1/reference", timeout=10)
    assert page.status_code == 200
    for method, path, _, _ in operations():
        assert f"<code>{method.upper()} /api/v1{path}</code>" in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe" not in policy


def test_the_reference_renders_from_the_app_alone_and_tries_a_call(live_app, page):
    """Every request the page makes goes to the app; no CSP violation; Try it out works
    with the web login's session."""
    own = urlsplit(live_app.url).netloc
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).netloc))
    login_in_browser(page, live_app, "dr-alice")
    page.goto(f"{live_app.url}/api/v1")
    assert page.url == f"{live_app.url}/api/v1/reference"
    page.wait_for_selector(".swagger-ui .opblock")

    count = len(list(operations()))
    assert page.locator(".swagger-ui .opblock").count() == count
    assert page.locator("#api-operations").is_hidden()  # the no-script list gives way
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("ehbox-webapp API")

    page.click("#operations-default-whoami .opblock-summary-control")
    page.click("#operations-default-whoami .try-out__btn")
    page.click("#operations-default-whoami .execute")
    answer = page.locator(
        "#operations-default-whoami .live-responses-table tbody .response-col_status"
    ).first
    answer.wait_for()
    assert answer.inner_text().strip().startswith("200")
    body = page.locator("#operations-default-whoami .live-responses-table .microlight").first
    assert '"via": "session"' in body.inner_text()

    assert set(hosts) == {own}, hosts
    assert page.js_errors == []  # no script error, no CSP violation
    # Ours passes axe; Swagger UI's own markup has findings we cannot change (its nested
    # buttons, its colours): static/vendor/swagger-ui/README.md lists them.
    assert axe(page, exclude=".swagger-ui") == []


def axe(page, exclude: str | None = None) -> list:
    page.evaluate(axe_source())
    context = f"{{exclude: [[{exclude!r}]]}}" if exclude else "document"
    return page.evaluate(
        f"async () => (await axe.run({context}, {{resultTypes: ['violations']}})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )


def test_without_swagger_ui_the_reference_page_passes_axe(live_app, chromium):
    """The list of operations the page falls back to (no JavaScript, or the bundle not
    loaded) on a phone: it fits and passes axe."""
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    context.route("**/swagger-ui-bundle.js*", lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto(f"{live_app.url}/api/v1/reference")
        assert page.locator("#api-operations li").count() == len(list(operations()))
        assert page.locator("#api-operations").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/api/v1/reference"])
def test_the_reference_has_the_swagger_ui_files_the_app_serves(live_app, path):
    html = requests.get(f"{live_app.url}{path}", timeout=10).text
    for asset in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css"):
        assert f"/static/{asset}?v=" in html
        served = requests.get(f"{live_app.url}/static/{asset}", timeout=10)
        assert served.status_code == 200 and len(served.content) > 100_000
