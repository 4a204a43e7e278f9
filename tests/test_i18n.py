"""Dutch, French, German and English: every page in every language, and how one is chosen.

The big test renders every page a user can meet in English, then in each translated
language, and looks for text left in English: a visible text node (or a title,
aria-label, placeholder, button caption or script sentence) that is the same as on the
English page and holds a word of the English source texts that the language's own
translations never use. Data is not text to translate: what sits inside `translate="no"`
(names, titles, identifiers, file names), inside an element in another language
(`lang="en"`: the onboarding document for eHealth), or in <pre>/<code>.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import requests
from babel.dates import format_datetime, format_skeleton
from babel.messages.pofile import read_po
from conftest import Browser, page_forms
from test_mailbox import compose_and_send, post_compose, sandbox_of
from test_mailbox_etee import NO_KEY_INSS, sealed_pair

from ehbox_webapp.cli.translate import extract
from ehbox_webapp.web.i18n import FORMAT_LOCALES, TRANSLATIONS, skeleton_pattern

LANGUAGES = ("nl", "fr", "de")
# Names and codes that are the same in every language.
ALLOWED_WORDS = {
    "ehealthbox",
    "ehealth",
    "i",
    "am",
    "connect",
    "pkce",
    "json",
    "markdown",
    "ehbox",
    "webapp",
    "idp",
    "api",
    "v",
    "eid",
    "itsme",
    "inss",
    "ehp",
    "cbe",
    "nihii",
    "pdf",
    "chrome",
    "edge",
    "bearer",
    "authorization",
    "kb",
    "mb",
}
READABLE_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def words(text: str) -> set[str]:
    text = re.sub(r"%\([a-z_]+\)s|<[^>]+>", " ", text)
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def english_words(lang: str) -> set[str]:
    """Words of the English source texts that the language's translations do not use."""
    source, translated = set(), set()
    for message in catalog(lang):
        if message.id:  # a plural's id and string are tuples (singular, plural...)
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            source |= words(" ".join(ids))
            translated |= words(" ".join(s or "" for s in strings))
    return source - translated - ALLOWED_WORDS


class _Texts(HTMLParser):
    """The text a person reads on a page, minus data (translate=no, other languages, code)."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.data: list[str] = []
        self.lang = "en"
        self._stack: list[bool] = []  # per open element: is its content data?

    def _skipping(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang", "")
            return
        data = (
            self._skipping()
            or a.get("translate") == "no"
            or tag in ("pre", "code", "script", "style")
            or a.get("lang", self.lang) != self.lang
        )
        if not data:
            for name, value in a.items():
                if value and (name in READABLE_ATTRIBUTES or name.startswith("data-msg-")):
                    self.texts.append(value)
            if tag == "input" and a.get("type") in ("submit", "button", "reset"):
                self.texts.append(a.get("value", ""))
        if tag not in self.VOID:
            self._stack.append(data)

    def handle_endtag(self, tag):
        if tag not in self.VOID and tag != "html" and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        text = " ".join(data.split())
        if text:
            (self.data if self._skipping() else self.texts).append(text)


def texts(html: str) -> tuple[str, list[str]]:
    """The page's language and its texts; a text made of the page's data is left out.

    (The <title> repeats a message's title, which is data, and can hold no markup.)
    """
    parser = _Texts()
    parser.feed(html)
    data = set().union(*map(words, parser.data)) | {"ehbox", "webapp"}
    return parser.lang, [t for t in parser.texts if not words(t) <= data]


def choose(browser: Browser, lang: str, path: str = "/") -> requests.Response:
    """Pick `lang` in the header's switcher of the page at `path`."""
    return browser.submit(browser.get(browser.url(path)), "lang", {}, button=("lang", lang))


def render_every_page(live, failing_realm, lang: str) -> dict[str, requests.Response]:
    """Every kind of page, in `lang` (chosen in the switcher), as a user meets them."""
    pages: dict[str, requests.Response] = {}
    with Browser(live) as visitor:
        choose(visitor, lang)
        for name, path in [
            ("welcome", "/"),
            ("onboarding", "/onboarding"),
            ("public client", "/public-client/"),
            ("logged out", "/logout"),
            ("404", "/no-such-page"),
            ("login failure", "/auth/callback?code=abc&state=forged"),
        ]:
            pages[name] = visitor.get(visitor.url(path))
        pages["400"] = visitor.post(visitor.url("/language"), data={"lang": "xx"})
    with Browser(failing_realm) as visitor:
        choose(visitor, lang)
        pages["502 realm"] = visitor.get(visitor.url("/login"))

    with Browser(live) as alice:
        alice.login("dr-alice", lang=None)
        choose(alice, lang)
        pages["home"] = alice.get(alice.url("/"))
        pages["inbox"] = alice.get(alice.url("/box/INBOX"))
        client = sandbox_of(live).client("dr-alice")
        sealed, broken = sealed_pair(live)  # two encrypted messages from Bram, one altered
        kinds: dict[str, str] = {}
        for m in client.list_messages("INBOX", 1, 30).messages:
            if m.content_specification.is_encrypted:
                continue
            kind = "annex" if m.has_annex else m.content_specification.content_type
            kinds.setdefault(kind, m.message_id)
        pages["message encrypted"] = alice.get(alice.url(f"/box/INBOX/{sealed}"))
        pages["message cannot be opened"] = alice.get(alice.url(f"/box/INBOX/{broken}"))
        pages["download cannot be opened"] = alice.get(alice.url(f"/box/INBOX/{broken}/annexes/1"))
        for kind, message_id in kinds.items():
            pages[f"message {kind}"] = alice.get(alice.url(f"/box/INBOX/{message_id}"))
        sent = client.list_messages("SENTBOX", 1, 1).messages[0].message_id
        pages["sent message"] = alice.get(alice.url(f"/box/SENTBOX/{sent}"))
        pages["delete confirmation"] = alice.get(alice.url(f"/box/INBOX/{kinds['annex']}/delete"))
        pages["moved (flash)"] = alice.submit(
            pages["message annex"], "move", {}, button=("move", "1")
        )
        pages["bin"] = alice.get(alice.url("/box/BININBOX"))
        pages["compose"] = alice.get(alice.url("/box/compose"))
        pages["compose with errors"] = compose_and_send(
            alice,
            {
                "recipients-0-type": "INSS",
                "recipients-0-identifier": "79031545696",
                "recipients-0-quality": "NURSE",
                "recipients-1-type": "CBE",
                "recipients-1-identifier": "0899999949",
                "recipients-1-quality": "DOCTOR",
                "recipients-2-type": "NIHII",
                "recipients-2-identifier": "1234",
                "recipients-2-quality": "HOSPITAL",
                "title": "T" * 401,
                "patient_inss": "12345678901",
            },
        )
        pages["compose, no title"] = post_compose(
            alice, pages["compose"], {"send": "Send", "title": ""}
        )
        pages["compose, no encryption key"] = compose_and_send(
            alice,
            {
                "recipients-0-type": "INSS",
                "recipients-0-identifier": NO_KEY_INSS,
                "recipients-0-quality": "DOCTOR",
                "title": "T",
                "text": "x",
                "encrypt": "y",
            },
        )
        directory = live.app.extensions["services"].directory
        base, directory.base_url = directory.base_url, "http://127.0.0.1:9/jwks"
        directory.forget()
        try:
            pages["compose, key directory down"] = compose_and_send(
                alice,
                {
                    "recipients-0-type": "INSS",
                    "recipients-0-identifier": "79031545695",
                    "recipients-0-quality": "NURSE",
                    "title": "T",
                    "text": "x",
                    "encrypt": "y",
                },
            )
        finally:
            directory.base_url = base
        pages["reply"] = alice.get(alice.url(f"/box/BININBOX/{kinds['annex']}/reply"))
        pages["logout confirmation"] = alice.get(alice.url("/logout"))
        pages["400 form expired"] = alice.post(alice.url("/logout"), data={})
        sandbox_of(live).fault(operation="list", status=503, retryAfter=0, times=10)
        pages["503 eHealthBox"] = alice.get(alice.url("/box/INBOX"))
        sandbox_of(live).clear_faults()
    return pages


def rate_limited_page(live, lang: str) -> requests.Response:
    """The 429 page of the login. Last of all: it uses up the login's rate limit."""
    with Browser(live) as visitor:
        choose(visitor, lang)
        for _attempt in range(30):
            limited = visitor.get(visitor.url("/login"), allow_redirects=False)
            if limited.status_code == 429:
                break
        return limited


@pytest.fixture
def failing_realm(make_live_app):
    """An app whose I.AM Connect realm does not answer."""
    return make_live_app({"IAM_ISSUER": "http://127.0.0.1:9/auth/realms/healthcare"}, sub="b")


@pytest.mark.slow
def test_no_page_is_left_in_english(live_app, failing_realm):
    rendered = {
        lang: render_every_page(live_app, failing_realm, lang) for lang in ("en", *LANGUAGES)
    }
    for lang, pages in rendered.items():
        pages["429"] = rate_limited_page(live_app, lang)
    english = rendered["en"]
    expected = {
        "400": 400,
        "404": 404,
        "login failure": 400,
        "502 realm": 502,
        "400 form expired": 400,
        "503 eHealthBox": 503,
        "429": 429,
        "compose with errors": 422,
        "compose, no title": 422,
        "compose, no encryption key": 422,
        "compose, key directory down": 503,
        "download cannot be opened": 422,
    }
    for name, page in english.items():
        assert page.status_code == expected.get(name, 200), (name, page.text[:300])
        assert texts(page.text)[0] == "en", name
    for lang in LANGUAGES:
        foreign = english_words(lang)
        left: dict[str, list[str]] = {}
        for name, page in rendered[lang].items():
            page_lang, seen = texts(page.text)
            assert page_lang == lang, name
            same = set(texts(english[name].text)[1])
            untranslated = [t for t in seen if t in same and words(t) & foreign]
            if untranslated:
                left[name] = untranslated
        assert not left, f"English left on the {lang} pages: {left}"


def test_dates_and_sizes_follow_the_language(browser):
    browser.login("dr-alice", lang="de")
    inbox = browser.get(browser.url("/box/INBOX")).text
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", inbox)
    choose(browser, "nl", "/box/INBOX")
    inbox = browser.get(browser.url("/box/INBOX")).text
    assert re.search(r"\d{1,2}/\d{1,2}/\d{4} \d\d:\d\d", inbox)
    assert re.search(r"\d+,\d kB|\d+ bytes", inbox)  # the decimal comma


def test_the_date_pattern_is_worked_out_once_per_locale_with_the_same_output():
    """`localdate` used to call babel's fuzzy `format_skeleton` for every date of a page."""
    moments = [
        date(2026, 3, 4),
        date(1999, 12, 31),
        datetime(2026, 1, 9, 23, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Brussels")),
    ]
    for locale in FORMAT_LOCALES.values():
        for moment in moments:
            pattern = skeleton_pattern("yMMdd", locale)
            assert format_datetime(moment, pattern, locale=locale) == format_skeleton(
                "yMMdd", moment, locale=locale
            )
    hits = skeleton_pattern.cache_info().hits
    skeleton_pattern("yMMdd", "fr_BE")
    assert skeleton_pattern.cache_info().hits == hits + 1


def test_template_words_are_what_jinjas_own_gettext_gives_in_every_language(app):
    """A template's `_()` and `{% trans %}` are drawn from words kept for the render; what
    they give is what Jinja's newstyle gettext gives from the same catalog (escaping,
    `%%`, variables), and a language forced in the middle of a request is the one used."""
    from flask import render_template_string
    from flask_babel import force_locale, get_translations
    from jinja2 import Environment

    source = (
        '{{ _("Inbox") }}|{{ _("Inbox") }}|{{ _("100%% sure") }}|'
        '{{ _("No messages in %(folder)s.", folder="<b>Inbox</b>") }}|'
        "{% trans count=3 %}{{ count }} new message(s) are waiting outside your box because"
        " it is full. Delete messages, or empty the bins, to let them in.{% endtrans %}"
    )
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        drawn = {}
        for locale in ("en_GB", "nl_BE", "fr_BE", "de_BE", "en_GB"):
            with force_locale(locale):
                reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
                catalog = get_translations()
                reference.install_gettext_callables(
                    catalog.ugettext, catalog.ungettext, newstyle=True
                )
                page = render_template_string(source)
                assert page == reference.from_string(source).render()
                drawn.setdefault(locale, page)
                assert page == drawn[locale]  # the same words after another language
        assert "&lt;b&gt;Inbox&lt;/b&gt;" in drawn["en_GB"] and "100% sure" in drawn["en_GB"]
        assert len(set(drawn.values())) == 4  # each language its own words
        # Numbers and sizes, kept per value and language, read as Flask-Babel writes them.
        from flask_babel import format_decimal, format_number, gettext

        for locale in ("nl_BE", "fr_BE", "en_GB", "de_BE"):
            with force_locale(locale):
                figures = render_template_string(
                    "{{ 1234567|numberformat }}|{{ 512|filesize }}|{{ 2458|filesize }}"
                )
                bytes_ = gettext("%(num)s bytes", num=format_number(512))
                assert figures == (
                    f"{format_number(1234567)}|{bytes_}|{format_decimal(2458 / 1024, '#,##0.0')} kB"
                )


# --- the catalogs --------------------------------------------------------------------------


def _translated(string) -> bool:
    """A message's translation is there (every form of a plural)."""
    return all(string) if isinstance(string, tuple) else bool(string)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_of_the_catalog_is_translated(lang):
    cat = catalog(lang)
    empty = [m.id for m in cat if m.id and not _translated(m.string)]
    fuzzy = [m.id for m in cat if m.id and m.fuzzy]
    broken = [(m.id, [str(e) for e in errors]) for m, errors in cat.check()]
    assert (empty, fuzzy, broken) == ([], [], [])


def test_the_catalogs_hold_every_string_of_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    extract(pot)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    assert len(wanted) > 300
    for lang in LANGUAGES:
        have = {m.id for m in catalog(lang) if m.id}
        assert wanted - have == set(), f"{lang}: run `flask translate update` and translate"


def test_the_sandbox_stays_in_english(browser):
    """The simulated I.AM Connect is not part of the app: it speaks English, like a test tool."""
    browser.headers["Accept-Language"] = "nl"
    login = browser.get(browser.url("/login"))
    assert "/sandbox/" in login.url
    assert html_lang(login) == "en" and "Choose how to identify" in login.text


# --- which language ------------------------------------------------------------------------


def html_lang(response: requests.Response) -> str:
    return texts(response.text)[0]


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        (None, "en"),
        ("fr-BE,fr;q=0.9,en;q=0.5", "fr"),
        ("nl-BE", "nl"),
        ("de", "de"),
        ("es-ES,es;q=0.9", "en"),
        ("es, nl;q=0.5", "nl"),
    ],
)
def test_without_a_choice_or_a_login_the_browser_language_counts(browser, accept, lang):
    if accept:
        browser.headers["Accept-Language"] = accept
    page = browser.get(browser.url("/"))
    assert html_lang(page) == lang


def test_the_token_locale_comes_before_the_browser_language(live_app):
    for persona, accept, lang in [("dr-alice", "fr", "nl"), ("nurse-bram", "nl", "fr")]:
        with Browser(live_app) as browser:
            browser.headers["Accept-Language"] = accept
            home = browser.login(persona, lang=None)
            assert html_lang(home) == lang, persona
            assert html_lang(browser.get(browser.url("/box/INBOX"))) == lang


def test_the_explicit_choice_comes_first_and_is_kept(browser):
    browser.headers["Accept-Language"] = "fr"
    home = browser.login("dr-alice", lang=None)
    assert html_lang(home) == "nl"  # the token's locale
    chosen = choose(browser, "de", "/box/INBOX")
    assert chosen.url == browser.url("/box/INBOX")  # back on the page it was chosen on
    assert html_lang(chosen) == "de" and "Posteingang" in chosen.text
    logged_out = browser.logout()
    assert html_lang(logged_out) == "de"  # the choice outlives the session (lang cookie)
    assert html_lang(browser.login("dr-alice", lang=None)) == "de"


def test_the_switcher_needs_the_csrf_token(browser):
    """A logged-in user's switcher carries the CSRF token; an anonymous visitor has no
    session (tests/test_anonymous_sessions.py checks where their choice comes from)."""
    browser.login("dr-alice")
    refused = browser.post(browser.url("/language"), data={"lang": "fr", "next": "/"})
    assert refused.status_code == 400 and "Form expired" in refused.text
    assert html_lang(browser.get(browser.url("/"))) == "en"
    token = browser.csrf_token()
    unknown = browser.post(browser.url("/language"), data={"csrf_token": token, "lang": "xx"})
    assert unknown.status_code == 400
    away = browser.post(
        browser.url("/language"),
        allow_redirects=False,
        data={"csrf_token": token, "lang": "fr", "next": "//evil.example/"},
    )
    assert away.status_code == 302 and away.headers["Location"] == "/"


def test_every_page_has_the_switcher(browser):
    def switcher() -> dict:
        forms = page_forms(browser.get(browser.url("/")).text)
        return next(f for f in forms if f["action"] == "/language")

    anonymous = switcher()  # no session, so no CSRF token (the browser says where it's from)
    assert anonymous["method"] == "post" and "csrf_token" not in anonymous["fields"]
    assert {value for _, value in anonymous["buttons"]} == {"nl", "fr", "de", "en"}
    browser.login("dr-alice")
    assert "csrf_token" in switcher()["fields"]


def test_api_problem_documents_stay_in_english(browser):
    browser.headers["Accept-Language"] = "nl"
    problem = browser.get(browser.url("/api/v1/messages"), headers={"Accept": "application/json"})
    assert problem.status_code == 401 and problem.json()["title"] == "Authentication required"
    browser.login("dr-alice", lang=None)  # a Dutch session
    missing = browser.get(
        browser.url("/box/INBOX/AAAAAAAAAAAAA"), headers={"Accept": "application/problem+json"}
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "This message no longer exists in that folder."
