"""HTML typed anywhere is shown as text everywhere (XSS), and every response carries the
security headers of DESIGN.md ("Security and privacy").

One world is built through the real forms, each free-text field carrying its own payload (a
tag names the field): the report (facts, identity, file names), the reporter's and the staff's
messages and files, notes, acknowledgement, redaction and identity reasons, a manual intake, an
invitation (then an activated account whose name is the payload), the institution's mail
sender, outreach titles and links, the forwarding authority. Then every page that may show
them is read by whoever may read it: the reporter's follow-up page, case pages, inbox, the
custodian's requests, admin pages and the audit log, outreach and indicator pages.

- No response ever contains a payload unescaped, and no page contains an injected element:
  no <script>, no on* attribute, no javascript: link (checked on the parsed HTML).
- The escaped payload is shown where the field is meant to be shown (so the text is really
  rendered, not dropped).
- Every response, whatever its status, sends the DESIGN headers; evidence downloads are
  attachments of type application/octet-stream.
"""
import base64
import re
import time
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Case, Role, StaffMember
from app.services.staff import totp
from tests.conftest import CSRF_RE, RECEIPT_RE, csrf_token, report_fields


def payload(tag: str) -> str:
    return (f"<script>alert({tag})</script>\"><img src=x onerror=alert({tag})></textarea>'"
            f"<svg onload=alert({tag})>javascript:alert({tag})")


def short_payload(tag: str) -> str:  # for fields of 40 characters
    return f'"><svg onload=alert({tag})>'


def file_payload(tag: str, extension: str = "txt") -> str:  # one path component: no slash
    return f"\"><img src=x onerror=alert({tag})>'<svg onload=alert({tag})>.{extension}"


def email_payload(tag: str) -> str:  # what an e-mail validator lets through
    return f"{tag}'onfocus='alert`1`'&amp@example.org"


def link_payload(tag: str) -> str:  # a web address the outreach log accepts: no whitespace
    return f"https://example.org/\"><svg/onload=alert({tag})>'"


def core(tag: str) -> str:
    """The part every payload carries, as it must read once escaped."""
    if tag == "xsslink":
        return f"&lt;svg/onload=alert({tag})&gt;"
    return f"&lt;svg onload=alert({tag})&gt;"


def raw_fragments(tag: str) -> list[str]:
    return [f"<svg onload=alert({tag})>", f"<svg/onload=alert({tag})>",
            f"<img src=x onerror=alert({tag})>", f"<script>alert({tag})",
            "'onfocus='alert`1`'&amp@"]


# --- every response passes through here -----------------------------------------------------------

CSP_REQUIRED = ("default-src 'self'", "frame-ancestors 'none'", "script-src 'self'",
                "object-src 'none'")


def header_problems(path: str, response) -> list[str]:
    headers = response.headers
    found = []
    csp = headers.get("Content-Security-Policy", "")
    for part in CSP_REQUIRED:
        if part not in csp:
            found.append(f"CSP lacks {part!r}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        found.append("CSP allows unsafe-inline/unsafe-eval")
    expected = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY"}
    for name, value in expected.items():
        if headers.get(name) != value:
            found.append(f"{name}: {headers.get(name)!r}")
    if not headers.get("Strict-Transport-Security", "").startswith("max-age="):
        found.append("no HSTS")
    if not path.startswith("/static/") and headers.get("Cache-Control") != "no-store":
        found.append(f"Cache-Control: {headers.get('Cache-Control')!r}")
    return [f"{response.status_code} {path}: {problem}" for problem in found]


@pytest.fixture
def responses(monkeypatch):
    """Every (method, path, response) of the test, from every browser, fixtures included."""
    seen: list = []
    original = FlaskClient.open

    def open_and_record(self, *args, **kwargs):
        response = original(self, *args, **kwargs)
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "?")
        seen.append((kwargs.get("method", "GET"), path.split("?")[0], response))
        return response

    monkeypatch.setattr(FlaskClient, "open", open_and_record)
    return seen


# The portal's one script (the voice recorder), a static file of this origin: not a payload.
OWN_SCRIPT = [("src", "/static/js/voice.js"), ("defer", None)]


class _Injected(HTMLParser):
    """Elements or attributes that would run script if a payload got through."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script" and attrs != OWN_SCRIPT:
            self.found.append(f"<script {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value and \
                    re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(
                        ("javascript:", "data:text", "vbscript:")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "id" and value and value.startswith("xss"):
                self.found.append(f"<{tag} id={value!r}>")

    handle_startendtag = handle_starttag


def injected(page: str) -> list[str]:
    parser = _Injected()
    parser.feed(page)
    return parser.found


# --- the world ------------------------------------------------------------------------------------

TODAY = date.today().isoformat()


@dataclass
class World:
    tags: dict  # tag -> where it was typed
    pages: dict = field(default_factory=dict)  # name -> page text, for the "shown" checks
    downloads: list = field(default_factory=list)
    browsers: dict = field(default_factory=dict)
    case_ids: dict = field(default_factory=dict)


def _token(page: str) -> str:
    return CSRF_RE.search(page).group(1)


def _ok(response, *codes):
    codes = codes or (200, 302)
    assert response.status_code in codes, (response.status_code,
                                           response.get_data(as_text=True)[:3000])
    return response


def _quoted(value: str) -> str:
    """A quoted-string as RFC 7578 allows: " and \\ escaped with a backslash (browsers send
    %22 instead, but nothing stops an attacker, and werkzeug reads it back as a quote)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _multipart(browser, url, data: dict):
    """POST multipart/form-data; a value (filename, bytes) or a list of them is a file."""
    boundary = "----xss" + str(time.monotonic_ns())
    parts = []
    for name, values in data.items():
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, tuple):
                filename, content = value
                head = (f'Content-Disposition: form-data; name="{name}"; '
                        f'filename="{_quoted(filename)}"\r\n'
                        "Content-Type: application/octet-stream\r\n")
            else:
                head, content = (f'Content-Disposition: form-data; name="{name}"\r\n',
                                 value.encode())
            parts.append(f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return browser.post(url, data=body,
                        content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def world(app, client, institution, make_handler, sign_in, follow_up,
          responses) -> World:
    w = World(tags={})

    def tag(name: str, where: str) -> str:
        w.tags[f"xss{name}"] = where
        return f"xss{name}"

    holder = make_handler("Ana Holder")
    admin = make_handler("Adi Admin", roles=(Role.ADMIN,))
    coordinator = make_handler("Carmen Coordinator", roles=(Role.COORDINATOR,))
    custodian = make_handler("Elena Custodian", roles=(Role.CUSTODIAN,))

    # 1. The reporter: every report field, the identity, a file, then a message with a file.
    what, when, persons, how = (tag(n, "report") for n in ("what", "when", "persons", "how"))
    name, email, rfile = tag("rname", "identity"), tag("remail", "identity"), tag("rfile", "file")
    response = _ok(_multipart(client, "/report", {**report_fields(
        what_happened=payload(what), when_where=payload(when),
        persons_involved=payload(persons) + " Ion Vecinul", how_known=payload(how),
        identity_choice="identified", name=payload(name), email=email_payload(email),
        phone="+40 745 000 111"), "csrf_token": csrf_token(client, "/report"),
        "evidence": (file_payload(rfile), b"<html><script>alert(1)</script></html>")}), 200)
    receipt = RECEIPT_RE.search(response.get_data(as_text=True)).group(1)
    case_a = db.session.scalar(select(Case))
    w.case_ids["a"] = case_a.id
    _ok(follow_up(receipt), 302)
    rmsg, rmsgfile = tag("rmsg", "reporter message"), tag("rmsgfile", "file")
    _ok(_multipart(client, "/follow-up/message", {
        "body": payload(rmsg), "csrf_token": csrf_token(client, "/follow-up/case"),
        "evidence": (file_payload(rmsgfile, "pdf"), b"<svg onload=alert(2)/>")}),
        302)
    w.browsers["reporter"] = client

    # 2. The handler: note, message with a file, acknowledgement, redaction, identity reveal.
    staff = sign_in(holder)
    w.browsers["holder"] = staff
    case_url = f"/staff/cases/{case_a.id}"
    token = _token(staff.get(case_url).get_data(as_text=True))
    note, smsg, smsgfile, ack = (tag("note", "note"), tag("smsg", "staff message"),
                                 tag("smsgfile", "file"), tag("ack", "acknowledgement"))
    redact, reveal = tag("redact", "redaction reason"), tag("reveal", "reveal reason")
    _ok(staff.post(f"{case_url}/note", data={"note-body": payload(note), "csrf_token": token}))
    _ok(_multipart(staff, f"{case_url}/message", {
        "msg-body": payload(smsg), "csrf_token": token,
        "msg-evidence": (file_payload(smsgfile), b"x")}), 302)
    _ok(staff.post(f"{case_url}/acknowledge", data={"ack-message": payload(ack),
                                                     "csrf_token": token}), 302)
    _ok(staff.post(f"{case_url}/redact", data={
        "redact-target": "report:persons_involved", "redact-passage": "Ion Vecinul",
        "redact-reason": "Irrelevant: " + payload(redact), "csrf_token": token}), 302)
    revealed = _ok(staff.post(f"{case_url}/identity", data={
        "reveal-reason": payload(reveal), "csrf_token": token}), 200)
    w.pages["identity revealed"] = revealed.get_data(as_text=True)

    # 3. A manual intake with every text field.
    intake_tags = {n: tag(n, "intake") for n in ("iwhat", "iwhen", "ipersons", "itranscript",
                                                 "iname")}
    iphone, iemail, ifile = tag("iphone", "intake"), tag("iemail", "intake"), tag("ifile", "file")
    intake_page = staff.get("/staff/intake").get_data(as_text=True)
    done = _ok(_multipart(staff, "/staff/intake", {
        "channel": "phone", "received_on": TODAY, "category": "other",
        "what_happened": payload(intake_tags["iwhat"]),
        "when_where": payload(intake_tags["iwhen"]),
        "persons_involved": payload(intake_tags["ipersons"]),
        "transcript": payload(intake_tags["itranscript"]), "reporter_signed": "y",
        "name": payload(intake_tags["iname"]), "email": email_payload(iemail),
        "phone": short_payload(iphone), "issue_receipt": "y", "csrf_token": _token(intake_page),
        "evidence": (file_payload(ifile, "pdf"), b"scan")}), 200)
    w.pages["intake done"] = done.get_data(as_text=True)
    w.case_ids["c"] = db.session.scalar(select(Case.id).order_by(Case.id.desc()))

    # 4. The administrator: an invitation whose name and e-mail are payloads, then activated.
    admin_browser = sign_in(admin)
    w.browsers["admin"] = admin_browser
    invite_name, invite_email = tag("invname", "invitation"), tag("invmail", "invitation")
    invited = _ok(admin_browser.post("/staff/admin/invite", data={
        "name": payload(invite_name), "email": email_payload(invite_email), "roles": "handler",
        "csrf_token": csrf_token(admin_browser, "/staff/admin/invite")}), 200)
    w.pages["invited"] = invited.get_data(as_text=True)
    w.pages["staff list, invitation pending"] = admin_browser.get(
        "/staff/admin/").get_data(as_text=True)
    link = re.search(r'id="activation-link" class="text">[^<]*(/staff/activate/[^<\s]+)<',
                     w.pages["invited"]).group(1)
    newcomer = app.test_client()
    page = newcomer.get(link).get_data(as_text=True)
    w.pages["activation"] = page
    secret_text = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    secret = base64.b32decode(secret_text + "=" * (-len(secret_text) % 8))
    enrolment = re.search(r'name="enrolment" type="hidden" value="([^"]*)"', page).group(1)
    _ok(newcomer.post(link, data={
        "password": "a long enough password", "confirm": "a long enough password",
        "code": totp.code_at(secret, time.time()), "enrolment": enrolment,
        "csrf_token": _token(page)}), 302)
    member = db.session.scalar(select(StaffMember).where(StaffMember.name == payload(
        invite_name)))
    assert member is not None
    w.pages["member"] = admin_browser.get(f"/staff/admin/staff/{member.id}").get_data(
        as_text=True)
    # A second person (here the handler: the single admin invited) confirms the account.
    w.pages["confirmations"] = staff.get("/staff/admin/confirmations").get_data(as_text=True)
    _ok(staff.post(f"/staff/admin/staff/{member.id}/confirm",
                   data={"csrf_token": _token(w.pages["confirmations"])}), 302)
    # The holder lets the newcomer into case A; the newcomer signs in and writes a note.
    _ok(staff.post(f"{case_url}/access/grant", data={"grant-member": str(member.id),
                                                     "csrf_token": token}), 302)
    member.password, member.totp_secret_raw, member.sign_ins = (
        "a long enough password", secret, 1)  # the activation used this step's code
    newcomer = sign_in(member)
    w.browsers["newcomer"] = newcomer
    w.pages["newcomer inbox"] = newcomer.get("/staff/cases").get_data(as_text=True)
    _ok(newcomer.post(f"{case_url}/note", data={
        "note-body": "Seen.", "csrf_token": _token(newcomer.get(case_url).get_data(
            as_text=True))}), 302)

    # 5. Settings: the mail sender, and the custodian policy for the next case.
    sender = tag("sender", "settings")
    _ok(admin_browser.post("/staff/admin/settings", data={
        "identity_policy": "custodian", "retention_years": "5",
        "acknowledge_reminder_days": "2", "answer_reminder_days": "5",
        "mail_sender": email_payload(sender), "categories": ["bribery", "other"],
        "csrf_token": csrf_token(admin_browser, "/staff/admin/settings")}), 302)

    # 6. A second reporter under the custodian policy; the handler asks, the custodian reads.
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    _ok(other.post("/report", data={**report_fields(
        identity_choice="identified", name="B", email="b@example.org"),
        "csrf_token": csrf_token(other, "/report")}), 200)
    case_b = db.session.scalar(select(Case.id).order_by(Case.id.desc()))
    w.case_ids["b"] = case_b
    ask, decide = tag("ask", "identity request"), tag("decide", "custodian decision")
    _ok(staff.post(f"/staff/cases/{case_b}/identity-request", data={
        "reveal-reason": payload(ask), "csrf_token": token}), 302)
    guardian = sign_in(custodian)
    w.browsers["custodian"] = guardian
    requests_page = guardian.get("/staff/identity-requests").get_data(as_text=True)
    w.pages["identity requests"] = requests_page
    request_id = re.search(r'name="request_id" (?:type="hidden" )?value="(\d+)"',
                           requests_page).group(1)
    _ok(guardian.post("/staff/identity-requests", data={
        "request_id": request_id, "decision": "deny", "reason": payload(decide),
        "csrf_token": _token(requests_page)}), 302)

    # 7. The coordinator: an outreach entry whose title and link are payloads.
    coordinator_browser = sign_in(coordinator)
    w.browsers["coordinator"] = coordinator_browser
    title, link_tag = tag("title", "outreach"), tag("link", "outreach")
    outreach_token = csrf_token(coordinator_browser, "/staff/outreach/new")
    _ok(coordinator_browser.post("/staff/outreach/new", data={
        "kind": "post", "platform": "facebook", "published_on": TODAY, "title": payload(title),
        "link": link_payload(link_tag), "csrf_token": outreach_token}), 302)
    jslink = tag("jslink", "outreach, refused")
    refused = _ok(coordinator_browser.post("/staff/outreach/new", data={
        "kind": "post", "platform": "facebook", "published_on": TODAY, "title": "JS link",
        "link": f"javascript:alert(1)//<svg onload=alert({jslink})>",
        "csrf_token": outreach_token}), 400)
    w.pages["outreach refused"] = refused.get_data(as_text=True)

    # 8. Last, the handler forwards case A: authority and message are payloads.
    authority, forward = tag("authority", "forward"), tag("fwd", "forward message")
    _ok(staff.post(f"{case_url}/forward", data={
        "fwd-authority": payload(authority), "fwd-forwarded_on": TODAY,
        "fwd-message": payload(forward), "csrf_token": token}), 302)

    # 9. Typed into forms that refuse it: echoed back in the form, escaped.
    login_echo = tag("login", "staff login, refused")
    anonymous = app.test_client()
    w.browsers["anonymous"] = anonymous
    refused_login = anonymous.post("/staff/login", data={
        "email": payload(login_echo)[:250], "password": "x",
        "csrf_token": csrf_token(anonymous, "/staff/login")})
    w.pages["login refused"] = _ok(refused_login, 400).get_data(as_text=True)
    report_echo = tag("echo", "report, refused")
    refused_report = anonymous.post("/report", data={
        **report_fields(what_happened=payload(report_echo), consent=""),
        "csrf_token": csrf_token(anonymous, "/report")})
    w.pages["report refused"] = _ok(refused_report, 400).get_data(as_text=True)
    return w


def crawl(app, w: World) -> None:
    """Read every page that may show what was typed, as whoever may read it."""
    get = lambda who, url: w.browsers[who].get(url).get_data(as_text=True)  # noqa: E731
    a, b, c = w.case_ids["a"], w.case_ids["b"], w.case_ids["c"]
    w.pages["follow-up A"] = get("reporter", "/follow-up/case")
    for name, case_id in (("case A", a), ("case B", b), ("case C (intake)", c)):
        w.pages[name] = get("holder", f"/staff/cases/{case_id}")
    w.pages["case A by the newcomer"] = get("newcomer", f"/staff/cases/{a}")
    w.pages["inbox"] = get("holder", "/staff/cases")
    w.pages["inbox, hostile filters"] = get(
        "holder", "/staff/cases?status=%3Csvg+onload%3Dalert(xssq)%3E&page=%3Cb%3E")
    w.pages["holder home"] = get("holder", "/staff/")
    w.pages["staff list"] = get("admin", "/staff/admin/")
    w.pages["settings"] = get("admin", "/staff/admin/settings")
    audit = get("admin", "/staff/admin/audit")
    pages = int((re.search(r"Page \d+ of (\d+)", audit) or [None, "1"])[1])
    w.pages["audit log"] = audit + "".join(
        get("admin", f"/staff/admin/audit?page={n}") for n in range(2, pages + 1))
    w.pages["audit log, hostile filter"] = get(
        "admin", "/staff/admin/audit?action=%3Csvg+onload%3Dalert(xssq)%3E")
    item_id = re.search(r"/staff/outreach/(\d+)/edit", get("coordinator", "/staff/outreach"))[1]
    w.pages["outreach list"] = get("coordinator", "/staff/outreach")
    w.pages["outreach edit"] = get("coordinator", f"/staff/outreach/{item_id}/edit")
    w.pages["outreach delete"] = get("coordinator", f"/staff/outreach/{item_id}/delete")
    w.pages["dashboard"] = get("coordinator", "/staff/stats")
    w.pages["dashboard, hostile period"] = get(
        "coordinator", "/staff/stats?period=range&start=%3Csvg%3E&end=%22%3E&year=%3Cb%3E")
    w.pages["annual"] = get("coordinator", f"/staff/stats/annual/{date.today().year}")
    for path in ("/", "/report", "/follow-up", "/privacy", "/transparency",
                 "/%3Csvg%20onload=alert(xssq)%3E", "/staff/login?next=javascript:alert(xssq)",
                 "/report?lang=%3Csvg%20onload=alert(xssq)%3E"):
        w.pages[f"public {path}"] = get("anonymous", path)
    for attachment in db.session.scalars(select(Attachment)):
        if attachment.case_id in (a, c):
            download = w.browsers["holder"].get(
                f"/staff/cases/{attachment.case_id}/files/{attachment.id}")
            download.get_data()  # read the stream now: it holds a request context until then
            download.close()
            w.downloads.append(download)


# Where each field must be shown, escaped (page names from the world and the crawl).
SHOWN = {
    "xsswhat": ["follow-up A", "case A"], "xsswhen": ["follow-up A", "case A"],
    "xsspersons": ["follow-up A", "case A"], "xsshow": ["follow-up A", "case A"],
    "xssrname": ["identity revealed"], "xssrfile": ["follow-up A", "case A"],
    "xssrmsg": ["follow-up A", "case A"], "xssrmsgfile": ["follow-up A", "case A"],
    "xsssmsg": ["follow-up A", "case A"], "xsssmsgfile": ["follow-up A", "case A"],
    "xssnote": ["case A"], "xssack": ["follow-up A", "case A"],
    "xssredact": ["audit log"], "xssreveal": ["case A"],  # (the audit log holds it encrypted)
    "xssiwhat": ["case C (intake)"], "xssiwhen": ["case C (intake)"],
    "xssipersons": ["case C (intake)"], "xssitranscript": ["case C (intake)"],
    "xssifile": ["case C (intake)"],
    "xssinvname": ["invited", "activation", "staff list, invitation pending", "staff list",
                   "member", "confirmations", "case A", "newcomer inbox", "audit log"],
    # Request reasons stay with the request, not in the audit log the admin reads.
    "xssask": ["identity requests"], "xssdecide": [],
    "xsstitle": ["outreach list", "outreach edit", "outreach delete", "audit log"],
    "xsslink": ["outreach list", "outreach edit", "audit log"],
    "xssjslink": ["outreach refused"],
    "xssauthority": ["case A", "audit log"], "xssfwd": ["follow-up A", "case A"],
    "xsslogin": ["login refused"], "xssecho": ["report refused"],
}
SHOWN_EMAILS = {
    "xssremail": ["identity revealed"], "xssinvmail": ["invited", "activation", "staff list",
                                                       "audit log"],
    "xsssender": ["settings", "audit log"],
}


def test_payloads_never_appear_unescaped_and_nothing_is_injected(app, world, responses):
    crawl(app, world)
    problems = []
    for method, path, response in responses:
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        for tag in [*world.tags, "xssq"]:
            for fragment in raw_fragments(tag):
                if fragment in page:
                    problems.append(f"{method} {path}: raw {fragment!r}")
        for found in injected(page):
            problems.append(f"{method} {path}: injected {found}")
    assert len(responses) > 60
    assert not problems, "\n".join(problems)


def test_every_field_is_shown_escaped_where_it_belongs(app, world):
    crawl(app, world)
    missing = []
    for tag, pages in SHOWN.items():
        for name in pages:
            if core(tag) not in world.pages[name]:
                missing.append(f"{tag} ({world.tags[tag]}) not shown escaped on {name}")
    for tag, pages in SHOWN_EMAILS.items():
        for name in pages:
            if str(escape(email_payload(tag))) not in world.pages[name]:
                missing.append(f"{tag} ({world.tags[tag]}) not shown escaped on {name}")
    assert set(SHOWN) | set(SHOWN_EMAILS) >= set(world.tags) - {
        "xssiname", "xssiphone", "xssiemail"}  # hidden identity of the intake case
    assert not missing, "\n".join(missing)


def test_the_outreach_link_keeps_its_scheme_and_javascript_links_are_refused(app, world):
    crawl(app, world)
    hrefs = re.findall(r'<a href="([^"]*)" rel="noopener noreferrer">',
                       world.pages["outreach list"])
    assert hrefs and all(href.startswith("https://example.org/") for href in hrefs)
    assert "Give a web address starting with http:// or https://" in world.pages[
        "outreach refused"]


def test_every_response_carries_the_security_headers(app, world, responses):
    crawl(app, world)
    statuses = {response.status_code for _, _, response in responses}
    assert {200, 302, 400, 404} <= statuses  # errors and redirects are checked too
    problems = [problem for _, path, response in responses
                for problem in header_problems(path, response)]
    assert not problems, "\n".join(problems)


def test_downloads_are_attachments_never_rendered(app, world):
    crawl(app, world)
    assert len(world.downloads) == 4
    for response in world.downloads:
        assert response.status_code == 200
        assert response.mimetype == "application/octet-stream"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;"), disposition
        assert not any(ch in disposition for ch in "\r\n<>"), disposition
        assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"; '
                            r"filename\*=UTF-8''[A-Za-z0-9%._~-]+", disposition), disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    exported = world.browsers["coordinator"].get("/staff/stats/export/csv")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].startswith("attachment;")


def test_the_injection_detector_sees_what_it_must():
    """The checks above are only as good as this parser: it must flag each way a payload
    would run, and nothing in escaped text."""
    for page in ('<p><svg onload=alert(1)></p>', '<img src=x onerror=alert(1)>',
                 '<a href=" javascript:alert(1)">x</a>', "<script src=/x.js></script>",
                 '<a HREF="JaVaScRiPt:alert(1)">x</a>', '<input value="" autofocus onfocus=x>',
                 '<b id="xssnote">'):
        assert injected(page), page
    assert not injected(f"<p>{escape(payload('xssnote'))}</p><a href=\"/staff/\">ok</a>")
