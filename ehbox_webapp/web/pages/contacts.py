"""The user's address book on the pages: kept briefly per user, and the name of a box.

Built by `mailbox.addressbook` (two listings, plus the personas in the sandbox); kept
`TTL` seconds in the server-side store by the user's `mailbox.memory.BoxMemory` (the one
`boxcache` holds for the request), under the same per-user hash as the box info and the
counts, and forgotten with them when the pages send or move. With them, the people she
found in eHealth's AddressBook lately (`FoundPeople`, kept longer), and the AddressBook
itself, which find-by-name searches after them.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from ...ehealth.ehealthbox import BoxId, EhealthboxError, Sender
from ...mailbox.addressbook import Book, Contact, FoundPeople, build, merge, name_of, named
from ...mailbox.memory import CONTACTS_TTL
from ...mailbox.people import format_identifier, format_inss
from ..caller import addressbook, mailbox
from ..directory_contacts import sandbox_contacts
from ..extensions import services
from ..i18n import PageLanguage, current_page_language, language_of_evaluation, page_language
from ..login_checks import LoginRequired
from . import boxcache
from .blueprint import bp
from .qualities import QUALITY_WORDS, TYPE_TITLE_WORDS, TYPE_WORDS

TTL = CONTACTS_TTL  # seconds (`mailbox.memory`)
_BOOK = "_address_book"  # on `g`: this request's Book


def contacts() -> Book:
    """The logged-in user's address book: her contacts (from this request, from the store,
    or built), then the people she found in the AddressBook lately; `find` searches the
    AddressBook after them, and whom it finds there joins them."""
    book = g.get(_BOOK)
    if book is not None:
        return book

    def built() -> list[Contact]:
        box = mailbox()
        return build(box, me=boxcache.my_box(box), extra=sandbox_contacts())

    found = FoundPeople(services().store, boxcache.store_key("found"))

    def remember(new: list[Contact]) -> None:
        found.add(new)
        book.extend(merge([], new))

    book = Book(
        merge(boxcache.memory().contacts(built), found.contacts()),
        directory=addressbook(),
        remember=remember,
        language=page_language(),
        me=boxcache.my_box(mailbox()),
    )
    setattr(g, _BOOK, book)
    return book


def offered() -> list[Contact]:
    """The contacts a search field offers as it is typed in ([] when the mail cannot be
    listed: the page still works, identifiers are typed by hand)."""
    try:
        return contacts()
    except EhealthboxError:
        return []


def name_boxes(boxes: Iterable[BoxId]) -> list[Contact]:
    """`boxes` by name (`mailbox.addressbook.named`), and their names known for this request
    (`box_name`): those the address book does not know are looked up in eHealth's
    AddressBook, and kept a while. For the few boxes a page shows that the user may never
    have written to (substitutes). Without names when the mail cannot be listed."""
    boxes = list(boxes)
    try:
        return named(contacts(), boxes)
    except (EhealthboxError, LoginRequired):
        return [Contact(box) for box in boxes]


@bp.app_template_global()
def contact_text(contact: Contact) -> str:
    """A contact to choose among namesakes, in the page's language:
    "Bram Janssens, Verpleegkundige · INSZ 79.03.15-456.95"."""
    box = contact.box
    ident = f"{identifier_type_label(box.type)} {format_identifier(box.type, box.id)}"
    who = ", ".join(p for p in (contact.display_name, quality_label(box.quality)) if p)
    return f"{who} · {ident}"


def offered_as(book: Iterable[Contact], text: str) -> Contact | None:
    """The contact whose words (`contact_text`, as the search field's suggestions offer them
    in the page's language) are `text`; None when none is."""
    wanted = " ".join(text.split())
    if not wanted:
        return None
    return next((c for c in book if contact_text(c) == wanted), None)


@bp.app_template_global()
def box_name(box: BoxId) -> str:
    """The name the user knows a box by, for showing people by name ("" when unknown).

    A sender's name comes with the message; the user's own box is called by her name; any
    other box by the name her address book knows.
    """
    if g.get("user") is None or box is None:
        return ""
    name = getattr(box, "name", "") and getattr(box, "display_name", "")
    if name:
        return name
    try:
        mine = boxcache.my_box(mailbox())
        if (box.id, box.type) == (mine.id, mine.type) and g.user.get("name"):
            return g.user["name"]
        return name_of(contacts(), box)
    except (EhealthboxError, LoginRequired):
        return ""


def person_text(box: BoxId) -> str:
    """A box in words for a sentence: "Alice Peeters, Doctor · INSS 85.07.12-123.90"."""
    quality = quality_label(box.quality)
    ident = f"{identifier_type_label(box.type)} {format_identifier(box.type, box.id)}"
    name = box_name(box)
    return f"{name}, {quality} · {ident}" if name else f"{quality} · {ident}"


def quality_label(quality: str) -> str:
    """A quality in the page's language (the code when it has no name here)."""
    return _quality(current_page_language(), quality)


def identifier_type_label(box_type: str) -> str:
    """An identifier type as the page's language abbreviates it (INSZ, NISS, ENSS...)."""
    return _type_label(current_page_language(), box_type)


# In templates, the same from the render's PageLanguage (`language_of_evaluation`): a folder
# page names 25 senders, and a lazy string finds the request's locale and catalog again
# through Flask-Babel each time.
@bp.app_template_global("quality_label")
@pass_eval_context
def template_quality_label(eval_ctx: EvalContext, quality: str) -> str:
    return _quality(language_of_evaluation(eval_ctx), quality)


@bp.app_template_global("identifier_type_label")
@pass_eval_context
def template_identifier_type_label(eval_ctx: EvalContext, box_type: str) -> str:
    return _type_label(language_of_evaluation(eval_ctx), box_type)


@bp.app_template_global()
@pass_eval_context
def identifier_type_title(eval_ctx: EvalContext, box_type: str) -> str:
    """An identifier type written out in the page's language (for `<abbr title>`)."""
    word = TYPE_TITLE_WORDS.get(box_type)
    page = language_of_evaluation(eval_ctx)
    return page.word(word) if word is not None else _type_label(page, box_type)


def _quality(page: PageLanguage, quality: str) -> str:
    word = QUALITY_WORDS.get(quality)
    return page.word(word) if word is not None else quality


def _type_label(page: PageLanguage, box_type: str) -> str:
    word = TYPE_WORDS.get(box_type)
    return page.word(word) if word is not None else box_type


# People as the templates wrote them. Functions, not macros: a folder page names one or more
# people on each of its 25 rows, and a macro call costs more than the rest of its cell. Every
# value is escaped as the template escaped it (`escape`; the words of our catalogs too).
@bp.app_template_global()
@pass_eval_context
def box(eval_ctx: EvalContext, b: BoxId, named: bool = True) -> Markup:
    """A box: the person's or organisation's name when known, then the profession (or kind
    of organisation) in the page's language, then the identifier, grouped as people read it.
    `named=False` leaves the name out."""
    page = language_of_evaluation(eval_ctx)
    name = box_name(b) if named else ""
    sub_type = getattr(b, "sub_type", None)
    quality = b.quality
    title = TYPE_TITLE_WORDS.get(b.type)
    return Markup(  # noqa: S704 - every value escaped
        '<span class="person">'
        + (f'<span class="name" translate="no">{escape(name)}</span>, ' if name else "")
        + f'<span class="quality" data-quality="{escape(quality)}">'
        f"{escape(_quality(page, quality))}</span>"
        + (f" ({escape(_quality(page, sub_type))})" if sub_type and sub_type != quality else "")
        + '\n<span class="box-id">· <abbr title="'
        f'{escape(page.word(title) if title is not None else _type_label(page, b.type))}">'
        f"{escape(_type_label(page, b.type))}</abbr> "
        f'<span translate="no">{escape(format_identifier(b.type, b.id))}</span></span></span>'
    )


@bp.app_template_global()
@pass_eval_context
def person_short(eval_ctx: EvalContext, b: BoxId, name: str | None = None) -> Markup:
    """In a list: a person by name and profession (no identifier); by profession and
    identifier when no name is known. `name`: the name when the caller knows it already."""
    page = language_of_evaluation(eval_ctx)
    name = box_name(b) if name is None else name
    if name:
        return _named(name, _quality(page, b.quality))
    return Markup(  # noqa: S704 - every value escaped
        f'{escape(_quality(page, b.quality))} <span class="box-id">'
        f"{escape(_type_label(page, b.type))} "
        f'<span translate="no">{escape(format_identifier(b.type, b.id))}</span></span>'
    )


@bp.app_template_global()
@pass_eval_context
def sender_short(eval_ctx: EvalContext, s: Sender) -> Markup:
    """In a list: a sender, by the name the platform gives, and profession."""
    display_name = s.display_name
    if display_name != s.id:
        return _named(display_name, _quality(language_of_evaluation(eval_ctx), s.quality))
    return person_short(eval_ctx, s)


def _named(name: str, quality: str) -> Markup:
    return Markup(  # noqa: S704 - every value escaped
        f'<span class="name" translate="no">{escape(name)}</span>'
        f'<span class="who-detail">, {escape(quality)}</span>'
    )


@bp.app_template_filter("identifier")
def identifier(value: str | None, box_type: str = "INSS") -> str:
    """An identifier grouped as people read it: 49.11.02-284.83, 0899.999.949."""
    return format_identifier(box_type, value)


@bp.app_template_filter("inss")
def inss(value: str | None) -> str:
    """An INSS as people read it: 49.11.02-284.83."""
    return format_inss(value)
