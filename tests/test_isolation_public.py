"""The reporter's side of isolation: a receipt, a follow-up session, a paper form's code and
the public figures belong to one institution and work nowhere else.

- A receipt of A typed at B's follow-up gets exactly the answer of a receipt nobody issued.
- A's follow-up cookie, replayed under B's path, opens nothing and sends nothing.
- The same 16 digits issued by two institutions (each derives its receipts with its own salt,
  so nothing stops B drawing digits A drew): each opens its own case at its own path only.
- A paper form's code claimed at A: at B it opens nothing of A; typed again at A it is refused.
- Transparency and open data of A count A's cases only: B's numbers move, A's do not.
- On B's own host name, A's receipt and A's follow-up cookie are refused as well.
- A public plan document of B is not served under A's path, nor listed on A's plan page.
"""
import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment, Case, Channel, Message, Receipt
from app.services.indicators.periods import local_today
from app.services.intake import receipts
from app.services.operations.institutions import create_institution
from app.services.plan import data as plan_data
from app.services.plan import evidence as plan_evidence
from app.services.plan.loader import store_plan
from tests.conftest import RECEIPT_RE, report_fields
from tests.support.desk import Desk, utc
from tests.support.forms import CSRF_RE, csrf_token
from tests.support.staff import sign_in_client
from tests.support.tenants import add_member, follow_up_login, new_mark, post_report, rows_of
from tests.test_row_level_security import declared_policies

FOLLOWUP_COOKIE = "avertizor_followup"


@pytest.fixture
def pair(app, kdf_params):
    a, _ = create_institution("Comuna Alfa")
    b, _ = create_institution("Comuna Beta")
    db.session.commit()
    handlers = {institution.slug: add_member(institution, "key_handler", new_mark("pq"),
                                             kdf_params) for institution in (a, b)}
    return a, b, handlers


def normalised(response) -> str:
    """The page without what differs from one response to the next by design."""
    page = response.get_data(as_text=True)
    page = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", page)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', page)


def case_page(client, prefix: str) -> str:
    response = client.get(f"{prefix}/follow-up/case")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_receipt_of_a_at_bs_follow_up_is_just_a_wrong_receipt(app, pair):
    a, b, _ = pair
    receipt = post_report(app.test_client(), f"/{a.slug}", what_happened="Alfa report text")
    foreign = follow_up_login(app.test_client(), f"/{b.slug}", receipt)
    wrong = follow_up_login(app.test_client(), f"/{b.slug}",
                            "".join(reversed(receipt[1:])) + receipt[0])
    assert foreign.status_code == wrong.status_code == 400
    assert normalised(foreign) == normalised(wrong)
    assert FOLLOWUP_COOKIE not in foreign.headers.get("Set-Cookie", "")
    assert "Alfa report text" not in foreign.get_data(as_text=True)
    # The control: at its own institution it opens.
    own = app.test_client()
    assert follow_up_login(own, f"/{a.slug}", receipt).status_code == 302
    assert "Alfa report text" in case_page(own, f"/{a.slug}")


def test_as_follow_up_cookie_replayed_under_bs_path_opens_and_sends_nothing(app, pair):
    a, b, _ = pair
    receipt = post_report(app.test_client(), f"/{a.slug}", what_happened="Alfa report text")
    post_report(app.test_client(), f"/{b.slug}", what_happened="Beta report text")
    own = app.test_client()
    assert follow_up_login(own, f"/{a.slug}", receipt).status_code == 302
    cookie = own.get_cookie(FOLLOWUP_COOKIE, path=f"/{a.slug}/follow-up")
    assert cookie is not None
    assert own.get_cookie(FOLLOWUP_COOKIE, path=f"/{b.slug}/follow-up") is None
    token = csrf_token(own, f"/{a.slug}/follow-up/case")

    replay = app.test_client()
    replay.set_cookie(FOLLOWUP_COOKIE, cookie.value, path=f"/{b.slug}/follow-up")
    messages = db.session.scalar(select(func.count(Message.id)))
    by_institution, by_parent = declared_policies()
    tables = by_institution | set(by_parent)
    before = {i.id: rows_of(i.id, tables, by_parent) for i in (a, b)}
    attempts = [("GET", f"/{b.slug}/follow-up/case", None)] + [
        ("POST", f"/{b.slug}/follow-up/{path}", data) for path, data in (
            ("message", {"body": "sent with a cookie of another institution"}),
            ("meeting", {"days": "Monday morning", "way": "in_person"}),
            ("minutes/sign", {}), ("logout", {}))]
    for method, url, data in attempts:
        if method == "GET":
            response = replay.get(url)
        else:
            response = replay.post(url, data={
                **data, "csrf_token": csrf_token(replay, f"/{b.slug}/follow-up")})
        page = response.get_data(as_text=True)
        assert response.status_code in (302, 400, 401), (url, response.status_code)
        if response.status_code == 302:  # only the sign-out may answer so, to the login page
            assert url.endswith("/logout"), url
        assert "Alfa report text" not in page and "Beta report text" not in page
    assert db.session.scalar(select(func.count(Message.id))) == messages
    after = {i.id: rows_of(i.id, tables, by_parent) for i in (a, b)}
    assert after[b.id] == before[b.id]
    changed = [t for t in before[a.id] if before[a.id][t] != after[a.id][t]]
    assert changed == [], changed  # not even A's session was touched from B's pages
    # The same session still works where it belongs, sent the same way.
    control = app.test_client()
    control.set_cookie(FOLLOWUP_COOKIE, cookie.value, path=f"/{a.slug}/follow-up")
    assert "Alfa report text" in case_page(control, f"/{a.slug}")
    assert "Alfa report text" in case_page(own, f"/{a.slug}")
    assert own.post(f"/{a.slug}/follow-up/message", data={
        "body": "one more detail", "csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count(Message.id))) == messages + 1


def test_the_same_16_digits_issued_by_two_institutions_open_each_its_own(app, pair,
                                                                         monkeypatch):
    a, b, _ = pair
    receipt = post_report(app.test_client(), f"/{a.slug}", what_happened="Alfa report text")
    # B draws the very digits A drew: the receipt service's own path, with its draw fixed.
    monkeypatch.setattr(receipts, "new_receipt", lambda: receipt)
    assert post_report(app.test_client(), f"/{b.slug}",
                       what_happened="Beta report text") == receipt
    monkeypatch.undo()
    rows = db.session.scalars(select(Receipt)).all()
    assert {row.institution_id for row in rows} == {a.id, b.id}
    assert len({row.lookup_id for row in rows}) == 2  # each institution's salt, its own id

    for mine, theirs, text, other_text in ((a, b, "Alfa report text", "Beta report text"),
                                           (b, a, "Beta report text", "Alfa report text")):
        browser = app.test_client()
        assert follow_up_login(browser, f"/{mine.slug}", receipt).status_code == 302
        page = case_page(browser, f"/{mine.slug}")
        assert text in page and other_text not in page
        # The session opened at one institution is nothing at the other.
        assert browser.get(f"/{theirs.slug}/follow-up/case").status_code == 401


def intake_paper_report(browser, code: str, text: str):
    token = csrf_token(browser, "/staff/intake")
    return browser.post("/staff/intake", content_type="multipart/form-data", data={
        "csrf_token": token, "channel": "post", "received_on": date.today().isoformat(),
        "category": "other", "what_happened": text, "anonymous": "y", "issue_receipt": "",
        "form_code": code})


def test_a_paper_forms_code_claimed_at_a_opens_nothing_of_a_anywhere_else(app, pair):
    a, b, handlers = pair
    code = receipts.new_paper_code()
    staff_a = sign_in_client(app.test_client(), handlers[a.slug])
    staff_b = sign_in_client(app.test_client(), handlers[b.slug])
    assert intake_paper_report(staff_a, code, "Alfa paper report").status_code == 200
    case_a = db.session.scalar(select(Case).where(Case.institution_id == a.id))
    assert case_a is not None and case_a.channel == Channel.POST

    # The code opens A's case at A, and nothing at B.
    at_a = app.test_client()
    assert follow_up_login(at_a, f"/{a.slug}", code).status_code == 302
    assert "Alfa paper report" in case_page(at_a, f"/{a.slug}")
    at_b = app.test_client()
    assert follow_up_login(at_b, f"/{b.slug}", code).status_code == 400
    # Claimed once at A: A refuses it a second time (one form, one case).
    again = intake_paper_report(staff_a, code, "the same form again")
    assert again.status_code == 400 and "already in use" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Case.id)).where(Case.institution_id == a.id)) == 1

    # B's intake knows nothing of A's receipts (its staff see no other institution, and the
    # code is derived with B's own salt): a form carried from A to B and typed there becomes
    # B's own case, a second pair of the same digits that never reaches A's case.
    typed_at_b = intake_paper_report(staff_b, code, "Beta paper report")
    assert typed_at_b.status_code == 200
    assert "Alfa paper report" not in typed_at_b.get_data(as_text=True)
    for prefix, text, other in ((f"/{a.slug}", "Alfa paper report", "Beta paper report"),
                                (f"/{b.slug}", "Beta paper report", "Alfa paper report")):
        browser = app.test_client()
        assert follow_up_login(browser, prefix, code).status_code == 302
        page = case_page(browser, prefix)
        assert text in page and other not in page
    assert intake_paper_report(staff_b, code, "and again at B").status_code == 400


def open_data(client, institution, year: int) -> str:
    response = client.get(f"/{institution.slug}/transparency/{year}.csv")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def received(open_data_csv: str) -> int:
    """The file's total of reports received."""
    for row in csv.DictReader(io.StringIO(open_data_csv)):
        if row["indicator"] == "reports_received" and row["dimension"] == "total":
            return int(row["value"])
    raise AssertionError("no total of reports received")


def receive(desk: Desk, count: int, year: int) -> None:
    for n in range(count):
        desk.place(desk.receive(Channel.WEB), utc(year, 2, 1 + n % 27, 10))


def test_transparency_and_open_data_of_a_count_only_as_cases(app, client, pair, kdf_params):
    app.config["PUBLIC_STATS_CACHE_SECONDS"] = 0  # every request computes afresh
    a, b, handlers = pair
    year = date.today().year - 1
    receive(Desk(a, handlers[a.slug], kdf_params), 7, year)
    desk_b = Desk(b, handlers[b.slug], kdf_params)
    receive(desk_b, 11, year)

    page_a = client.get(f"/{a.slug}/transparency").get_data(as_text=True)
    csv_a, csv_b = open_data(client, a, year), open_data(client, b, year)
    assert (received(csv_a), received(csv_b)) == (7, 11)
    # A's coordinator's own export of the year (the back office's open-data file) too.
    coordinator = sign_in_client(app.test_client(), add_member(a, "coordinator", new_mark("sx"),
                                                                kdf_params))
    export_url = f"/staff/stats/export/csv?period=year&year={year}"
    staff_csv = coordinator.get(export_url)
    assert staff_csv.status_code == 200, staff_csv.status_code
    assert received(staff_csv.get_data(as_text=True)) == 7

    receive(desk_b, 9, year)  # B grows; A does not
    later_b = open_data(client, b, year)
    assert received(later_b) == 20
    assert open_data(client, a, year) == csv_a
    assert coordinator.get(export_url).get_data() == staff_csv.get_data()
    assert client.get(f"/{a.slug}/transparency").get_data(as_text=True) == page_a
    # A's metadata file too.
    meta = client.get(f"/{a.slug}/transparency/{year}-metadata.json")
    assert meta.status_code == 200 and b.name not in meta.get_data(as_text=True)


def test_a_public_plan_document_of_b_is_not_served_under_as_path(app, client, pair,
                                                                 kdf_params):
    a, b, _ = pair
    documents = {}
    for institution in (a, b):
        coordinator = add_member(institution, "coordinator", new_mark("pd"), kdf_params)
        plan = store_plan(institution, plan_data.shipped())
        db.session.flush()
        measure = plan.objectives[0].measures[0]
        body = f"{institution.slug} approved act ".encode() * 10
        documents[institution.slug] = (plan_evidence.add_evidence(
            coordinator, measure.id, local_today().year,
            [FileStorage(io.BytesIO(body), filename=f"{institution.slug}-act.txt")],
            public=True)[0].id, body)
        plan.published = True
        db.session.commit()
    for mine, theirs in ((a, b), (b, a)):
        own_id, own_body = documents[mine.slug]
        other_id, other_body = documents[theirs.slug]
        own = client.get(f"/{mine.slug}/plan/documents/{own_id}")
        assert own.status_code == 200 and own.data == own_body
        foreign = client.get(f"/{mine.slug}/plan/documents/{other_id}")
        assert foreign.status_code == 404 and other_body[:20] not in foreign.data
        page = client.get(f"/{mine.slug}/plan").get_data(as_text=True)
        assert f"{mine.slug}-act.txt" in page and f"{theirs.slug}-act.txt" not in page


def test_as_reporter_cannot_download_bs_evidence_by_its_id(app, pair):
    a, b, _ = pair
    body_a, body_b = b"alfa evidence bytes " * 8, b"beta evidence bytes " * 8
    receipt_a = post_report(app.test_client(), f"/{a.slug}",
                            files=[(io.BytesIO(body_a), "alfa.txt")])
    post_report(app.test_client(), f"/{b.slug}", files=[(io.BytesIO(body_b), "beta.txt")])
    files = dict(db.session.execute(select(Attachment.institution_id, Attachment.id)).all())
    reporter = app.test_client()
    assert follow_up_login(reporter, f"/{a.slug}", receipt_a).status_code == 302
    own = reporter.get(f"/{a.slug}/follow-up/files/{files[a.id]}")
    assert own.status_code == 200 and own.data == body_a
    for url in (f"/{a.slug}/follow-up/files/{files[b.id]}",
                f"/{b.slug}/follow-up/files/{files[b.id]}",
                f"/{b.slug}/follow-up/files/{files[a.id]}"):
        response = reporter.get(url)
        assert response.status_code in (401, 403, 404), (url, response.status_code)
        assert body_b[:20] not in response.data and body_a[:20] not in response.data


def host_token(client, base: str, path: str) -> str:
    return CSRF_RE.search(client.get(path, base_url=base).get_data(as_text=True)).group(1)


def test_on_bs_own_host_a_receipt_and_a_cookie_of_a_are_refused(app, pair):
    a, b, _ = pair
    b.host = "canal.beta.example"
    db.session.commit()
    base = f"http://{b.host}"
    receipt_a = post_report(app.test_client(), f"/{a.slug}", what_happened="Alfa report text")
    browser = app.test_client()
    data = {**report_fields(what_happened="Beta report text"),
            "csrf_token": host_token(browser, base, "/report")}
    made = browser.post("/report", base_url=base, data=data,
                        content_type="multipart/form-data")
    assert made.status_code == 200
    receipt_b = RECEIPT_RE.search(made.get_data(as_text=True)).group(1).replace(" ", "")
    assert db.session.scalar(select(Case.institution_id).order_by(Case.id.desc())) == b.id

    def login(client, receipt):
        return client.post("/follow-up", base_url=base, data={
            "receipt": receipt, "csrf_token": host_token(client, base, "/follow-up")})

    stranger = app.test_client()
    assert login(stranger, receipt_a).status_code == 400
    own = app.test_client()
    assert login(own, receipt_b).status_code == 302
    page = own.get("/follow-up/case", base_url=base).get_data(as_text=True)
    assert "Beta report text" in page and "Alfa report text" not in page
    # A's session cookie, sent to B's host: nothing.
    at_a = app.test_client()
    assert follow_up_login(at_a, f"/{a.slug}", receipt_a).status_code == 302
    cookie = at_a.get_cookie(FOLLOWUP_COOKIE, path=f"/{a.slug}/follow-up")
    replay = app.test_client()
    replay.set_cookie(FOLLOWUP_COOKIE, cookie.value, domain=b.host, path="/follow-up")
    assert replay.get("/follow-up/case", base_url=base).status_code == 401
    # The control: B's own cookie, set the same way, does open B's case there.
    own_cookie = own.get_cookie(FOLLOWUP_COOKIE, domain=b.host, path="/follow-up")
    assert own_cookie is not None
    control = app.test_client()
    control.set_cookie(FOLLOWUP_COOKIE, own_cookie.value, domain=b.host, path="/follow-up")
    assert "Beta report text" in control.get("/follow-up/case", base_url=base).get_data(
        as_text=True)
