"""The sandbox is the platform's independent twin: it states eHealth's rules itself.

It imports nothing of the app's use cases (`mailbox`), pages (`web`) or eHealthBox client
(`ehealth.ehealthbox`): a limit or a check-digit rule the app gets wrong is still refused
by the sandbox, over HTTP, with the platform's answer, as eHealth would refuse it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import ehbox_fixtures
import pytest

from ehbox_webapp.ehealth.ehealthbox import errors
from ehbox_webapp.mailbox import outgoing, rules
from ehbox_webapp.sandbox.personas import persona

sandbox = ehbox_fixtures.sandbox

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / "ehbox_webapp" / "sandbox"
# What the platform's twin must not borrow its rules from.
APP_LAYERS = ("ehbox_webapp.mailbox", "ehbox_webapp.web", "ehbox_webapp.ehealth.ehealthbox")

BRAM = persona("nurse-bram")
BAD_INSS = "85071212391"  # 11 digits, wrong check digits


# --- imports, read from the source ---------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, is_package: bool) -> set[tuple[str, str]]:
    """Every import in `source`, anywhere in it (functions too), relative imports resolved.

    Each is a pair (X.y, X) for `from X import y`: y is a submodule or a name of X; (m, m)
    for `import m` and for a call of `importlib.import_module` or `__import__` with a
    literal name.
    """
    package = module if is_package else module.rpartition(".")[0]
    names: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update((alias.name, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names.update((f"{target}.{alias.name}", target) for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add((node.args[0].value, node.args[0].value))
    return names


def _sandbox_imports() -> dict[str, set[tuple[str, str]]]:
    return {
        _module_name(path): imported(
            path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py"
        )
        for path in sorted(SANDBOX.rglob("*.py"))
    }


def _is_app_layer(names: tuple[str, ...]) -> bool:
    return any(
        name == layer or name.startswith(layer + ".") for name in names for layer in APP_LAYERS
    )


@pytest.mark.parametrize(
    "source,where,caught",
    [
        ("from ...mailbox.rules import TITLE_MAX", "ehbox_webapp.sandbox.ehealthbox.x", True),
        ("from ... import mailbox", "ehbox_webapp.sandbox.ehealthbox.x", True),
        ("def f():\n    from ..web import pages", "ehbox_webapp.sandbox.x", True),
        ("import ehbox_webapp.web.api", "ehbox_webapp.sandbox.x", True),
        ("from ...ehealth.ehealthbox import identifiers", "ehbox_webapp.sandbox.iam.x", True),
        ("importlib.import_module('ehbox_webapp.mailbox')", "ehbox_webapp.sandbox.x", True),
        ("from ...ehealth.keystore import generate_keystore", "ehbox_webapp.sandbox.etee.x", False),
        ("from .mailbox import x", "ehbox_webapp.sandbox.x", False),  # a sandbox module
    ],
)
def test_the_import_reader_resolves_what_it_must(source, where, caught):
    """The guard below reads relative imports and imports inside functions right."""
    found = imported(source, where, is_package=False)
    assert any(_is_app_layer(pair) for pair in found) is caught, found


def test_the_sandbox_imports_none_of_the_app_layers():
    """No module of the sandbox imports the app's mailbox, web pages or eHealthBox client."""
    modules = _sandbox_imports()
    assert len(modules) > 30  # every module was read
    leaks = sorted(
        f"{module} imports {pair[0]}"
        for module, pairs in modules.items()
        for pair in pairs
        if _is_app_layer(pair)
    )
    assert leaks == []


def test_no_import_circle_in_the_sandbox():
    """No sandbox module imports, even inside a function, a package that imports it back.

    `from X import y` depends on the module X.y when there is one, else on X (as Python runs
    it: the package X is already loaded when its submodule y is imported).
    """
    modules = _sandbox_imports()
    edges = {
        module: {specific if specific in modules else fallback for specific, fallback in pairs}
        & set(modules) - {module}
        for module, pairs in modules.items()
    }

    def reaches(start: str) -> set[str]:
        seen, todo = set(), list(edges[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(edges[module])
        return seen

    assert sorted(module for module in modules if module in reaches(module)) == []


# --- the app's limits loosened: the sandbox still refuses, over HTTP ----------------------------
# These two show the path end to end (the app's use case lets the message through, its client
# sends it, the platform's answer comes back). Changed at run time, a limit the sandbox had
# copied at import would not move either: the last test changes them before the sandbox loads.
def test_a_longer_title_the_app_lets_through_is_refused_by_the_platform(sandbox, monkeypatch):
    """The app's title limit raised to 10,000: the sandbox answers a 401-character title
    with the platform's 400, naming the field and the XSD's 400."""
    monkeypatch.setattr(rules, "TITLE_MAX", 10_000)
    title = "T" * 401
    checked = outgoing.outgoing_message(
        {
            "recipients": [{"type": "INSS", "id": BRAM.ssin, "quality": BRAM.quality}],
            "title": title,
        },
        document=outgoing.Upload(b"hello", "nota.txt", "text/plain"),
    )
    assert checked.message.title == title  # the app's own check let it through

    with pytest.raises(errors.BadRequest) as refused:
        sandbox.client("dr-alice").send(checked.message)
    assert refused.value.status == 400
    assert {
        "in": "body",
        "name": "content.document.title",
        "reason": "a text of 1 to 400 characters",
    } in refused.value.invalid_params


def test_a_recipient_the_app_lets_through_is_refused_by_the_platform(sandbox, monkeypatch):
    """The app's recipient check disabled: the sandbox answers an INSS with wrong check digits
    with the platform's 422 and code 802."""
    monkeypatch.setattr(outgoing, "check_recipient", lambda *args, **kwargs: [])
    checked = outgoing.outgoing_message(
        {
            "recipients": [{"type": "INSS", "id": BAD_INSS, "quality": "DOCTOR"}],
            "title": "Nota",
            "text": "Korte nota",
        }
    )
    with pytest.raises(errors.BadRequest) as refused:
        sandbox.client("dr-alice").send(checked.message)
    assert (refused.value.status, refused.value.code) == (422, "802")
    assert refused.value.invalid_params == [
        {
            "in": "body",
            "name": "destinationContexts[0].id",
            "reason": "The INSS number must have 11 digits with valid check digits.",
        }
    ]


# Run in a fresh interpreter: the app's rules are made wrong *before* any of the sandbox is
# imported, so a sandbox that took its limits from the app would take the wrong ones.
WRONG_APP_RULES = r"""
import base64, hashlib, json, sys
from pathlib import Path

from ehbox_webapp.ehealth.ehealthbox import identifiers
from ehbox_webapp.mailbox import rules

assert not any(m.startswith("ehbox_webapp.sandbox") for m in sys.modules), "loaded too early"
rules.TITLE_MAX = 10_000
rules.FILENAME_MAX = 10_000
rules.PUBLICATION_ID_MAX = 40
identifiers.check_recipient = lambda *args, **kwargs: []
identifiers.is_valid_inss = lambda value: True

import ehbox_fixtures  # the sandbox is imported only now

box = ehbox_fixtures.start_sandbox(Path(sys.argv[1]))
bram = ehbox_fixtures.persona("nurse-bram")


def send(publication_id, title, filename, destination, **content):
    message = {
        "publicationId": publication_id,
        "destinationContexts": [destination],
        "content": {
            "document": {
                "title": title,
                "downloadFileName": filename,
                "mimeType": "text/plain",
                "textContent": "hello",
                "digest": base64.b64encode(hashlib.sha256(b"hello").digest()).decode(),
            },
            **content,
        },
        "contentSpecification": {"contentType": "DOCUMENT"},
    }
    files = {"message": (None, json.dumps(message), "application/json")}
    answer = box.raw("POST", "/messages", files=files)
    return {"status": answer.status_code, "body": answer.json()}


to_bram = {"id": bram.ssin, "type": "INSS", "quality": bram.quality}
print(json.dumps({
    "shape": send("P" * 14, "T" * 401, "f" * 252 + ".txt", to_bram, patientInss="12345678901"),
    "recipient": send(
        "P" * 13, "Nota", "nota.txt", {"id": sys.argv[2], "type": "INSS", "quality": "DOCTOR"}
    ),
}))
box.stop()
"""


def test_the_sandbox_keeps_the_platform_rules_when_the_app_starts_with_wrong_ones(tmp_path):
    """Limits and recipient checks made wrong in the app before the sandbox loads: the sandbox
    still refuses what the platform refuses, with the platform's answers."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "tests"), str(ROOT), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WRONG_APP_RULES, str(tmp_path / "instance"), BAD_INSS],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])

    shape = answers["shape"]
    assert shape["status"] == 400, shape
    reasons = {p["name"]: p["reason"] for p in shape["body"]["invalidParams"]}
    assert reasons == {
        "publicationId": "1 to 13 visible ASCII characters",
        "content.document.title": "a text of 1 to 400 characters",
        "content.document.downloadFileName": "a text of 1 to 255 characters",
        "content.patientInss": "an INSS of 11 digits with valid check digits",
    }

    recipient = answers["recipient"]
    assert (recipient["status"], recipient["body"]["code"]) == (422, "802"), recipient
    assert recipient["body"]["invalidParams"] == [
        {
            "in": "body",
            "name": "destinationContexts[0].id",
            "reason": "The INSS number must have 11 digits with valid check digits.",
        }
    ]
