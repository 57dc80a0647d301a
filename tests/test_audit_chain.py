"""The audit log is hash-chained: `flask audit verify` passes on an untouched log and names the
first broken entry when one is edited, deleted, or re-hashed in the database."""
import pytest
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import AuditEntry, AuditHead, Case, Role
from tests.conftest import csrf_token


def post_form(client, url, page_url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page_url)})


@pytest.fixture
def audited(make_handler, sign_in, submit):
    """A log written by real actions: sign-ins, an invitation, a settings change, a report,
    a handler opening it. Returns the number of entries."""
    admin = make_handler("Maria Admin", roles=(Role.ADMIN,))
    handler = make_handler("Ana Popescu")
    submit()
    browser = sign_in(admin)
    post_form(browser, "/staff/admin/invite", "/staff/admin/invite",
              {"name": "Ion", "email": "ion@baltati.example", "roles": ["handler"]})
    post_form(browser, "/staff/admin/settings", "/staff/admin/settings", {
        "identity_policy": "direct", "retention_years": "6", "acknowledge_reminder_days": "2",
        "answer_reminder_days": "14", "mail_sender": "", "categories": ["bribery", "other"]})
    staff = sign_in(handler)
    case_id = db.session.scalar(select(Case.id))
    assert staff.get(f"/staff/cases/{case_id}").status_code == 200
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    assert count >= 7
    return count


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def entry_at(seq: int) -> AuditEntry:
    return db.session.scalar(select(AuditEntry).where(AuditEntry.seq == seq))


def test_an_untouched_chain_verifies(app, audited):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"audit chain intact: {audited} entries"


def test_an_empty_log_verifies(app):
    result = verify(app)
    assert result.exit_code == 0 and "audit chain intact: 0 entries" in result.output


def edit_detail(seq: int) -> None:
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == seq)
                       .values(detail='{"note": "nothing happened here"}'))


def delete_entry(seq: int) -> None:
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq == seq))


def change_hash(seq: int) -> None:
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == seq)
                       .values(entry_hash=bytes(32)))


def change_actor(seq: int) -> None:
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == seq)
                       .values(actor_staff_id=None))


@pytest.mark.parametrize(("tamper", "where", "reason"), [
    (edit_detail, "middle", "entry was altered"),
    (change_actor, "first", "entry was altered"),
    (delete_entry, "middle", "entry missing"),
    (delete_entry, "last", "entries missing at the end of the chain"),
    (change_hash, "middle", "entry was altered"),
    (change_hash, "last", "entry was altered"),
])
def test_tampering_is_found_and_the_entry_named(app, audited, tamper, where, reason):
    seq = {"first": 1, "middle": audited // 2, "last": audited}[where]
    tamper(seq)
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"entry {seq}: {reason}" in result.output
    assert "intact" not in result.output


def test_a_deleted_last_entry_is_found_even_with_the_head_rewound(app, audited):
    """Someone who deletes the newest entry and also fixes the head's length still leaves the
    head's hash pointing at the deleted entry."""
    delete_entry(audited)
    db.session.execute(update(AuditHead).values(length=audited - 1))
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1 and f"entry {audited}:" in result.output


def test_the_chain_continues_after_verification(app, audited, make_handler):
    assert verify(app).exit_code == 0
    make_handler("Radu Ionescu", roles=(Role.CUSTODIAN,))
    from app.services import audit

    audit.record("test_entry", institution_id=entry_at(1).institution_id, detail={"n": 1})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 0 and f"{audited + 1} entries" in result.output
