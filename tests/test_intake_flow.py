"""A reporter submits, comes back with the receipt, reads and answers."""
import io

from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Case, KeyWrap, Message, Receipt
from tests.conftest import csrf_token


def test_anonymous_report_with_file_then_follow_up(client, submit, follow_up, make_handler):
    make_handler()
    response, receipt = submit(files=[(io.BytesIO(b"%PDF-1.4 invoice"), "factura.pdf")],
                               what_happened="Mita la urbanism", when_where="Primărie, martie")
    assert response.status_code == 200
    assert receipt and len(receipt) == 16
    case = db.session.scalar(select(Case))
    assert case.reference.startswith("SES-") and case.anonymous and case.identity is None
    assert db.session.scalar(select(func.count(Attachment.id))) == 1

    login = follow_up(receipt)
    assert login.status_code == 302 and login.headers["Location"].endswith("/follow-up/case")
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert case.reference in page and "Mita la urbanism" in page and "factura.pdf" in page

    token = csrf_token(client, "/follow-up/case")
    sent = client.post("/follow-up/message", data={
        "body": "Am încă o dovadă", "csrf_token": token,
        "evidence": [(io.BytesIO(b"more"), "nota.txt")]}, content_type="multipart/form-data")
    assert sent.status_code == 302
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert "Am încă o dovadă" in page and "nota.txt" in page
    assert db.session.scalar(select(func.count(Message.id))) == 1


def test_receipt_is_never_stored(client, submit, make_handler):
    make_handler()
    _, receipt = submit()
    for table in (Case, Receipt, KeyWrap):
        for row in db.session.scalars(select(table)):
            for column in table.__table__.columns:
                value = getattr(row, column.key)
                if isinstance(value, (str, bytes)):
                    raw = value if isinstance(value, bytes) else value.encode()
                    assert receipt.encode() not in raw
