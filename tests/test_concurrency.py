"""Many reporters at once, through real gunicorn workers and real HTTP clients.

The database is the one from TEST_DATABASE_URL (an SQLite file by default, PostgreSQL in CI).
Every client is released by the same barrier, so the submissions race for the reference
counter and the database; afterwards every case must exist once, carry its own number from an
unbroken sequence, and open with its receipt (over HTTP), with each eligible handler's key and
with the recovery code, but never for the handler its reporter excluded.
"""
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from app.crypto import envelope
from app.crypto.keys import private_key_from_recovery_code
from app.extensions import db
from app.models import Attachment, Case, KeyKind, KeyWrap, OutboxMail, Receipt, StaffMember
from app.services.access import keys as access
from app.services.errors import NotAuthorised
from app.services.staff import members as staff_service
from tests.conftest import RECEIPT_RE, report_fields
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server
from tests.support.server_log import assert_no_server_errors, drain

CLIENTS = 24
WORKERS = 4
HTTP_TIMEOUT = 30  # seconds, per request
REFERENCE_RE = re.compile(r"\b(SES-(\d{4})-(\d{4,}))\b")
EXPECTED_REFERENCE = re.compile(r"^SES-(\d{4})-(\d{4})$")


# --- one reporter ------------------------------------------------------------------------------

@dataclass
class Reporter:
    number: int
    text: str
    excluded_id: int | None
    file: tuple[str, bytes] | None
    status: int | None = None
    receipt: str | None = None
    reference: str | None = None
    followup_page: str = ""
    errors: list[str] = field(default_factory=list)


def run_reporter(base_url: str, reporter: Reporter, barrier: threading.Barrier) -> None:
    browser = HttpClient(base_url, language=None, timeout=HTTP_TIMEOUT)
    try:
        fields = report_fields(what_happened=reporter.text,
                               csrf_token=browser.csrf_token("/report"))
        if reporter.excluded_id is not None:
            fields["excluded"] = str(reporter.excluded_id)
        assert any(cookie.name == "avertizor" for cookie in browser.jar), "no session cookie"
        files = [("evidence", *reporter.file)] if reporter.file else []
        barrier.wait()  # every client holds a form and a session: submit all at once
        reply = browser.post_form("/report", fields, files)
        reporter.status, page = reply.status, reply.body
        receipt = RECEIPT_RE.search(page)
        reference = REFERENCE_RE.search(page)
        if reporter.status != 200 or not receipt or not reference:
            reporter.errors.append(f"POST /report: {reporter.status}: {gist(page)}")
            return
        reporter.receipt = receipt.group(1).replace(" ", "")
        reporter.reference = reference.group(1)

        # Back with the receipt, over HTTP, while other submissions may still be running.
        token = browser.csrf_token("/follow-up")
        reply = browser.post_urlencoded(
            "/follow-up", {"receipt": receipt.group(1), "csrf_token": token})
        status, url, page = reply.status, reply.url, reply.body
        if status != 200 or not url.endswith("/follow-up/case"):
            reporter.errors.append(f"follow-up login: {status} at {url}: {gist(page)}")
            return
        reply = browser.get("/follow-up/case")
        status, reporter.followup_page = reply.status, reply.body
        if status != 200:
            reporter.errors.append(f"GET /follow-up/case: {status}")
    except threading.BrokenBarrierError:
        reporter.errors.append("the barrier broke (another client failed before submitting)")
    except Exception as error:  # noqa: BLE001 (reported with the assertions below)
        barrier.abort()
        reporter.errors.append(f"{type(error).__name__}: {error}")


def gist(page: str) -> str:
    """The visible text of an error page, briefly."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())[:160]


# --- the test ----------------------------------------------------------------------------------

@pytest.mark.server
def test_concurrent_submissions_through_gunicorn(app, institution, make_handler, upload_folder):
    ana = make_handler(name="Ana Popescu")
    radu = make_handler(name="Radu Ionescu")
    handlers = {ana.id: ana.password, radu.id: radu.password}
    emails = {ana.id: ana.email, radu.id: radu.email}
    radu_id, recovery_code, year_now = radu.id, institution.recovery_code, None
    db.session.commit()
    db.session.remove()  # hold no connection or lock while the workers write

    reporters = [
        Reporter(
            number=i,
            text=f"Concurrent report {i} marker {secrets.token_hex(8)}",
            excluded_id=radu_id if i % 3 == 0 else None,
            file=(f"dovada-{i}.txt", f"evidence {i} ".encode() * 64) if i % 2 == 0 else None)
        for i in range(CLIENTS)
    ]
    barrier = threading.Barrier(CLIENTS, timeout=HTTP_TIMEOUT)
    log: list[str] = []
    with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], upload_folder,
                         workers=WORKERS) as (base_url, process):
        threading.Thread(target=drain, args=(process.stdout, log), daemon=True).start()
        threads = [threading.Thread(target=run_reporter, args=(base_url, r, barrier))
                   for r in reporters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=3 * HTTP_TIMEOUT)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
        year_now = time.gmtime().tm_year

    failures = [(r.number, r.errors) for r in reporters if r.errors]
    assert not failures, f"{failures}\n--- gunicorn log ---\n{''.join(log[-80:])}"
    assert_no_server_errors([line.rstrip("\n") for line in log])

    # Every client got a receipt and exactly one case exists per success.
    successes = [r for r in reporters if r.receipt]
    assert len(successes) == CLIENTS
    assert len({r.receipt for r in successes}) == CLIENTS
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    assert len(cases) == len(successes)
    assert db.session.scalar(select(func.count(Receipt.id))) == len(successes)
    assert db.session.scalar(select(func.count(Attachment.id))) == sum(
        1 for r in reporters if r.file)

    # References: unique, one year, contiguous from 0001 — as the receipt pages showed them.
    references = [case.reference for case in cases]
    assert len(set(references)) == len(references)
    parsed = [EXPECTED_REFERENCE.match(reference) for reference in references]
    assert all(parsed), references
    years = {int(match.group(1)) for match in parsed}
    assert len(years) == 1 and years <= {year_now, year_now - 1}, years  # (New Year's Eve)
    year = years.pop()
    assert sorted(references) == [f"SES-{year}-{n:04d}" for n in range(1, CLIENTS + 1)]
    assert {r.reference for r in successes} == set(references)

    # (a) The receipt opened the right case over HTTP: its reference, text and file.
    for r in successes:
        assert r.reference in r.followup_page
        assert r.text in r.followup_page
        assert all(other.text not in r.followup_page for other in successes if other is not r)
        if r.file:
            assert r.file[0] in r.followup_page

    # The "new report" mail goes to each eligible handler once, never to the excluded one.
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.kind == "new_report")).all()
    for r in successes:
        told = sorted(m.recipient for m in mails if r.reference in m.subject)
        assert told == sorted(email for member_id, email in emails.items()
                              if member_id != r.excluded_id), r.reference

    # (b) Each eligible handler opens each case with their own password; the excluded one
    # holds no wrap at all; the recovery code opens every case.
    by_reference = {r.reference: r for r in successes}
    members = {m.id: m for m in db.session.scalars(select(StaffMember).where(
        StaffMember.id.in_(handlers)))}
    private_keys = {member_id: staff_service.unlock_private_key(members[member_id], password)
                    for member_id, password in handlers.items()}
    assert all(private_keys.values())
    recovery_key = private_key_from_recovery_code(recovery_code)
    for case in cases:
        reporter = by_reference[case.reference]
        wraps = db.session.scalars(select(KeyWrap).where(KeyWrap.case_id == case.id)).all()
        holders = sorted((wrap.staff_id or 0) for wrap in wraps if wrap.kind == KeyKind.CASE)
        eligible = {member_id for member_id in handlers if member_id != reporter.excluded_id}
        assert holders == sorted(eligible | {0})  # one wrap each, 0: the recovery key
        if reporter.excluded_id is not None:
            assert all(wrap.staff_id != reporter.excluded_id for wrap in wraps)
            with pytest.raises(NotAuthorised):
                access.open_case_key(case, members[reporter.excluded_id],
                                     private_keys[reporter.excluded_id])
        keys = [access.open_case_key(case, members[member_id], private_keys[member_id])
                for member_id in eligible]
        keys.append(access.open_case_key_with_recovery(case, recovery_key))
        for key in keys:
            content = envelope.open_report(key, case.uuid, case.content)
            assert content["what_happened"] == reporter.text
            assert content["excluded_staff_ids"] == (
                [reporter.excluded_id] if reporter.excluded_id is not None else [])
