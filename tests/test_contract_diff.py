"""`flask ehbox contract diff`: the day eHealth hands over the official eHealthBox OpenAPI.

The modelled document against itself agrees (exit 0); a copy with a renamed path, a
renamed field and a removed status differs (exit 1), each named under its operation with
the rest.py functions that map it; a document that cannot be read is exit 2.
"""

from __future__ import annotations

import copy
import inspect
import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from click.testing import CliRunner

from ehbox_webapp.cli.contract import contract_group
from ehbox_webapp.ehealth.ehealthbox import OPENAPI_PATH, contract, rest


def run(source: str):
    return CliRunner().invoke(contract_group, ["diff", source])


def modelled() -> dict:
    return yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))


def official_with_three_changes() -> dict:
    """What eHealth might ship: move renamed, messageId named msgId in lists, no 429 on box info."""
    doc = copy.deepcopy(modelled())
    doc["paths"]["/messages/moving"] = doc["paths"].pop("/messages/move")
    summary = doc["components"]["schemas"]["MessageSummary"]["properties"]
    summary["msgId"] = summary.pop("messageId")
    del doc["paths"]["/boxInfo"]["get"]["responses"]["429"]
    return doc


def test_the_modelled_document_agrees_with_itself(tmp_path):
    result = run(str(OPENAPI_PATH))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "The official contract agrees with the modelled one."


def test_through_flask_as_the_readme_says(live_app):
    result = live_app.app.test_cli_runner().invoke(
        args=["ehbox", "contract", "diff", str(OPENAPI_PATH)]
    )
    assert result.exit_code == 0, result.output


def blocks(output: str) -> dict[str, list[str]]:
    """The report's blocks: operation title line -> its indented lines."""
    found: dict[str, list[str]] = {}
    title = None
    for line in output.splitlines():
        if line and not line.startswith(" ") and "  " in line:
            title = line
            found[title] = []
        elif title and line.startswith("  "):
            found[title].append(line.strip())
    return found


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_renamed_path_a_renamed_field_and_a_removed_status_are_each_named(tmp_path, suffix):
    doc = official_with_three_changes()
    path = tmp_path / f"official{suffix}"
    path.write_text(json.dumps(doc) if suffix == ".json" else yaml.safe_dump(doc))

    result = run(str(path))

    assert result.exit_code == 1, result.output
    assert result.output.startswith("3 operation(s) differ.")
    found = blocks(result.output)
    assert found["moveMessage  POST /messages/move"] == [
        "rest.py: move_to_json, not_moved_from_json",
        "~ path: POST /messages/move -> POST /messages/moving",
    ]
    assert found["getMessagesList  GET /messages"] == [
        "rest.py: list_query, page_from_json, summary_from_json",
        "- response 200 field messages[].messageId: string",
        "+ response 200 field messages[].msgId: string",
    ]
    assert found["getBoxInfo  GET /boxInfo"] == [
        "rest.py: box_info_from_json",
        "- status 429: not in the official contract",
        "rest.py (errors): error_from_response",
    ]


def test_parameters_types_and_whole_operations(tmp_path):
    doc = copy.deepcopy(modelled())
    doc["paths"]["/messages"]["get"]["parameters"][1]["name"] = "offset"  # startIndex
    doc["components"]["schemas"]["BoxInfo"]["properties"]["maxSize"] = {"type": "string"}
    del doc["paths"]["/messages/{messageId}/history"]
    doc["paths"]["/messages/search"] = {"get": {"operationId": "searchMessages", "responses": {}}}
    path = tmp_path / "official.yaml"
    path.write_text(yaml.safe_dump(doc))

    result = run(str(path))

    assert result.exit_code == 1
    found = blocks(result.output)
    listing = found["getMessagesList  GET /messages"]
    assert "- parameter startIndex (in query): integer" in listing
    assert "+ parameter offset (in query): integer" in listing
    assert "~ response 200 field maxSize: integer -> string" in found["getBoxInfo  GET /boxInfo"]
    history = found["getMessageHistory  GET /messages/{messageId}/history"]
    assert history == [
        "rest.py: none (not used)",
        "- the whole operation: not in the official contract",
    ]
    assert found["searchMessages  GET /messages/search"] == [
        "rest.py: none yet: a new operation",
        "+ the whole operation: only in the official contract",
    ]


def test_a_document_served_over_http_is_read(tmp_path):
    (tmp_path / "official.yaml").write_text(yaml.safe_dump(official_with_three_changes()))
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert run(f"{base}/official.yaml").exit_code == 1
        missing = run(f"{base}/nothing.yaml")
        assert missing.exit_code == 2 and "404" in missing.stderr
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "cannot read"),
        ("paths: [unclosed", "neither JSON nor YAML"),
        ("openapi: 3.1.0\ninfo: {title: x}\n", "not an OpenAPI document"),
        ('{"paths": {"/a": {"get": {"$ref": "#/nowhere"}}}}', "unresolved reference"),
    ],
)
def test_an_unreadable_document_is_exit_2_with_the_reason(tmp_path, content, says):
    path = tmp_path / "official.yaml"
    if content is not None:
        path.write_text(content)
    result = run(str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and says in result.stderr


def test_every_modelled_operation_names_functions_that_exist_in_rest_py():
    ids = {op.operation_id for op in contract.operations(modelled()).values()}
    assert ids == set(rest.OPERATIONS)
    defined = {name for name, _ in inspect.getmembers(rest, inspect.isfunction)}
    named = {f for functions in rest.OPERATIONS.values() for f in functions}
    assert named | {rest.ERRORS_FUNCTION} <= defined
