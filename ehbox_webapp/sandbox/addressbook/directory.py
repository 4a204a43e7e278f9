"""The sandbox's directory: a few hundred Belgian professionals and organisations, made up.

Made by a seeded generator from common Belgian first and last names (nl, fr, de) and real
municipalities, so it is the same on every start and every machine. Every INSS, NIHII and
CBE has valid check digits (the registers' rules, as `ehealthbox/recipients.py` checks
them); the personas (`personas.py`), the sandbox's organisation and the senders of the demo
mail (`ehealthbox/seed.py`) are in it under their own numbers. Hospitals have departments
with their own identifier and eHealthBox (modelled: how a ward is addressed is not public).

Every entry states the eHealthBox it receives at; `mount.py` makes sure each exists in the
sandbox eHealthBox, so a message to anyone found here is delivered. None of these people
or numbers is real.
"""

from __future__ import annotations

import functools
import random
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..ehealthbox.seed import EXTERNAL_SENDERS, PATIENTS
from ..personas import ORGANISATIONS, PERSONAS
from . import names as N

SEED = 20261207
PEOPLE = 320

# ProfessionCode -> (eHealthBox quality, first digit of its NIHII here, names by language).
# The first digit stands for the profession as in RIZIV/INAMI numbers; the digits chosen
# here are illustrative.
PROFESSIONS: dict[str, tuple[str, str, dict[str, str]]] = {
    "PHYSICIAN": ("DOCTOR", "1", {"nl": "Arts", "fr": "Médecin", "de": "Arzt", "en": "Physician"}),
    "NURSE": (
        "NURSE",
        "4",
        {"nl": "Verpleegkundige", "fr": "Infirmier", "de": "Krankenpfleger", "en": "Nurse"},
    ),
    "PHARMACIST": (
        "PHARMACIST",
        "2",
        {"nl": "Apotheker", "fr": "Pharmacien", "de": "Apotheker", "en": "Pharmacist"},
    ),
    "DENTIST": (
        "DENTIST",
        "3",
        {"nl": "Tandarts", "fr": "Dentiste", "de": "Zahnarzt", "en": "Dentist"},
    ),
    "PHYSIOTHERAPIST": (
        "PHYSIOTHERAPIST",
        "5",
        {
            "nl": "Kinesitherapeut",
            "fr": "Kinésithérapeute",
            "de": "Physiotherapeut",
            "en": "Physiotherapist",
        },
    ),
    "MIDWIFE": (
        "MIDWIFE",
        "4",
        {"nl": "Vroedvrouw", "fr": "Sage-femme", "de": "Hebamme", "en": "Midwife"},
    ),
    "PSYCHOLOGIST": (
        "PSYCHOLOGIST",
        "6",
        {
            "nl": "Klinisch psycholoog",
            "fr": "Psychologue clinicien",
            "de": "Klinischer Psychologe",
            "en": "Clinical psychologist",
        },
    ),
    "LOGOPEDIST": (
        "LOGOPEDIST",
        "6",
        {"nl": "Logopedist", "fr": "Logopède", "de": "Logopäde", "en": "Speech therapist"},
    ),
}
# How many of each, out of 100.
PROFESSION_WEIGHTS = {
    "PHYSICIAN": 44,
    "NURSE": 24,
    "PHARMACIST": 8,
    "PHYSIOTHERAPIST": 8,
    "DENTIST": 6,
    "MIDWIFE": 3,
    "PSYCHOLOGIST": 4,
    "LOGOPEDIST": 3,
}
# A persona's userProfile key -> ProfessionCode; and who is who.
PERSONA_PROFESSIONS = {"physician": "PHYSICIAN", "nurse": "NURSE"}
PERSONA_GENDERS = {"dr-alice": "F", "nurse-bram": "M", "dr-chloe": "F"}

# OrganizationTypeCode -> (how many, first two NIHII digits here, names by language).
INSTITUTION_TYPES: dict[str, tuple[int, str, dict[str, str]]] = {
    "HOSPITAL": (
        12,
        "71",
        {"nl": "Ziekenhuis", "fr": "Hôpital", "de": "Krankenhaus", "en": "Hospital"},
    ),
    "PHARMACY": (
        16,
        "63",
        {"nl": "Apotheek", "fr": "Pharmacie", "de": "Apotheke", "en": "Pharmacy"},
    ),
    "LABO": (
        5,
        "82",
        {"nl": "Laboratorium", "fr": "Laboratoire", "de": "Labor", "en": "Laboratory"},
    ),
    "MEDICAL_HOUSE": (
        6,
        "75",
        {
            "nl": "Wijkgezondheidscentrum",
            "fr": "Maison médicale",
            "de": "Ärztehaus",
            "en": "Medical house",
        },
    ),
    "GUARD_POST": (
        5,
        "76",
        {
            "nl": "Huisartsenwachtpost",
            "fr": "Poste médical de garde",
            "de": "Bereitschaftspraxis",
            "en": "GP out-of-hours post",
        },
    ),
    "HOME_SERVICES": (
        4,
        "77",
        {
            "nl": "Thuisverpleging",
            "fr": "Soins à domicile",
            "de": "Häusliche Pflege",
            "en": "Home care",
        },
    ),
    "RETIREMENT": (
        4,
        "78",
        {"nl": "Woonzorgcentrum", "fr": "Maison de repos", "de": "Seniorenheim", "en": "Care home"},
    ),
}
INSTITUTION_NAMES = {
    "nl": "Instelling",
    "fr": "Institution",
    "de": "Einrichtung",
    "en": "Institution",
}
DEPARTMENTS: tuple[dict[str, str], ...] = (
    {"nl": "Cardiologie", "fr": "Cardiologie", "de": "Kardiologie", "en": "Cardiology"},
    {"nl": "Spoedgevallen", "fr": "Urgences", "de": "Notaufnahme", "en": "Emergency department"},
    {"nl": "Geriatrie", "fr": "Gériatrie", "de": "Geriatrie", "en": "Geriatrics"},
    {"nl": "Pediatrie", "fr": "Pédiatrie", "de": "Pädiatrie", "en": "Paediatrics"},
    {"nl": "Radiologie", "fr": "Radiologie", "de": "Radiologie", "en": "Radiology"},
    {"nl": "Oncologie", "fr": "Oncologie", "de": "Onkologie", "en": "Oncology"},
    {"nl": "Orthopedie", "fr": "Orthopédie", "de": "Orthopädie", "en": "Orthopaedics"},
    {"nl": "Psychiatrie", "fr": "Psychiatrie", "de": "Psychiatrie", "en": "Psychiatry"},
)
DEPARTMENTS_PER_HOSPITAL = 4


def check(body: int) -> str:
    """The registers' two check digits: 97 minus the body modulo 97."""
    return f"{97 - body % 97:02d}"


def inss(yy: int, mm: int, dd: int, serial: int) -> str:
    body = f"{yy:02d}{mm:02d}{dd:02d}{serial:03d}"
    return body + check(int(body))  # everyone here was born before 2000


def nihii(base6: str) -> str:
    """An 8-digit NIHII: six digits and their check digits."""
    return base6 + check(int(base6))


def cbe(base8: str) -> str:
    return base8 + check(int(base8))


@dataclass(frozen=True)
class Place:
    street: str
    number: str
    zip_code: str
    municipality: dict[str, str]


@dataclass(frozen=True)
class Person:
    ssin: str
    first_name: str
    last_name: str
    gender: str  # M or F
    language: str  # nl, fr, de
    professions: tuple[tuple[str, str], ...]  # (ProfessionCode, NIHII of 11 digits)
    place: Place

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def boxes(self) -> list[dict[str, str]]:
        return [
            {"id": self.ssin, "type": "INSS", "quality": PROFESSIONS[code][0]}
            for code, _ in self.professions
        ]


@dataclass(frozen=True)
class Institution:
    id_type: str  # NIHII, CBE, EHP
    identifier: str
    type_code: str  # HOSPITAL, PHARMACY, ..., INSTITUTION
    names: dict[str, str]
    language: str
    place: Place
    part_of: Institution | None = None

    @property
    def name(self) -> str:
        return self.names.get(self.language) or next(iter(self.names.values()))

    def box(self) -> dict[str, str]:
        if self.id_type == "NIHII":
            return {
                "id": self.identifier,
                "type": "NIHII",
                "subType": self.type_code,
                "quality": self.type_code,
            }
        return {"id": self.identifier, "type": self.id_type, "quality": self.type_code}

    def type_names(self) -> dict[str, str]:
        if self.type_code in INSTITUTION_TYPES:
            return INSTITUTION_TYPES[self.type_code][2]
        return INSTITUTION_NAMES


@dataclass(frozen=True)
class Directory:
    people: tuple[Person, ...]
    institutions: tuple[Institution, ...]

    def boxes(self) -> Iterator[tuple[dict[str, str], str, str | None]]:
        """(box, name, first name) of every entry, for the sandbox eHealthBox."""
        for person in self.people:
            for box in person.boxes():
                yield box, person.last_name, person.first_name
        for institution in self.institutions:
            yield institution.box(), institution.name, None


class _Maker:
    """One seeded generator, and the numbers it already gave (each given once)."""

    def __init__(self, seed: int, reserved: set[str]):
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
        self.used = set(reserved)

    def once(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def place(self, municipality: tuple[str, dict[str, str], str] | None = None) -> Place:
        zip_code, town, language = municipality or self.rng.choice(N.MUNICIPALITIES)
        street = self.rng.choice(N.STREETS[language])
        return Place(street, str(self.rng.randint(1, 180)), zip_code, dict(town))

    def person_nihii(self, profession: str) -> str:
        digit = PROFESSIONS[profession][1]
        qualification = "004" if profession == "PHYSICIAN" else "000"
        base = self.once(lambda: digit + f"{self.rng.randint(0, 99999):05d}")
        return nihii(base) + qualification

    def organisation_nihii(self, prefix: str) -> str:
        return nihii(self.once(lambda: prefix + f"{self.rng.randint(0, 9999):04d}"))

    def ssin(self, gender: str) -> str:
        def make() -> str:
            yy, mm, dd = self.rng.randint(50, 97), self.rng.randint(1, 12), self.rng.randint(1, 28)
            serial = self.rng.randrange(1 if gender == "M" else 2, 998, 2)  # odd: men
            return inss(yy, mm, dd, serial)

        return self.once(make)


def _reserved() -> set[str]:
    """Numbers already taken by the personas, the demo mail and the platform itself."""
    taken = {p.ssin for p in PERSONAS} | {p.nihii11[:8] for p in PERSONAS}
    taken |= {o.identifier for o in ORGANISATIONS} | {ssin for _, ssin in PATIENTS}
    taken |= {s["id"] for s in EXTERNAL_SENDERS} | {"0809394427"}
    return taken


def _people(maker: _Maker) -> list[Person]:
    rng = maker.rng
    codes, weights = zip(*PROFESSION_WEIGHTS.items(), strict=True)
    people = [
        Person(
            p.ssin,
            p.first_name,
            p.last_name,
            PERSONA_GENDERS.get(p.id, "F"),
            p.locale,
            ((PERSONA_PROFESSIONS[p.profession], p.nihii11),),
            maker.place(),
        )
        for p in PERSONAS
    ]
    for sender in EXTERNAL_SENDERS:  # the demo mail's doctor
        if sender["type"] == "INSS":
            people.append(
                Person(
                    sender["id"],
                    sender["firstName"],
                    sender["name"],
                    "M",
                    "nl",
                    (("PHYSICIAN", maker.person_nihii("PHYSICIAN")),),
                    maker.place(),
                )
            )
    while len(people) < PEOPLE:
        municipality = rng.choice(N.MUNICIPALITIES)
        language = municipality[2]
        if municipality[0].startswith("1") and rng.random() < 0.3:
            language = "nl"  # Brussels speaks both
        gender = rng.choice("MF")
        # Names travel: one in seven people carries a name of another language's list.
        name_language = language if rng.random() > 1 / 7 else rng.choice(("nl", "fr", "de"))
        profession = rng.choices(codes, weights)[0]
        people.append(
            Person(
                maker.ssin(gender),
                rng.choice(N.FIRST_NAMES[language][gender]),
                rng.choice(N.LAST_NAMES[name_language]),
                gender,
                language,
                ((profession, maker.person_nihii(profession)),),
                maker.place(municipality),
            )
        )
    return people


def _institution_names(
    maker: _Maker, type_code: str, town: dict[str, str], language: str
) -> dict[str, str]:
    rng, city = maker.rng, town[language]
    of_city = f"d'{city}" if folded_initial(city) in "aeiouy" else f"de {city}"
    surname = rng.choice(N.LAST_NAMES[language])
    saint = rng.choice(N.SAINTS[language])
    by_language = {
        "HOSPITAL": {
            "nl": f"AZ {saint} {city}",
            "fr": f"Clinique {saint} {city}",
            "de": f"{saint}-Klinik {city}",
        },
        "PHARMACY": {
            "nl": f"Apotheek {surname}",
            "fr": f"Pharmacie {surname}",
            "de": f"{surname}-Apotheke",
        },
        "LABO": {
            "nl": f"Klinisch Labo {city}",
            "fr": f"Laboratoire de biologie clinique {of_city}",
            "de": f"Labor für klinische Biologie {city}",
        },
        "MEDICAL_HOUSE": {
            "nl": f"Wijkgezondheidscentrum {rng.choice(('De Brug', 'Het Anker', 'De Kaai'))}",
            "fr": f"Maison médicale {rng.choice(('Le Gué', 'La Passerelle', 'Les Tilleuls'))}",
            "de": f"Ärztehaus {city}",
        },
        "GUARD_POST": {
            "nl": f"Huisartsenwachtpost {city}",
            "fr": f"Poste médical de garde {of_city}",
            "de": f"Bereitschaftspraxis {city}",
        },
        "HOME_SERVICES": {
            "nl": f"Thuisverpleging {city}",
            "fr": f"Soins à domicile {city}",
            "de": f"Häusliche Pflege {city}",
        },
        "RETIREMENT": {
            "nl": f"Woonzorgcentrum {saint}",
            "fr": f"Maison de repos {saint}",
            "de": f"Seniorenheim {saint}",
        },
    }
    return {language: by_language[type_code][language]}


def folded_initial(name: str) -> str:
    """The first letter of a name, accent removed: "É" -> "e"."""
    return unicodedata.normalize("NFKD", name[:1]).encode("ascii", "ignore").decode().lower()


def _institutions(maker: _Maker) -> list[Institution]:
    rng = maker.rng
    found: list[Institution] = [
        Institution(
            o.identifier_type, o.identifier, o.box["quality"], {"nl": o.name}, "nl", maker.place()
        )
        for o in ORGANISATIONS
        if o.box
    ]
    for sender in EXTERNAL_SENDERS:  # the demo mail's hospitals, lab and pharmacy
        if sender["type"] == "NIHII":
            language = "nl" if sender["name"].startswith(("AZ ", "Apotheek ")) else "fr"
            found.append(
                Institution(
                    "NIHII",
                    sender["id"],
                    sender["quality"],
                    {language: sender["name"]},
                    language,
                    maker.place(),
                )
            )
    names_seen = {i.name for i in found}
    for type_code, (count, prefix, _) in INSTITUTION_TYPES.items():
        made = 0
        while made < count:
            municipality = rng.choice(N.MUNICIPALITIES)
            names = _institution_names(maker, type_code, municipality[1], municipality[2])
            if next(iter(names.values())) in names_seen:
                continue
            names_seen.add(next(iter(names.values())))
            made += 1
            institution = Institution(
                "NIHII",
                maker.organisation_nihii(prefix),
                type_code,
                names,
                municipality[2],
                maker.place(municipality),
            )
            found.append(institution)
            if type_code == "HOSPITAL":
                for ward in rng.sample(DEPARTMENTS, DEPARTMENTS_PER_HOSPITAL):
                    found.append(
                        Institution(
                            "NIHII",
                            maker.organisation_nihii(prefix),
                            "HOSPITAL",
                            dict(ward),
                            institution.language,
                            institution.place,
                            part_of=institution,
                        )
                    )
    return found


@functools.cache
def directory(seed: int = SEED) -> Directory:
    """The directory, made once per process: for a seed value, the same every time."""
    maker = _Maker(seed, _reserved())
    return Directory(tuple(_people(maker)), tuple(_institutions(maker)))
