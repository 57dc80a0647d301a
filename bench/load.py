#!/usr/bin/env python3
"""Mixed load against gunicorn on PostgreSQL, then a check that nothing was lost.

Virtual users, each a thread with its own browser (cookie jar), for a fixed duration:

- readers: citizens reading /, /report and /privacy;
- reporters: a new citizen each time, GET /report and POST it with a unique marker in the
  text, some with one file of 200 KB–2 MB (`--file-ratio`); they keep the receipt;
- followers: a reporter coming back with a receipt kept earlier: receipt login, case page,
  a message (with its own marker), the case page again;
- handlers: one staff account each, signed in once (password, then the TOTP code computed from
  the secret the enrolment page shows), then inbox pages (some filtered, some paged) and case
  pages (each one decrypts the case with the handler's key and is audited).

Prints throughput, latency p50/p95/p99 and errors per route and overall, and the peak RSS
(VmHWM) of every gunicorn worker. Then the checker, with the server still up: every submission
the client saw succeed is stored once, under a unique reference; its receipt logs in (over
HTTP) and the case page shows its marker and the markers of the messages the client saw sent;
a handler's key (password → private key → case key, in-process) decrypts its text and its file,
byte for byte; attachment rows and files in the upload folder match. Mismatches are counted
and must be 0.

    .venv/bin/python bench/load.py                        # 60 s, production Argon2id
    .venv/bin/python bench/load.py --duration 20 --kdf 1024:1 --reporters 8

The server runs AVERTIZOR_ENV=production on its own new PostgreSQL database (dropped at the
end unless --keep), with Redis as the rate-limit store and the limits raised (every client is
127.0.0.1). A benchmark, not a test; see bench/README.md ("Load") for figures.
"""
import argparse
import base64
import collections
import hashlib
import hmac
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import Config  # noqa: E402
from tests.support.forms import CSRF_RE, RECEIPT_RE  # noqa: E402
from tests.support.http import HttpClient  # noqa: E402
from tests.support.scratch_database import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
)
from tests.support.server import flask_command, gunicorn_server  # noqa: E402

REFERENCE_RE = re.compile(r"\b(SES-\d{4}-\d{4,})\b")
TOTP_SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
CASE_LINK_RE = re.compile(r'href="/staff/cases/(\d+)"')
ACCESS_RE = re.compile(r'^\[[^\]]+\] "(\w+) ([^"]+)" (\d{3}) ')
HTTP_TIMEOUT = 120.0
MIB = 1024 * 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- a browser that measures ---------------------------------------------------------------------

@dataclass
class Sample:
    route: str
    seconds: float
    ok: bool
    status: int


def route_of(method: str, path: str) -> str:
    path = urllib.parse.urlsplit(path).path
    path = re.sub(r"/\d+(?=/|$)", "/<id>", path)
    return f"{method} {path}"


class Browser(HttpClient):
    """The shared HTTP client, timing each request into `samples`. Redirects are not followed:
    every request is measured on its own, and the next one is made by hand."""

    def __init__(self, base_url: str, samples: list[Sample], language: str = "ro"):
        super().__init__(base_url, language=language, follow_redirects=False,
                         timeout=HTTP_TIMEOUT)
        self.samples = samples

    def measured(self, method: str, path: str, send, expect: tuple[int, ...] = (200,),
                 record: bool = True) -> tuple[int, str, str]:
        """(status, Location header, body). Never raises for HTTP or network errors."""
        started = time.perf_counter()
        try:
            reply = send()
            status, location, body = reply.status, reply.location, reply.body
        except OSError:
            status, location, body = 0, "", ""  # refused, reset, timed out
        if record:
            self.samples.append(Sample(route_of(method, path), time.perf_counter() - started,
                                       status in expect, status))
        return status, location, body

    def get(self, path: str, **kwargs):
        return self.measured("GET", path, lambda: HttpClient.get(self, path), **kwargs)

    def form(self, path: str, fields: dict, files=(), **kwargs):
        return self.measured("POST", path, lambda: self.post_form(path, fields, files), **kwargs)

    def urlencoded(self, path: str, fields: dict, **kwargs):
        return self.measured("POST", path, lambda: self.post_urlencoded(path, fields), **kwargs)


def path_of(location: str) -> str:
    parts = urllib.parse.urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- what the clients saw succeed ----------------------------------------------------------------

@dataclass
class Submitted:
    receipt: str
    reference: str
    marker: str
    file_sha256: str | None
    file_size: int = 0
    messages: list[str] = field(default_factory=list)  # markers of messages seen sent


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.submitted: list[Submitted] = []

    def add(self, item: Submitted) -> None:
        with self.lock:
            self.submitted.append(item)

    def pick(self, rng: random.Random) -> Submitted | None:
        with self.lock:
            return rng.choice(self.submitted) if self.submitted else None


# --- the virtual users ---------------------------------------------------------------------------

@dataclass
class Plan:
    base_url: str
    deadline: float
    think: float
    file_ratio: float
    file_min: int
    file_max: int
    blob: bytes  # incompressible bytes, sliced for the files
    ledger: Ledger
    stop: threading.Event


def pause(plan: Plan, rng: random.Random) -> bool:
    """Think time; False once the run is over."""
    if plan.think:
        plan.stop.wait(rng.uniform(0, 2 * plan.think))
    return time.monotonic() < plan.deadline and not plan.stop.is_set()


def reader(plan: Plan, samples: list[Sample], seed: int) -> None:
    rng = random.Random(seed)
    browser = Browser(plan.base_url, samples, rng.choice(["ro", "en"]))
    while pause(plan, rng):
        browser.get(rng.choice(["/", "/report", "/privacy"]))


def report_fields(token: str, text: str) -> dict:
    return {"csrf_token": token, "category": "bribery", "what_happened": text,
            "when_where": "Primăria, biroul de urbanism", "persons_involved": "",
            "how_known": "", "work_context": "no", "identity_choice": "anonymous", "name": "",
            "email": "", "phone": "", "consent": "y", "website": ""}


def reporter(plan: Plan, samples: list[Sample], seed: int) -> None:
    rng = random.Random(seed)
    while pause(plan, rng):
        browser = Browser(plan.base_url, samples, rng.choice(["ro", "en"]))
        status, _, page = browser.get("/report")
        token = CSRF_RE.search(page)
        if status != 200 or not token:
            continue
        marker = f"load-{secrets.token_hex(10)}"
        text = (f"Raport de încărcare {marker}: funcționarul a cerut bani pentru autorizație. "
                * 4)
        files, digest, size = [], None, 0
        if rng.random() < plan.file_ratio:
            size = rng.randint(plan.file_min, plan.file_max)
            start = rng.randint(0, len(plan.blob) - size)
            content = marker.encode() + plan.blob[start:start + size - len(marker)]
            files = [("evidence", f"dovada-{marker}.pdf", content)]
            digest = hashlib.sha256(content).hexdigest()
        status, _, page = browser.form("/report", report_fields(token.group(1), text), files)
        receipt, reference = RECEIPT_RE.search(page), REFERENCE_RE.search(page)
        if status == 200 and receipt and reference:
            plan.ledger.add(Submitted(receipt.group(1).replace(" ", ""), reference.group(1),
                                      marker, digest, size))
        elif samples and samples[-1].ok:
            samples[-1].ok = False  # 200 without a receipt is an error too


def follower(plan: Plan, samples: list[Sample], seed: int) -> None:
    rng = random.Random(seed)
    while pause(plan, rng):
        kept = plan.ledger.pick(rng)
        if kept is None:
            Browser(plan.base_url, samples).get("/")
            continue
        browser = Browser(plan.base_url, samples, rng.choice(["ro", "en"]))
        status, _, page = browser.get("/follow-up")
        token = CSRF_RE.search(page)
        if status != 200 or not token:
            continue
        status, location, _ = browser.urlencoded(
            "/follow-up", {"receipt": kept.receipt, "csrf_token": token.group(1)}, expect=(302,))
        if status != 302:
            continue
        status, _, page = browser.get(path_of(location))
        token = CSRF_RE.search(page)
        if status != 200 or kept.marker not in page or not token:
            if samples[-1].ok:
                samples[-1].ok = False  # the page must show the reporter's own report
            continue
        message = f"msg-{secrets.token_hex(8)}"
        status, location, _ = browser.form(
            "/follow-up/message", {"csrf_token": token.group(1),
                                   "body": f"Revin cu o completare {message}."},
            [("evidence", "", b"")], expect=(302,))
        if status == 302:
            with plan.ledger.lock:
                kept.messages.append(message)
            browser.get(path_of(location))


def handler(plan: Plan, samples: list[Sample], seed: int, email: str, password: str) -> None:
    from app.services.staff import totp

    rng = random.Random(seed)
    browser = Browser(plan.base_url, samples, "ro")
    status, _, page = browser.get("/staff/login")
    token = CSRF_RE.search(page)
    if not token:
        return
    status, location, _ = browser.urlencoded(
        "/staff/login", {"email": email, "password": password, "csrf_token": token.group(1)},
        expect=(302,))
    if status != 302:
        return
    status, _, page = browser.get(path_of(location))
    secret = TOTP_SECRET_RE.search(page)
    token = CSRF_RE.search(page)
    if not secret or not token:
        return
    raw = secret.group(1).replace(" ", "")
    code = totp.code_at(base64.b32decode(raw + "=" * (-len(raw) % 8)), time.time())
    status, _, _ = browser.urlencoded("/staff/login/code",
                                      {"code": code, "csrf_token": token.group(1)},
                                      expect=(302,))
    if status != 302:
        return
    seen: list[str] = []
    while pause(plan, rng):
        choice = rng.random()
        if choice < 0.15:
            path = "/staff/cases?status=received"
        elif choice < 0.25:
            path = "/staff/cases?page=2"
        else:
            path = "/staff/cases"
        status, _, page = browser.get(path)
        seen = CASE_LINK_RE.findall(page) or seen
        for case_id in rng.sample(seen, min(len(seen), rng.randint(1, 2))):
            if not pause(plan, rng):
                return
            browser.get(f"/staff/cases/{case_id}")


# --- watching the server -------------------------------------------------------------------------

class ServerWatch:
    """Drains gunicorn's log (counts 5xx per route) and samples the workers' VmHWM."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.server_errors: collections.Counter[str] = collections.Counter()
        self.other_lines: collections.deque[str] = collections.deque(maxlen=80)
        self.peak_kib: dict[int, int] = {}
        self.cpu_ticks: dict[int, int] = {}
        self._stop = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            access = ACCESS_RE.match(line)
            if access is None:
                self.other_lines.append(line)
            elif access.group(3).startswith("5"):
                self.server_errors[route_of(access.group(1), access.group(2))] += 1

    def workers(self) -> list[int]:
        master = self.process.pid
        try:
            return [int(pid) for pid in
                    Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        except OSError:
            return []

    @staticmethod
    def status_kib(pid: int, key: str) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def ticks(pid: int) -> int | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[11]) + int(fields[12])  # utime + stime

    def sample(self) -> None:
        for pid in self.workers():
            self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), self.status_kib(pid, "VmHWM"))
            ticks = self.ticks(pid)
            if ticks is not None:
                self.cpu_ticks[pid] = ticks

    def cpu_seconds(self) -> float:
        """CPU used so far by every worker seen (a recycled worker keeps its last sample)."""
        self.sample()
        return sum(self.cpu_ticks.values()) / CLOCK_TICKS

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def stop(self) -> None:
        self.sample()
        self._stop.set()


# --- set-up: database, portal, handlers ----------------------------------------------------------

def set_up_portal(env: dict, handlers: int) -> dict[str, str]:
    """Schema, institution, administrator and handlers, as an operator makes them; returns
    the handlers' e-mail → password."""
    flask_command(["db", "upgrade"], env)
    flask_command(["setup", "--institution", "Comuna Bălțați (load)",
                   "--admin-email", "admin@load.example"], env,
                  stdin=secrets.token_urlsafe(16) + "\n")
    accounts = {}
    for number in range(1, handlers + 1):
        email, password = f"handler{number}@load.example", secrets.token_urlsafe(16)
        flask_command(["staff", "add", email, "--name", f"Handler {number}",
                       "--role", "handler"], env, stdin=password + "\n")
        accounts[email] = password
    return accounts


def rate_limit_client_key(secret_key: str, day: str, address: str = "127.0.0.1") -> str:
    """The key app.ratelimit gives 127.0.0.1 today (to find and remove our Redis entries)."""
    secret = hashlib.sha256(b"avertizor-ratelimit|" + secret_key.encode() + day.encode()).digest()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


def redis_entries(redis_url: str, secret_key: str, delete: bool = False) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    today = datetime.now(UTC)
    found = 0
    for day in {(today + timedelta(days=d)).strftime("%Y-%m-%d") for d in (-1, 0)}:
        for key in client.scan_iter(match=f"*{rate_limit_client_key(secret_key, day)}*"):
            found += 1
            if delete:
                client.delete(key)
    return found


# --- the checker ---------------------------------------------------------------------------------

@dataclass
class CheckReport:
    seen: int = 0
    stored: int = 0
    references_unique: bool = False
    receipt_ok: int = 0
    handler_ok: int = 0
    files_checked: int = 0
    messages_checked: int = 0
    stored_not_seen: int = 0
    mismatches: list[str] = field(default_factory=list)


def check(env: dict, base_url: str, ledger: Ledger, accounts: dict[str, str],
          threads: int) -> CheckReport:
    """Nothing lost: every submission the clients saw succeed is stored, opens with its
    receipt over HTTP and with a handler's key in-process, with its file intact."""
    from sqlalchemy import select

    from app import create_app
    from app.crypto import envelope
    from app.extensions import db
    from app.models import Attachment, Case, StaffAccount, StaffMember
    from app.services.access import keys as access
    from app.services.intake.evidence import attachment_chunks, attachment_meta
    from app.services.staff.members import unlock_private_key
    from config import ProductionConfig

    report = CheckReport(seen=len(ledger.submitted))
    settings = {"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                "UPLOAD_FOLDER": env["UPLOAD_FOLDER"], "SESSION_COOKIE_SECURE": False}
    for name in ("KDF_MEMORY_KIB", "KDF_ITERATIONS"):
        if name in env:
            settings[name] = int(env[name])
    app = create_app(type("LoadCheckConfig", (ProductionConfig,), settings))

    # 1. Over HTTP, as the reporter: the receipt logs in and the page shows the marker and
    #    every message the client saw sent.
    samples: list[Sample] = []
    queue = list(ledger.submitted)
    lock = threading.Lock()

    def by_receipt() -> None:
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            browser = Browser(base_url, samples)
            status, _, page = browser.get("/follow-up", record=False)
            token = CSRF_RE.search(page)
            status, location, _ = browser.urlencoded(
                "/follow-up", {"receipt": item.receipt, "csrf_token": token.group(1) if token
                               else ""}, expect=(302,), record=False)
            if status != 302:
                problem = f"{item.reference}: receipt login answered {status}"
            else:
                _, _, page = browser.get(path_of(location), record=False)
                missing = [m for m in [item.marker, item.reference, *item.messages]
                           if m not in page]
                problem = f"{item.reference}: case page lacks {missing}" if missing else None
            with lock:
                if problem:
                    report.mismatches.append(problem)
                else:
                    report.receipt_ok += 1
                    report.messages_checked += len(item.messages)

    workers = [threading.Thread(target=by_receipt) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    # 2. In-process, as a handler: password → private key → case key → text and file.
    with app.app_context():
        cases = {case.reference: case for case in db.session.scalars(select(Case))}
        report.stored = len(cases)
        references = db.session.scalars(select(Case.reference)).all()
        report.references_unique = len(references) == len(set(references))
        if not report.references_unique:
            report.mismatches.append("duplicate references in the database")
        email, password = next(iter(accounts.items()))
        member = db.session.scalar(select(StaffMember).join(StaffMember.account).where(StaffAccount.email == email))
        private_key = unlock_private_key(member, password)
        for item in ledger.submitted:
            case = cases.get(item.reference)
            if case is None:
                report.mismatches.append(f"{item.reference}: not stored")
                continue
            try:
                key = access.open_case_key(case, member, private_key)
                content = envelope.open_report(key, case.uuid, case.content)
            except Exception as error:  # noqa: BLE001 (counted as a mismatch)
                report.mismatches.append(f"{item.reference}: handler cannot decrypt ({error})")
                continue
            if item.marker not in content["what_happened"]:
                report.mismatches.append(f"{item.reference}: another report's text")
                continue
            files = db.session.scalars(select(Attachment).where(
                Attachment.case_id == case.id, Attachment.message_id.is_(None))).all()
            if len(files) != (1 if item.file_sha256 else 0):
                report.mismatches.append(f"{item.reference}: {len(files)} files stored")
                continue
            for attachment in files:
                digest = hashlib.sha256(b"".join(attachment_chunks(attachment, key)))
                meta = attachment_meta(attachment, key)
                if digest.hexdigest() != item.file_sha256 or meta["size"] != item.file_size:
                    report.mismatches.append(f"{item.reference}: file differs")
                    break
                report.files_checked += 1
            else:
                report.handler_ok += 1
        seen = {item.reference for item in ledger.submitted}
        report.stored_not_seen = len(set(cases) - seen)
        rows = set(db.session.scalars(select(Attachment.storage_name)))
        on_disk = {entry.name for entry in os.scandir(env["UPLOAD_FOLDER"])}
        if rows != on_disk:
            report.mismatches.append(f"upload folder: {len(rows - on_disk)} rows without a "
                                     f"file, {len(on_disk - rows)} files without a row")
        db.session.remove()
        db.engine.dispose()
    return report


# --- printing ------------------------------------------------------------------------------------

def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


ROUTE_ORDER = ["GET /", "GET /privacy", "GET /report", "POST /report", "GET /follow-up",
               "POST /follow-up", "GET /follow-up/case", "POST /follow-up/message",
               "GET /staff/login", "POST /staff/login", "GET /staff/login/code",
               "POST /staff/login/code", "GET /staff/cases", "GET /staff/cases/<id>"]


PAGES = ("GET /", "GET /report")


def print_table(samples: list[Sample], elapsed: float) -> None:
    by_route: dict[str, list[Sample]] = collections.defaultdict(list)
    for sample in samples:
        by_route[sample.route].append(sample)
    order = [r for r in ROUTE_ORDER if r in by_route] + sorted(set(by_route) - set(ROUTE_ORDER))
    print(f"{'route':<26} {'requests':>8} {'req/s':>7} {'errors':>6} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'p99 ms':>8}")
    pages = [s.seconds * 1000 for s in samples if s.route in PAGES]
    for route in [*order, "all"]:
        rows = samples if route == "all" else by_route[route]
        times = [s.seconds * 1000 for s in rows]
        errors = sum(1 for s in rows if not s.ok)
        if route == "all":
            print("-" * 71)
        print(f"{route:<26} {len(rows):>8} {len(rows) / elapsed:>7.2f} {errors:>6} "
              f"{percentile(times, 50):>8.0f} {percentile(times, 95):>8.0f} "
              f"{percentile(times, 99):>8.0f}")
    print(f"{'pages: ' + ', '.join(PAGES):<26} {len(pages):>8} {len(pages) / elapsed:>7.2f} "
          f"{'':>6} {percentile(pages, 50):>8.0f} {percentile(pages, 95):>8.0f} "
          f"{percentile(pages, 99):>8.0f}")
    statuses = collections.Counter((s.route, s.status) for s in samples if not s.ok)
    if statuses:
        print("errors by status: " + ", ".join(f"{route} → {status or 'no answer'}: {n}"
                                               for (route, status), n in statuses.items()))


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def postgres_seconds(server_url: str, database: str) -> float:
    """CPU used so far by the PostgreSQL backends of the run's database."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(server_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    return sum(ServerWatch.ticks(pid) or 0 for pid in pids) / CLOCK_TICKS


# --- main ----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn workers (default: gunicorn.conf.py's, one per core)")
    parser.add_argument("--worker-class", default="gthread", help="gthread (default) or sync")
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
    parser.add_argument("--kdf-threads", type=int,
                        help="derivation threads per worker, 0: in the request's thread "
                             "(default: gunicorn.conf.py's, cores / workers)")
    parser.add_argument("--kdf-nice", type=int, help="nice of the derivation threads (5)")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--reporters", type=int, default=4)
    parser.add_argument("--followers", type=int, default=2)
    parser.add_argument("--handlers", type=int, default=2, help="one staff account each")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean think time between a user's actions, seconds (0: none)")
    parser.add_argument("--file-ratio", type=float, default=0.5,
                        help="share of submissions with a file")
    parser.add_argument("--file-kb", default="200-2048", help="file size range, KB")
    parser.add_argument("--kdf", metavar="MEMORY_KIB:ITERATIONS",
                        help="lower Argon2id for the run (default: config.py's production)")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="rate-limit storage shared by the workers")
    parser.add_argument("--check-threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database and uploads")
    args = parser.parse_args()
    file_min, _, file_max = args.file_kb.partition("-")
    file_min, file_max = int(file_min) * 1024, int(file_max or file_min) * 1024

    workdir = Path(tempfile.mkdtemp(prefix="avertizor-load-"))
    uploads = workdir / "uploads"
    uploads.mkdir()
    database_url, database = create_postgres_database(args.postgres_url, "avertizor_load")
    raised = "1000000 per hour"
    env = {
        **os.environ,
        "AVERTIZOR_ENV": "production",
        "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": str(uploads),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SESSION_COOKIE_SECURE": "0",  # plain http on 127.0.0.1
        "RATELIMIT_STORAGE_URI": args.redis_url,
        "RATELIMIT_SUBMIT": raised,
        "RATELIMIT_RECEIPT_LOGIN": raised,
        "RATELIMIT_STAFF_LOGIN": raised,
        "AVERTIZOR_INSTANCE": str(workdir),
    }
    for name in ("KDF_MEMORY_KIB", "KDF_ITERATIONS", "KDF_LANES"):
        env.pop(name, None)
    if args.kdf:
        memory, _, iterations = args.kdf.partition(":")
        env["KDF_MEMORY_KIB"], env["KDF_ITERATIONS"] = memory, iterations or "1"
    env["GUNICORN_WORKER_CLASS"], env["GUNICORN_THREADS"] = args.worker_class, str(args.threads)
    for name, value in (("KDF_THREADS", args.kdf_threads), ("KDF_NICE", args.kdf_nice)):
        if value is not None:
            env[name] = str(value)
    model = (f"{args.workers} gunicorn {args.worker_class} workers"
             + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")
             + f", KDF_THREADS {env.get('KDF_THREADS', 'default')}, "
               f"KDF_NICE {env.get('KDF_NICE', 'default')}")
    kdf = (f"argon2id m={env.get('KDF_MEMORY_KIB', Config.KDF_MEMORY_KIB)} KiB, "
           f"t={env.get('KDF_ITERATIONS', Config.KDF_ITERATIONS)}, p={Config.KDF_LANES}"
           + ("" if args.kdf else " (production default)"))

    try:
        accounts = set_up_portal(env, args.handlers)
        with gunicorn_server(database_url, str(uploads), workers=args.workers,
                             environment="production", extra_env=env) as (base_url, process):
            watch = ServerWatch(process)
            print(f"Load: {args.duration:g} s against {model}, "
                  f"PostgreSQL (fresh database), Redis rate-limit storage, {kdf}")
            print(f"Virtual users: {args.readers} readers, {args.reporters} reporters, "
                  f"{args.followers} followers, {args.handlers} handlers; think time "
                  f"0–{2 * args.think:g} s; {args.file_ratio:.0%} of submissions with a file "
                  f"of {file_min // 1024}–{file_max // 1024} KB")
            print(f"Machine: nproc={os.cpu_count()}; load average before: {load_average()}")

            rng = random.Random(args.seed)
            plan = Plan(base_url, 0.0, args.think, args.file_ratio, file_min, file_max,
                        os.urandom(file_max + MIB), Ledger(), threading.Event())
            roles = ([("reader", reader, ())] * args.readers
                     + [("reporter", reporter, ())] * args.reporters
                     + [("follower", follower, ())] * args.followers
                     + [("handler", handler, account) for account in accounts.items()])
            per_user: list[list[Sample]] = []
            threads, crashed = [], collections.Counter()

            def guarded(kind, target, *arguments):
                try:
                    target(*arguments)
                except Exception as error:  # noqa: BLE001 (a client bug, reported below)
                    crashed[f"{kind}: {type(error).__name__}: {error}"] += 1

            for kind, target, extra in roles:
                samples: list[Sample] = []
                per_user.append(samples)
                threads.append(threading.Thread(
                    target=guarded,
                    args=(kind, target, plan, samples, rng.randrange(1 << 30), *extra),
                    daemon=True))
            busy, cpu = machine_busy_seconds(), time.process_time()
            server_cpu = watch.cpu_seconds()
            database_cpu = postgres_seconds(args.postgres_url, database)
            started = time.monotonic()
            plan.deadline = started + args.duration
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.duration + 2 * HTTP_TIMEOUT)
            plan.stop.set()
            elapsed = time.monotonic() - started
            busy, cpu = machine_busy_seconds() - busy, time.process_time() - cpu
            server_cpu = watch.cpu_seconds() - server_cpu
            database_cpu = max(0.0, postgres_seconds(args.postgres_url, database) - database_cpu)
            others = max(0.0, busy - server_cpu - database_cpu - cpu)
            watch.stop()

            samples = [s for user in per_user for s in user]
            print(f"Load average after: {load_average()}")
            print(f"CPU, in cores busy on average (of {os.cpu_count()}): whole machine "
                  f"{busy / elapsed:.2f} = gunicorn workers {server_cpu / elapsed:.2f} + "
                  f"PostgreSQL backends {database_cpu / elapsed:.2f} + load generator "
                  f"{cpu / elapsed:.2f} + other processes {others / elapsed:.2f}\n")
            print_table(samples, elapsed)
            if crashed:
                print(f"virtual users that stopped on an exception: {dict(crashed)}")
            print(f"\nHTTP 5xx in the server log: {sum(watch.server_errors.values())}"
                  + (f" ({dict(watch.server_errors)})" if watch.server_errors else ""))
            print("Peak RSS (VmHWM) per worker: " + ", ".join(
                f"{pid}: {kib / 1024:.0f} MiB" for pid, kib in sorted(watch.peak_kib.items()))
                + f" (master {ServerWatch.status_kib(process.pid, 'VmHWM') / 1024:.0f} MiB)")
            print(f"Rate-limit entries of this run in Redis: "
                  f"{redis_entries(args.redis_url, env['SECRET_KEY'])}")

            started = time.monotonic()
            report = check(env, base_url, plan.ledger, accounts, args.check_threads)
            print(f"\nChecker ({time.monotonic() - started:.0f} s): {report.seen} submissions "
                  f"the clients saw succeed; {report.stored} cases stored "
                  f"({report.stored_not_seen} not seen by a client); references unique: "
                  f"{'yes' if report.references_unique else 'NO'}")
            print(f"  opened with the receipt over HTTP, marker shown: {report.receipt_ok}/"
                  f"{report.seen} (and {report.messages_checked} messages the clients sent)")
            print(f"  decrypted with a handler's key, marker found: {report.handler_ok}/"
                  f"{report.seen}; files decrypted byte for byte: {report.files_checked}")
            print(f"  mismatches: {len(report.mismatches)}")
            for problem in report.mismatches[:20]:
                print(f"    {problem}")
            if watch.server_errors:
                print("--- server log (not access lines) ---\n" + "".join(watch.other_lines))
    finally:
        try:
            redis_entries(args.redis_url, env["SECRET_KEY"], delete=True)
        except Exception as error:  # noqa: BLE001 (cleaning up)
            print(f"could not clean Redis: {error}")
        if args.keep:
            print(f"Kept: {database_url} and {uploads}")
        else:
            drop_postgres_database(args.postgres_url, database)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
