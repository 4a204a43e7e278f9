"""Everything in a message is untrusted: it is escaped on every page, and files can never
run as a page of this site."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote

import pytest
import requests
from conftest import Browser
from ehbox_fixtures import recipient
from markupsafe import escape
from test_mailbox import message_ids, sandbox_of

from ehbox_webapp.ehealth.ehealthbox import (
    Attachment,
    FreeInformation,
    NewMessage,
    TableRow,
)
from ehbox_webapp.mailbox.names import safe_filename
from ehbox_webapp.pdf import make_pdf
from ehbox_webapp.web.downloads import content_disposition, safe_mime_type

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def assert_escaped(html: str, *payloads: str) -> None:
    for payload in payloads:
        assert payload not in html
        assert str(escape(payload)) in html


def test_message_data_is_escaped_on_the_list_and_message_pages(live_app):
    alice = sandbox_of(live_app).client("dr-alice")
    alice.send(
        NewMessage(
            recipients=[recipient("nurse-bram")],
            title=f"Titel {SCRIPT}",
            document=Attachment(make_pdf("x", ["y"]), f"{SCRIPT}.pdf", "application/pdf"),
            annexes=[Attachment(b"a", f"{IMG}.txt", "text/plain", title=f"Bijlage {IMG}")],
            free_information=FreeInformation(text=f"Vrije tekst {SCRIPT} {IMG}"),
        )
    )
    alice.send(
        NewMessage(
            recipients=[recipient("nurse-bram")],
            title=f"Tabel {IMG}",
            text=f"Tekst {SCRIPT}",
            free_information=FreeInformation(
                table_title=f"Labo {SCRIPT}", rows=(TableRow(f"K+ {SCRIPT}", f"6,4 {IMG}"),)
            ),
        )
    )
    bram = Browser(live_app)
    bram.login("nurse-bram")

    inbox = bram.get(bram.url("/box/INBOX")).text
    assert_escaped(inbox, f"Titel {SCRIPT}", f"Tabel {IMG}")
    table_id, document_id = message_ids(inbox)[:2]

    page = bram.get(bram.url(f"/box/INBOX/{document_id}")).text
    assert_escaped(page, f"Titel {SCRIPT}", f"Bijlage {IMG}", f"Vrije tekst {SCRIPT} {IMG}")
    for name in (f"{SCRIPT}.pdf", f"{IMG}.txt"):  # file names are made safe on the way in
        assert name not in page and str(escape(safe_filename(name))) in page
    page = bram.get(bram.url(f"/box/INBOX/{table_id}")).text
    assert_escaped(
        page, f"Tabel {IMG}", f"Labo {SCRIPT}", f"K+ {SCRIPT}", f"6,4 {IMG}", f"Tekst {SCRIPT}"
    )
    assert '<pre class="document-text">' in page  # the text document, escaped in a <pre>
    # Only the app's own markup: no inline script or style anywhere (the CSP forbids them);
    # scripts come only from the app's static files.
    for html in (inbox, page):
        html = html.replace(str(escape(IMG)), "")
        assert not re.search(r"<script(?![^>]*\ssrc=\"/static/)|\sstyle=|\son\w+=", html)

    annex = bram.get(bram.url(f"/box/INBOX/{document_id}/annexes/1"))
    # A plain ASCII fallback, and the UTF-8 name without quotes, angle brackets or paths.
    disposition = re.fullmatch(
        r"attachment; filename=\"([A-Za-z0-9._-]+)\"; "
        r"filename\*=UTF-8''([A-Za-z0-9%._-]+)",
        annex.headers["Content-Disposition"],
    )
    assert disposition and disposition.group(1) == "img_src_x_onerror_alert_1__.txt"
    assert unquote(disposition.group(2)) == "img src=x onerror=alert(1)_.txt"
    document = bram.get(bram.url(f"/box/INBOX/{document_id}/document"))
    # "<script>alert(1)</script>.pdf" holds a "/": only the part after it is a file name.
    assert document.headers["Content-Disposition"] == (
        "attachment; filename=\"script_.pdf\"; filename*=UTF-8''script_.pdf"
    )


PNG = bytes.fromhex(  # one red pixel
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


def test_only_pdf_text_and_images_are_shown_inline_and_always_sandboxed(live_app):
    alice = sandbox_of(live_app).client("dr-alice")
    for name, data, mime in (
        ("foto.png", PNG, "image/png"),
        ("brief.pdf", make_pdf("Brief", ["."]), "application/pdf"),
        ("nota.txt", b"Nota", "text/plain"),
        ("pagina.html", b"<script>alert(1)</script>", "text/html"),
        ("plaatje.svg", b"<svg onload=alert(1)/>", "image/svg+xml"),
    ):
        alice.send(
            NewMessage(
                recipients=[recipient("nurse-bram")],
                title=name,
                document=Attachment(data, name, mime),
            )
        )
    bram = Browser(live_app)
    bram.login("nurse-bram")
    newest = dict(
        zip(
            ("plaatje.svg", "pagina.html", "nota.txt", "brief.pdf", "foto.png"),
            message_ids(bram.get(bram.url("/box/INBOX")).text),
            strict=False,
        )
    )

    for name, inline in (
        ("foto.png", True),
        ("brief.pdf", True),
        ("nota.txt", True),
        ("pagina.html", False),
        ("plaatje.svg", False),
    ):
        response = bram.get(bram.url(f"/box/INBOX/{newest[name]}/document/inline"))
        assert response.status_code == 200
        kind = response.headers["Content-Disposition"].split(";")[0]
        assert kind == ("inline" if inline else "attachment"), name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        csp = response.headers["Content-Security-Policy"]
        assert csp.startswith("sandbox; default-src 'none'; style-src 'unsafe-inline'")
        assert "no-store" in response.headers["Cache-Control"]
    # The type stored in the message is kept (never guessed from the name), harmless as a download.
    html = bram.get(bram.url(f"/box/INBOX/{newest['pagina.html']}/document"))
    assert html.headers["Content-Type"].startswith("text/html")
    assert html.headers["Content-Disposition"].startswith("attachment;")
    for name in ("brief.pdf", "foto.png"):  # in the page's one preview frame
        page = bram.get(bram.url(f"/box/INBOX/{newest[name]}")).text
        src = f"/box/INBOX/{newest[name]}/document/inline"
        frame = f'<iframe class="preview" name="preview" id="preview" src="{src}"'
        assert frame in page, name


def test_a_damaged_file_never_arrives_whole(live_app):
    """eHealthBox's digest is checked before the last bytes go out: a damaged file ends short."""
    sb = sandbox_of(live_app)
    data = b"intact " * 50_000
    sb.client("dr-alice").send(
        NewMessage(
            recipients=[recipient("nurse-bram")],
            title="Heel?",
            document=Attachment(data, "heel.txt", "text/plain"),
        )
    )
    blob = sb.store.blobs.path(hashlib.sha256(data).hexdigest())
    blob.write_bytes(b"broken " * 50_000)  # same size, other bytes
    bram = Browser(live_app)
    bram.login("nurse-bram")
    newest = message_ids(bram.get(bram.url("/box/INBOX")).text)[0]
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        bram.get(bram.url(f"/box/INBOX/{newest}/document")).content  # noqa: B018


@pytest.mark.parametrize(
    ("name", "fallback", "utf8"),
    [
        ("verslag.pdf", "verslag.pdf", "verslag.pdf"),
        ("Résultats labo.txt", "Resultats_labo.txt", "Résultats labo.txt"),
        ("../../etc/passwd", "passwd", "passwd"),
        ("C:\\Users\\x\\brief.doc", "brief.doc", "brief.doc"),
        ('a"b;c\r\nd.txt', "a_b_c_d.txt", "a_b_c d.txt"),
        ("Łódź 日本.pdf", "Lodz_.pdf", "Łódź 日本.pdf"),
        ("", "download", "download"),
    ],
)
def test_download_names_are_rfc_6266_and_sanitised(name, fallback, utf8):
    assert content_disposition(name) == (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(utf8, safe='')}"
    )


@pytest.mark.parametrize(
    ("stored", "sent"),
    [
        ("application/pdf", "application/pdf"),
        ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
        ("text/html", "text/html"),  # kept, and made harmless by attachment + nosniff + CSP
        ("pdf", "application/octet-stream"),
        ("text/plain\r\nSet-Cookie: x=1", "application/octet-stream"),
        ("", "application/octet-stream"),
    ],
)
def test_download_types_are_the_stored_ones_when_well_formed(stored, sent):
    assert safe_mime_type(stored) == sent
