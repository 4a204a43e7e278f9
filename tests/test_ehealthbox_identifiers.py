"""Belgian identifiers and eHealthBox recipient validation, with good and bad examples."""

from __future__ import annotations

import pytest

from ehbox_webapp.ehealth.ehealthbox.identifiers import (
    QUALITIES,
    check_recipient,
    clean,
    is_valid_cbe,
    is_valid_ehp,
    is_valid_inss,
    is_valid_nihii,
    validate_recipient,
)
from ehbox_webapp.sandbox.personas import ORGANISATIONS, PERSONAS


@pytest.mark.parametrize(
    "value",
    [
        "85071212390",
        "79031545695",
        "90010178911",  # sandbox personas
        "03051806210",  # born 2003: the check digits use 2 000 000 000 + base
        "56031412372",
        "85271212336",  # bis number: month + 20
        "00000000097",  # date unknown (00): allowed
    ],
)
def test_valid_inss(value):
    assert is_valid_inss(value)


@pytest.mark.parametrize(
    "value",
    [
        "85071212391",  # wrong check digits
        "8507121239",  # 10 digits
        "850712123900",  # 12 digits
        "85.07.12-123.90",  # separators: clean() first
        "85131212357",  # month 13
        "8507121239a",
        "0000000907\n",  # 00000009007 with a new line for its last digit: `$` took it
        "",
    ],
)
def test_invalid_inss(value):
    assert not is_valid_inss(value)


def test_clean_drops_separators():
    assert clean("85.07.12-123.90") == "85071212390"
    assert is_valid_inss(clean("85.07.12-123.90"))
    assert clean("0899.999.949") == "0899999949"


@pytest.mark.parametrize(
    "value,ok",
    [
        ("0899999949", True),
        ("0809394427", True),
        ("1000000021", True),
        ("1000000016", False),
        ("0899999948", False),
        ("2899999949", False),
        ("089999994", False),
        ("08999999490", False),
    ],
)
def test_cbe(value, ok):
    assert is_valid_cbe(value) is ok


@pytest.mark.parametrize(
    "value,ok",
    [
        ("12345625", True),
        ("12345625004", True),
        ("71012314", True),
        ("12345626", False),
        ("12345626004", False),
        ("1234562", False),
        ("123456250", False),
    ],
)
def test_nihii(value, ok):
    assert is_valid_nihii(value) is ok


def test_ehp():
    assert is_valid_ehp("1990001916")
    assert not is_valid_ehp("199000191")


def test_personas_and_organisations_have_valid_identifiers():
    for p in PERSONAS:
        assert is_valid_inss(p.ssin) and is_valid_nihii(p.nihii11)
        assert validate_recipient("INSS", p.ssin, p.quality) == []
    for org in ORGANISATIONS:
        assert validate_recipient(org.box["type"], org.box["id"], org.box["quality"]) == []


@pytest.mark.parametrize(
    "box_type,identifier,quality,sub_type",
    [
        ("INSS", "85071212390", "DOCTOR", None),
        ("NIHII", "12345625004", "NURSE", None),
        ("INSS", "85071212390", "CITIZEN", None),
        ("NIHII", "71012314", "HOSPITAL", "HOSPITAL"),
        ("CBE", "0899999949", "INSTITUTION", None),
        ("CBE", "0899999949", "TREATMENT_CENTER", "TREATMENT_CENTER"),
        ("CBE", "0899999949", "CONSORTIUM", "CONSORTIUM"),
        ("EHP", "1990001916", "INSTITUTION_EHP", None),
        ("EHP", "1990001916", "CTRL_ORGANISM", "CTRL_ORGANISM"),
        ("INSS", "ALL", "DOCTOR", None),  # broadcast: well formed (publishing to it is restricted)
    ],
)
def test_valid_recipients(box_type, identifier, quality, sub_type):
    assert validate_recipient(box_type, identifier, quality, sub_type) == []


@pytest.mark.parametrize(
    "box_type,identifier,quality,sub_type,field,code,words",
    [
        ("INSS", "85071212391", "DOCTOR", None, "id", "802", "INSS"),
        ("NIHII", "12345625", "DOCTOR", None, "id", "802", "11 digits"),  # person: NIHII-11
        ("NIHII", "12345625004", "HOSPITAL", "HOSPITAL", "id", "802", "8 digits"),
        ("CBE", "0899999948", "INSTITUTION", None, "id", "802", "CBE"),
        ("INSS", "85071212390", "SURGEON", None, "quality", "803", "SURGEON"),
        ("SSIN", "85071212390", "DOCTOR", None, "type", "804", "SSIN"),
        ("CBE", "0899999949", "DOCTOR", None, "type", "804", "INSS or NIHII"),
        ("NIHII", "71012314", "HOSPITAL", None, "subType", "805", "HOSPITAL"),
        ("CBE", "0899999949", "INSTITUTION", "HOSPITAL", "subType", "805", "no subtype"),
        ("INSS", "85071212390", "CITIZEN", None, None, None, None),
    ],
)
def test_invalid_recipients(box_type, identifier, quality, sub_type, field, code, words):
    problems = check_recipient(box_type, identifier, quality, sub_type)
    if field is None:
        assert problems == []
        return
    assert problems[0].field == field and problems[0].code == code
    message = validate_recipient(box_type, identifier, quality, sub_type)[0]
    assert words in message and message.endswith(".")  # a user-facing sentence


def test_quality_list_is_the_connector_list():
    assert len(QUALITIES) == len(set(QUALITIES)) == 55
    assert {"DOCTOR", "NURSE", "CITIZEN", "HOSPITAL", "INSTITUTION", "CTRL_ORGANISM"} <= set(
        QUALITIES
    )
