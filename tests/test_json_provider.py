"""The app's JSON answers (orjson) say what Flask's own provider says, byte for meaning."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import jsonify
from flask.json.provider import DefaultJSONProvider

from ehbox_webapp.web.json_provider import OrjsonProvider


@dataclass
class Row:
    title: str
    when: datetime


def test_answers_mean_what_flask_writes(app):
    assert isinstance(app.json, OrjsonProvider)
    flask_own = DefaultJSONProvider(app)
    value = {
        "title": "Résultats — <b>&</b> \u2028",
        "z": 1,
        "a": [1.5, None, True],
        "when": datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        "row": Row("x", datetime(2026, 1, 2, tzinfo=UTC)),
    }
    with app.app_context():
        answer = jsonify(value)
    assert answer.mimetype == "application/json"
    assert json.loads(answer.get_data()) == json.loads(flask_own.dumps(value))
    assert answer.get_data().index(b'"a"') < answer.get_data().index(b'"z"')  # keys sorted


def test_what_orjson_cannot_write_goes_to_flask(app):
    huge = {"n": 2**70}
    with app.app_context():
        assert json.loads(jsonify(huge).get_data()) == huge
        assert json.loads(app.json.dumps(huge)) == huge
        assert app.json.dumps({"b": 1, "a": 2}, indent=2) == '{\n  "a": 2,\n  "b": 1\n}'
