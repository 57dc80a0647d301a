"""Raising the Argon2id defaults breaks nothing already stored: a receipt issued and a password
set under the former production parameters (65536 KiB, t = 2) still open after the deployment
moves to the current ones (config.py's production default), and new secrets carry the new
parameter string. Real Argon2id at both settings (about a second in all)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Receipt, Role, StaffAccount
from app.services.kdf import kdf_params
from app.services.staff import members as staff_service
from config import Config
from tests.support.forms import csrf_token

FORMER = {"KDF_MEMORY_KIB": 65536, "KDF_ITERATIONS": 2, "KDF_LANES": 1}
CURRENT = {"KDF_MEMORY_KIB": Config.KDF_MEMORY_KIB, "KDF_ITERATIONS": Config.KDF_ITERATIONS,
           "KDF_LANES": Config.KDF_LANES}
FORMER_TEXT = "argon2id$m=65536,t=2,p=1"
CURRENT_TEXT = (f"argon2id$m={Config.KDF_MEMORY_KIB},t={Config.KDF_ITERATIONS},"
                f"p={Config.KDF_LANES}")


def case_page(client, receipt: str) -> str:
    token = csrf_token(client, "/follow-up")
    login = client.post("/follow-up", data={"receipt": receipt, "csrf_token": token})
    assert login.status_code == 302 and login.headers["Location"].endswith("/follow-up/case")
    return client.get("/follow-up/case").get_data(as_text=True)


@pytest.mark.parametrize("app_config", [FORMER], indirect=True)
def test_secrets_made_with_former_defaults_open_after_the_raise(app, client, submit, make_handler,
                                                                institution, sign_in):
    assert CURRENT_TEXT != FORMER_TEXT, "the production default was raised"
    handler = make_handler("Ana Popescu")
    _, old_receipt = submit(what_happened="Paid twice for one permit, former parameters.")
    assert old_receipt
    assert db.session.scalar(select(StaffAccount.password_kdf).where(
        StaffAccount.id == handler.account_id)) == FORMER_TEXT

    app.config.update(CURRENT)  # the deployment restarts with the raised defaults
    _, new_receipt = submit(what_happened="A second report, under the raised parameters.")
    assert new_receipt
    stored = {row.kdf_params for row in db.session.scalars(select(Receipt))}
    assert stored == {FORMER_TEXT, CURRENT_TEXT}

    # Both receipts log in and show their own case.
    assert "former parameters" in case_page(app.test_client(), old_receipt)
    assert "raised parameters" in case_page(app.test_client(), new_receipt)
    # A wrong receipt is still refused (one derivation per stored parameter set).
    wrong = "1" * 16 if old_receipt != "1" * 16 else "2" * 16
    refused = app.test_client()
    response = refused.post("/follow-up", data={"receipt": wrong,
                                                "csrf_token": csrf_token(refused, "/follow-up")})
    assert response.status_code == 400  # the form again, with its message

    # The handler's password, set under the former parameters, still unlocks their key: the
    # inbox lists both reports and the older case opens (decrypted with that key).
    staff = sign_in(handler)
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert inbox.count('href="/staff/cases/') >= 2
    first = db.session.scalar(select(Receipt.case_id).where(Receipt.kdf_params == FORMER_TEXT))
    assert "former parameters" in staff.get(f"/staff/cases/{first}").get_data(as_text=True)
    # A new staff member gets the raised parameters.
    radu = staff_service.add_staff(institution, email="radu@baltati.example", name="Radu Ionescu",
                                   roles=[Role.HANDLER], password="a new password 2026",
                                   kdf_params=kdf_params())
    assert radu.account.password_kdf == CURRENT_TEXT
