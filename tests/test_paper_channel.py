"""The paper channel: printed forms with their own receipt codes, typed back at manual intake,
then followed up online like a web receipt; and the receipt slip with its QR code."""
import io
import re

import pytest
import segno
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.labels import CATEGORY
from app.models import AuditEntry, Case, Channel, Receipt, Role
from app.public.forms import ReportForm
from app.services.errors import NotAuthorised
from app.services.intake import paper_forms, receipts
from tests.conftest import CSRF_RE, RECEIPT_RE
from tests.support.forms import intake
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server
from tests.support.server_log import assert_no_server_errors

CODE_RE = re.compile(r"Codul formularului: (\d{4} \d{4} \d{4} \d{4})")
KEPT_RE = re.compile(r"Codul dumneavoastră: (\d{4} \d{4} \d{4} \d{4})")


def pdf_pages(body: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def print_through_page(staff, count: int):
    token = CSRF_RE.search(staff.get("/staff/paper-forms").get_data(as_text=True)).group(1)
    return staff.post("/staff/paper-forms", data={"count": str(count), "csrf_token": token})


def codes_of(body: bytes) -> list[str]:
    """The code of each form, read back from the PDF: on both pages and on the kept strip."""
    pages = pdf_pages(body)
    codes = []
    for first, second in zip(pages[::2], pages[1::2], strict=True):
        [code] = CODE_RE.findall(first)
        assert CODE_RE.findall(second) == [code] and KEPT_RE.findall(second) == [code]
        codes.append(code.replace(" ", ""))
    return codes


@pytest.fixture
def handler_browser(make_handler, sign_in):
    handler = make_handler("Ana Popescu")
    return sign_in(handler)


def test_printed_forms_are_large_print_romanian_each_with_its_own_valid_code(
        handler_browser, institution):
    response = print_through_page(handler_browser, 3)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pages = pdf_pages(response.data)
    assert len(pages) == 6, "one sheet (two pages) per form"
    codes = codes_of(response.data)
    assert len(set(codes)) == 3
    assert all(receipts.normalise(code) == code and receipts.is_paper_code(code)
               for code in codes)
    text = " ".join("\n".join(pages).split())  # lines wrapped anywhere
    # Romanian with its diacritics (comma below), the institution, ANI, the follow-up address.
    for expected in ("Comuna Bălțați", "Agenția Națională de Integritate", "integritate.eu",
                     "/follow-up", "Păstrați", "în cel mult 7 zile", "Decupați"):
        assert expected in text, expected
    # The same questions as /report, as the Romanian web form words them.
    with force_locale("ro"):
        form = ReportForm(meta={"csrf": False})
        for question in (form.category, form.what_happened, form.when_where,
                         form.persons_involved, form.how_known, form.work_context,
                         form.identity_choice):
            assert str(question.label.text) in text, question.label.text
        for label in CATEGORY.values():
            assert str(label) in text
    # Nothing of the codes was kept: no receipt row, no audit line.
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.like("%paper%"))) == 0


def test_the_form_is_in_large_print_and_a_long_name_still_fits_one_sheet(app):
    from app.documents.paper_form import PaperForms, paper_forms_pdf

    with force_locale("ro"):
        categories = tuple(str(label) for label in CATEGORY.values())
    site = "https://avertizor.primaria-comunei-baltati.ro"
    body = paper_forms_pdf(PaperForms(
        institution="Unitatea Administrativ-Teritorială Comuna Bălțați, Județul Iași, Primăria "
                    "și aparatul de specialitate al primarului",
        followup_address=f"{site}/follow-up", privacy_address=f"{site}/privacy",
        external_channel="https://www.integritate.eu", categories=categories,
        codes=("1234 5678 9012 3452", "0000 0000 0000 0000")))
    assert len(PdfReader(io.BytesIO(body)).pages) == 4
    sizes = set()
    for page in PdfReader(io.BytesIO(body)).pages:
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: sizes.add(
            round(size * tm[0], 1)) if text.strip() else None)
    assert min(sizes) >= 12, sizes  # the footer and the cut-line note; the rest is larger
    body_sizes = sorted(sizes)
    assert 14 in body_sizes


def test_only_handlers_print_forms(app, institution, make_handler, sign_in):
    coordinator = make_handler("Ion Coordonator", roles=(Role.COORDINATOR,))
    with pytest.raises(NotAuthorised):
        paper_forms.print_forms(coordinator, institution, 2)
    assert sign_in(coordinator).get("/staff/paper-forms").status_code in (302, 403)


def test_the_number_of_forms_is_bounded(handler_browser):
    assert print_through_page(handler_browser, 0).status_code == 400
    too_many = print_through_page(handler_browser, paper_forms.MAX_FORMS + 1)
    assert too_many.status_code == 400
    assert "Print between 1 and" in too_many.get_data(as_text=True)


def test_a_form_code_typed_at_intake_opens_the_case_at_follow_up(
        handler_browser, client, follow_up):
    [code, other] = codes_of(print_through_page(handler_browser, 2).data)
    typed = " ".join(code[i:i + 4] for i in range(0, 16, 4))
    done = intake(handler_browser, form_code=typed)
    page = done.get_data(as_text=True)
    assert done.status_code == 200, page
    assert 'id="form-code-bound"' in page and not RECEIPT_RE.search(page), \
        "no new receipt is issued for a paper form"
    case = db.session.scalar(select(Case))
    assert case.channel is Channel.BOX

    assert follow_up(other).status_code == 400, "another form's code opens nothing"
    login = follow_up(code)
    assert login.status_code == 302 and login.headers["Location"].endswith("/follow-up/case")
    case_page = client.get("/follow-up/case").get_data(as_text=True)
    assert "Funcționarul a cerut bani" in case_page and case.reference in case_page


def test_a_code_already_used_or_mistyped_is_refused_and_nothing_is_saved(handler_browser):
    [code] = codes_of(print_through_page(handler_browser, 1).data)
    assert intake(handler_browser, form_code=code).status_code == 200
    cases_before = db.session.scalar(select(func.count()).select_from(Case))

    again = intake(handler_browser, form_code=code, what_happened="A doua sesizare.")
    assert again.status_code == 400
    assert "already in use for another report" in again.get_data(as_text=True)
    # Two neighbours swapped, or one digit changed where the swap would not show: Luhn misses
    # only the swap of 0 and 9 (and a swap of equal digits changes nothing).
    swap_shows = code[-1] != code[-2] and {code[-1], code[-2]} != {"0", "9"}
    mistyped = code[:-2] + code[-1] + code[-2] if swap_shows else \
        code[:-1] + str((int(code[-1]) + 1) % 10)
    wrong = intake(handler_browser, form_code=mistyped)
    assert wrong.status_code == 400
    assert "not the code of a paper form" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Case)) == cases_before
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1


def _qr_matrix_from_svg(svg: str) -> list[list[bool]]:
    """The dark modules drawn by segno's single path: `M x y` / `m dx dy` move, `h n` draws n
    modules along the row at y - 0.5 (coordinates in modules, border included)."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    size = int(re.search(r'width="(\d+)"', svg).group(1)) // 4  # scale 4
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                grid[int(y)][column] = True
            x += float(a)
    return grid


def _expected_matrix(text: str) -> list[list[bool]]:
    qr = segno.make(text, error="m")
    return [[bool(cell) for cell in row] for row in qr.matrix_iter(scale=1, border=2)]


def test_the_receipt_slip_s_qr_code_is_the_follow_up_address_not_the_receipt(
        app, submit, make_handler):
    make_handler()
    response, receipt = submit()
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and receipt
    address = app.config["PUBLIC_URL"] + "/follow-up"
    assert f'id="followup-address">{address}<' in page
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and "<script" not in svg and "href" not in svg
    drawn = _qr_matrix_from_svg(svg)
    assert drawn == _expected_matrix(address)
    assert drawn != _expected_matrix(receipt)
    assert drawn != _expected_matrix(receipts.display(receipt))
    assert receipt not in svg
    # The slip says what happens next and when, and that photo metadata was removed.
    assert "within 7 days" in page and "metadata of the photos" in page
    assert "Comuna Bălțați" in page
    assert "@media print" in app.test_client().get("/static/css/public.css").get_data(
        as_text=True)


def test_manual_intake_receipt_prints_as_a_slip(handler_browser, app):
    done = intake(handler_browser, channel="phone", transcript="Notă telefonică.")
    page = done.get_data(as_text=True)
    assert done.status_code == 200, page
    receipt = RECEIPT_RE.search(page).group(1).replace(" ", "")
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    assert _qr_matrix_from_svg(svg) == _expected_matrix(app.config["PUBLIC_URL"] + "/follow-up")
    assert receipt not in svg and "within 7 days" in page


@pytest.mark.server
def test_through_gunicorn_a_paper_form_code_opens_the_case(
        migrated_database, upload_folder, handler_browser):
    [code] = codes_of(print_through_page(handler_browser, 1).data)
    assert intake(handler_browser, form_code=code).status_code == 200
    reference = db.session.scalar(select(Case.reference))
    with gunicorn_server(migrated_database, upload_folder, workers=1) as (base_url, process):
        reporter = HttpClient(base_url)
        login = reporter.post_form("/follow-up", {
            "receipt": receipts.display(code), "csrf_token": reporter.csrf_token("/follow-up")})
        assert login.status == 200 and login.url.endswith("/follow-up/case"), login.body[:1000]
        assert "Funcționarul a cerut bani" in login.body and reference in login.body
        process.terminate()
        output = process.communicate(timeout=15)[0]
    assert_no_server_errors(output.splitlines())
    assert code not in output and receipts.display(code) not in output, "a receipt is never logged"


def test_the_same_code_recorded_at_the_same_moment_is_refused_with_the_message(
        handler_browser, monkeypatch):
    """Two desks typing one form's code at once: both pass the lookup before either commits;
    the unique lookup id refuses the second with the message (simulated by a lookup that
    misses, as it would inside that window)."""
    [code] = codes_of(print_through_page(handler_browser, 1).data)
    assert intake(handler_browser, form_code=code).status_code == 200
    monkeypatch.setattr(receipts, "find", lambda *args, **kwargs: None)
    second = intake(handler_browser, form_code=code)
    assert second.status_code == 400
    assert "already in use for another report" in second.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
