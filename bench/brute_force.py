#!/usr/bin/env python3
"""Brute force against a real portal: how many guesses get through the rate limits?

Real gunicorn workers in the production configuration (production Argon2id, the limits of
config.py: receipt login 5 per minute and 30 per hour, staff sign-in 10 per minute and 60 per
hour), the limiter's counters in Redis so that every worker shares them, a fresh database with
one institution and two staff accounts. Then, for each target, N threads hammer it for a fixed
time, as fast as they can:

- receipt:  POST /follow-up with random 16-digit receipts;
- password: POST /staff/login with a real staff e-mail and wrong passwords;
- code:     POST /staff/login/code, past the password step, with wrong 6-digit codes.

For each it prints the attempts per second sent, the attempts per second that reached the
credential check (every response that is not a 429), the sustained ceiling the configured
limits allow, and how long an attacker would need, at those rates, to try 1 % of the 10^16
receipts. A benchmark, not a test: it asserts nothing (see tests/test_brute_force.py).

The server trusts one proxy (PROXY_FIX_HOPS=1, as behind the nginx of deploy/), so each
scenario can come from its own client address (X-Forwarded-For, as nginx would set it), and
--addresses spreads the threads over several addresses to show that the limits are per
address.

    .venv/bin/python bench/brute_force.py                        # PostgreSQL, 8 threads, 20 s
    .venv/bin/python bench/brute_force.py --database sqlite --duration 10 --threads 4
    .venv/bin/python bench/brute_force.py --addresses 4

Needs Redis (--redis, default redis://127.0.0.1:6379/15) and, for PostgreSQL, the local
server (127.0.0.1:5432, user postgres): it creates and drops its own database.
"""
import argparse
import collections
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.http import HttpClient  # noqa: E402
from tests.support.server import gunicorn_server  # noqa: E402

ACCESS_STATUS_RE = re.compile(r'" (\d{3}) ')
RECEIPT_SPACE = 10**16
HANDLER_PASSWORD = "bench handler password " + secrets.token_hex(4)
PASSWORD_TARGET = "ana@bench.example"
CODE_TARGET = "radu@bench.example"


# --- the portal --------------------------------------------------------------------------------

def create_database(kind: str, workdir: Path) -> tuple[str, str | None]:
    """(SQLAlchemy URL, PostgreSQL database name to drop afterwards, or None)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'brute.db'}", None
    name = f"avz_brute_bench_{os.getpid()}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


def set_up(url: str, upload_folder: str) -> None:
    """Schema by the migrations, one institution, two handlers with production Argon2id."""
    import flask_migrate

    from app import create_app
    from app.crypto.kdf import KdfParams
    from app.extensions import db
    from app.models import Role
    from app.services.operations.institutions import create_institution
    from app.services.staff.members import add_staff
    from config import ProductionConfig

    config = type("BenchSetup", (ProductionConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "setup-only", "UPLOAD_FOLDER": upload_folder,
        "RATELIMIT_ENABLED": False})
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade()
        institution, _code = create_institution("Comuna Benchmark")
        for email, name in ((PASSWORD_TARGET, "Ana Popescu"), (CODE_TARGET, "Radu Ionescu")):
            add_staff(institution, email=email, name=name, roles=[Role.HANDLER],
                      password=HANDLER_PASSWORD, kdf_params=KdfParams.from_config(app.config))
        db.session.commit()
        db.engine.dispose()


class ServerLog:
    """Drains gunicorn's output (an unread pipe stalls the workers) and counts 5xx."""

    def __init__(self, process: subprocess.Popen):
        self.server_errors = 0
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        threading.Thread(target=self._drain, args=(process,), daemon=True).start()

    def _drain(self, process) -> None:
        for line in process.stdout:
            status = ACCESS_STATUS_RE.search(line)
            if status and status.group(1).startswith("5"):
                self.server_errors += 1
            if not status:
                self.tail.append(line.rstrip())


# --- one attacker thread -----------------------------------------------------------------------

def browser(base_url: str, address: str) -> HttpClient:
    """A cookie jar and a client address (sent as X-Forwarded-For, as nginx would); a 302 is
    an answer here (a successful step), not something to follow."""
    return HttpClient(base_url, language=None, headers={"X-Forwarded-For": address},
                      follow_redirects=False, timeout=30)


@dataclass
class Tally:
    statuses: collections.Counter = field(default_factory=collections.Counter)
    errors: collections.Counter = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1


def hammer(make_attempt, deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        try:
            tally.add(make_attempt())
        except OSError as error:  # refused or reset connections, timeouts
            tally.fail(type(error).__name__)


def receipt_attacker(base_url: str, address: str):
    client = browser(base_url, address)
    token = client.csrf_token("/follow-up")

    def attempt() -> int:
        guess = f"{secrets.randbelow(RECEIPT_SPACE):016d}"
        return client.post_urlencoded("/follow-up", {"receipt": guess,
                                                     "csrf_token": token}).status
    return attempt


def password_attacker(base_url: str, address: str):
    client = browser(base_url, address)
    token = client.csrf_token("/staff/login")

    def attempt() -> int:
        return client.post_urlencoded("/staff/login", {"email": PASSWORD_TARGET,
                                                       "password": secrets.token_urlsafe(9),
                                                       "csrf_token": token}).status
    return attempt


def code_attacker(base_url: str, address: str):
    """Past the password step (a phished password), guessing the TOTP code."""
    client = browser(base_url, address)
    token = client.csrf_token("/staff/login")
    status = client.post_urlencoded("/staff/login", {"email": CODE_TARGET,
                                                     "password": HANDLER_PASSWORD,
                                                     "csrf_token": token}).status
    if status != 302:
        raise RuntimeError(f"the password step answered {status}; the code step needs it")
    token = client.csrf_token("/staff/login/code")

    def attempt() -> int:
        return client.post_urlencoded("/staff/login/code", {
            "code": f"{secrets.randbelow(10**6):06d}", "csrf_token": token}).status
    return attempt


# --- scenarios and figures ---------------------------------------------------------------------

@dataclass
class Result:
    name: str
    seconds: float
    tally: Tally
    addresses: int
    ceiling_per_hour: float  # what the configured limits allow per address, sustained

    @property
    def sent(self) -> int:
        return sum(self.tally.statuses.values())

    @property
    def reached(self) -> int:
        return sum(n for status, n in self.tally.statuses.items() if status != 429)


def limit_per_hour(spec: str) -> float:
    """The sustained ceiling of a Flask-Limiter spec like "5 per minute;30 per hour"."""
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
    ceilings = []
    for part in spec.split(";"):
        count, _per, unit = part.split()
        ceilings.append(int(count) * 3600 / seconds[unit.rstrip("s")])
    return min(ceilings)


def run_scenario(name: str, make_attacker, base_url: str, threads: int, addresses: list[str],
                 duration: float, ceiling_per_hour: float) -> Result:
    attackers = [make_attacker(base_url, addresses[n % len(addresses)]) for n in range(threads)]
    tally = Tally()
    started = time.monotonic()
    deadline = started + duration
    workers = [threading.Thread(target=hammer, args=(attempt, deadline, tally))
               for attempt in attackers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Result(name, time.monotonic() - started, tally, len(addresses), ceiling_per_hour)


def years(seconds: float) -> float:
    return seconds / (365.25 * 86400)


def report(results: list[Result], log: ServerLog, checked: dict) -> None:
    print()
    print(f"{'target':10} {'addr':>4} {'sent':>7} {'sent/s':>8} {'reached':>8} "
          f"{'reached/s':>10} {'ceiling/h/addr':>15}  statuses")
    for r in results:
        statuses = ", ".join(f"{status}×{n}" for status, n in sorted(r.tally.statuses.items()))
        errors = f"; client errors {dict(r.tally.errors)}" if r.tally.errors else ""
        print(f"{r.name:10} {r.addresses:4d} {r.sent:7d} {r.sent / r.seconds:8.1f} "
              f"{r.reached:8d} {r.reached / r.seconds:10.3f} {r.ceiling_per_hour:15.0f}  "
              f"{statuses}{errors}")
    receipt = next(r for r in results if r.name == "receipt")
    one_percent = RECEIPT_SPACE / 100
    measured = receipt.reached / receipt.seconds
    sustained = receipt.ceiling_per_hour * receipt.addresses / 3600
    print()
    print(f"1 % of the receipt space = {one_percent:.0e} guesses:")
    if measured:
        print(f"  at the measured rate through the limiter ({measured:.3f}/s, burst): "
              f"{years(one_percent / measured):.2e} years")
    print(f"  at the sustained ceiling of the limits ({sustained * 3600:.0f}/hour from "
          f"{receipt.addresses} address(es)): {years(one_percent / sustained):.2e} years")
    print(f"  without any limiter, at the rate sent ({receipt.sent / receipt.seconds:.0f}/s): "
          f"{years(one_percent / (receipt.sent / receipt.seconds)):.2e} years")
    print()
    from app.services.staff.sign_in import LOCKOUT, MAX_FAILURES
    print("wrong factors the server really checked, per account (audit log; the lockout "
          f"allows {MAX_FAILURES} per {LOCKOUT.seconds // 60} minutes):")
    for email, (failed, locks, locked) in checked.items():
        target = {PASSWORD_TARGET: "password target", CODE_TARGET: "code target"}[email]
        print(f"  {target:15} {email}: {failed} checked, {locks} lockout(s), "
              f"{'locked' if locked else 'NOT locked'} now")
    print(f"server 5xx responses: {log.server_errors}")


def accounts(url: str) -> dict:
    """Per targeted account: wrong factors the server really checked (audit sign_in_failed),
    lockouts (audit account_locked), and whether it is locked now."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT p.email, "
            " (SELECT count(*) FROM audit_entry a WHERE a.actor_staff_id = s.id"
            "  AND a.action = 'sign_in_failed'),"
            " (SELECT count(*) FROM audit_entry a WHERE a.actor_staff_id = s.id"
            "  AND a.action = 'account_locked'),"
            " p.locked_until IS NOT NULL FROM staff_member s"
            " JOIN staff_account p ON p.id = s.account_id ORDER BY p.email")).all()
    engine.dispose()
    return {email: (checked, locks, locked) for email, checked, locks, locked in rows}


def redis_keys(redis_url: str) -> int:
    import redis
    client = redis.Redis.from_url(redis_url)
    return sum(1 for _ in client.scan_iter("LIMIT*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per target")
    parser.add_argument("--addresses", type=int, default=1,
                        help="client addresses per target (X-Forwarded-For)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    from config import Config
    receipt_ceiling = limit_per_hour(Config.RATELIMIT_RECEIPT_LOGIN)
    staff_ceiling = limit_per_hour(Config.RATELIMIT_STAFF_LOGIN)

    with tempfile.TemporaryDirectory(prefix="avz-brute-") as workdir:
        url, pg_name = create_database(args.database, Path(workdir))
        try:
            uploads = str(Path(workdir) / "uploads")
            set_up(url, uploads)
            env = {"RATELIMIT_STORAGE_URI": args.redis, "PROXY_FIX_HOPS": "1",
                   "FORWARDED_ALLOW_IPS": "127.0.0.1", "LOG_LEVEL": "warning"}
            print(f"gunicorn: {args.workers} workers, production configuration, "
                  f"{args.database}, limiter in {args.redis}; {args.threads} threads per "
                  f"target for {args.duration:.0f} s, {args.addresses} address(es) each")
            print(f"limits: receipt {Config.RATELIMIT_RECEIPT_LOGIN!r}, staff "
                  f"{Config.RATELIMIT_STAFF_LOGIN!r} (per address)")
            with gunicorn_server(url, uploads, workers=args.workers, environment="production",
                                 extra_env=env) as (base_url, process):
                log = ServerLog(process)
                results = []
                plan = (("receipt", receipt_attacker, receipt_ceiling, 10),
                        ("password", password_attacker, staff_ceiling, 20),
                        ("code", code_attacker, staff_ceiling, 30))
                for name, attacker, ceiling, network in plan:
                    addresses = [f"198.51.{network}.{n + 1}" for n in range(args.addresses)]
                    results.append(run_scenario(name, attacker, base_url, args.threads,
                                                addresses, args.duration, ceiling))
                    r = results[-1]
                    print(f"  {name}: {r.sent} sent, {r.reached} reached the check")
                keys = redis_keys(args.redis)
            report(results, log, accounts(url))
            print(f"limiter keys in Redis (shared by the {args.workers} workers): {keys}")
            if log.tail:
                print("server log (last lines):\n  " + "\n  ".join(log.tail))
        finally:
            if pg_name:
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force",
                                pg_name], check=False)


if __name__ == "__main__":
    main()
