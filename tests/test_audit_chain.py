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
    assert result.output.splitlines()[0] == f"audit chain intact: {audited} entries"


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
    from app.services.audit import chain as audit

    audit.record("test_entry", institution_id=entry_at(1).institution_id, detail={"n": 1})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 0 and f"{audited + 1} entries" in result.output


# --- anchored outside the database ---------------------------------------------------------------

def verify_head(app, *heads):
    args = ["audit", "verify"]
    for head in heads:
        args += ["--head", head]
    return app.test_cli_runner().invoke(args=args)


def noted_head() -> tuple[str, str]:
    from app.services.audit import chain as audit

    head = db.session.scalar(select(AuditHead))
    return audit.short_head(head.head_hash), head.head_hash.hex()


def test_cutting_the_last_entries_and_rewinding_the_head_is_found_with_a_noted_head(
        app, audited):
    """The attack: delete the newest entries (say, an identity reveal) and set the head back to
    the last remaining entry, so that the chain alone verifies. A head noted before (from the
    audit page or the daily mail) is then missing from the chain."""
    short, full = noted_head()
    assert verify_head(app, short).exit_code == 0
    assert verify_head(app, full).exit_code == 0
    for seq in (audited, audited - 1):
        delete_entry(seq)
    remaining = entry_at(audited - 2)
    db.session.execute(update(AuditHead).values(length=audited - 2,
                                                head_hash=remaining.entry_hash))
    db.session.commit()
    assert verify(app).exit_code == 0  # the cut itself is invisible without an anchor
    for value in (short, full):
        result = verify_head(app, value)
        assert result.exit_code == 1, result.output
        assert "not in the chain" in result.output and "intact" not in result.output


def test_an_older_noted_head_still_verifies_as_the_chain_grows(app, audited):
    short, _ = noted_head()
    from app.services.audit import chain as audit

    audit.record("test_entry", institution_id=entry_at(1).institution_id, detail={"n": 1})
    db.session.commit()
    result = verify_head(app, short)
    assert result.exit_code == 0, result.output
    assert verify_head(app, "0000-0000-0000-0001").exit_code == 1
    assert verify_head(app, "not a head").exit_code == 1


def test_a_chain_recomputed_without_the_configuration_does_not_authenticate(app, audited):
    """Whoever holds only the database rewrites an entry and recomputes every hash after it
    (and the head): the hashes agree, the MACs, keyed from SECRET_KEY, do not."""
    from app.services.audit import chain as audit

    target = audited // 2
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == target)
                       .values(detail='{"note": "nothing happened here"}'))
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    running = audit.GENESIS
    for entry in entries:
        entry.prev_hash = running
        entry.entry_hash = audit.entry_hash(running, entry)
        running = entry.entry_hash
    db.session.execute(update(AuditHead).values(head_hash=running))
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"entry {target}: entry does not authenticate" in result.output


def test_the_admin_audit_page_shows_the_head_to_note(app, audited, make_handler, sign_in):
    browser = sign_in(make_handler("Ioana Admin", roles=(Role.ADMIN,)))
    page = browser.get("/staff/admin/audit").get_data(as_text=True)
    db.session.expire_all()
    short, full = noted_head()  # after the sign-in's own entries
    assert f'id="audit-head-short">{short}<' in page and f'id="audit-head-full">{full}<' in page


def test_jobs_run_mails_the_head_to_each_admin_once_a_day(app, audited, make_handler):
    from datetime import timedelta

    from app.models import OutboxMail
    from app.models.types import utcnow
    from app.services.operations import jobs

    second = make_handler("Ioana Admin", roles=(Role.ADMIN,))
    now = utcnow()
    jobs.run_all(now=now)
    jobs.run_all(now=now + timedelta(minutes=5))
    short, full = noted_head()
    heads = db.session.scalars(select(OutboxMail).where(OutboxMail.kind == "audit_head")).all()
    admins = {row.dedupe_key.split(":")[2] for row in heads}  # (delivered: address erased)
    assert len(heads) == 2 and str(second.id) in admins and len(admins) == 2
    for row in heads:
        assert short in row.body and full in row.body
        assert "flask audit verify --head" in row.body
    jobs.run_all(now=now + timedelta(days=1))
    assert len(db.session.scalars(select(OutboxMail).where(
        OutboxMail.kind == "audit_head")).all()) == 4
