"""The sandbox's test personas: who can log in, and whose eHealthBox exists.

Identifiers are made up but valid (INSS and CBE check digits hold), so the
same validation code runs as against eHealth. None of them is a real person.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Persona:
    """A natural person who logs in through the sandbox healthcare realm."""

    id: str  # what the sandbox login form posts as `username`
    first_name: str
    last_name: str
    ssin: str
    nihii11: str
    profession: str  # the userProfile key, as in eHealth tokens: physician, nurse, ...
    quality: str  # the eHealthBox quality of their box: DOCTOR, NURSE, ...
    locale: str = "nl"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def box(self) -> dict[str, str]:
        return {"id": self.ssin, "type": "INSS", "quality": self.quality}


@dataclass(frozen=True)
class Organisation:
    """An organisation that uses the M2M realm (client credentials)."""

    client_id: str
    name: str
    identifier: str
    identifier_type: str  # eHealth identifier type (CBE, NIHII-HOSPITAL, EHP)
    box: dict[str, str] = field(default_factory=dict)


PERSONAS: tuple[Persona, ...] = (
    Persona("dr-alice", "Alice", "Peeters", "85071212390", "12345625004", "physician", "DOCTOR"),
    Persona("nurse-bram", "Bram", "Janssens", "79031545695", "23456776401", "nurse", "NURSE", "fr"),
    Persona(
        "dr-chloe", "Chloé", "Dubois", "90010178911", "34567830004", "physician", "DOCTOR", "fr"
    ),
)

ORGANISATIONS: tuple[Organisation, ...] = (
    Organisation(
        client_id="cbe-0899999949",
        name="Sandbox Medical Software NV",
        identifier="0899999949",
        identifier_type="CBE",
        box={"id": "0899999949", "type": "CBE", "quality": "INSTITUTION"},
    ),
)


def persona(persona_id: str) -> Persona | None:
    return next((p for p in PERSONAS if p.id == persona_id), None)


def persona_by_ssin(ssin: str) -> Persona | None:
    return next((p for p in PERSONAS if p.ssin == ssin), None)


def organisation(client_id: str) -> Organisation | None:
    base = client_id.removesuffix("-ehbox")
    return next((o for o in ORGANISATIONS if o.client_id == base), None)
