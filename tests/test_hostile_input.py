"""Hostile input on every public form and on the staff sign-in, property-based (Hypothesis).

Forms: /report, the receipt login at /follow-up, /follow-up/message (a logged-in reporter),
/staff/login and /staff/login/code (a half-signed-in member). Hypothesis sends random Unicode
(RTL and zero-width marks, emoji, NUL and other control characters, combining marks), fields
beyond their limits, random values for the radio, checkbox and select fields, missing and
duplicated fields, uploads with tricky names, malformed multipart bodies (truncated, wrong or
missing boundary, bare LF, garbage) and the wrong content types (JSON, text/plain, none): always
with a valid CSRF token (in the body, in the X-CSRFToken header, or both), so that the request
reaches the view.

Properties, after every request:
- never a 5xx (the test client re-raises the exception, so a crash fails the example);
- every 4xx page says something a person can act on (an error message, not a bare status);
- nothing is half-stored: no Case, Attachment, Receipt, KeyWrap, Message or session row and no
  file appears unless the response is a success; after a successful report exactly one case,
  with its receipt, whose content decrypts with that receipt to what was sent;
- upload names with path tricks never create a file outside UPLOAD_FOLDER (the whole parent
  directory is walked), stored names are random, and the shown name is one harmless component.

The concrete cases at the end (JSON bodies, text in a file field, NUL in staff text, an
over-long text, a body over the limit) were bugs once; they stay as ordinary tests.

Examples per property scale with HOSTILE_EXAMPLES_SCALE (default 1; e.g. 10 for a long hunt).
"""
import io
import json
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from PIL import Image
from sqlalchemy import func, select, update

from app.crypto import envelope
from app.extensions import db
from app.models import (
    Attachment,
    Case,
    KeyWrap,
    Message,
    Receipt,
    ReporterSession,
    Role,
    SessionStage,
    StaffAccount,
    StaffMember,
    StaffSession,
)
from app.services.intake import receipts
from app.services.intake.evidence import attachment_chunks, attachment_meta, safe_filename
from tests.conftest import CSRF_RE, RECEIPT_RE, csrf_token, report_fields

SCALE = float(os.environ.get("HOSTILE_EXAMPLES_SCALE", "1"))


def hostile_settings(examples: int):
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- what a hostile visitor types ----------------------------------------------------------------

SPECIALS = [
    "\u200e", "\u200f", "\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2069",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width
    "🙂", "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "\U0001f9ff", "\U000e0041",  # emoji, a tag char
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029",
    "\r\n", "\r", "\n", "\t", " ", "\u00a0", "\u3000",
    "ă", "â", "î", "ș", "ț", "ş", "ţ", "Ș", "a\u0301", "\u0301" * 8, "\ufffd", "\uffff",
    "\U0010ffff", "ﷺ", "ﷻ", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "עברית",
    "<", ">", "&", "&amp;", '"', "'", "%", "%00", "%s", "\\", "../", "{{7*7}}", "${7*7}",
    "' OR 1=1 --", "\\x00", "１２３", "١٢٣",
]
unicode_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
hostile_text = st.lists(st.one_of(st.sampled_from(SPECIALS), unicode_text),
                        max_size=8).map("".join)
BIG_PIECES = ["x", "ș", "🙂", "\x00", "\u202e", "a\u0301", "<script>"]


def beyond(limit: int):
    """Text just over `limit` characters, or far over it (several hundred kilobytes)."""
    return st.builds(lambda piece, length: (piece * length)[:length],
                     st.sampled_from(BIG_PIECES),
                     st.sampled_from([limit + 1, limit + 7, limit * 3, 300_000]))


def answer(limit: int):
    """Something a person would count as an answer, wrapped in hostile text, within `limit`."""
    return st.builds(lambda a, b: (a + "Ceva s-a întâmplat." + b)[:limit], hostile_text,
                     hostile_text)


def text_value(limit: int, *, required: bool = False):
    """A value for a free-text field: hostile but within the limit (mostly valid), or beyond."""
    within = answer(limit) if required else hostile_text.map(lambda t: t[:limit])
    return st.one_of(within, within, within, hostile_text, beyond(limit))


def choice_value(valid: list[str]):
    """A radio, checkbox or select value: a valid one, another field's value, or junk."""
    others = ["bribery", "other", "yes", "no", "anonymous", "identified", "y", "1", "0", "-1",
              "true", "on", "None", "null", "", " ", "9" * 30, "1e9", "0x10", "bribery\x00"]
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), st.sampled_from(others),
                     hostile_text)


def occurrences(value, *, absent_ok: bool = True):
    """How a field arrives: once (mostly), missing, or repeated with different values."""
    options = [value.map(lambda v: [v]), value.map(lambda v: [v]),
               st.lists(value, min_size=2, max_size=3)]
    if absent_ok:
        options.append(st.just([]))
    return st.one_of(*options)


# --- upload names that try to go somewhere else -------------------------------------------------

TRICKY_NAMES = [
    "../../../../etc/avz-escape.txt", "../" * 30 + "avz-escape.txt", "/etc/avz-escape.txt",
    "/tmp/avz-escape.pdf", "..\\..\\..\\avz-escape.txt", "C:\\Windows\\avz-escape.txt",
    "\\\\server\\share\\avz-escape.txt", "C:avz-escape.txt", "avz\x00escape.txt",
    "avz-escape.txt\x00.exe", ".", "..", "...", "....", ". .", "..txt", ".txt", "",
    "a" * 5000 + ".txt", "%2e%2e%2favz-escape.txt", "..%2f..%2favz-escape.txt",
    "..%c0%afavz-escape.txt", "file:///etc/avz-escape.txt", "~/avz-escape.txt",
    "uploads/../../avz-escape.txt", "x/../../../avz-escape.pdf", "./././avz.txt",
    "\u202etxt.exe", "CON.txt", "nul.txt", "aux", "avz-escape.txt/",
    " .txt", "..\u2215..\u2215avz-escape.txt", "..\uff0f..\uff0favz-escape.txt", "\n.txt",
    "evil\r\nContent-Type: text/html\r\n\r\n<h1>x</h1>.txt", "a\tb.txt", "🙂.pdf",
]
name_pieces = st.sampled_from(["..", ".", "/", "\\", "\x00", "a", "ș", "🙂", ":", "%2f", "~",
                               " ", "\u202e", "C:", "//", "\x1f"])
generated_name = st.builds(lambda pieces, ext: "".join(pieces) + ext,
                           st.lists(name_pieces, max_size=12),
                           st.sampled_from([".txt", ".pdf", ".png", ".exe", "", ".", ".TXT"]))
# A name ending in a backslash escapes the closing quote of filename="…", so werkzeug reads the
# part as a text field named "evidence" (see test_text_in_a_file_field_is_refused_cleanly).
upload_name = st.one_of(st.sampled_from(TRICKY_NAMES), generated_name)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


@dataclass
class Upload:
    name: str
    content: bytes
    content_type: str = "application/octet-stream"


upload = st.builds(
    Upload, upload_name,
    st.one_of(st.just(b"evidence \x00\xff bytes"), st.binary(max_size=64), st.just(PNG),
              st.just(b"")),
    st.sampled_from(["application/octet-stream", "text/plain", "image/png", "text/html",
                     "application/pdf\r\nX-Injected: 1", ""]))


# --- how the request is put on the wire ---------------------------------------------------------

def _header_safe(value: str) -> str:
    """As browsers do in multipart headers (WHATWG): CR, LF and " are percent-encoded."""
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def multipart_body(fields: list, boundary: bytes) -> bytes:
    out = []
    for name, value in fields:
        if isinstance(value, Upload):
            head = (f'Content-Disposition: form-data; name="{_header_safe(name)}"; '
                    f'filename="{_header_safe(value.name)}"\r\n'
                    f"Content-Type: {_header_safe(value.content_type)}\r\n")
            data = value.content
        else:
            head = f'Content-Disposition: form-data; name="{_header_safe(name)}"\r\n'
            data = value.encode()
        out.append(b"--" + boundary + b"\r\n" + head.encode() + b"\r\n" + data + b"\r\n")
    out.append(b"--" + boundary + b"--\r\n")
    return b"".join(out)


@dataclass
class Wire:
    """One request as sent: body, content type, headers, and what the server should read."""

    how: str
    body: bytes
    content_type: str | None
    headers: dict = field(default_factory=dict)
    well_formed: bool = True  # the server can read the fields exactly as generated


ENCODINGS = ["urlencoded", "multipart", "multipart", "json", "text/plain", "no content type",
             "broken multipart", "broken multipart", "other content type"]
BREAKAGES = ["truncated", "wrong boundary", "no boundary", "empty boundary", "garbage", "bare LF",
             "no terminator", "part without name", "invalid utf-8", "huge header",
             "quoted boundary", "too many parts"]


@st.composite
def wire(draw, fields: list, token: str):
    """Put `fields` ((name, str | Upload) pairs, in order) on the wire in a random way."""
    how = draw(st.sampled_from(ENCODINGS))
    has_files = any(isinstance(value, Upload) for _, value in fields)
    if has_files and how in ("urlencoded", "json"):
        how = "multipart"
    token_in = draw(st.sampled_from(["body", "header", "both"]))
    headers = {"X-CSRFToken": token} if token_in != "body" or how not in (
        "urlencoded", "multipart") else {}
    if how in ("urlencoded", "multipart") and token_in != "header":
        fields = [("csrf_token", token), *fields] if draw(st.booleans()) \
            else [*fields, ("csrf_token", token)]
    headers["Accept-Language"] = draw(st.sampled_from(["en", "ro", "", "xx;q=nan, \x7f",
                                                       "ro-RO,ro;q=0.9,en;q=0.8"]))
    texts = [(name, value) for name, value in fields if isinstance(value, str)]
    boundary = b"----hostile" + draw(st.binary(min_size=4, max_size=8)).hex().encode()
    if how == "urlencoded":
        return Wire(how, urlencode(texts).encode(), "application/x-www-form-urlencoded", headers)
    if how == "multipart":
        return Wire(how, multipart_body(fields, boundary),
                    f"multipart/form-data; boundary={boundary.decode()}", headers)
    if how == "json":
        document: dict = {}
        for name, value in texts:
            document.setdefault(name, []).append(value)
        document = {name: values[0] if len(values) == 1 else values
                    for name, values in document.items()}
        return Wire(how, json.dumps(document).encode(), "application/json", headers)
    if how == "text/plain":
        body = "\n".join(f"{name}={value}" for name, value in texts).encode()
        return Wire(how, body, "text/plain", headers, well_formed=False)
    if how == "no content type":
        return Wire(how, urlencode(texts).encode(), None, headers, well_formed=False)
    if how == "other content type":
        kind = draw(st.sampled_from(["application/xml", "multipart/mixed", "text/html",
                                     "application/x-www-form-urlencoded-but-not",
                                     "application/octet-stream", "image/png", "*/*", ";;;"]))
        return Wire(how, urlencode(texts).encode(), kind, headers, well_formed=False)
    # Broken multipart: what a crashed browser, a buggy proxy or an attacker sends.
    breakage = draw(st.sampled_from(BREAKAGES))
    good = multipart_body(fields, boundary)
    content_type = f"multipart/form-data; boundary={boundary.decode()}"
    if breakage == "truncated":
        body = good[:draw(st.integers(0, max(0, len(good) - 1)))]
    elif breakage == "wrong boundary":
        body, content_type = good, "multipart/form-data; boundary=not-the-boundary"
    elif breakage == "no boundary":
        body, content_type = good, "multipart/form-data"
    elif breakage == "empty boundary":
        body, content_type = good, 'multipart/form-data; boundary=""'
    elif breakage == "garbage":
        body = draw(st.binary(max_size=2000))
    elif breakage == "bare LF":
        body = good.replace(b"\r\n", b"\n")
    elif breakage == "no terminator":
        body = good[: good.rfind(b"--" + boundary + b"--")]
    elif breakage == "part without name":
        body = (b"--" + boundary + b"\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
                + b"--" + boundary + b"\r\nX-Nothing: 1\r\n\r\nvalue\r\n" + good)
    elif breakage == "invalid utf-8":
        body = good.replace(b"\r\n\r\n", b"\r\n\r\n\xff\xfe\xc3(\xed\xa0\x80", 3)
    elif breakage == "huge header":
        body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="x"; filename="'
                + b"A" * 200_000 + b'.txt"\r\n\r\nv\r\n' + good)
    elif breakage == "quoted boundary":
        body = good
        content_type = f'multipart/form-data; boundary="{boundary.decode()}"; charset=utf-7'
    else:  # more parts than the server parses (werkzeug's max_form_parts)
        body = b"".join(b"--" + boundary + b'\r\nContent-Disposition: form-data; name="p"\r\n\r\n'
                        b"v\r\n" for _ in range(1100)) + good
    return Wire(f"broken multipart: {breakage}", body, content_type, headers,
                well_formed=breakage == "quoted boundary")


def send(client, url: str, sent: Wire):
    return client.post(url, data=sent.body, content_type=sent.content_type,
                       headers=sent.headers)


# --- reading the answer -------------------------------------------------------------------------

GENERIC_BANNERS = {
    "Please correct the marked fields. Nothing has been sent yet.",
    "Please correct the marked fields. Nothing has been saved.",
    "Corectați câmpurile marcate. Nu s-a trimis încă nimic.",
}


class _Messages(HTMLParser):
    """Texts of error messages (class="error"/"alert", role="alert") and of the error page."""

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.messages: list[str] = []
        self.in_main_heading = False
        self.headings: list[str] = []
        self.paragraphs: list[str] = []
        self._paragraph: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        marks = "error" in classes or "alert" in classes or attrs.get("role") == "alert"
        if tag not in ("br", "input", "img", "meta", "link", "hr"):
            self.stack.append(marks)
            if marks:
                self.messages.append("")
        if tag == "h1":
            self.in_main_heading = True
            self.headings.append("")
        if tag == "p":
            self._paragraph = []

    def handle_endtag(self, tag):
        if tag not in ("br", "input", "img", "meta", "link", "hr") and self.stack:
            self.stack.pop()
        if tag == "h1":
            self.in_main_heading = False
        if tag == "p" and self._paragraph is not None:
            self.paragraphs.append(" ".join("".join(self._paragraph).split()))
            self._paragraph = None

    def handle_data(self, data):
        if any(self.stack) and self.messages:
            self.messages[-1] += data
        if self.in_main_heading:
            self.headings[-1] += data
        if self._paragraph is not None:
            self._paragraph.append(data)


def human_message(response) -> str | None:
    """What the page tells the person, beyond a bare status: an error message, or the error
    page's heading and explanation. None when there is nothing a person could act on."""
    page = response.get_data(as_text=True)
    if "<html" not in page.lower() or "Traceback" in page or "<title>400 Bad Request" in page:
        return None
    parser = _Messages()
    parser.feed(page)
    messages = [" ".join(m.split()) for m in parser.messages]
    specific = [m for m in messages if m and m not in GENERIC_BANNERS
                and not all(m.startswith(b) or b.startswith(m) for b in GENERIC_BANNERS)]
    specific = [m for m in specific if len(re.findall(r"\w+", m)) >= 2]
    if specific:
        return " | ".join(specific)
    # The error page (errors/error.html): a heading and a sentence saying what to do.
    sentences = [p for p in parser.paragraphs if len(re.findall(r"\w+", p)) >= 5]
    if parser.headings and sentences and response.status_code in (400, 401, 403, 404, 405, 413,
                                                                   429):
        return parser.headings[0].strip() + " — " + sentences[0]
    return None


def assert_sound(response, sent: Wire | None = None):
    where = f"{sent.how}: " if sent else ""
    if currently_in_test_context():  # statistics for --hypothesis-show-statistics
        event(f"{sent.how if sent else 'multipart'} -> {response.status_code}")
    assert response.status_code < 500, f"{where}{response.status_code}"
    if response.status_code >= 400:
        assert human_message(response), (
            f"{where}{response.status_code} without a message a person can act on:\n"
            + response.get_data(as_text=True)[:3000])


# --- what is stored -----------------------------------------------------------------------------

STORED = (Case, Attachment, Receipt, KeyWrap, Message, ReporterSession, StaffSession)


@dataclass
class Footprint:
    rows: dict
    files: set  # every file under the upload folder's parent, relative to it

    def delta(self, after: "Footprint") -> dict:
        return {name: after.rows[name] - self.rows[name] for name in self.rows}


def footprint(upload_folder: str) -> Footprint:
    db.session.rollback()  # what production holds: a request's open transaction ends with it
    rows = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in STORED}
    root = Path(upload_folder).parent
    files = {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
    return Footprint(rows, files)


STORAGE_NAME = re.compile(r"uploads/[0-9a-f]{32}")


def assert_files_stay_home(before: Footprint, after: Footprint, upload_folder: str):
    """New files only directly inside UPLOAD_FOLDER, with random names, one per new row."""
    new = after.files - before.files
    strays = [name for name in new if not STORAGE_NAME.fullmatch(name)]
    assert not strays, f"files created outside the upload folder or with chosen names: {strays}"
    assert not before.files - after.files, "files disappeared"
    stored = {f"uploads/{name}" for name in db.session.scalars(select(Attachment.storage_name))}
    assert {name for name in after.files if name.startswith("uploads/")} == stored, \
        "files on disk and attachment rows differ"
    for absolute in ("/etc/avz-escape.txt", "/tmp/avz-escape.pdf", "/tmp/avz-escape.txt",
                     "/avz-escape.txt"):
        assert not os.path.exists(absolute), absolute


def assert_safe_display_name(name: str):
    assert name and name not in (".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not any(ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0 for ch in name), repr(name)
    assert len(name) <= 200


def assert_nothing_new(before: Footprint, after: Footprint, sent: Wire | None = None):
    changed = {name: n for name, n in before.delta(after).items() if n}
    assert not changed, f"{sent.how if sent else ''}: stored without success: {changed}"
    assert after.files == before.files, f"files changed: {after.files ^ before.files}"


# --- the world: an institution, a handler, a reporter, a staff member ---------------------------

@dataclass
class Portal:
    institution: object
    handler: object
    reporter: object  # a test client logged in at /follow-up
    receipt: str
    report_token: str
    reporter_token: str


@pytest.fixture
def portal(app, client, institution, make_handler, submit, follow_up, kdf_params):
    handler = make_handler("Ana Popescu")
    response, receipt = submit()
    assert response.status_code == 200 and receipt
    reporter = app.test_client()
    token = csrf_token(reporter, "/follow-up")
    assert reporter.post("/follow-up", data={"receipt": receipt,
                                             "csrf_token": token}).status_code == 302
    db.session.commit()
    return Portal(institution=institution, handler=handler, reporter=reporter, receipt=receipt,
                  report_token=csrf_token(client, "/report"),
                  reporter_token=csrf_token(reporter, "/follow-up/case"))


def decrypt_new_case(portal: Portal, receipt: str, kdf_params):
    found = receipts.find(portal.institution, receipt, kdf_params)
    assert found is not None, "the receipt shown does not open the stored case"
    row, derived = found
    case = row.case
    case_key = envelope.unwrap_with_receipt(row.wrapped_case_key, case.uuid, derived.key)
    content = envelope.open_report(case_key, case.uuid, case.content)
    return case, case_key, content


def first(fields: list, name: str) -> str | None:
    for key, value in fields:
        if key == name and isinstance(value, str):
            return value
    return None


# --- /report ------------------------------------------------------------------------------------

REPORT_CHOICES = {
    "category": ["bribery", "conflict_of_interest", "abuse_of_office", "procurement",
                 "public_funds", "other"],
    "work_context": ["yes", "no"],
    "identity_choice": ["anonymous", "identified"],
    "consent": ["y"],
}
REPORT_TEXTS = {"what_happened": 20000, "when_where": 4000, "persons_involved": 4000,
                "how_known": 4000, "name": 200, "email": 254, "phone": 40, "website": 50}


@st.composite
def report_submission(draw, handler_id: int):
    """The report form, each field valid-but-hostile, or mutated (junk, missing, repeated)."""
    valid = report_fields()
    mutated = draw(st.sets(st.sampled_from(sorted([*valid, "excluded", "evidence"])),
                           max_size=4))
    fields: list = []
    for name in valid:
        if name in REPORT_CHOICES:
            values = [draw(st.sampled_from(REPORT_CHOICES[name]))]
            if name == "consent":
                values = ["y"]
            if name in mutated:
                values = draw(occurrences(choice_value(REPORT_CHOICES[name])))
        elif name == "website":  # the honeypot: empty for people
            values = [""] if name not in mutated else draw(occurrences(hostile_text))
        elif name in ("email", "phone"):
            good = {"email": "ana.popescu@example.org", "phone": "+40 745 123 456"}[name]
            values = [draw(st.sampled_from(["", good]))]
            if name in mutated:
                values = draw(occurrences(text_value(REPORT_TEXTS[name])))
        else:
            limit = REPORT_TEXTS[name]
            if name in mutated:
                values = [draw(text_value(limit, required=name == "what_happened"))]
            elif name == "what_happened":
                values = [draw(answer(limit))]
            else:
                values = [draw(hostile_text.map(lambda t, limit=limit: t[:limit]))]
            if name in mutated and draw(st.booleans()):
                values = draw(occurrences(text_value(limit, required=name == "what_happened")))
        fields += [(name, value) for value in values]
    if "excluded" in mutated:
        fields += [("excluded", value) for value in draw(occurrences(choice_value(
            [str(handler_id), str(handler_id + 1000), "0"])))]
    if "evidence" in mutated or draw(st.integers(0, 4)) == 0:
        fields += [("evidence", item) for item in draw(st.lists(upload, max_size=3))]
    if draw(st.integers(0, 5)) == 0:  # browsers keep the page's order; attackers need not
        draw(st.randoms()).shuffle(fields)
    return fields


@hostile_settings(150)
@given(data=st.data())
def test_report_form_never_crashes_and_never_stores_half(app, client, portal, upload_folder,
                                                         kdf_params, data):
    fields = data.draw(report_submission(portal.handler.id), label="fields")
    sent = data.draw(wire(fields, portal.report_token), label="wire")
    before = footprint(upload_folder)
    response = send(client, "/report", sent)
    assert_sound(response, sent)
    after = footprint(upload_folder)
    assert_files_stay_home(before, after, upload_folder)
    match = RECEIPT_RE.search(response.get_data(as_text=True))
    if response.status_code != 200 or not match:
        assert_nothing_new(before, after, sent)
        return
    receipt = match.group(1).replace(" ", "")
    delta = before.delta(after)
    uploads = [value for name, value in fields if name == "evidence" and isinstance(value, Upload)
               and value.name]
    assert delta["Case"] == 1 and delta["Receipt"] == 1 and delta["KeyWrap"] >= 1, delta
    assert delta["Attachment"] == len(after.files - before.files), delta
    case, case_key, content = decrypt_new_case(portal, receipt, kdf_params)
    assert content["what_happened"].strip()
    if sent.well_formed:
        for name in ("what_happened", "when_where", "persons_involved", "how_known"):
            assert content[name] == (first(fields, name) or "").strip(), name
        assert delta["Attachment"] == len(uploads)
    for attachment in db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)):
        meta = attachment_meta(attachment, case_key)
        assert_safe_display_name(meta["name"])
        assert len(b"".join(attachment_chunks(attachment, case_key))) == meta["size"]


# --- /follow-up: the receipt login --------------------------------------------------------------

def receipt_guess(real: str):
    """Random text, near misses of the real receipt, and the real one dressed up."""
    spaced = " ".join(real[i:i + 4] for i in range(0, 16, 4))
    return st.one_of(
        hostile_text, beyond(1000), st.text("0123456789 -.", max_size=40),
        st.sampled_from([real[:-1], real + "0", real[::-1], "0" * 16, spaced.replace(" ", "\u200b"),
                         real.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
                         real.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
                         real + "\x00", "\x00" + real, real[:8] + "\u202e" + real[8:]]),
        st.sampled_from([real, spaced, "-".join(spaced.split()), f"  {spaced}\t\n",
                         ".".join(spaced.split())]))


@hostile_settings(60)
@given(data=st.data())
def test_receipt_login_never_crashes_and_opens_only_with_the_receipt(app, portal, upload_folder,
                                                                     data):
    browser = app.test_client()
    token = csrf_token(browser, "/follow-up")
    fields = [("receipt", value) for value in data.draw(occurrences(
        receipt_guess(portal.receipt)), label="receipt")]
    sent = data.draw(wire(fields, token), label="wire")
    before = footprint(upload_folder)
    response = send(browser, "/follow-up", sent)
    assert_sound(response, sent)
    after = footprint(upload_folder)
    page = response.get_data(as_text=True)
    assert portal.receipt not in page and receipts.display(portal.receipt) not in page
    typed = first(fields, "receipt")
    opens = typed is not None and receipts.normalise(typed) == portal.receipt
    if response.status_code == 302:
        assert response.headers["Location"].endswith("/follow-up/case")
        assert opens or not sent.well_formed, typed
        assert before.delta(after)["ReporterSession"] == 1
        assert {k: v for k, v in before.delta(after).items() if v} == {"ReporterSession": 1}
    else:
        assert not (opens and sent.well_formed), f"the real receipt was refused: {typed!r}"
        assert_nothing_new(before, after, sent)


# --- /follow-up/message: a logged-in reporter ---------------------------------------------------

@st.composite
def message_submission(draw):
    fields = [("body", value) for value in draw(occurrences(text_value(10000, required=True)))]
    fields += [("evidence", item) for item in draw(st.lists(upload, max_size=3))]
    if draw(st.booleans()):
        fields.append((draw(st.sampled_from(["what_happened", "case_id", "author", "csrf"])),
                       draw(hostile_text)))
    return fields


@hostile_settings(60)
@given(data=st.data())
def test_reporter_message_never_crashes_and_never_stores_half(app, portal, upload_folder,
                                                              kdf_params, data):
    fields = data.draw(message_submission(), label="fields")
    sent = data.draw(wire(fields, portal.reporter_token), label="wire")
    before = footprint(upload_folder)
    response = send(portal.reporter, "/follow-up/message", sent)
    assert_sound(response, sent)
    after = footprint(upload_folder)
    assert_files_stay_home(before, after, upload_folder)
    if response.status_code != 302:
        assert_nothing_new(before, after, sent)
        return
    assert response.headers["Location"].endswith("/follow-up/case?sent=1")
    delta = before.delta(after)
    assert delta["Message"] == 1 and delta["Case"] == 0, delta
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    _case, case_key, _content = decrypt_new_case(portal, portal.receipt, kdf_params)
    body = envelope.open_message(case_key, message.uuid, message.body)
    if sent.well_formed:
        # The text may be left out when a file (a voice message) is sent: then there is one.
        assert body == (first(fields, "body") or "").strip()
        uploads = [v for k, v in fields if k == "evidence" and v.name]
        assert delta["Attachment"] == len(uploads)
        assert body or uploads
    for attachment in db.session.scalars(select(Attachment).where(
            Attachment.message_id == message.id)):
        assert_safe_display_name(attachment_meta(attachment, case_key)["name"])


# --- /staff/login and /staff/login/code ---------------------------------------------------------

def _reset_lockout(member_id: int):
    db.session.execute(update(StaffAccount).where(StaffAccount.id == select(
        StaffMember.account_id).where(StaffMember.id == member_id).scalar_subquery())
                       .values(failed_logins=0, locked_until=None))
    db.session.commit()


def email_guess(real: str):
    return st.one_of(hostile_text, beyond(254), st.sampled_from([
        real, real.upper(), f"  {real}  ", real.replace("@", "\uff20"),
        real + "\u200b", real.replace("a", "а"),  # a Cyrillic a
        "' OR '1'='1", "admin@localhost", "%", "*", "@", real + "\n" + real, real + "\x00"]))


@hostile_settings(50)
@given(data=st.data())
def test_staff_password_step_never_crashes_and_opens_nothing_half(app, portal, upload_folder,
                                                                  data):
    member = portal.handler
    _reset_lockout(member.id)
    browser = app.test_client()
    token = csrf_token(browser, "/staff/login")
    fields = [("email", v) for v in data.draw(occurrences(email_guess(member.email)),
                                              label="email")]
    fields += [("password", v) for v in data.draw(occurrences(st.one_of(
        hostile_text, beyond(1000), st.sampled_from([member.password, member.password + "\x00",
                                                     " " + member.password]))), label="password")]
    sent = data.draw(wire(fields, token), label="wire")
    before = footprint(upload_folder)
    response = send(browser, "/staff/login", sent)
    assert_sound(response, sent)
    after = footprint(upload_folder)
    page = response.get_data(as_text=True)
    assert member.password not in page
    if response.status_code == 302:
        assert "/staff/login/code" in response.headers["Location"]
        assert {k: v for k, v in before.delta(after).items() if v} == {"StaffSession": 1}
        session = db.session.scalar(select(StaffSession).order_by(StaffSession.id.desc()))
        assert session.stage == SessionStage.PENDING_SECOND_FACTOR and session.staff_id == member.id
    else:
        assert_nothing_new(before, after, sent)


@pytest.fixture
def half_signed_in(app, portal):
    """A browser past the password step of the portal's handler, waiting for the code."""
    browser = app.test_client()
    token = csrf_token(browser, "/staff/login")
    assert browser.post("/staff/login", data={
        "email": portal.handler.email, "password": portal.handler.password,
        "csrf_token": token}).status_code == 302
    page = browser.get("/staff/login/code").get_data(as_text=True)
    return browser, CSRF_RE.search(page).group(1)


@hostile_settings(60)
@given(data=st.data())
def test_staff_code_step_never_crashes_and_never_completes_a_session(app, portal, half_signed_in,
                                                                    upload_folder, data):
    member = portal.handler
    _reset_lockout(member.id)  # wrong codes count towards the lockout; keep the code checked
    browser, token = half_signed_in
    fields = [("code", v) for v in data.draw(occurrences(st.one_of(
        hostile_text, beyond(12), st.text("0123456789 ", min_size=5, max_size=8),
        st.sampled_from(["１２３４５６", "١٢٣٤٥٦", "12345６", "¹²³⁴⁵⁶", "000000", "-12345",
                         "1e5", "0x1234", "123456\x00", " 1 2 3 4 5 6 "]))), label="code")]
    sent = data.draw(wire(fields, token), label="wire")
    before = footprint(upload_folder)
    response = send(browser, "/staff/login/code", sent)
    assert_sound(response, sent)
    after = footprint(upload_folder)
    assert_nothing_new(before, after, sent)
    stages = set(db.session.scalars(select(StaffSession.stage).where(
        StaffSession.staff_id == member.id)))
    assert SessionStage.ACTIVE not in stages, f"a random code completed the sign-in: {fields}"


# --- forged cookies -----------------------------------------------------------------------------

cookie_value = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e, exclude_characters=';,"\\'),
            max_size=200),
    st.builds(lambda a, b: f"{a}.{b}", st.text("ABCDEFabcdef0123456789-_=", max_size=60),
              st.text("ABCDEFabcdef0123456789-_=", max_size=60)),
    st.sampled_from(["", ".", "..", "a.b.c", "A" * 43 + "." + "A" * 43, "=" * 50, "x" * 4000,
                     "%00", "null", "undefined", "eyJhbGciOiJub25lIn0.e30."]))


@hostile_settings(40)
@given(followup_cookie=cookie_value, staff_cookie=cookie_value, session_cookie=cookie_value)
def test_forged_session_cookies_open_nothing_and_never_crash(app, portal, upload_folder,
                                                             followup_cookie, staff_cookie,
                                                             session_cookie):
    browser = app.test_client()
    browser.set_cookie("avertizor_followup", followup_cookie, path="/follow-up")
    browser.set_cookie("avertizor_staff", staff_cookie, path="/staff")
    browser.set_cookie("avertizor", session_cookie, path="/")
    browser.set_cookie("avertizor_backoffice", session_cookie, path="/staff")
    before = footprint(upload_folder)
    case = browser.get("/follow-up/case")
    assert case.status_code == 401 and human_message(case)
    staff = browser.get("/staff/cases")
    assert staff.status_code == 302 and "/staff/login" in staff.headers["Location"]
    for url in ("/follow-up/message", "/staff/login/code", "/staff/logout", "/follow-up/logout"):
        assert_sound(browser.post(url, data={"body": "x", "code": "123456"}))
    assert_nothing_new(before, footprint(upload_folder))


# --- upload names -------------------------------------------------------------------------------

@hostile_settings(40)
@given(names=st.lists(upload_name, min_size=1, max_size=4))
def test_upload_names_never_leave_the_upload_folder(app, client, portal, upload_folder,
                                                    kdf_params, names):
    """Tricky names with an accepted extension, so that the files are really stored."""
    files = [Upload(name + ("_x.txt" if i % 2 else "_x.pdf"), b"evidence %d" % i)
             for i, name in enumerate(names)]
    fields = [(k, v) for k, v in report_fields().items()] + [("evidence", f) for f in files]
    fields.append(("csrf_token", portal.report_token))
    boundary = b"----names" + os.urandom(6).hex().encode()
    before = footprint(upload_folder)
    response = client.post("/report", data=multipart_body(fields, boundary),
                           content_type=f"multipart/form-data; boundary={boundary.decode()}")
    assert_sound(response)
    after = footprint(upload_folder)
    assert_files_stay_home(before, after, upload_folder)
    match = RECEIPT_RE.search(response.get_data(as_text=True))
    if not match:
        # Only a name whose last component loses its extension may be refused: a UNC-looking
        # "//server/x.pdf" is read as the UNC root \\\\server\\x.pdf, with no file name ("file").
        assert response.status_code == 400 and "is not a kind of file we accept" in (
            human_message(response) or ""), human_message(response)
        assert any("." not in safe_filename(f.name) for f in files), [f.name for f in files]
        assert_nothing_new(before, after)
        return
    case, case_key, _ = decrypt_new_case(portal, match.group(1).replace(" ", ""), kdf_params)
    attachments = list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                          .order_by(Attachment.id)))
    assert len(attachments) == len(files)
    for attachment, sent_file in zip(attachments, files, strict=True):
        meta = attachment_meta(attachment, case_key)
        assert_safe_display_name(meta["name"])
        assert re.fullmatch(r"[0-9a-f]{32}", attachment.storage_name)
        assert meta["name"] not in attachment.storage_name
        assert b"".join(attachment_chunks(attachment, case_key)) == sent_file.content
    # Random: two uploads of the same name get unrelated storage names.
    assert len({a.storage_name for a in attachments}) == len(attachments)


def test_the_same_name_twice_gets_two_random_storage_names(client, portal, upload_folder):
    names = []
    for _ in range(2):
        fields = [*report_fields().items(), ("csrf_token", portal.report_token),
                  ("evidence", Upload("../../same.txt", b"x"))]
        response = client.post("/report", data=multipart_body(fields, b"----b"),
                               content_type="multipart/form-data; boundary=----b")
        assert response.status_code == 200
        names.append(db.session.scalar(select(Attachment.storage_name)
                                       .order_by(Attachment.id.desc())))
    assert names[0] != names[1]
    assert all(re.fullmatch(r"[0-9a-f]{32}", name) for name in names)


# --- known bugs, pinned ---------------------------------------------------------------------------

JSON_BODIES = [
    pytest.param("/report", {**report_fields(), "what_happened": 5}, id="report-number"),
    pytest.param("/report", [1, 2], id="report-list"),
    pytest.param("/follow-up", {"receipt": 1234567812345678}, id="receipt-number"),
    pytest.param("/staff/login", {"email": "a@b.example", "password": 1},
                 id="staff-password-number"),
]


@pytest.mark.parametrize("url, document", JSON_BODIES)
def test_json_bodies_with_non_text_values_are_refused_cleanly(app, client, institution,
                                                              make_handler, upload_folder,
                                                              url, document):
    make_handler()
    token = csrf_token(client, url)
    before = footprint(upload_folder)
    response = client.post(url, data=json.dumps(document), content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert_sound(response)
    assert_nothing_new(before, footprint(upload_folder))


TEXT_IN_FILE_FIELD = [
    pytest.param("reporter", "/report", "urlencoded", id="report-urlencoded"),
    pytest.param("reporter", "/report", "text part", id="report-text-part"),
    pytest.param("reporter", "/report", "name ending in a backslash",
                 id="report-linux-file-named-with-backslash"),
    pytest.param("reporter", "/follow-up/message", "urlencoded", id="followup-message"),
    pytest.param("handler", "/staff/intake", "urlencoded", id="staff-intake"),
    pytest.param("handler", "/staff/cases/{case_id}/message", "urlencoded",
                 id="staff-case-message"),
]
STAFF_FORMS = {
    "/staff/intake": {"channel": "post", "received_on": "2025-01-15", "category": "other",
                      "what_happened": "A letter.", "anonymous": "y", "issue_receipt": ""},
    "/staff/cases/{case_id}/message": {"msg-body": "A question."},
}


@pytest.mark.parametrize("who, url, how", TEXT_IN_FILE_FIELD)
def test_text_in_a_file_field_is_refused_cleanly(app, client, portal, sign_in, upload_folder,
                                                 who, url, how):
    case_id = db.session.scalar(select(Case.id))
    url = url.format(case_id=case_id)
    if who == "handler":
        browser = sign_in(portal.handler)
        fields = dict(STAFF_FORMS[url.replace(str(case_id), "{case_id}")])
        token = csrf_token(browser, "/staff/intake")
        file_field = "msg-evidence" if "message" in url else "evidence"
    elif url == "/report":
        browser, fields, token = client, report_fields(), portal.report_token
        file_field = "evidence"
    else:
        browser, fields, token = portal.reporter, {"body": "More."}, portal.reporter_token
        file_field = "evidence"
    pairs = [*fields.items(), ("csrf_token", token)]
    before = footprint(upload_folder)
    if how == "urlencoded":
        response = browser.post(url, data=urlencode([*pairs, (file_field, "not a file")]),
                                content_type="application/x-www-form-urlencoded")
    else:
        value = "not a file" if how == "text part" else Upload("raport\\", b"%PDF-1.4 ...")
        response = browser.post(url, data=multipart_body([*pairs, (file_field, value)], b"--b"),
                                content_type="multipart/form-data; boundary=--b")
    assert_sound(response)
    if response.status_code >= 400:
        assert_nothing_new(before, footprint(upload_folder))


ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
NUL_IN_STAFF_TEXT = [
    pytest.param("anonymous", "/staff/login", {"email": "ana@baltati.example\x00",
                                               "password": "x" * 12}, id="sign-in-email"),
    pytest.param("admin", "/staff/admin/invite", {"name": "Ana\x00", "email": "n@b.example",
                                                  "roles": "handler"}, id="invitation-name"),
    pytest.param("coordinator", "/staff/outreach/new", {
        "kind": "post", "platform": "facebook", "published_on": "{today}", "title": "Post\x00"},
        id="outreach-title"),
    pytest.param("coordinator", "/staff/outreach/new", {
        "kind": "post", "platform": "facebook", "published_on": "{today}", "title": "Post",
        "link": "https://example.org/\x00"}, id="outreach-link"),
    pytest.param("handler", "/staff/cases/{case_id}/forward", {
        "fwd-authority": "DNA\x00", "fwd-forwarded_on": "{today}", "fwd-message": "Sent."},
        id="forward-authority-nul"),
    pytest.param("handler", "/staff/cases/{case_id}/forward", {
        "fwd-authority": "Direcția Națională Anticorupție, " + "ș" * 150,
        "fwd-forwarded_on": "{today}", "fwd-message": "Sent."},
        id="forward-authority-200-romanian-characters"),
]


@pytest.mark.parametrize("who, url, form", NUL_IN_STAFF_TEXT)
def test_nul_in_staff_text_is_refused_cleanly(app, portal, make_handler, sign_in,
                                              who, url, form):
    from datetime import date
    case_id = db.session.scalar(select(Case.id))
    roles = {"admin": (Role.ADMIN,), "coordinator": (Role.COORDINATOR,)}
    if who == "anonymous":
        browser, token_page = app.test_client(), "/staff/login"
    else:
        member = portal.handler if who == "handler" else make_handler(roles=roles[who])
        browser, token_page = sign_in(member), "/staff/password"
    data = {name: value.format(today=date.today().isoformat()) if "{today}" in value else value
            for name, value in form.items()}
    response = browser.post(url.format(case_id=case_id),
                            data={**data, "csrf_token": csrf_token(browser, token_page)})
    assert_sound(response)


@pytest.mark.parametrize("app_config", [{"UPLOAD_MAX_TOTAL_BYTES": 100_000}], indirect=True)
def test_a_body_beyond_the_upload_limit_is_refused_before_it_is_read(app, client, portal,
                                                                     upload_folder):
    assert app.config["MAX_CONTENT_LENGTH"] == 100_000 + 2**21
    fields = [*report_fields().items(), ("csrf_token", portal.report_token),
              ("evidence", Upload("big.pdf", b"x" * (3 * 2**20)))]
    before = footprint(upload_folder)
    response = client.post("/report", data=multipart_body(fields, b"----big"),
                           content_type="multipart/form-data; boundary=----big")
    assert response.status_code == 413
    assert_sound(response)
    assert_nothing_new(before, footprint(upload_folder))


def test_an_oversized_text_field_is_not_reported_as_oversized_files(client, portal,
                                                                    upload_folder):
    fields = [*report_fields(what_happened="ș" * 300_000).items(),
              ("csrf_token", portal.report_token)]
    response = client.post("/report", data=multipart_body(fields, b"----t"),
                           content_type="multipart/form-data; boundary=----t")
    assert_sound(response)
    page = response.get_data(as_text=True)
    assert "files" not in (human_message(response) or "").lower(), human_message(response)
    assert "Please keep this under 20000 characters." in page or response.status_code == 413


def test_wrong_content_types_reach_the_view_and_get_field_messages(client, portal,
                                                                   upload_folder):
    """Concrete cases of the property above, readable on their own."""
    before = footprint(upload_folder)
    for content_type, body in (("text/plain", b"what_happened=x"), (None, b"what_happened=x"),
                               ("application/xml", b"<what_happened>x</what_happened>"),
                               ("multipart/form-data; boundary=nope", b"--other\r\n\r\n"),
                               ("multipart/form-data", b"\x00\xff" * 100)):
        response = client.post("/report", data=body, content_type=content_type,
                               headers={"X-CSRFToken": portal.report_token})
        assert response.status_code == 400, content_type
        assert "Please describe what happened." in human_message(response), content_type
    assert_nothing_new(before, footprint(upload_folder))



def test_the_message_detector_tells_a_message_from_a_bare_status():
    """human_message() decides the 4xx property: a bare status page must not pass it."""
    class Page:
        def __init__(self, status, body):
            self.status_code, self._body = status, body

        def get_data(self, as_text=False):
            return self._body

    bare = "<!doctype html><html><title>400 Bad Request</title><h1>Bad Request</h1></html>"
    banner_only = ('<html><div class="alert" role="alert"><p><strong>Please correct the marked '
                   "fields. Nothing has been sent yet.</strong></p></div></html>")
    field = '<html><p class="error" id="x-error">Please describe what happened.</p></html>'
    error_page = ("<html><h1>This request could not be handled</h1><p>Nothing was saved. Go "
                  "back and try again.</p></html>")
    assert human_message(Page(400, bare)) is None
    assert human_message(Page(400, banner_only)) is None
    assert human_message(Page(400, "")) is None
    assert human_message(Page(400, field)) == "Please describe what happened."
    assert human_message(Page(400, error_page)).startswith("This request could not be handled")
