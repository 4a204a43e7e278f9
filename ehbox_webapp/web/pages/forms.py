"""The mailbox's forms: compose (with its recipient rows) and the small action forms.

Every form is a FlaskForm, so every POST carries the CSRF token. Recipients are
checked as eHealth checks them (`identifiers.check_recipient`: INSS and CBE check
digits, NIHII length per quality, type and subtype per quality), and each problem
is attached to the field it is about.

Labels and messages are translated: lazily where they are defined once for every request
(labels, validators), at once where they are made during a request. The recipient rules'
problems carry a stable `kind` and their values (`identifiers.check_recipient`);
`problem_sentence` words each one, translated. The limits are the mailbox's (`mailbox/rules.py`).
"""

from __future__ import annotations

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
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ...ehealth.ehealthbox import FOLDERS, Recipient, check_recipient, is_valid_inss
from ...ehealth.ehealthbox.identifiers import (
    BOX_TYPES,
    CITIZEN_QUALITY,
    NIHII_ORGANISATION_QUALITIES,
    OTHER_ORGANISATION_QUALITIES,
    PERSON_QUALITIES,
    RecipientProblem,
    clean,
    expected_type,
)
from ...mailbox.rules import FREE_TEXT_MAX, MAX_RECIPIENTS, TITLE_MAX, is_message_id
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
_FIELD_OF_PROBLEM = {"id": "identifier", "type": "type", "subType": "type", "quality": "quality"}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def problem_sentence(
    problem: RecipientProblem, box_type: str, identifier: str, quality: str, sub_type: str | None
) -> str:
    """`check_recipient`'s problem, worded in the page's language (its English as a fallback)."""
    if problem.kind == "unknown-quality":
        return _("The quality “%(quality)s” is not an eHealthBox quality.", quality=quality)
    if problem.kind == "unknown-type":
        return _(
            "The identifier type “%(type)s” is not one of %(types)s.",
            type=box_type,
            types=", ".join(BOX_TYPES),
        )
    if problem.kind == "type-for-quality":
        types = problem.values["allowed"]
        wanted = types[0] if len(types) == 1 else _("%(a)s or %(b)s", a=types[0], b=types[1])
        return _(
            "The quality %(quality)s needs an identifier of type %(types)s, not %(type)s.",
            quality=quality,
            types=wanted,
            type=box_type,
        )
    if problem.kind in ("sub-type-for-quality", "no-sub-type-for-quality"):
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
    return problem.message


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
        """eHealth's recipient rules; each problem goes next to its field."""
        if not self.quality.data:
            self.quality.errors.append(_("Choose the recipient's quality."))
            return False
        try:  # the identifier type follows from the quality when only one fits
            allowed = expected_type(self.quality.data)[0]
        except KeyError:
            allowed = ()
        if allowed and self.type.data not in allowed:
            self.type.data = allowed[0]
        values = (self.type.data, clean(self.identifier.data), self.quality.data, self.sub_type)
        problems = check_recipient(*values)
        for problem in problems:
            getattr(self, _FIELD_OF_PROBLEM[problem.field]).errors.append(
                problem_sentence(problem, *values)
            )
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
        raise ValidationError(_("The patient's INSS must have 11 digits with valid check digits."))


class ComposeForm(FlaskForm):
    """A new message. `publication_id` is issued when the form is first shown."""

    publication_id = HiddenField()
    forward_folder = HiddenField()
    forward_message_id = HiddenField()
    recipients = FieldList(
        FormField(RecipientForm), min_entries=MIN_RECIPIENT_ROWS, max_entries=MAX_RECIPIENT_ROWS
    )
    title = StringField(
        _l("Title"),
        [InputRequired(_l("Give the message a title.")), Length(1, TITLE_MAX)],
        filters=[_strip],
    )
    document = FileField(_l("Document"))
    text = TextAreaField(_l("Or write the document as text"))
    include_original = BooleanField(_l("Attach the original document and annexes"), default=True)
    free_text = TextAreaField(
        _l("Free text (shown with the message)"), [Optional(), Length(max=FREE_TEXT_MAX)]
    )
    patient_inss = StringField(_l("Patient's INSS"), [Optional(), _patient_inss], filters=[_strip])
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

    def validate_forward_message_id(self, field: HiddenField) -> None:
        if field.data and not (is_message_id(field.data) and self.forward_folder.data in FOLDERS):
            raise ValidationError(_("The message to forward is not one of your messages."))

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
            self.recipient_errors.append(_("Add at least one recipient."))
        valid = all([row.check() for row in rows]) and bool(rows) and valid
        has_text = bool((self.text.data or "").strip())
        if has_document and has_text:
            self.text.errors.append(
                _(
                    "Send either the document or this text, not both: clear "
                    "the text or remove the document."
                )
            )
            valid = False
        elif not (has_document or has_text or (self.forwarding and self.include_original.data)):
            self.document.errors.append(_("Choose a document, or write the document as text."))
            valid = False
        return valid


class ActionForm(FlaskForm):
    """A button that changes something (move, delete): only its CSRF token."""
