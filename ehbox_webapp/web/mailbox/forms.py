"""The mailbox's forms: compose (with its recipient rows) and the small action forms.

Every form is a FlaskForm, so every POST carries the CSRF token. Recipients are
checked as eHealth checks them (`identifiers.check_recipient`: INSS and CBE check
digits, NIHII length per quality, type and subtype per quality), and each problem
is attached to the field it is about.
"""

from __future__ import annotations

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
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ...ehealth.ehealthbox import FOLDERS, Recipient, check_recipient, is_valid_inss
from ...ehealth.ehealthbox.identifiers import (
    BOX_TYPES,
    CITIZEN_QUALITY,
    NIHII_ORGANISATION_QUALITIES,
    OTHER_ORGANISATION_QUALITIES,
    PERSON_QUALITIES,
    clean,
    expected_type,
)
from .pages import MESSAGE_ID

MIN_RECIPIENT_ROWS = 3  # empty rows to fill in without JavaScript; blank ones are ignored
MAX_RECIPIENT_ROWS = 50
MAX_FREE_TEXT = 20_000  # no published limit; a screenful of notes, not a document


def _label(quality: str) -> str:
    return quality.replace("_", " ").capitalize()


QUALITY_CHOICES = [
    SelectChoice("", "Choose a quality"),
    *(SelectChoice(q, _label(q), optgroup="Care providers") for q in PERSON_QUALITIES),
    SelectChoice(CITIZEN_QUALITY, _label(CITIZEN_QUALITY), optgroup="Citizens"),
    *(
        SelectChoice(q, _label(q), optgroup="Organisations (NIHII)")
        for q in NIHII_ORGANISATION_QUALITIES
    ),
    *(
        SelectChoice(q, _label(q), optgroup="Organisations (CBE, EHP)")
        for q in OTHER_ORGANISATION_QUALITIES
    ),
]
# The form of each problem's field, as named by `check_recipient`.
_FIELD_OF_PROBLEM = {"id": "identifier", "type": "type", "subType": "type", "quality": "quality"}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RecipientForm(Form):
    """One recipient row. A row without an identifier is ignored."""

    type = SelectField(
        "Identifier type",
        choices=[SelectChoice(t, t) for t in BOX_TYPES],
        default="INSS",
        validate_choice=False,
    )
    identifier = StringField("Identifier", filters=[_strip])
    quality = SelectField("Quality", choices=QUALITY_CHOICES, default="", validate_choice=False)
    send_anyway = BooleanField("Send anyway: I know this recipient is out of office")

    @property
    def is_blank(self) -> bool:
        return not self.identifier.data

    def check(self) -> bool:
        """eHealth's recipient rules; each problem goes next to its field."""
        if not self.quality.data:
            self.quality.errors.append("Choose the recipient's quality.")
            return False
        problems = check_recipient(
            self.type.data, clean(self.identifier.data), self.quality.data, self.sub_type
        )
        for problem in problems:
            getattr(self, _FIELD_OF_PROBLEM[problem.field]).errors.append(problem.message)
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

    def matches(self, box_id: str, box_type: str, quality: str) -> bool:
        return (
            not self.is_blank
            and clean(self.identifier.data) == box_id
            and self.type.data == box_type
            and self.quality.data == quality
        )


def _patient_inss(form: FlaskForm, field: StringField) -> None:
    if field.data and not is_valid_inss(clean(field.data)):
        raise ValidationError("The patient's INSS must have 11 digits with valid check digits.")


class ComposeForm(FlaskForm):
    """A new message. `publication_id` is issued when the form is first shown."""

    publication_id = HiddenField()
    forward_folder = HiddenField()
    forward_message_id = HiddenField()
    recipients = FieldList(
        FormField(RecipientForm), min_entries=MIN_RECIPIENT_ROWS, max_entries=MAX_RECIPIENT_ROWS
    )
    title = StringField(
        "Title", [InputRequired("Give the message a title."), Length(1, 400)], filters=[_strip]
    )
    document = FileField("Document")
    text = TextAreaField("Or write the document as text")
    include_original = BooleanField("Attach the original document and annexes", default=True)
    free_text = TextAreaField(
        "Free text (shown with the message)", [Optional(), Length(max=MAX_FREE_TEXT)]
    )
    patient_inss = StringField("Patient's INSS", [Optional(), _patient_inss], filters=[_strip])
    annexes = MultipleFileField("Annexes")
    # The keys of kept files to drop; the template renders one checkbox per kept file.
    remove_kept = SelectMultipleField("Remove", choices=[], validate_choice=False)
    is_important = BooleanField("Important")
    publication_receipt = BooleanField("when it is published")
    received_receipt = BooleanField("when it is received")
    read_receipt = BooleanField("when it is read")
    add_recipient = SubmitField("Add a recipient row")
    send = SubmitField("Send")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recipient_errors: list[str] = []
        self.top_errors: list[str] = []

    def validate_forward_message_id(self, field: HiddenField) -> None:
        if field.data and not (
            MESSAGE_ID.match(field.data) and self.forward_folder.data in FOLDERS
        ):
            raise ValidationError("The message to forward is not one of your messages.")

    @property
    def forwarding(self) -> bool:
        return bool(self.forward_message_id.data)

    def filled_rows(self) -> list[RecipientForm]:
        return [row.form for row in self.recipients if not row.form.is_blank]

    def validate_message(self, *, has_document: bool) -> bool:
        """Field checks, then the rules across fields. `has_document`: a kept upload."""
        valid = self.validate()
        rows = self.filled_rows()
        if not rows:
            self.recipient_errors.append("Add at least one recipient.")
        valid = all([row.check() for row in rows]) and bool(rows) and valid
        has_text = bool((self.text.data or "").strip())
        if has_document and has_text:
            self.text.errors.append(
                "Send either the document or this text, not both: clear "
                "the text or remove the document."
            )
            valid = False
        elif not (has_document or has_text or (self.forwarding and self.include_original.data)):
            self.document.errors.append("Choose a document, or write the document as text.")
            valid = False
        return valid


class ActionForm(FlaskForm):
    """A button that changes something (move, delete): only its CSRF token."""
