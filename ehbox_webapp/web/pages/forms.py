"""The mailbox's forms: compose (with its recipient rows) and the small action forms.

Every form is a FlaskForm, so every POST carries the CSRF token. The compose form only
carries values: `ComposeForm.values()` hands them to the mailbox named as an `/api/v1`
message, which checks them as it checks the API's (`mailbox/outgoing.py`: eHealth's
recipient rules, the limits, control characters); `show_problems` puts each problem it
finds next to the field it is about, worded from its code.

Labels and messages are translated: lazily where they are defined once for every request
(labels, validators), at once where they are made during a request. The recipient rules'
problems carry a stable `kind` and their values (`identifiers.check_recipient`);
`problem_sentence` words each one, translated. The limits are the mailbox's (`mailbox/rules.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from ...ehealth.ehealthbox import BoxId, Recipient, check_recipient
from ...ehealth.ehealthbox.identifiers import (
    BOX_TYPES,
    CITIZEN_QUALITY,
    NIHII_ORGANISATION_QUALITIES,
    OTHER_ORGANISATION_QUALITIES,
    PERSON_QUALITIES,
    clean,
    expected_type,
)
from ...mailbox.problems import Problem, english
from ...mailbox.rules import MAX_RECIPIENTS, RECEIPTS
from .drafts import megabytes
from .qualities import QUALITY_LABELS, TYPE_LABELS

MIN_RECIPIENT_ROWS = 3  # empty rows to fill in without JavaScript; blank ones are ignored
MAX_RECIPIENT_ROWS = MAX_RECIPIENTS


def _label(quality: str):
    return QUALITY_LABELS.get(quality) or quality.replace("_", " ").capitalize()


QUALITY_CHOICES = [
    SelectChoice("", _l("Choose a quality")),
    *(SelectChoice(q, _label(q), optgroup=_l("Care providers")) for q in PERSON_QUALITIES),
    SelectChoice(CITIZEN_QUALITY, _label(CITIZEN_QUALITY), optgroup=_l("Citizens")),
    *(
        SelectChoice(q, _label(q), optgroup=_l("Organisations (NIHII)"))
        for q in NIHII_ORGANISATION_QUALITIES
    ),
    *(
        SelectChoice(q, _label(q), optgroup=_l("Organisations (CBE, EHP)"))
        for q in OTHER_ORGANISATION_QUALITIES
    ),
]
# The form of each problem's field, as named by `check_recipient`.
_FIELD_OF_PROBLEM = {
    "id": "identifier",
    "type": "type",
    "subType": "type",
    "quality": "quality",
    "ooOProcessed": "send_anyway",
}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def problem_sentence(
    problem: Problem, box_type: str, identifier: str, quality: str, sub_type: str | None
) -> str:
    """A recipient's problem (`field` as `check_recipient` names it: id, type, subType,
    quality), worded in the page's language (its English as a fallback); a known quality
    and identifier type by their names in that language, never by their codes."""
    code = quality
    quality = str(QUALITY_LABELS.get(code, code))
    if problem.code == "required" and problem.field == "quality":
        return _("Choose the recipient's quality.")
    if problem.code == "unknown-quality":
        return _("The quality “%(quality)s” is not an eHealthBox quality.", quality=code)
    if problem.code == "unknown-type":
        return _(
            "The identifier type “%(type)s” is not one of %(types)s.",
            type=box_type,
            types=", ".join(BOX_TYPES),
        )
    if problem.code == "type-for-quality":
        types = [str(TYPE_LABELS.get(t, t)) for t in problem.values["allowed"]]
        wanted = types[0] if len(types) == 1 else _("%(a)s or %(b)s", a=types[0], b=types[1])
        return _(
            "The quality %(quality)s needs an identifier of type %(types)s, not %(type)s.",
            quality=quality,
            types=wanted,
            type=TYPE_LABELS.get(box_type, box_type),
        )
    if problem.code in ("sub-type-for-quality", "no-sub-type-for-quality"):
        wanted_sub = problem.values["wanted"]
        if wanted_sub:
            return _(
                "The quality %(quality)s needs the subtype %(wanted)s, not “%(given)s”.",
                quality=quality,
                wanted=wanted_sub,
                given=sub_type,
            )
        return _(
            "The quality %(quality)s needs no subtype, not “%(given)s”.",
            quality=quality,
            given=sub_type,
        )
    if problem.field == "id" and box_type == "INSS":
        return _("The INSS number must have 11 digits with valid check digits.")
    if problem.field == "id" and box_type == "NIHII":
        return _(
            "The NIHII number for %(quality)s must have %(length)s digits with valid check digits.",
            quality=quality,
            length=problem.values["length"],
        )
    if problem.field == "id" and box_type == "CBE":
        return _(
            "The CBE number must have 10 digits, start with 0 or 1, and have valid check digits."
        )
    if problem.field == "id" and box_type == "EHP":
        return _("The EHP number must have 10 digits.")
    return english(problem)


class RecipientForm(Form):
    """One recipient row. A row without an identifier is ignored."""

    type = SelectField(
        _l("Identifier type"),
        choices=[SelectChoice(t, TYPE_LABELS.get(t, t)) for t in BOX_TYPES],
        default="INSS",
        validate_choice=False,
    )
    identifier = StringField(_l("Identifier"), filters=[_strip])
    quality = SelectField(_l("Quality"), choices=QUALITY_CHOICES, default="", validate_choice=False)
    send_anyway = BooleanField(_l("Send anyway: I know this recipient is out of office"))

    @property
    def is_blank(self) -> bool:
        return not self.identifier.data

    def check(self) -> bool:
        """eHealth's recipient rules for a row on its own (an out-of-office substitute)."""
        if not self.quality.data:
            self.quality.errors = [*self.quality.errors, _("Choose the recipient's quality.")]
            return False
        row = self.value()
        self.type.data = row["type"]
        values = (row["type"], clean(row["id"]), row["quality"], self.sub_type)
        problems = check_recipient(*values)
        for found in problems:
            field = getattr(self, _FIELD_OF_PROBLEM[found.field])
            problem = Problem(found.kind, found.field, found.values)
            field.errors = [*field.errors, problem_sentence(problem, *values)]
        return not problems

    @property
    def sub_type(self) -> str | None:
        """Organisations need a SubType; it follows from the quality, so nobody types it."""
        try:
            return expected_type(self.quality.data)[1]
        except KeyError:
            return None

    def recipient(self) -> Recipient:
        return Recipient(
            clean(self.identifier.data),
            self.type.data,
            self.quality.data,
            self.sub_type,
            ooo_processed=bool(self.send_anyway.data),
        )

    def box(self) -> BoxId:
        """The row's box, as the page shows a person picked (name, profession, identifier)."""
        row = self.value()
        return BoxId(clean(row["id"]), row["type"], row["quality"], self.sub_type)

    def value(self) -> dict[str, Any]:
        """The row as the mailbox takes a recipient; the identifier type follows from the
        quality when only one fits (the row offers INSS first)."""
        box_type = self.type.data or ""
        try:
            allowed = expected_type(self.quality.data or "")[0]
        except KeyError:
            allowed = ()
        if allowed and box_type not in allowed:
            box_type = allowed[0]
        row: dict[str, Any] = {
            "type": box_type,
            "id": self.identifier.data or "",
            "quality": self.quality.data or "",
        }
        if self.send_anyway.data:
            row["ooOProcessed"] = True
        return row

    def matches(self, box_id: str, box_type: str, quality: str) -> bool:
        return (
            not self.is_blank
            and clean(self.identifier.data) == box_id
            and self.type.data == box_type
            and self.quality.data == quality
        )


class ComposeForm(FlaskForm):
    """A new message. `publication_id` is issued when the form is first shown.

    The form only carries values: the mailbox checks them (`mailbox.outgoing`), as it checks
    an `/api/v1` send, and `show_problems` puts each problem next to its field.
    """

    publication_id = HiddenField()
    forward_folder = HiddenField()
    forward_message_id = HiddenField()
    recipients = FieldList(
        FormField(RecipientForm), min_entries=MIN_RECIPIENT_ROWS, max_entries=MAX_RECIPIENT_ROWS
    )
    title = StringField(_l("Title"), filters=[_strip])
    document = FileField(_l("Document"))
    text = TextAreaField(_l("The message's text"))
    include_original = BooleanField(_l("Attach the original document and annexes"), default=True)
    free_text = TextAreaField(_l("Free text (shown with the message)"))
    patient_inss = StringField(_l("Patient's INSS"), filters=[_strip])
    annexes = MultipleFileField(_l("Annexes"))
    # The keys of kept files to drop; the template renders one checkbox per kept file.
    remove_kept = SelectMultipleField(_l("Remove"), choices=[], validate_choice=False)
    is_important = BooleanField(_l("Important"))
    publication_receipt = BooleanField(_l("when it is published"))
    received_receipt = BooleanField(_l("when it is received"))
    read_receipt = BooleanField(_l("when it is read"))
    encrypt = BooleanField(_l("Encrypt end to end"))
    add_recipient = SubmitField(_l("Add a recipient row"))
    send = SubmitField(_l("Send"))
    save_draft = SubmitField(_l("Save draft"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recipient_errors: list[str] = []
        self.top_errors: list[str] = []
        for field in [*self, *(f for entry in self.recipients for f in entry.form)]:
            field.errors = list(field.errors)  # problems are added without a validate()

    @property
    def forwarding(self) -> bool:
        return bool(self.forward_message_id.data)

    def filled_rows(self) -> list[RecipientForm]:
        return [row.form for row in self.recipients if not row.form.is_blank]

    # --- the form <-> the mailbox's values (an /api/v1 message's names) -------------------
    def values(self) -> dict[str, Any]:
        """What the user typed, as the mailbox and a draft take a message."""
        values: dict[str, Any] = {
            "recipients": [row.value() for row in self.filled_rows()],
            "title": self.title.data or "",
            "text": self.text.data or "",
            "freeText": self.free_text.data or "",
            "patientInss": self.patient_inss.data or "",
            "important": bool(self.is_important.data),
            "encrypted": bool(self.encrypt.data),
            "receipts": [name for name, flag in RECEIPTS.items() if getattr(self, flag).data],
        }
        if self.forwarding:
            values["forward"] = {
                "folder": self.forward_folder.data or "",
                "messageId": self.forward_message_id.data or "",
                "includeOriginal": bool(self.include_original.data),
            }
        return values

    @classmethod
    def from_values(cls, values: Mapping[str, Any], publication_id: str) -> ComposeForm:
        """A form showing a draft's values (or a reply's, a forward's)."""
        rows = [
            {
                "type": r.get("type") or "INSS",
                "identifier": r.get("id", ""),
                "quality": r.get("quality", ""),
                "send_anyway": bool(r.get("ooOProcessed")),
            }
            for r in values.get("recipients") or ()
            if isinstance(r, Mapping)
        ]
        receipts = values.get("receipts") or ()
        data: dict[str, Any] = {
            "publication_id": publication_id,
            "recipients": rows,
            "title": values.get("title", ""),
            "text": values.get("text", ""),
            "free_text": values.get("freeText", ""),
            "patient_inss": values.get("patientInss", ""),
            "is_important": bool(values.get("important")),
            "encrypt": bool(values.get("encrypted")),
            **{flag: name in receipts for name, flag in RECEIPTS.items()},
        }
        forward = values.get("forward")
        if isinstance(forward, Mapping):
            data["forward_folder"] = forward.get("folder", "")
            data["forward_message_id"] = forward.get("messageId", "")
            data["include_original"] = bool(forward.get("includeOriginal"))
        return cls(formdata=None, data=data)

    def show_problems(self, problems: Iterable[Problem], *, has_document: bool) -> None:
        """Each of the mailbox's problems next to its field, in the page's language.

        `has_document`: a kept document (a "one of document or text" is then about the text).
        """
        rows = self.filled_rows()
        for problem in problems:
            name, _dot, part = problem.field.partition(".")
            row = _RECIPIENT_ROW.fullmatch(name)
            if row is not None and int(row.group(1)) < len(rows):
                self._row_problem(rows[int(row.group(1))], replace(problem, field=part))
            elif name == "recipients":
                self.recipient_errors.append(
                    _("Add at least one recipient.")
                    if problem.code == "required"
                    else _("At most %(max)s recipients.", max=problem.values.get("max"))
                )
            elif name == "forward":
                self.forward_message_id.errors.append(
                    _("The message to forward is not one of your messages.")
                )
            elif problem.code == "one-of" and has_document:
                self.text.errors.append(
                    _(
                        "Send either the document or this text, not both: clear "
                        "the text or remove the document."
                    )
                )
            elif problem.code == "one-of":
                self.document.errors.append(_("Choose a document, or write the document as text."))
            else:
                field = getattr(self, _FIELD_OF_VALUE.get(name, ""), None)
                sentence = field_sentence(problem)
                if field is None:
                    self.top_errors.append(sentence)
                else:
                    field.errors.append(sentence)

    def _row_problem(self, row: RecipientForm, problem: Problem) -> None:
        values = row.value()
        field = _FIELD_OF_PROBLEM.get(problem.field, "identifier")
        sentence = problem_sentence(
            problem, values["type"], clean(values["id"]), values["quality"], row.sub_type
        )
        getattr(row, field).errors.append(sentence)


# A problem's field (the mailbox's name of a value) -> the compose form's field.
_FIELD_OF_VALUE = {
    "title": "title",
    "text": "text",
    "freeText": "free_text",
    "patientInss": "patient_inss",
    "document": "document",
    "annexes": "annexes",
}
_RECIPIENT_ROW = re.compile(r"recipients\[(\d+)\]")


def field_sentence(problem: Problem) -> str:
    """A problem with one of the message's own fields, in the page's language."""
    if problem.code == "required" and problem.field == "title":
        return _("Give the message a title.")
    if problem.field == "patientInss":
        return _("The patient's INSS must have 11 digits with valid check digits.")
    if problem.code == "too-long":
        return _("At most %(max)s characters.", max=format_number(problem.values.get("max", 0)))
    if problem.code == "control-characters":
        return _("Remove the control characters (invisible characters) from this field.")
    if problem.code == "bad-mime-type":
        return _("This file's type is not a MIME type (type/subtype).")
    if problem.code == "no-file-name":
        return _("This file has no usable name. Rename it and choose it again.")
    if problem.code == "file-name-too-long":
        return _(
            "The file name “%(name)s…” is longer than %(max)s characters. Rename the file.",
            name=problem.values.get("name", ""),
            max=format_number(problem.values.get("max", 0)),
        )
    if problem.code == "files-too-large":
        return _(
            "“%(name)s” was not added: the files of one message may add up to %(limit)s at most.",
            name=problem.values.get("name", ""),
            limit=megabytes(problem.values.get("limit", 0)),
        )
    return _("This value is not valid: %(reason)s", reason=english(problem))


class ActionForm(FlaskForm):
    """A button that changes something (move, delete): only its CSRF token."""
