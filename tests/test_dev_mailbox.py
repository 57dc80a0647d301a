"""`make run` delivers mail: in development the outbox is written, right after the request that
queued it, to instance/mail/ (one .eml per message, 0600), through real gunicorn workers; and
nothing secret stays in the database."""
import email
import email.policy
import os
import stat
import threading
import time
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMail
from tests.conftest import RECEIPT_RE, report_fields
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server
from tests.support.server_log import drain


def submit_report(base_url: str, results: list, barrier: threading.Barrier) -> None:
    browser = HttpClient(base_url, language=None, timeout=30)
    fields = report_fields()
    fields["csrf_token"] = browser.csrf_token("/report")
    barrier.wait()
    reply = browser.post_form("/report", fields)
    results.append((reply.status, bool(RECEIPT_RE.search(reply.body))))


def wait_for_files(folder: Path, count: int, timeout: float = 20) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.eml")) if folder.exists() else []
        if len(files) >= count:
            return files
        time.sleep(0.2)
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_development_mail_lands_in_the_instance_mailbox_once(
        app, institution, make_handler, upload_folder, tmp_path):
    handler_email = make_handler("Ana Popescu").email
    db.session.commit()
    db.session.remove()
    mailbox = tmp_path / "mail"
    log: list[str] = []
    results: list = []
    barrier = threading.Barrier(3, timeout=30)
    with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], upload_folder, workers=2,
                         environment="development",
                         extra_env={"MAIL_FOLDER": str(mailbox), "KDF_MEMORY_KIB": "1024",
                                    "KDF_ITERATIONS": "1"}) as (base_url, process):
        threading.Thread(target=drain, args=(process.stdout, log), daemon=True).start()
        threads = [threading.Thread(target=submit_report, args=(base_url, results, barrier))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        files = wait_for_files(mailbox, 3)
        time.sleep(1.5)  # a duplicate would show up by now
        files = sorted(mailbox.glob("*.eml"))
    assert results == [(200, True)] * 3, "".join(log[-40:])
    assert len(files) == 3, (files, "".join(log[-40:]))
    assert stat.S_IMODE(os.stat(mailbox).st_mode) == 0o700
    subjects = set()
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["To"] == handler_email
        subjects.add(message["Subject"])
    assert len(subjects) == 3  # three reports, one mail each, none twice
    assert sum("mail written to" in line for line in log) == 3
    rows = db.session.scalars(select(OutboxMail)).all()
    assert len(rows) == 3 and all(row.sent_at and row.recipient == "" for row in rows)
