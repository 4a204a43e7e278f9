"""Demo content for an empty sandbox: every persona's box and the organisation's box.

Deterministic (a seeded random generator); dates are relative to the moment of
seeding so the mail looks recent. Dr Alice's INBOX holds more than 100 messages
so that paging is exercised. All people and numbers are invented; identifiers
have valid check digits.
"""

from __future__ import annotations

import json
import random
import sqlite3
import string
from typing import Any

from ...pdf import make_pdf
from ..personas import ORGANISATIONS, PERSONAS
from .delivery import SYSTEM_SENDER, YEAR_US
from .seed_texts import FREE_TEXTS, LAB_TABLE, TEMPLATES
from .store import Store, box_json, box_key, iso, now_us

HOUR_US = 3600 * 1_000_000
SPEC = {
    "contentType": "DOCUMENT",
    "isImportant": False,
    "isEncrypted": False,
    "publicationReceipt": False,
    "receivedReceipt": False,
    "readReceipt": False,
}


def _check(base: int) -> str:
    return f"{97 - base % 97:02d}"


def inss(yy: int, mm: int, dd: int, serial: int, born_2000s: bool = False) -> str:
    body = f"{yy:02d}{mm:02d}{dd:02d}{serial:03d}"
    return body + _check(int(body) + (2_000_000_000 if born_2000s else 0))


def nihii8(prefix6: str) -> str:
    return prefix6 + _check(int(prefix6))


def _org(identifier: str, quality: str, name: str) -> dict[str, Any]:
    return {"id": identifier, "type": "NIHII", "subType": quality, "quality": quality, "name": name}


EXTERNAL_SENDERS = (
    _org(nihii8("710123"), "HOSPITAL", "AZ Sint-Jan Brugge-Oostende"),
    _org(nihii8("710987"), "HOSPITAL", "CHU de Liège"),
    _org(nihii8("820456"), "LABO", "Laboratoire de Biologie Clinique Saint-Luc"),
    _org(nihii8("630211"), "PHARMACY", "Apotheek De Linde"),
    {
        "id": inss(68, 4, 21, 157),
        "type": "INSS",
        "quality": "DOCTOR",
        "name": "Claes",
        "firstName": "Marc",
    },
)
PATIENTS = (
    ("Jan Vermeulen", inss(56, 3, 14, 123)),
    ("Marie Lambert", inss(49, 11, 2, 284)),
    ("Sofie De Smet", inss(81, 7, 30, 46)),
    ("Luc Dupont", inss(62, 1, 9, 311)),
    ("Emma Willems", inss(3, 5, 18, 62, born_2000s=True)),
    ("Pierre Leroy", inss(74, 9, 25, 199)),
)


class Seeder:
    def __init__(self, store: Store, conn: sqlite3.Connection, rng: random.Random, now: int):
        self.store, self.conn, self.rng, self.now = store, conn, rng, now

    def message_id(self) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(13))

    def blob_part(self, data: bytes, title: str, filename: str, mime: str) -> dict[str, Any]:
        blob = self.store.blobs.put_bytes(data)
        return {
            "title": title,
            "downloadFileName": filename,
            "mimeType": mime,
            "digest": blob.digest,
            "size": blob.size,
            "blob": blob.sha256_hex,
        }

    def message(
        self,
        sender: dict[str, Any],
        to: list[str],
        published: int,
        *,
        title: str,
        lines: list[str],
        sender_key: str | None = None,
        pdf: bool = True,
        annexes: list[tuple[str, bytes, str, str]] = (),  # type: ignore[assignment]
        free: dict[str, Any] | None = None,
        patient: str | None = None,
        spec: dict[str, Any] | None = None,
        read: bool = True,
        folder: str = "INBOX",
        ack: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """One message: content, a SENTBOX copy for a sandbox sender, an INBOX copy each."""
        if pdf:
            document = self.blob_part(
                make_pdf(title, lines), title, _filename(title, ".pdf"), "application/pdf"
            )
        else:
            document = self.blob_part(
                "\n".join([title, "", *lines]).encode(),
                title,
                _filename(title, ".txt"),
                "text/plain",
            )
        parts = [
            dict(self.blob_part(data, t, name, mime), index=i)
            for i, (t, data, name, mime) in enumerate(annexes, start=1)
        ]
        size = document["size"] + sum(p["size"] for p in parts)
        publication_id = self.message_id() if sender_key else None
        content_id = self.store.insert_content(
            self.conn,
            publication_id=publication_id,
            sender_box=sender_key,
            sender_json=sender,
            destinations_json=[box_json(self.store.box(self.conn, k)) for k in to],
            spec_json=dict(SPEC, **(spec or {})),
            document_json=document,
            free_json=free,
            patient_inss=patient,
            annexes_json=parts,
            ack_json=ack,
            error_json=error,
            size=size,
            published_us=published,
            expires_us=published + YEAR_US,
            about_message_id=(ack or {}).get("messageId"),
        )
        ids: dict[str, str] = {}
        if sender_key:
            ids["SENTBOX"] = self.store.insert_copy(
                self.conn,
                sender_key,
                "SENTBOX",
                content_id,
                size,
                published,
                message_id=self.message_id(),
                read_us=published,
                received_us=published,
            )
            self.conn.execute(
                "UPDATE contents SET sent_message_id=? WHERE content_id=?",
                (ids["SENTBOX"], content_id),
            )
            self.conn.execute(
                "INSERT INTO publications VALUES (?,?,?)",
                (
                    sender_key,
                    publication_id,
                    json.dumps(
                        {
                            "messageId": ids["SENTBOX"],
                            "publicationId": publication_id,
                            "recipients": [box_json(self.store.box(self.conn, k)) for k in to],
                        }
                    ),
                ),
            )
        for key in to:
            seen = published + HOUR_US if read else None
            ids[key] = self.store.insert_copy(
                self.conn,
                key,
                folder,
                content_id,
                size,
                published,
                message_id=self.message_id(),
                read_us=seen,
                received_us=seen,
            )
            self.conn.execute(
                "INSERT INTO receipts VALUES (?,?,?,?,?,?)",
                (
                    content_id,
                    key,
                    json.dumps(box_json(self.store.box(self.conn, key))),
                    published,
                    seen,
                    seen,
                ),
            )
        return ids


def _filename(title: str, extension: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in title.lower())
    return "-".join(filter(None, safe.split("-")))[:60] + extension


def seed(store: Store, *, seed_value: int = 20261128, now: int | None = None) -> None:
    """Fill an empty store with boxes and demo mail (does nothing if it has boxes)."""
    rng = random.Random(seed_value)  # noqa: S311 - reproducible demo data, not secrets
    now = now or now_us()
    with store.write() as conn:
        if conn.execute("SELECT 1 FROM boxes LIMIT 1").fetchone() is not None:
            return
        keys = {p.id: store.ensure_box(conn, p.box, p.last_name, p.first_name) for p in PERSONAS}
        for org in ORGANISATIONS:
            keys[org.client_id] = store.ensure_box(conn, org.box, org.name)
        s = Seeder(store, conn, rng, now)
        people = {p.id: dict(p.box, name=p.last_name, firstName=p.first_name) for p in PERSONAS}
        _fill_inbox(s, keys["dr-alice"], 118, [people["nurse-bram"], people["dr-chloe"]], keys)
        for pid, count in (("nurse-bram", 7), ("dr-chloe", 5)):
            _fill_inbox(s, keys[pid], count, [], keys)
        org_key = keys[ORGANISATIONS[0].client_id]
        _fill_inbox(s, org_key, 4, [], keys)
        _conversations(s, keys, people)


def _fill_inbox(
    s: Seeder, key: str, count: int, colleagues: list[dict[str, Any]], keys: dict[str, str]
) -> None:
    senders = list(EXTERNAL_SENDERS) + colleagues
    sender_keys = {box_key(p): p for p in colleagues}
    published = s.now - HOUR_US
    for i in range(count):
        published -= s.rng.randint(2, 30) * HOUR_US
        title, lines = s.rng.choice(TEMPLATES)
        name, patient = s.rng.choice(PATIENTS)
        sender = s.rng.choice(senders)
        sender_key = box_key(sender) if box_key(sender) in sender_keys else None
        kwargs: dict[str, Any] = {}
        if i % 7 == 3:
            kwargs["annexes"] = [
                (
                    "Bijlage / Annexe",
                    make_pdf(f"Annexe — {name}", lines[:3]),
                    "annexe.pdf",
                    "application/pdf",
                )
            ]
        if i % 5 == 1:
            kwargs["free"] = {"freeText": s.rng.choice(FREE_TEXTS)}
        s.message(
            {k: v for k, v in sender.items()},
            [key],
            published,
            title=title,
            lines=[f"Patiënt / Patient : {name} ({patient})", *lines],
            sender_key=sender_key,
            pdf=i % 9 != 4,
            patient=patient,
            read=i >= 6 and s.rng.random() > 0.1,
            **kwargs,
        )


def _conversations(s: Seeder, keys: dict[str, str], people: dict[str, dict[str, Any]]) -> None:
    """The hand-written messages: important, table, receipts, ACK, ERROR, bins."""
    alice, bram, chloe = keys["dr-alice"], keys["nurse-bram"], keys["dr-chloe"]
    org = keys[ORGANISATIONS[0].client_id]
    name, patient = PATIENTS[0]
    t = s.now - 20 * 60 * 1_000_000
    s.message(
        EXTERNAL_SENDERS[2],
        [alice],
        t,
        title="Résultats de laboratoire — URGENT",
        lines=[
            f"Patient : {name} ({patient})",
            "Kaliémie critique: 6,4 mmol/L.",
            "Merci de contacter le patient sans délai.",
        ],
        patient=patient,
        free={"table": LAB_TABLE},
        spec={"isImportant": True},
        read=False,
    )
    sent = s.message(
        people["dr-alice"],
        [bram],
        t - 30 * HOUR_US,
        sender_key=alice,
        title="Wondzorg na ontslag — instructies",
        lines=["Dagelijkse verbandwissel, hechtingen verwijderen op dag 10."],
        patient=patient,
        spec={"publicationReceipt": True, "readReceipt": True},
        annexes=[
            (
                "Wondfoto protocol",
                make_pdf("Wondzorgprotocol", ["Stap 1"]),
                "protocol.pdf",
                "application/pdf",
            )
        ],
    )
    s.message(
        SYSTEM_SENDER,
        [alice],
        t - 29 * HOUR_US,
        title="READ: Wondzorg na ontslag",
        lines=["Uw bericht werd gelezen. / Votre message a été lu."],
        pdf=False,
        spec={"contentType": "ACKNOWLEDGMENT"},
        read=False,
        ack={
            "messageId": sent["SENTBOX"],
            "recipient": box_json(s.store.box(s.conn, bram)),
            "ackType": "READ",
            "dateTime": iso(t - 29 * HOUR_US),
        },
    )
    s.message(
        SYSTEM_SENDER,
        [alice],
        t - 50 * HOUR_US,
        title="Fout bij verzending / Erreur",
        lines=["De bestemmeling bestaat niet. / Le destinataire n'existe pas."],
        pdf=False,
        spec={"contentType": "ERROR"},
        read=False,
        error={
            "code": "802",
            "messages": ["Invalid destination identifier"],
            "publicationId": "SEEDERR000001",
            "destinations": [{"id": inss(70, 2, 2, 2), "type": "INSS", "quality": "DOCTOR"}],
        },
    )
    s.message(
        people["dr-alice"],
        [chloe],
        t - 80 * HOUR_US,
        sender_key=alice,
        title="Demande d'avis neurologique",
        lines=["Céphalées persistantes."],
        patient=PATIENTS[1][1],
        free={"freeText": "Merci pour votre avis."},
    )
    s.message(
        people["nurse-bram"],
        [alice],
        t - 90 * HOUR_US,
        sender_key=bram,
        title="Rapport de soins infirmiers à domicile",
        lines=["Plaie propre."],
        patient=PATIENTS[2][1],
    )
    s.message(
        people["dr-chloe"],
        [alice, bram],
        t - 100 * HOUR_US,
        sender_key=chloe,
        title="Compte rendu opératoire",
        lines=["Cholécystectomie sans complication."],
        patient=PATIENTS[3][1],
    )
    s.message(
        EXTERNAL_SENDERS[0],
        [alice],
        t - 400 * HOUR_US,
        title="Oude uitnodiging",
        lines=["Nieuwjaarsreceptie."],
        spec={"contentType": "NEWS"},
        folder="BININBOX",
    )
    s.message(
        EXTERNAL_SENDERS[1],
        [bram],
        t - 300 * HOUR_US,
        title="Ancienne circulaire",
        lines=["Information générale."],
        spec={"contentType": "NEWS"},
        folder="BININBOX",
    )
    s.message(
        EXTERNAL_SENDERS[3],
        [org],
        t - 10 * HOUR_US,
        title="Facturatie-overzicht",
        lines=["Overzicht maand oktober."],
        pdf=False,
    )
    s.message(
        SYSTEM_SENDER,
        [org],
        t - 12 * HOUR_US,
        title="Erreur de publication",
        lines=["Le message n'a pas pu être délivré."],
        pdf=False,
        spec={"contentType": "ERROR"},
        read=False,
        error={"code": "810", "messages": ["Invalid BoxId"], "publicationId": "SEEDERR000002"},
    )
