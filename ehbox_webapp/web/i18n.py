"""The page language: Dutch, French, German or English (the source language).

The language of a page is, in this order:

1. the user's explicit choice, made with the switcher in the page header
   (`POST /language`): kept in a long-lived `lang` cookie, so it survives the login and
   the logout, and in a logged-in user's session. A logged-in user's switcher carries the
   CSRF token like every form; an anonymous visitor has no session to hold one (none is
   made for them), so their choice is taken only from this site's own pages, as the
   browser's `Sec-Fetch-Site` or `Origin` says (OWASP's check of standard headers);
2. the `locale` claim of the logged-in user's I.AM Connect token;
3. the browser's `Accept-Language`;
4. English.

Dates and numbers follow the Belgian conventions of the language (`nl_BE`,
`fr_BE`, `de_BE`; British English for English: day/month/year, 24-hour clock).
The catalogs are `ehbox_webapp/translations/<lang>/LC_MESSAGES/messages.po`;
`flask translate ...` updates and compiles them.
"""

from __future__ import annotations

import functools
import weakref
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, dates, numbers
from babel.dates import match_skeleton
from babel.support import NullTranslations, Translations
from flask import Blueprint, Flask, Response, abort, current_app, g, redirect, request, session
from flask_babel import Babel, get_locale, get_timezone, get_translations
from flask_wtf.csrf import CSRFError
from jinja2 import pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from markupsafe import Markup

from .extensions import csrf, settings
from .login_checks import safe_next

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DEFAULT_LANGUAGE = "en"
# Language -> its own name, as the switcher shows it (each in its own language).
LANGUAGES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}
# Language -> the locale that formats dates and numbers.
FORMAT_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_GB"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()
bp = Blueprint("i18n", __name__)


def language_of(value: object) -> str | None:
    """`nl`, `nl-BE`, `nl_BE` -> `nl`; None for anything that is not one of LANGUAGES."""
    if not isinstance(value, str):
        return None
    language = value.strip().replace("-", "_").split("_", 1)[0].lower()
    return language if language in LANGUAGES else None


def chosen_language() -> str | None:
    """The user's explicit choice, if any (the session's, else the cookie's)."""
    return language_of(session.get("lang")) or language_of(request.cookies.get(COOKIE))


def select_language() -> str:
    """Explicit choice > the token's `locale` claim > Accept-Language > English."""
    user = session.get("user") or {}
    return (
        chosen_language()
        or language_of(user.get("locale"))
        or request.accept_languages.best_match(LANGUAGES)
        or DEFAULT_LANGUAGE
    )


def select_locale() -> str:
    return FORMAT_LOCALES[select_language()]


@functools.cache
def skeleton_pattern(skeleton: str, locale: str) -> str:
    """The date pattern CLDR gives `locale` for a skeleton, as `babel.dates.format_skeleton`
    finds it (fuzzy), worked out once per locale.

    `format_skeleton` searches the locale's skeletons fuzzily on every call (about 0.7 ms,
    15-20 ms for a page of 25 dates); the answer depends only on the skeleton and the locale.
    """
    known = Locale.parse(locale).datetime_skeletons
    if skeleton not in known:
        skeleton = match_skeleton(skeleton, known) or skeleton
    return known[skeleton]


def page_language() -> str:
    """The language of the page being rendered, for `<html lang>`."""
    locale: Locale | None = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


@bp.post("/language")
@csrf.exempt  # checked below: the CSRF token for a session, the browser's word without one
def choose():
    """Remember the language picked in the switcher and go back to the page it was on."""
    if session.get("user") is not None:
        csrf.protect()
    elif not from_this_site():
        raise CSRFError("The form did not come from this site.")
    language = language_of(request.form.get("lang"))
    if language is None:
        abort(400)
    return remember_language(redirect(safe_next(request.form.get("next"))), language)


def from_this_site() -> bool:
    """The request comes from one of this site's pages, as the browser says.

    Browsers send `Sec-Fetch-Site` (and `Origin` on every POST); a request without either
    comes from no browser page at all, so no other site can have made it.
    """
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        return fetched_from in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    public = urlsplit(settings().public_url)
    return origin.rstrip("/") == f"{public.scheme}://{public.netloc}"


def remember_language(response: Response, language: str) -> Response:
    """Keep `language` as the user's choice (cookie, and a logged-in user's session)."""
    if session.get("user") is not None:
        session["lang"] = language
    response.set_cookie(
        COOKIE,
        language,
        max_age=COOKIE_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def language_context() -> dict:
    return {"LANGUAGES": LANGUAGES, "page_lang": page_language(), PAGE: current_page_language()}


def vary_on_language(response: Response) -> Response:
    """A page's language depends on these headers: no shared cache may mix them up."""
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
    return response


# Catalog -> (its words, their finished forms in templates), for the process.
_KEPT: weakref.WeakKeyDictionary[Any, tuple[dict[str, str], dict[tuple[str, bool], str]]] = (
    weakref.WeakKeyDictionary()
)
_KEPT_MAX = 4096


class PageLanguage:
    """One page's language as it is drawn: locale, catalog, time zone, and what was
    translated and formatted for it so far.

    Through Flask-Babel each `_()`, date or flag finds the request's locale and catalog
    again (four context-local reads, about 2 µs); a folder page asks that some 150 times.
    The answers only change with the locale, which `force_locale` may switch for a while,
    so they are kept with the locale they were found for (`current_page_language`), and a
    template, drawn in one language from start to end, keeps the object for its whole
    render (the context variable `PAGE`).

    The words themselves are kept with their catalog for the process (`_KEPT`): a page
    says each of its forty words once or twice, so a memo per request would look each up
    afresh on every page. The catalogs are our own source strings (templates translate
    literals only); the memo stops growing at `_KEPT_MAX` words all the same.
    """

    __slots__ = ("locale", "code", "zone", "translations", "_words", "_finished")

    def __init__(self, locale: Locale | None) -> None:
        self.locale = locale
        self.code = str(locale) if locale is not None else FORMAT_LOCALES[DEFAULT_LANGUAGE]
        self.zone = get_timezone()
        self.translations = get_translations()
        kept = _KEPT.get(self.translations)
        if kept is None:
            kept = _KEPT[self.translations] = ({}, {})
        self._words: dict[str, str] = kept[0]
        self._finished: dict[tuple[str, bool], str] = kept[1]

    def word(self, string: str) -> str:
        """`string` translated (a dictionary read after its first look-up)."""
        word = self._words.get(string)
        if word is None:
            word = self.translations.ugettext(string)
            if len(self._words) < _KEPT_MAX:
                self._words[string] = word
        return word

    def template_word(self, string: str, autoescape: bool) -> str:
        """What a template's `_(string)` gives with no variables, worked out once: Jinja's
        newstyle gettext marks the word safe when the template autoescapes and always
        applies `%` (so `%%` reads `%` whether or not there are variables)."""
        key = (string, autoescape)
        finished = self._finished.get(key)
        if finished is None:
            word = self.word(string)
            finished = (Markup(word) if autoescape else word) % {}  # noqa: S704 - our catalogs
            if len(self._finished) < _KEPT_MAX:
                self._finished[key] = finished
        return finished

    def number(self, value: float | Decimal, pattern: str | None = None) -> str:
        """`value` as the page's language writes numbers (what Flask-Babel's
        `format_number`, or `format_decimal` with `pattern`, gives), once per value."""
        return _formatted_number(value, pattern, self.code)

    def moment(self, value: datetime, with_time: bool = True) -> str:
        """`value` in the users' time zone: the day (full year) and, `with_time`, the time.

        What `flask_babel.to_user_timezone` and `format_time(..., "short")` give. Each
        moment is formatted once per locale and zone (`_formatted_moment`): a mailbox
        shows the same messages' dates on every view, and Babel's formatting of one date
        costs more than the rest of its table row.
        """
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return _formatted_moment(value, with_time, self.code, self.zone)


# The template context variable holding the render's PageLanguage (see language_context).
PAGE = "page_language_"


def current_page_language() -> PageLanguage:
    """The request's PageLanguage for the locale in force now."""
    locale = get_locale()
    kept = g.get("_page_language")
    if kept is None or kept.locale is not locale:
        kept = g._page_language = PageLanguage(locale)
    return kept


def language_of_render(context: Context) -> PageLanguage:
    """The PageLanguage of the template being drawn: the one its render started with, or
    (a macro imported without the page's context) the request's."""
    page = context.get(PAGE)
    return page if page is not None else current_page_language()


class PageContext(Context):
    """A render's context that also hands its PageLanguage to the render's evaluation context.

    Jinja calls a `pass_context` function from inside a loop, or from a block that sets
    variables, with a context derived for the call: a new context with a copy of every
    variable of the page, for each call. A folder page asked that some 50 times (its `_()`
    and the people of its rows). The template functions that need only the page's language
    take the evaluation context instead (`pass_eval_context`), which every context derived
    from the render's shares, and find the PageLanguage there (`language_of_evaluation`).
    """

    def __init__(self, environment, parent, name, blocks, globals=None) -> None:  # noqa: A002
        super().__init__(environment, parent, name, blocks, globals)
        page = parent.get(PAGE)
        if page is not None:
            setattr(self.eval_ctx, PAGE, page)


def language_of_evaluation(eval_ctx: EvalContext) -> PageLanguage:
    """The PageLanguage of the render being drawn (`PageContext`), or (a macro imported
    without the page's context, whose evaluation context outlives the render) the
    request's."""
    page = getattr(eval_ctx, PAGE, None)
    return page if page is not None else current_page_language()


def page_translations() -> Translations | NullTranslations:
    """The page's catalog, looked up once per request and locale (not once per string)."""
    return current_page_language().translations


@functools.lru_cache(maxsize=4096, typed=True)
def _formatted_number(value: float | Decimal, pattern: str | None, locale: str) -> str:
    return numbers.format_decimal(value, pattern, locale=locale)


@pass_context
def template_number(context: Context, value: float | Decimal) -> str:
    """The `numberformat` filter, from the render's PageLanguage."""
    return language_of_render(context).number(value)


@functools.lru_cache(maxsize=4096)
def _formatted_moment(value: datetime, with_time: bool, locale: str, zone: tzinfo) -> str:
    moment = zone.normalize(value.astimezone(zone))  # type: ignore[attr-defined]  # pytz
    day = dates.format_datetime(moment, skeleton_pattern("yMMdd", locale), locale=locale)
    if not with_time:
        return day
    return f"{day} {dates.format_time(moment, 'short', locale=locale)}"


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    """A template's `_()` and `{% trans %}`: Jinja's "newstyle" gettext, from the render's
    PageLanguage.

    What Jinja's own newstyle callable does (translate, mark safe when the template
    autoescapes, then `%` the variables in, escaped), without its call layers and with a
    word's finished form kept when there are no variables: 5.0 → 1.4 µs a call (timed in
    one render of 2,000 calls, best of 15).
    """
    page = language_of_evaluation(eval_ctx)
    autoescape = eval_ctx.autoescape
    if not variables:
        return page.template_word(string, autoescape)
    word = page.word(string)
    if autoescape:
        word = Markup(word)  # noqa: S704 - our own catalogs, as Jinja marks them
    return word % variables


def install_template_gettext(app: Flask) -> None:
    """`_()`, `ngettext()` and `{% trans %}` in templates, through `page_translations`."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
    )
    # `_` is Jinja's alias of `gettext`; both go straight to the kept translations.
    app.jinja_env.globals.update(gettext=template_gettext, _=template_gettext)
    app.jinja_env.filters["numberformat"] = template_number
    app.jinja_env.context_class = PageContext


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Brussels")  # the users' time zone
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    # {% trans %} blocks: line breaks and indentation are not part of the message.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.context_processor(language_context)
    app.after_request(vary_on_language)
    app.register_blueprint(bp)
