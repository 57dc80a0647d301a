"""The platform operator through the real pages: signs in (password, then TOTP enrolled at the
first sign-in), creates an institution on the page and downloads its recovery page once (the
code is on the PDF and in no row), suspends it (its report form takes nothing, follow-up keeps
working), resumes, deletes it with the slug typed and sees the check come out clean. An
institution's administrator gets 403 on every platform page; the operator sees counts only."""
import base64
import re
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app import rls
from app.crypto import keys
from app.crypto.seal import public_bytes
from app.extensions import db
from app.models import Institution, PlatformRole, StaffAccount, StaffSession
from app.services.operations import tenant_data
from app.services.staff import sign_in as staff_auth
from app.services.transaction import unit_of_work
from tests.conftest import CSRF_RE, RECEIPT_RE, csrf_token, report_fields
from tests.support.database import stored_row_values
from tests.support.staff import make_operator, sign_in_client

GROUP = re.compile(r"\b[A-Z2-7]{4}\b")
FORM_ID_RE = re.compile(r'id="form_id" name="form_id" type="hidden" value="([^"]+)"')
PDF_LINK = re.compile(r'href="data:application/pdf;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def operator(app):
    return make_operator(app)


@pytest.fixture
def operator_browser(app, operator):
    return sign_in_client(app.test_client(), operator)


def code_on_pdf(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    section = text.split("Codul de recuperare", 2)[-1].split("La introducere")[0]
    return "-".join(GROUP.findall(section))


def create_on_page(browser, **overrides):
    fields = {"name": "Comuna Scânteia", "county": "Iași", "siruta_code": "98256",
              "cui": "4541077", "address": "Str. Principală 1, Scânteia", "phone": "0232 000 000",
              "office_hours": "L–V 8–16", "public_email": "", "dpo_contact": "",
              "admin_email": "primar@scanteia.example"}
    fields.update(overrides)
    page = browser.get("/staff/platform/institutions/new").get_data(as_text=True)
    fields["csrf_token"] = CSRF_RE.search(page).group(1)
    fields["form_id"] = FORM_ID_RE.search(page).group(1)
    response = browser.post("/staff/platform/institutions/new", data=fields)
    response.sent = fields
    return response


def test_the_operator_signs_in_with_password_and_totp_and_lands_on_the_platform(
        app, operator):
    browser = app.test_client()
    token = csrf_token(browser, "/staff/login")
    response = browser.post("/staff/login", data={
        "email": operator.email, "password": operator.password, "csrf_token": token})
    assert response.status_code == 302
    # Half signed in: no platform page yet.
    assert browser.get("/staff/platform/").status_code == 302
    page = browser.get("/staff/login/code").get_data(as_text=True)
    assert 'id="totp-secret"' in page  # enrolment at the first sign-in, as for staff
    sign_in_client(browser, operator)
    response = browser.get("/staff/login/code")
    assert response.status_code == 302 and response.location.endswith("/staff/platform/")
    page = browser.get("/staff/platform/").get_data(as_text=True)
    assert "Olga Operator" in page
    session = db.session.scalar(select(StaffSession).where(
        StaffSession.account_id == operator.id, StaffSession.stage == "active"))
    assert session is not None and session.staff_id is None
    # No institution page: not the home, the inbox, the settings or the staff list.
    for path in ("/staff/", "/staff/cases", "/staff/admin/", "/staff/admin/settings",
                 "/staff/password"):
        assert browser.get(path).status_code == 403, path


def test_the_operator_creates_suspends_resumes_and_deletes_an_institution(
        app, operator_browser, institution, client, make_handler):
    make_handler()
    slug = institution.slug
    # A reporter opens Bălțați's form before the operator does anything.
    reporter_token = csrf_token(client, "/report")

    def submit():
        response = client.post(f"/{slug}/report", data={
            **report_fields(), "csrf_token": reporter_token},
            content_type="multipart/form-data")
        found = RECEIPT_RE.search(response.get_data(as_text=True))
        return response, (found.group(1).replace(" ", "") if found else None)

    _, receipt = submit()
    assert receipt
    response = create_on_page(operator_browser)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    pdf = base64.b64decode(PDF_LINK.search(page).group(1))
    code = code_on_pdf(pdf)
    created = db.session.scalar(select(Institution).where(Institution.siruta_code == "98256"))
    assert created is not None and created.slug == "comuna-scanteia"
    private = keys.private_key_from_recovery_code(code)
    assert public_bytes(private.public_key()) == created.recovery_public_key
    dump = stored_row_values()
    assert code not in dump and code.replace("-", "") not in dump
    # The browser's "send again" on the confirmation page creates nothing more.
    resent = operator_browser.post("/staff/platform/institutions/new", data=response.sent)
    assert resent.status_code == 400 and "data:application/pdf" not in resent.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count(Institution.id))) == 2
    # Listed, with counts; found by county and by name.
    listing = operator_browser.get("/staff/platform/?q=scant").get_data(as_text=True)
    assert "Comuna Scânteia" in listing and "Comuna Bălțați" not in listing
    assert "Comuna Scânteia" in operator_browser.get(
        "/staff/platform/?county=Ia%C8%99i").get_data(as_text=True)
    # The same SIRUTA again: refused beside its field, nothing created.
    again = create_on_page(operator_browser, name="Alta comună")
    assert again.status_code == 400 and "98256" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Institution.id))) == 2

    # Bălțați suspended: no form, a POST refused with a clear message, follow-up still open.
    token = csrf_token(operator_browser, f"/staff/platform/institutions/{slug}")
    response = operator_browser.post(f"/staff/platform/institutions/{slug}/suspend",
                                     data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Institution, institution.id).suspended_at is not None
    shown = operator_browser.get(f"/staff/platform/institutions/{slug}").get_data(as_text=True)
    assert "1</dd>" in shown  # one case received this year: a count, nothing of it
    report_page = app.test_client().get(f"/{slug}/report")
    assert report_page.status_code == 200
    assert 'id="not-taking-reports"' in report_page.get_data(as_text=True)
    assert "what_happened" not in report_page.get_data(as_text=True)
    refused, no_receipt = submit()
    assert refused.status_code == 403 and no_receipt is None
    assert "Your report was not sent" in refused.get_data(as_text=True) or \
        "nu a fost trimis" in refused.get_data(as_text=True)
    followed = client.post(f"/{slug}/follow-up", data={
        "receipt": receipt, "csrf_token": csrf_token(client, f"/{slug}/follow-up")})
    assert followed.status_code == 302
    token = csrf_token(operator_browser, f"/staff/platform/institutions/{slug}")
    operator_browser.post(f"/staff/platform/institutions/{slug}/resume",
                          data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Institution, institution.id).suspended_at is None

    # Deletion: a wrong slug deletes nothing; the right one deletes and checks.
    path = f"/staff/platform/institutions/{created.slug}"
    token = csrf_token(operator_browser, path)
    wrong = operator_browser.post(path + "/delete", data={"confirm_slug": "scanteia",
                                                          "csrf_token": token})
    assert wrong.status_code == 400
    assert db.session.scalar(select(func.count(Institution.id))) == 2
    created_id = created.id
    done = operator_browser.post(path + "/delete", data={"confirm_slug": "comuna-scanteia",
                                                         "csrf_token": token})
    assert done.status_code == 200, done.get_data(as_text=True)[:3000]
    page = done.get_data(as_text=True)
    assert 'class="notice" role="status" id="removal-check"' in page
    db.session.rollback()
    assert db.session.get(Institution, created_id) is None
    assert tenant_data.remaining(created_id, []).clean
    # The operator's own session survived the deletion of an institution.
    assert operator_browser.get("/staff/platform/").status_code == 200


def test_the_list_shows_counts_and_no_staff_or_case_data(app, operator_browser, institution,
                                                         make_handler, submit):
    handler = make_handler("Ana Popescu", email="ana.popescu@baltati.example")
    _, receipt = submit(what_happened="Secret-marker-7781 bribe at the permit office.")
    assert receipt
    page = operator_browser.get("/staff/platform/").get_data(as_text=True)
    detail = operator_browser.get(
        f"/staff/platform/institutions/{institution.slug}").get_data(as_text=True)
    for shown in (page, detail):
        assert "Comuna Bălțați" in shown
        assert handler.email not in shown and "Ana Popescu" not in shown
        assert "Secret-marker-7781" not in shown
    assert re.search(r"<td>1</td><td>1</td>", page)  # one staff place, one case this year


def test_an_institution_admin_gets_403_on_every_platform_page(app, admin_browser, institution):
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/staff/platform")]
    assert len(rules) >= 6
    token = csrf_token(admin_browser, "/staff/password")
    for rule in rules:
        url = rule.rule.replace("<slug>", institution.slug)
        assert admin_browser.get(url).status_code in (403, 405), url
        if "POST" in rule.methods:
            response = admin_browser.post(url, data={"csrf_token": token,
                                                     "confirm_slug": institution.slug})
            assert response.status_code == 403, url
    db.session.expire_all()
    assert db.session.get(Institution, institution.id).suspended_at is None


def test_an_observer_is_no_operator(app, kdf_params):
    from app.services.staff import platform_accounts
    runner = app.test_cli_runner()
    result = runner.invoke(args=["platform", "add-observer", "obs@judet.example", "--name",
                                 "Ion Observator", "--scope", "county:Iași"],
                           input="a long observer password\n")
    assert result.exit_code == 0, result.output
    account = db.session.scalar(select(StaffAccount).where(
        StaffAccount.email == "obs@judet.example"))
    assert account.platform_role is PlatformRole.OBSERVER
    assert account.observer_scope == "county:Iași" and account.memberships == []
    bad = runner.invoke(args=["platform", "add-observer", "x@judet.example", "--name", "X",
                              "--scope", "judetul Iasi"], input="a long observer password\n")
    assert bad.exit_code == 1 and "county:" in bad.output
    taken = runner.invoke(args=["platform", "add-operator", "obs@judet.example", "--name",
                                "Y"], input="a long observer password\n")
    assert taken.exit_code == 1 and "obs@judet.example" in taken.output
    assert platform_accounts.validated_scope("ids:1, 2") == "ids:1,2"
    account.password = "a long observer password"
    browser = sign_in_client(app.test_client(), account)
    assert browser.get("/staff/platform/").status_code == 403


def test_a_platform_session_is_seen_only_unrestricted(app, operator, institution, kdf_params,
                                                      make_handler):
    """On PostgreSQL, a session without a place is invisible to an institution's scope; on
    SQLite the same calls run and the application's filter is the wall."""
    handler = make_handler()
    for who in (operator, handler):
        with unit_of_work():
            found, key = staff_auth.check_password(who.email, who.password, kdf_params)
            staff_auth.open_session(found, key)
    assert isinstance(found, type(handler))
    with db.engine.connect() as connection:
        everything = connection.execute(select(StaffSession.staff_id)).scalars().all()
    assert sorted(everything, key=lambda v: v or 0) == [None, handler.id]
    if db.engine.dialect.name == "postgresql":
        with rls.scoped({institution.id}), db.engine.connect() as connection:
            seen = connection.execute(select(StaffSession.staff_id)).scalars().all()
        assert seen == [handler.id]
        with rls.scoped(()), db.engine.connect() as connection:
            assert connection.execute(select(StaffSession.id)).scalars().all() == []
