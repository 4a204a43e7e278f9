"""/api/v1/contacts: the pages' find-by-name, past correspondents first, then the AddressBook.

Every answer is checked against the OpenAPI document (`Api`). The colleague is in the
sandbox AddressBook only: Alice never wrote to her, nor she to Alice.
"""

from __future__ import annotations

import pytest
from test_api import Api, checker, public_client_token  # noqa: F401  (fixture)
from test_find_a_colleague import namesakes
from test_mailbox import BRAM, sandbox_of


@pytest.fixture
def alice(live_app, checker):  # noqa: F811
    return Api(live_app, public_client_token(live_app, "dr-alice"), checker)


def test_a_colleague_never_written_to_is_found_with_her_name_and_profession(live_app, alice):
    last_name, colleague = namesakes()
    mail = sandbox_of(live_app).client("dr-alice")
    assert colleague.ssin not in {m.sender.id for m in mail.iter_messages("INBOX")}
    found = alice("GET", f"/contacts?q={last_name}")
    assert found.status_code == 200, found.text
    people = found.json()["contacts"]
    her = next(c for c in people if c["box"]["id"] == colleague.ssin)
    assert her["name"] == colleague.name and her["profession"] == "PHYSICIAN"
    assert her["box"] == {"id": colleague.ssin, "type": "INSS", "quality": "DOCTOR"}
    assert sum(c["name"].endswith(last_name) for c in people) >= 2  # the namesakes too
    keys = [(c["box"]["id"], c["box"]["type"], c["box"]["quality"]) for c in people]
    assert len(keys) == len(set(keys))  # each box once

    # By her INSS, with separators, as it is printed: she alone.
    printed = f"{colleague.ssin[:2]}.{colleague.ssin[2:4]}.{colleague.ssin[4:6]}-"
    printed += f"{colleague.ssin[6:9]}.{colleague.ssin[9:]}"
    by_inss = alice("GET", "/contacts", params={"q": printed}).json()["contacts"]
    assert [c["box"]["id"] for c in by_inss] == [colleague.ssin]


def test_past_correspondents_come_first_and_the_book_alone_without_a_name(alice):
    book = alice("GET", "/contacts").json()["contacts"]
    assert "Bram Janssens" in {c["name"] for c in book}
    assert all(c["box"]["id"] != "85071212390" for c in book)  # never oneself
    found = alice("GET", "/contacts?q=Janssens").json()["contacts"]
    assert found[0]["name"] == "Bram Janssens" and found[0]["box"]["id"] == BRAM.ssin
    assert len(found) > 1  # the AddressBook's other Janssens after him


@pytest.mark.parametrize(
    ("query", "name"),
    [("q=", "q"), ("q=%20%20", "q"), (f"q={'x' * 201}", "q"), ("q=Peeters&lang=es", "lang")],
    ids=["empty", "blank", "too long", "unknown language"],
)
def test_a_bad_parameter_is_refused_naming_it(alice, query, name):
    refused = alice("GET", f"/contacts?{query}")
    assert refused.status_code == 400, refused.text
    assert name in {p["name"] for p in refused.json()["invalidParams"]}


def test_a_department_is_named_in_the_language_asked_with_its_hospital(alice):
    german = alice("GET", "/contacts?q=Cardiologie&lang=de").json()["contacts"]
    wards = [c for c in german if c["profession"] == "HOSPITAL" and c["organisation"]]
    assert wards and {c["name"] for c in wards} == {"Kardiologie"}
    assert {c["language"] for c in wards} == {"de"} and wards[0]["box"]["type"] == "NIHII"
    french = alice("GET", "/contacts?q=Cardiologie&lang=fr").json()["contacts"]
    assert {c["name"] for c in french if c["organisation"]} == {"Cardiologie"}
