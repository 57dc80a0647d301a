"""One deployment, several institutions: public pages under each one's path, the portal home
that finds them, and one designated person serving two communes with one account."""
import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, KeyKind, KeyWrap, Role, StaffMember
from app.services.operations.institutions import create_institution
from app.services.staff import members as staff_service
from tests.conftest import RECEIPT_RE, report_fields
from tests.support.forms import csrf_token
from tests.support.staff import sign_in_client


@pytest.fixture
def neighbour(app, institution):
    """A second commune on the same portal (the first is `institution`, Bălțați)."""
    other, code = create_institution("Comuna Sinești")
    other.county, institution.county = "Iași", "Iași"
    other.phone, other.address = "0232 720 202", "Str. Școlii nr. 2, Sinești"
    db.session.commit()
    other.recovery_code = code
    return other


@pytest.fixture
def shared_handler(institution, neighbour, kdf_params):
    """One account, a handler in both communes (Law 361/2022: a shared designated person)."""
    password = secrets.token_urlsafe(16)
    member = staff_service.add_staff(institution, email="comun@iasi.example", name="Dana Comun",
                                     roles=[Role.HANDLER], password=password,
                                     kdf_params=kdf_params)
    staff_service.add_membership(member.account, neighbour, [Role.HANDLER])
    db.session.commit()
    member.password = password
    return member


def _report(client, prefix: str, **overrides) -> str:
    data = report_fields(**overrides)
    data["csrf_token"] = csrf_token(client, f"{prefix}/report")
    response = client.post(f"{prefix}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return RECEIPT_RE.search(response.get_data(as_text=True)).group(1).replace(" ", "")


def _follow_up(client, prefix: str, receipt: str):
    return client.post(f"{prefix}/follow-up", data={
        "receipt": receipt, "csrf_token": csrf_token(client, f"{prefix}/follow-up")})


def test_each_institution_has_its_pages_under_its_path_and_the_portal_finds_them(
        app, client, institution, neighbour):
    home = client.get("/")
    page = home.get_data(as_text=True)
    assert home.status_code == 200 and "Comuna Bălțați" in page and "Comuna Sinești" in page
    assert f'href="/{neighbour.slug}/"' in page
    found = client.get("/?q=sinesti").get_data(as_text=True)  # without the diacritics
    assert "Comuna Sinești" in found and "Comuna Bălțați" not in found
    by_county = client.get("/?county=Iași").get_data(as_text=True)
    assert "Comuna Sinești" in by_county and "Comuna Bălțați" in by_county
    assert "No institution matches" in client.get("/?q=Timișoara").get_data(as_text=True)

    own = client.get(f"/{neighbour.slug}/").get_data(as_text=True)
    assert "Comuna Sinești" in own and "0232 720 202" in own  # its contacts, other channels
    assert f'href="/{neighbour.slug}/report"' in own  # its links stay under its path
    # Pages of one institution, reached without one on a shared portal, lead to the finder.
    assert client.get("/report").headers["Location"].endswith("/")
    assert client.get("/no-such-commune/report").status_code == 404
    # Staff pages have one address, whatever institution page linked to them.
    assert client.get(f"/{neighbour.slug}/staff/login").headers["Location"] == "/staff/login"
    # The portal's own files are served under any institution's prefix, without a detour.
    style = client.get(f"/{neighbour.slug}/static/css/public.css")
    assert style.status_code == 200 and b"brand" in style.data


def test_a_report_belongs_to_the_institution_whose_page_took_it(
        app, client, institution, neighbour, shared_handler):
    receipt = _report(client, f"/{neighbour.slug}")
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert case.institution_id == neighbour.id
    # Its receipt opens it on its own institution's pages only.
    assert _follow_up(app.test_client(), f"/{institution.slug}", receipt).status_code == 400
    other = app.test_client()
    assert _follow_up(other, f"/{neighbour.slug}", receipt).status_code == 302
    assert other.get(f"/{neighbour.slug}/follow-up/case").status_code == 200
    # The follow-up cookie is the institution's own: not sent to the other's pages, and
    # refused there even when sent.
    cookie = other.get_cookie("avertizor_followup", path=f"/{neighbour.slug}/follow-up")
    assert cookie is not None
    stranger = app.test_client()
    stranger.set_cookie("avertizor_followup", cookie.value, path=f"/{institution.slug}/follow-up")
    assert stranger.get(f"/{institution.slug}/follow-up/case").status_code == 401


def test_a_shared_designated_person_reads_both_communes_in_one_inbox(
        app, client, institution, neighbour, shared_handler):
    _report(client, f"/{institution.slug}", what_happened="La Bălțați s-a cerut șpagă.")
    _report(app.test_client(), f"/{neighbour.slug}", what_happened="La Sinești un contract.")
    places = db.session.scalars(select(StaffMember).where(
        StaffMember.account_id == shared_handler.account_id)).all()
    for case in db.session.scalars(select(Case)):
        # Each report is sealed to the person's place in the case's own institution.
        place = next(p for p in places if p.institution_id == case.institution_id)
        assert db.session.scalar(select(KeyWrap.id).where(
            KeyWrap.case_id == case.id, KeyWrap.staff_id == place.id,
            KeyWrap.kind == KeyKind.CASE)) is not None

    staff = sign_in_client(app.test_client(), shared_handler)
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert inbox.count("<tr>") == 3  # the header and one row per commune
    assert "Comuna Bălțați" in inbox and "Comuna Sinești" in inbox
    only_neighbour = staff.get(f"/staff/cases?institution={neighbour.id}").get_data(as_text=True)
    assert only_neighbour.count("<tr>") == 2
    neighbour_case = db.session.scalar(select(Case).where(Case.institution_id == neighbour.id))
    # Opening the other commune's case works in it: the page names it and shows the report.
    page = staff.get(f"/staff/cases/{neighbour_case.id}").get_data(as_text=True)
    assert "La Sinești un contract." in page
    assert f'<option value="{neighbour.id}" selected>Comuna Sinești' in page
    # Switching back by the header's form.
    token = csrf_token(staff, "/staff/password")
    assert staff.post("/staff/institution", data={
        "institution": institution.id, "csrf_token": token}).status_code == 302
    assert f'<option value="{institution.id}" selected>Comuna Bălțați' in staff.get(
        "/staff/cases").get_data(as_text=True)
    # An institution the person does not serve cannot be chosen.
    stranger, _ = create_institution("Comuna Străină")
    db.session.commit()
    assert staff.post("/staff/institution", data={
        "institution": stranger.id, "csrf_token": token}).status_code == 403


def test_excluding_a_person_on_one_institutions_form_concerns_only_that_institution(
        app, client, institution, neighbour, shared_handler, kdf_params):
    colleague = staff_service.add_staff(institution, email="alt@baltati.example", name="Alt",
                                        roles=[Role.HANDLER], password="o parolă lungă de tot",
                                        kdf_params=kdf_params)
    db.session.commit()
    _report(client, f"/{institution.slug}", excluded=[shared_handler.id])
    _report(app.test_client(), f"/{neighbour.slug}")
    baltati_case = db.session.scalar(select(Case).where(Case.institution_id == institution.id))
    neighbour_case = db.session.scalar(select(Case).where(Case.institution_id == neighbour.id))
    holders = {case.id: set(db.session.scalars(select(KeyWrap.staff_id).where(
        KeyWrap.case_id == case.id, KeyWrap.kind == KeyKind.CASE,
        KeyWrap.staff_id.is_not(None))))
        for case in (baltati_case, neighbour_case)}
    assert holders[baltati_case.id] == {colleague.id}
    neighbour_place = staff_service.member_at(shared_handler.account, neighbour.id)
    assert holders[neighbour_case.id] == {neighbour_place.id}
    # The other institution's form offers only its own staff.
    form = client.get(f"/{neighbour.slug}/report").get_data(as_text=True)
    assert "Alt" not in re.findall(r'name="excluded"[^>]*>\s*<label[^>]*>([^<]*)', form)


def test_the_shared_inbox_merges_the_institutions_in_deadline_order(
        app, client, institution, neighbour, shared_handler):
    from app.services.casework.inbox import PAGE_SIZE, InboxFilters, page_query
    for _ in range(3):
        _report(app.test_client(), f"/{institution.slug}")
        _report(app.test_client(), f"/{neighbour.slug}")
    cases = db.session.scalars(select(Case)).all()
    # Distinct deadlines, interleaved across the two communes, one without a deadline.
    for offset, case in enumerate(sorted(cases, key=lambda case: case.id)):
        case.next_deadline_at = (None if offset == 0 else
                                 case.received_at + timedelta(days=4 - offset % 4,
                                                              minutes=offset))
    db.session.commit()
    expected = [case.id for case in sorted(
        cases, key=lambda case: (case.next_deadline_at is None,
                                 case.next_deadline_at or case.received_at, case.id))]
    shown = [case.id for case in db.session.scalars(page_query(shared_handler, InboxFilters()))]
    assert shown == expected[:PAGE_SIZE] and len(shown) == 6
    only = [case.id for case in db.session.scalars(
        page_query(shared_handler, InboxFilters(institution_id=neighbour.id)))]
    assert only == [i for i in expected if db.session.get(Case, i).institution_id == neighbour.id]


def test_an_admin_inviting_a_person_of_another_institution_is_told_what_to_do(
        app, institution, neighbour, kdf_params):
    from app.services.staff import invitations
    other_admin = staff_service.add_staff(neighbour, email="admin@sinesti.example",
                                          name="Admin", roles=[Role.ADMIN],
                                          password="o parolă lungă de tot", kdf_params=kdf_params)
    staff_service.add_staff(institution, email="ana@baltati.example", name="Ana",
                            roles=[Role.HANDLER], password="o parolă lungă de tot",
                            kdf_params=kdf_params)
    db.session.commit()
    with pytest.raises(invitations.InvitationRefused) as refused:
        invitations.invite(other_admin, name="Ana", email="ana@baltati.example",
                           roles=[Role.HANDLER], public_url="http://127.0.0.1")
    assert "operatorului platformei" in str(refused.value.message)  # Romanian, the default
    db.session.rollback()


def test_static_files_ask_the_database_nothing(app, client, institution, neighbour):
    from sqlalchemy import event
    statements, slug = [], neighbour.slug

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/{slug}/static/css/public.css").status_code == 200
        assert client.get("/static/css/public.css").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []
