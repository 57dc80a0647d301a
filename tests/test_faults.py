"""Faults, as tests: parts of the system fail while reporters are sending, and nothing is lost,
nothing is half-written, and the person is told what to do in their language.

- PostgreSQL restarted during a burst of submissions through real gunicorn workers (PostgreSQL
  only: it restarts the local cluster with pg_ctlcluster);
- a gunicorn worker killed by SIGKILL while a slow client streams a large upload, and killed
  after it has written the encrypted files but before it commits (what cleans up then);
- the database failing at the COMMIT (no file may stay), just after it (the reporter must
  still get the receipt), and at the end of a page view (the page, not gunicorn's bare 500);
- the upload volume full: a real tiny tmpfs when the tests run as root, and ENOSPC raised at the
  OS boundary (the `open` the evidence service writes with) everywhere.

SMTP down then up is covered by tests/test_mail_jobs.py.

gunicorn runs the production configuration (AVERTIZOR_ENV=production), because that is the
error page a citizen gets: under TESTING, Flask would propagate the exception past the app's
error handler to gunicorn's bare page. Only the Argon2id cost and the rate limits are lowered.
"""
import builtins
import errno
import html
import http.client
import io
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import has_request_context, request
from flask_babel import force_locale, gettext
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from app.crypto import envelope
from app.extensions import db
from app.models import (
    Attachment,
    Case,
    CaseEvent,
    KeyKind,
    KeyWrap,
    Message,
    OutboxMail,
    Receipt,
    ReferenceCounter,
)
from app.services.intake import evidence as evidence_service
from app.services.intake import receipts
from app.services.operations import jobs
from app.services.transaction import stage_file
from tests.conftest import CSRF_RE, RECEIPT_RE, csrf_token, report_fields
from tests.support.http import HttpClient, multipart
from tests.support.server import gunicorn_server
from tests.support.server_log import assert_no_server_errors

HTTP_TIMEOUT = 30
REFERENCE_RE = re.compile(r"\b(SES-\d{4}-\d{4,})\b")
ACCESS_LINE = re.compile(r"^\[\d{2}/\w{3}/\d{4}:")  # gunicorn's access log (see deploy/)
NO_ROOM = ("The server has no room for your files right now. Nothing was saved; please try "
           "again later.")
TRY_AGAIN = "Nothing was saved. Please try again in a few minutes."
GUNICORN_500 = "<h1><p>Internal Server Error</p></h1>"  # gunicorn's own page: Flask raised
LEAKS = ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "File \"/")


# --- the server, its workers, and a small browser ----------------------------------------------

@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    log: list[str]

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def workers(self) -> set[int]:
        master = self.process.pid
        return {int(pid) for pid in
                Path(f"/proc/{master}/task/{master}/children").read_text().split()}

    def log_tail(self, lines: int = 60) -> str:
        return "".join(self.log[-lines:])

    def log_errors(self, lines: int = 40) -> str:
        """The log without the access lines: tracebacks, worker starts and deaths."""
        return "".join([line for line in self.log if not ACCESS_LINE.match(line)][-lines:])


@contextmanager
def production_server(app, upload_folder: str, workers: int, *, check_log: bool = True,
                      allowed: tuple[str, ...] = ()):
    """gunicorn with the production configuration on the test database; its log is drained
    by a thread (an unread pipe would stall the workers). Once the server has stopped, any
    5xx or traceback in its log fails the test (check_log; `allowed`: regular expressions for
    the lines a test provokes on purpose)."""
    extra = {
        "KDF_MEMORY_KIB": str(app.config["KDF_MEMORY_KIB"]),
        "KDF_ITERATIONS": str(app.config["KDF_ITERATIONS"]),
        "KDF_LANES": str(app.config["KDF_LANES"]),
        "RATELIMIT_SUBMIT": "100000 per hour",
        "RATELIMIT_RECEIPT_LOGIN": "100000 per hour",
        # Limits out of the way: per worker in memory, not in the database these tests lock,
        # cut off or restart (tests/test_shared_rate_limits.py covers the shared store).
        "RATELIMIT_STORAGE_URI": "memory://",
        "GUNICORN_TIMEOUT": "30",
    }
    log: list[str] = []
    with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], upload_folder,
                         workers=workers, environment="production",
                         extra_env=extra) as (base_url, process):
        reader = threading.Thread(target=lambda: log.extend(process.stdout), daemon=True)
        reader.start()
        yield Server(base_url, process, log)
    reader.join(timeout=15)
    if check_log:
        assert_no_server_errors([line.rstrip("\n") for line in log], allowed)


@dataclass
class Attempt:
    """One reporter's try: where it stopped and what the page said."""

    language: str
    marker: str
    with_file: bool
    step: str = ""
    status: int | None = None
    body: str = ""
    receipt: str | None = None
    reference: str | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.receipt is not None


def submit_report(base_url: str, language: str, file: bytes | None = None) -> Attempt:
    """A new reporter: GET the form, POST it (with a file if given), read the receipt."""
    attempt = Attempt(language=language, marker=secrets.token_hex(8), with_file=bool(file))
    browser = HttpClient(base_url, language=language, timeout=HTTP_TIMEOUT)
    try:
        attempt.step = "GET /report"
        reply = browser.get("/report")
        attempt.status, attempt.body = reply.status, reply.body
        token = CSRF_RE.search(attempt.body)
        if attempt.status != 200 or not token:
            return attempt
        fields = report_fields(what_happened=f"Fault test report, marker {attempt.marker}",
                               csrf_token=token.group(1))
        files = [("evidence", f"dovada-{attempt.marker}.pdf", file)] if file else []
        attempt.step = "POST /report"
        reply = browser.post_form("/report", fields, files)
        attempt.status, attempt.body = reply.status, reply.body
    except OSError as error:  # refused, reset, timed out: never acceptable here
        attempt.error = f"{type(error).__name__}: {error}"
        return attempt
    receipt, reference = RECEIPT_RE.search(attempt.body), REFERENCE_RE.search(attempt.body)
    if attempt.status == 200 and receipt and reference:
        attempt.receipt = receipt.group(1).replace(" ", "")
        attempt.reference = reference.group(1)
    return attempt


def error_page_problem(app, attempt: Attempt) -> str | None:
    """None when the failed attempt got the app's error page: 500 or 503, the heading and the
    'try again' advice in the reporter's language, nothing of the exception."""
    if attempt.error:
        return f"{attempt.step}: no page at all ({attempt.error})"
    if attempt.status not in (500, 503):
        return f"{attempt.step}: status {attempt.status}"
    with app.test_request_context(), force_locale(attempt.language):
        expected = ([gettext("Not ready yet"), gettext("The portal is not set up yet. Please try again later.")]
                    if attempt.status == 503 else
                    [gettext("Something went wrong on our side"), gettext(TRY_AGAIN)])
    page = html.unescape(attempt.body)
    missing = [phrase for phrase in expected if phrase not in page]
    if missing or f'<html lang="{attempt.language}">' not in page:
        return (f"{attempt.step}: {attempt.status} page not in {attempt.language}: {missing}: "
                f"{visible_text(attempt.body)}")
    leaked = [word for word in LEAKS if word.lower() in page.lower()]
    if leaked:
        return f"{attempt.step}: the page shows {leaked}"
    return None


# --- what the database and the upload folder hold ----------------------------------------------

def row_counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Case, Receipt, KeyWrap, Attachment, CaseEvent, Message, OutboxMail)}


def files_in(folder: str) -> set[str]:
    return {entry.name for entry in os.scandir(folder)} if os.path.isdir(folder) else set()


def assert_nothing_half_written(upload_folder: str, handler_ids: set[int],
                                extra_files: bool = False) -> list[Case]:
    """Every case has its receipt, its key wraps (each handler and the recovery key) and its
    'received' event; every row hangs off a case; attachment rows and files match one to one
    (with `extra_files`, files without a row are left to the caller)."""
    db.session.expire_all()
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    case_ids = {case.id for case in cases}
    receipt_of = dict(db.session.execute(select(Receipt.case_id, Receipt.id)).all())
    for case in cases:
        assert case.id in receipt_of, f"{case.reference} has no receipt"
        holders = set(db.session.scalars(select(KeyWrap.staff_id).where(
            KeyWrap.case_id == case.id, KeyWrap.kind == KeyKind.CASE)))
        assert holders == handler_ids | {None}, f"{case.reference}: key wraps for {holders}"
        assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "received")) == 1, case.reference
    for model in (Receipt, KeyWrap, Attachment, CaseEvent):
        orphans = set(db.session.scalars(select(model.case_id))) - case_ids
        assert not orphans, f"{model.__name__} rows of missing cases {orphans}"
    rows = set(db.session.scalars(select(Attachment.storage_name)))
    files = files_in(upload_folder)
    assert not rows - files, f"attachment rows without their file: {rows - files}"
    assert extra_files or not files - rows, f"files in UPLOAD_FOLDER without a row: {files - rows}"
    return cases


def failed_transactions_keep_files_staged_before_a_savepoint(upload_folder: str) -> bool:
    """Probe for the bug of test_a_commit_that_fails_leaves_no_file, with the public API: a
    staged file, a released savepoint, a rollback. True when the file is still there."""
    path = os.path.join(upload_folder, "probe-" + secrets.token_hex(8))
    with builtins.open(path, "wb"):
        pass
    stage_file(path)
    with db.session.begin_nested():
        pass
    db.session.rollback()
    survived = os.path.exists(path)
    if survived:
        os.remove(path)
    return survived


def read_with_receipt(institution, receipt: str, kdf_params) -> tuple[Case, str]:
    """The case a receipt opens and its decrypted text, as the follow-up login does it."""
    found = receipts.find(institution, receipt, kdf_params)
    assert found is not None, "a receipt the reporter was given opens nothing"
    row, derived = found
    key = envelope.unwrap_with_receipt(row.wrapped_case_key, row.case.uuid, derived.key)
    content = envelope.open_report(key, row.case.uuid, row.case.content)
    return row.case, content["what_happened"]


# --- PostgreSQL, restarted during a burst ------------------------------------------------------

def _restart_skip_reason() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or ""
    if not url.startswith("postgresql"):
        return ("restarts the PostgreSQL server: runs only when TEST_DATABASE_URL is PostgreSQL "
                "(SQLite has no server to restart)")
    if make_url(url).host not in ("127.0.0.1", "localhost", "::1"):
        return "restarts the local PostgreSQL cluster; TEST_DATABASE_URL points elsewhere"
    if not shutil.which("pg_ctlcluster") or not os.path.isdir("/etc/postgresql"):
        return "needs pg_ctlcluster (Debian's postgresql-common) to restart the cluster"
    if os.geteuid() != 0:
        return "needs root to restart the PostgreSQL cluster with pg_ctlcluster"
    return None


def _pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                   check=True, capture_output=True, text=True, timeout=60)


def _pg_ready() -> bool:
    url = make_url(os.environ["TEST_DATABASE_URL"])
    return subprocess.run(["pg_isready", "-q", "-t", "1", "-h", url.host or "127.0.0.1",
                           "-p", str(url.port or 5432)], check=False).returncode == 0


def _wait_for_postgres(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _pg_ready():
            return True
        time.sleep(0.1)
    return False


@contextmanager
def postgres_back_up_at_the_end():
    """Other test runs share this server: whatever happens here, it is running afterwards."""
    try:
        yield
    finally:
        if not _wait_for_postgres(10):
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect",
                            sorted(os.listdir("/etc/postgresql"))[-1], "main", "start"],
                           check=False, capture_output=True, timeout=60)
            assert _wait_for_postgres(60), "PostgreSQL did not come back"


BURST_CLIENTS = 8
BURST_WORKERS = 4


@pytest.mark.skipif(_restart_skip_reason() is not None, reason=_restart_skip_reason() or "")
@pytest.mark.server
def test_postgres_restart_during_a_burst(app, institution, make_handler, upload_folder,
                                         kdf_params):
    handler = make_handler()
    handler_ids = {handler.id}
    db.session.commit()
    db.session.remove()  # hold no connection while the server restarts
    evidence = os.urandom(64 * 1024)
    attempts: list[Attempt] = []
    lock, stop = threading.Lock(), threading.Event()

    def reporter(number: int) -> None:
        language = "ro" if number % 2 else "en"
        sent = 0
        while not stop.is_set():
            sent += 1
            attempt = submit_report(server.base_url, language, evidence if sent % 2 else None)
            with lock:
                attempts.append(attempt)

    # Errors while PostgreSQL is down are the point: checked below, page by page.
    with postgres_back_up_at_the_end(), production_server(
            app, upload_folder, BURST_WORKERS, check_log=False) as server:
        workers_before = server.workers()
        threads = [threading.Thread(target=reporter, args=(n,)) for n in range(BURST_CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 30
            while sum(a.ok for a in attempts) < BURST_CLIENTS and time.monotonic() < deadline:
                time.sleep(0.05)
            before_restart = len(attempts)
            started = time.monotonic()
            _pg_ctl("restart")
            assert _wait_for_postgres(30), "PostgreSQL did not come back after the restart"
            restart_seconds = time.monotonic() - started
            time.sleep(1.5)  # the burst goes on against the restarted server
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=2 * HTTP_TIMEOUT)
        assert not any(thread.is_alive() for thread in threads), "a client hung"

        # The app recovers by itself: the same master and workers serve new submissions.
        recovery: list[Attempt] = []
        checks = [threading.Thread(target=lambda n=n: recovery.append(
            submit_report(server.base_url, "ro" if n % 2 else "en", evidence)))
            for n in range(2 * BURST_WORKERS)]
        for thread in checks:
            thread.start()
        for thread in checks:
            thread.join(timeout=2 * HTTP_TIMEOUT)
        assert server.process.poll() is None
        assert server.workers() == workers_before, "a worker died or was replaced"
        assert all(a.ok for a in recovery), (
            [(a.step, a.status, a.error) for a in recovery if not a.ok], server.log_tail())

    failed = [a for a in attempts if not a.ok]
    assert len(attempts) > before_restart, "no submission was tried during the restart"
    assert failed, (f"no request failed during a {restart_seconds:.1f} s restart: the test did "
                    "not see the error page")
    # Once known bugs, each with its own deterministic test below: none of them may show here.
    bare = [a for a in failed if a.status == 500 and GUNICORN_500 in a.body]
    assert not bare, (f"{len(bare)} of {len(failed)} failed requests got gunicorn's bare 500 "
                      "page (see test_connection_lost_at_the_end_of_a_page_view)",
                      lost_connection_escapes_teardown(app, upload_folder))
    problems = [problem for a in failed if (problem := error_page_problem(app, a))]
    if problems:
        Path(upload_folder).parent.joinpath("gunicorn.log").write_text("".join(server.log))
    assert not problems, f"{problems[:5]}\n--- gunicorn log ---\n{server.log_errors(150)}"

    # Nothing half-written; every receipt a reporter kept opens their own report.
    cases = assert_nothing_half_written(upload_folder, handler_ids, extra_files=True)
    references = [case.reference for case in cases]
    assert len(set(references)) == len(references)
    succeeded = [a for a in attempts + recovery if a.ok]
    stored = set(references)
    lost = [a.reference for a in succeeded if a.reference not in stored]
    assert not lost, f"receipts given for reports that are not stored: {lost}"
    institution = db.session.merge(institution)
    for attempt in succeeded:
        case, what_happened = read_with_receipt(institution, attempt.receipt, kdf_params)
        assert case.reference == attempt.reference
        assert attempt.marker in what_happened
        assert db.session.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.case_id == case.id)) == int(attempt.with_file)
    # A report stored while its reporter was told "Nothing was saved" can only come from the
    # commit-then-render window (test_database_lost_just_after_the_commit_still_shows_...).
    # (Only a commit whose acknowledgement the restart swallowed can store a report while the
    # reporter is told nothing was saved: at most one per failed POST.)
    unseen = stored - {a.reference for a in succeeded}
    posts_failed = sum(1 for a in attempts if not a.ok and a.step == "POST /report")
    assert len(unseen) <= posts_failed, unseen

    # Files without a row: a request that failed at its COMMIT must leave none.
    extra = files_in(upload_folder) - set(db.session.scalars(select(Attachment.storage_name)))
    assert not extra, (f"files in UPLOAD_FOLDER without a row: {extra}",
                       failed_transactions_keep_files_staged_before_a_savepoint(upload_folder))


# --- the database failing at or just after the commit ------------------------------------------

@contextmanager
def database_fails_once(at: str):
    """During a POST, the database goes away once: at the real COMMIT ("commit": the COMMIT
    never happens), or at the first statement after it ("after commit": a request that runs
    none never notices). Savepoints are not commits: only the engine's COMMIT counts."""
    state = {"committed": False, "fired": False}

    def lost(statement, parameters):
        state["fired"] = True
        return OperationalError(statement, parameters,
                                Exception("server closed the connection unexpectedly"))

    def on_commit(conn):
        if not (has_request_context() and request.method == "POST") or state["fired"]:
            return
        if at == "commit":
            raise lost("COMMIT", {})
        state["committed"] = True

    def before_execute(conn, cursor, statement, parameters, context, executemany):
        if at == "after commit" and state["committed"] and not state["fired"]:
            raise lost(statement, parameters)

    event.listen(db.engine, "commit", on_commit)
    event.listen(db.engine, "before_cursor_execute", before_execute)
    try:
        yield state
    finally:
        event.remove(db.engine, "commit", on_commit)
        event.remove(db.engine, "before_cursor_execute", before_execute)
    assert state["fired"] or at == "after commit", "the simulated outage never happened"


def visible_text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())[:200]


@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False}], indirect=True)
def test_a_commit_that_fails_leaves_no_file(app, client, make_handler, upload_folder):
    make_handler()
    with database_fails_once("commit"):
        response, page, receipt = post_report(client, [(os.urandom(32 * 1024), "dovada.pdf")])
    assert response.status_code == 500 and receipt is None
    assert TRY_AGAIN in html.unescape(page), visible_text(page)
    assert set(row_counts().values()) == {0}, row_counts()
    assert files_in(upload_folder) == set(), "the files of a failed commit stayed"


@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False}], indirect=True)
def test_database_lost_just_after_the_commit_still_shows_the_receipt(app, client,
                                                                    make_handler):
    make_handler()
    with database_fails_once("after commit"):
        response, page, receipt = post_report(client, [])
    stored = db.session.scalar(select(func.count()).select_from(Case))
    if stored:
        assert response.status_code == 200 and receipt, (
            f"the report is stored but the reporter got {response.status_code}: "
            f"{visible_text(page)}")
    else:
        assert response.status_code == 500 and TRY_AGAIN in html.unescape(page)


def page_view_losing_its_connection(database_url: str, upload_folder: str):
    """GET /report in its own application context, as under gunicorn (the `app` fixture keeps
    one open for the whole test, so its requests never tear the session down), the database
    connection dropping right after the response is made. Returns (response, escaped error)."""
    from app import create_app
    from tests.conftest import config_for

    served = create_app(config_for(database_url, upload_folder, PROPAGATE_EXCEPTIONS=False))
    state = {"armed": False, "fired": False}

    @served.after_request
    def response_made(response):
        state["armed"] = True
        return response

    def dropped(conn):
        if state["armed"] and not state["fired"]:
            state["fired"] = True
            raise OperationalError("ROLLBACK", {}, Exception(
                "terminating connection due to administrator command"))

    event.listen(Engine, "rollback", dropped)
    try:
        client = served.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        try:
            return client.get("/report"), None
        except OperationalError as error:
            return None, error
    finally:
        event.remove(Engine, "rollback", dropped)
        with served.app_context():
            db.engine.dispose()
        assert state["fired"], "the simulated outage never happened"


def lost_connection_escapes_teardown(app, upload_folder: str) -> bool:
    """Probe for the bug of test_connection_lost_at_the_end_of_a_page_view."""
    return page_view_losing_its_connection(app.config["SQLALCHEMY_DATABASE_URI"],
                                           upload_folder)[1] is not None


def test_connection_lost_at_the_end_of_a_page_view(migrated_database, institution,
                                                   upload_folder):
    response, escaped = page_view_losing_its_connection(migrated_database, upload_folder)
    assert escaped is None, f"the exception escaped the application: {escaped}"
    page = html.unescape(response.get_data(as_text=True))
    if response.status_code == 200:
        assert CSRF_RE.search(page), visible_text(page)  # the form, whole
    else:
        assert response.status_code == 500 and TRY_AGAIN in page


# --- a worker killed mid-upload ----------------------------------------------------------------

def worker_holding(server: Server, client_port: int, timeout: float = 10) -> int:
    """The worker whose socket is the server end of our connection: the inode of that TCP
    socket (from /proc/net/tcp) among the file descriptors of the master's children."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if local_port == server.port and remote_port == client_port and fields[9] != "0":
                    inodes.add(f"socket:[{fields[9]}]")
        for pid in server.workers():
            try:
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    try:
                        if os.readlink(fd) in inodes:
                            return pid
                    except OSError:
                        continue
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError("no worker holds the connection")


KILLED_WORKER = r"Worker \(pid:\d+\) was sent SIGKILL"


def kill_and_wait_for_replacement(server: Server, pid: int, workers: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = server.workers()
        if pid not in current and len(current) == workers:
            return
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not replace the killed worker\n{server.log_tail()}")


@dataclass
class Upload:
    connection: http.client.HTTPConnection
    body: bytes

    @property
    def client_port(self) -> int:
        return self.connection.sock.getsockname()[1]


def start_upload(server: Server, files: list[tuple[str, bytes]]) -> Upload:
    """A reporter's POST /report, headers sent and nothing of the body yet."""
    browser = HttpClient(server.base_url, timeout=HTTP_TIMEOUT)
    reply = browser.get("/report")
    assert reply.status == 200, reply.body
    fields = report_fields(what_happened="Killed mid-upload",
                           csrf_token=CSRF_RE.search(reply.body).group(1))
    body, content_type = multipart(fields, [("evidence", name, data) for name, data in files])
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT)
    connection.putrequest("POST", "/report")
    for name, value in (("Content-Type", content_type), ("Content-Length", str(len(body))),
                        ("Cookie", browser.cookie_header()), ("Accept-Language", "en")):
        connection.putheader(name, value)
    connection.endheaders()
    return Upload(connection, body)


def finish_upload_expecting_nothing(upload: Upload, sent: int) -> None:
    """The rest of the body goes to a dead worker: the reporter never gets a receipt."""
    try:
        upload.connection.send(upload.body[sent:])
        response = upload.connection.getresponse()
        page = response.read().decode(errors="replace")
        assert response.status != 200 and not RECEIPT_RE.search(page), "a dead worker answered"
    except (ConnectionError, http.client.HTTPException, TimeoutError):
        pass
    finally:
        upload.connection.close()


@pytest.mark.server
def test_worker_killed_while_a_slow_client_streams_an_upload(app, institution, make_handler,
                                                             upload_folder):
    handler_ids = {make_handler().id}
    db.session.commit()
    db.session.remove()
    with production_server(app, upload_folder, workers=2, allowed=(KILLED_WORKER,)) as server:
        upload = start_upload(server, [("mare.pdf", os.urandom(8 * 1024 * 1024))])
        sent = len(upload.body) // 4
        upload.connection.send(upload.body[:sent])  # then the reporter's line slows to nothing
        worker = worker_holding(server, upload.client_port)
        time.sleep(0.2)
        kill_and_wait_for_replacement(server, worker, workers=2)
        finish_upload_expecting_nothing(upload, sent)

        assert set(row_counts().values()) == {0}, row_counts()
        assert files_in(upload_folder) == set()

        # The next reporter is served as usual, by the surviving or the new worker.
        after = submit_report(server.base_url, "en", b"%PDF-1.4 after the kill\n" * 100)
        assert after.ok, (after.status, after.error, server.log_tail())
    [case] = assert_nothing_half_written(upload_folder, handler_ids)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1


@contextmanager
def reference_counter_locked(database_url: str):
    """Hold the lock a submission needs right after its files are written (the reference
    counter): a worker waits there with its files on disk and nothing committed. Yields a
    function telling whether some transaction waits for the lock (None: cannot tell)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None, timeout=10)
        holder.execute("BEGIN IMMEDIATE")  # writers wait (busy timeout 5 s); readers go on
        try:
            yield lambda: None
        finally:
            holder.rollback()
            holder.close()
        return
    holder, watcher = db.engine.connect(), db.engine.connect()
    table = ReferenceCounter.__tablename__
    holder.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))

    def waiting() -> bool:
        found = watcher.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = CAST(:t AS regclass)"),
            {"t": table})
        watcher.rollback()
        return bool(found)

    try:
        yield waiting
    finally:
        holder.rollback()
        holder.close()
        watcher.close()


@pytest.mark.server
def test_worker_killed_after_writing_files_before_commit(app, institution, make_handler,
                                                         upload_folder):
    """The one window where a file can outlive its request: the worker has written the
    encrypted files and dies before the commit. No row exists (the file's key was only in the
    uncommitted row, so the file can never be read); `jobs run` removes the file once it is
    older than the grace period, and leaves younger ones alone (an upload may be in flight)."""
    handler_ids = {make_handler().id}
    db.session.commit()
    db.session.remove()
    sent = [(f"dovada-{n}.pdf", os.urandom(256 * 1024)) for n in range(3)]
    with production_server(app, upload_folder, workers=2, allowed=(KILLED_WORKER,)) as server:
        with reference_counter_locked(app.config["SQLALCHEMY_DATABASE_URI"]) as waiting:
            upload = start_upload(server, sent)
            upload.connection.send(upload.body[:-2])
            worker = worker_holding(server, upload.client_port)
            upload.connection.send(upload.body[-2:])
            deadline = time.monotonic() + 4  # SQLite's busy timeout (5 s) must not expire
            while time.monotonic() < deadline and not (
                    len(files_in(upload_folder)) == len(sent) and waiting() is not False):
                time.sleep(0.01)
            time.sleep(0.2)  # the last file's final chunk
            assert len(files_in(upload_folder)) == len(sent), server.log_tail()
            kill_and_wait_for_replacement(server, worker, workers=2)
        finish_upload_expecting_nothing(upload, len(upload.body))

    db.session.expire_all()
    assert set(row_counts().values()) == {0}, row_counts()
    orphans = files_in(upload_folder)
    assert len(orphans) == len(sent)

    report = jobs.run_all()
    assert not report.errors, report.errors
    assert files_in(upload_folder) == orphans, "a file younger than the grace period went"

    an_hour_and_more = time.time() - 2 * 3600
    for name in orphans:
        os.utime(os.path.join(upload_folder, name), (an_hour_and_more, an_hour_and_more))
    report = jobs.run_all()
    assert not report.errors, report.errors
    assert files_in(upload_folder) == set(), "jobs run left the orphan files"
    assert_nothing_half_written(upload_folder, handler_ids)


# --- the upload volume full --------------------------------------------------------------------

class FullDisk:
    """The upload volume with `room` bytes left: a write beyond it stores what fits and fails
    with ENOSPC, as the kernel's would. Stands in for `open` in the evidence service."""

    def __init__(self, room: int):
        self.room = room
        self.written: list[str] = []

    def open(self, file, mode="r", *args, **kwargs):
        handle = builtins.open(file, mode, *args, **kwargs)
        if not any(flag in mode for flag in "wxa+"):
            return handle
        self.written.append(str(file))
        return _FileOnFullDisk(handle, self)


class _FileOnFullDisk:
    def __init__(self, handle, disk: FullDisk):
        self.handle, self.disk = handle, disk

    def write(self, data) -> int:
        if len(data) > self.disk.room:
            self.handle.write(data[:self.disk.room])
            self.handle.flush()
            self.disk.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.disk.room -= len(data)
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.handle.close()


def post_report(client, files: list[tuple[bytes, str]]):
    data = report_fields(csrf_token=csrf_token(client, "/report"))
    data["evidence"] = [(io.BytesIO(content), name) for content, name in files]
    response = client.post("/report", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    return response, page, RECEIPT_RE.search(page)


def no_room_message(app, language: str) -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(NO_ROOM)


@pytest.mark.parametrize("language", ["en", "ro"])
def test_disk_full_while_storing_a_report(app, client, make_handler, upload_folder, monkeypatch,
                                          language):
    make_handler()
    if language == "ro":  # no preference sent: the portal's default, Romanian
        client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    disk = FullDisk(room=100 * 1024)
    monkeypatch.setattr(evidence_service, "open", disk.open, raising=False)
    # The first file fits whole; the second runs out of room half-way.
    response, page, receipt = post_report(client, [(os.urandom(50 * 1024), "intai.pdf"),
                                                   (os.urandom(200 * 1024), "doi.pdf")])
    assert response.status_code == 400 and receipt is None
    message = no_room_message(app, language)
    assert message in html.unescape(page), page
    assert f'<html lang="{language}">' in page
    assert len(disk.written) == 2
    assert files_in(upload_folder) == set()
    assert set(row_counts().values()) == {0}, row_counts()
    # No reference number was used up either: the next report gets the first one.
    assert db.session.scalar(select(func.count()).select_from(ReferenceCounter)) == 0


def test_disk_full_when_a_reporter_adds_evidence(app, client, submit, follow_up, make_handler,
                                                 upload_folder, monkeypatch):
    handler_ids = {make_handler().id}
    _, receipt = submit()
    assert receipt and follow_up(receipt).status_code == 302
    before = row_counts()
    monkeypatch.setattr(evidence_service, "open", FullDisk(room=10 * 1024).open, raising=False)

    def add_evidence():
        return client.post("/follow-up/message", data={
            "body": "One more document.", "csrf_token": csrf_token(client, "/follow-up/case"),
            "evidence": [(io.BytesIO(os.urandom(64 * 1024)), "inca-una.pdf")]},
            content_type="multipart/form-data")

    response = add_evidence()
    assert response.status_code == 400
    assert NO_ROOM in html.unescape(response.get_data(as_text=True))
    assert row_counts() == before
    assert files_in(upload_folder) == set()

    monkeypatch.undo()  # room again: the same message goes through
    assert add_evidence().status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert_nothing_half_written(upload_folder, handler_ids)


@contextmanager
def tiny_tmpfs(path: Path, size_kib: int):
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a real full disk is a tiny tmpfs, and mounting one needs root; "
                    "the ENOSPC tests above cover the same code in-process")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700",
                           "avertizor-full", str(path)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here ({done.stderr.strip()}); the ENOSPC "
                    "tests above cover the same code in-process")
    try:
        yield
    finally:
        if subprocess.run(["umount", str(path)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


def test_real_full_disk(app, submit, make_handler, tmp_path):
    handler_ids = {make_handler().id}
    volume = tmp_path / "full"
    with tiny_tmpfs(volume, 256):
        app.config["UPLOAD_FOLDER"] = str(volume)
        response, receipt = submit(files=[(io.BytesIO(os.urandom(1024 * 1024)), "mare.pdf")])
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 400 and receipt is None
        assert NO_ROOM in page
        assert files_in(str(volume)) == set()
        assert shutil.disk_usage(volume).used == 0
        assert set(row_counts().values()) == {0}, row_counts()

        # The failed upload gave its room back: a small file fits.
        response, receipt = submit(files=[(io.BytesIO(os.urandom(16 * 1024)), "mic.pdf")])
        assert receipt, response.get_data(as_text=True)
        assert_nothing_half_written(str(volume), handler_ids)
        assert len(files_in(str(volume))) == 1
