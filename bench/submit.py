#!/usr/bin/env python3
"""Submission benchmark: real gunicorn workers, a real database, real HTTP clients.

Prints, for each concurrency level, submissions per second, the latency of the POST /report
(p50/p95/p99), errors, and the server CPU time per submission; then the peak memory of the
gunicorn workers and the time of one receipt derivation (Argon2id) for several parameter sets,
so the production default can be chosen at about 0.25 s on one core. A benchmark, not a test:
it prints figures and asserts nothing. See bench/README.md for results and how to read them.

    .venv/bin/python bench/submit.py                       # PostgreSQL, 1/4/16 clients, 20 s each
    .venv/bin/python bench/submit.py --database sqlite --duration 10 --levels 1,4
    .venv/bin/python bench/submit.py --count 50 --server-kdf 47104:1

The server runs the production configuration (AVERTIZOR_ENV=production, so the production
Argon2id parameters from config.py unless --server-kdf overrides them), on a fresh database that
is created, migrated and set up with the operator's commands (`flask db upgrade`, `flask setup`,
`flask staff add`), and removed at the end unless --keep.
"""
import argparse
import collections
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.crypto import kdf  # noqa: E402
from config import Config  # noqa: E402
from tests.support.forms import CSRF_RE, RECEIPT_RE  # noqa: E402
from tests.support.http import HttpClient  # noqa: E402
from tests.support.scratch_database import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
)
from tests.support.server import flask_command, gunicorn_server  # noqa: E402

ACCESS_STATUS_RE = re.compile(r'" (\d{3}) ')
DEFAULT_KDF_SETS = "19456:2,65536:2,131072:2,196608:2,262144:1,262144:2,393216:1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- setting up: database, schema, institution, handlers ---------------------------------------

def set_up_portal(env: dict) -> None:
    """Schema, institution and two handlers, exactly as an operator makes them."""
    flask_command(["db", "upgrade"], env)
    flask_command(["setup", "--institution", "Comuna Benchmark",
                   "--admin-email", "admin@bench.example"], env,
                  stdin=secrets.token_urlsafe(16) + "\n")
    for email, name in (("ana@bench.example", "Ana Popescu"),
                        ("radu@bench.example", "Radu Ionescu")):
        flask_command(["staff", "add", email, "--name", name, "--role", "handler"], env,
                      stdin=secrets.token_urlsafe(16) + "\n")


# --- one reporter over HTTP --------------------------------------------------------------------

@dataclass
class Outcome:
    ok: bool
    post_seconds: float = 0.0  # POST /report alone: what the reporter waits for after "Send"
    total_seconds: float = 0.0  # GET /report + POST /report
    error: str = ""


def submit_once(base_url: str, number: int, attachment: bytes | None,
                timeout: float) -> Outcome:
    """A new reporter: fresh cookie jar, GET the form for its CSRF token, POST the report."""
    browser = HttpClient(base_url, language=None, timeout=timeout)
    started = time.perf_counter()
    try:
        form = browser.get("/report")
        token = CSRF_RE.search(form.body)
        if form.status != 200:
            return Outcome(False, error=f"HTTP {form.status}")
        if not token:
            return Outcome(False, error="no CSRF token on GET /report")
        fields = {
            "csrf_token": token.group(1), "category": "bribery",
            "what_happened": f"Benchmark report {number}: the clerk asked for money. " * 8,
            "when_where": "Primărie, biroul urbanism", "persons_involved": "", "how_known": "",
            "work_context": "no", "identity_choice": "anonymous", "name": "", "email": "",
            "phone": "", "consent": "y", "website": "",
        }
        files = [("evidence", f"dovada-{number}.pdf", attachment)] if attachment else []
        posted = time.perf_counter()
        reply = browser.post_form("/report", fields, files)
        finished = time.perf_counter()
    except OSError as error:  # timeouts, refused or reset connections
        return Outcome(False, error=type(error).__name__)
    if reply.status != 200:
        return Outcome(False, error=f"HTTP {reply.status}")
    if not RECEIPT_RE.search(reply.body):
        return Outcome(False, error="no receipt in the response")
    return Outcome(True, finished - posted, finished - started)


# --- watching the server -----------------------------------------------------------------------

class ServerWatch:
    """Drains gunicorn's log (a full pipe would block the workers), counts 5xx responses, and
    samples each worker's peak RSS (VmHWM) and CPU time while it lives."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.server_errors = 0
        self.log_tail: collections.deque[str] = collections.deque(maxlen=60)
        self.peak_kib: dict[int, int] = {}
        self.cpu_ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            status = ACCESS_STATUS_RE.search(line)
            if status and status.group(1).startswith("5"):
                self.server_errors += 1
            if not status:
                self.log_tail.append(line)

    def workers(self) -> list[int]:
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        if children.exists():
            return [int(pid) for pid in children.read_text().split()]
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return pids

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
        with self._lock:
            for pid in self.workers():
                self.peak_kib[pid] = max(self.peak_kib.get(pid, 0),
                                         self.status_kib(pid, "VmHWM"))
                ticks = self.ticks(pid)
                if ticks is not None:
                    self.cpu_ticks[pid] = ticks

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def cpu_seconds(self) -> float:
        """CPU time used so far by every worker seen (restarted workers keep their last
        sample, so a worker recycled by max_requests loses at most half a second)."""
        self.sample()
        return sum(self.cpu_ticks.values()) / CLOCK_TICKS

    def stop(self) -> None:
        self.sample()
        self._stop.set()


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0
    return (sum(fields[:8]) - idle - steal) / CLOCK_TICKS


def postgres_seconds(server_url: str | None, database: str | None) -> float:
    """CPU time of the PostgreSQL backends serving the benchmark's database (0 for SQLite, or
    when PostgreSQL runs on another machine). Backends that end during a level are missed."""
    if not database:
        return 0.0
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(server_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    total = 0
    for pid in pids:
        ticks = ServerWatch.ticks(pid)
        total += ticks or 0
    return total / CLOCK_TICKS


# --- a load level ------------------------------------------------------------------------------

@dataclass
class LevelResult:
    concurrency: int
    elapsed: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    database_cpu: float = 0.0
    machine_busy: float = 0.0
    server_errors: int = 0

    @property
    def foreign_cpu(self) -> float:
        """CPU taken by processes outside the benchmark: a noisy machine shows here."""
        return max(0.0, self.machine_busy - self.server_cpu - self.client_cpu
                   - self.database_cpu)


def run_level(base_url: str, concurrency: int, *, duration: float, count: int | None,
              file_ratio: float, attachment: bytes, timeout: float, watch: ServerWatch,
              database: tuple[str | None, str | None] = (None, None)) -> LevelResult:
    result = LevelResult(concurrency)
    lock = threading.Lock()
    issued = 0
    barrier = threading.Barrier(concurrency + 1)
    deadline = 0.0

    def next_number() -> int | None:
        nonlocal issued
        with lock:
            if (count is not None and issued >= count) or (
                    count is None and time.monotonic() >= deadline):
                return None
            issued += 1
            return issued

    def client() -> None:
        barrier.wait()
        while (number := next_number()) is not None:
            # Spread the submissions with a file evenly: `file_ratio` of them carry one.
            with_file = int(number * file_ratio) > int((number - 1) * file_ratio)
            outcome = submit_once(base_url, number, attachment if with_file else None, timeout)
            with lock:
                result.outcomes.append(outcome)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    server_cpu, client_cpu, errors = watch.cpu_seconds(), time.process_time(), watch.server_errors
    database_cpu, machine_busy = postgres_seconds(*database), machine_busy_seconds()
    started = time.monotonic()
    deadline = started + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    result.elapsed = time.monotonic() - started
    result.server_cpu = watch.cpu_seconds() - server_cpu
    result.client_cpu = time.process_time() - client_cpu
    result.server_errors = watch.server_errors - errors
    result.database_cpu = max(0.0, postgres_seconds(*database) - database_cpu)
    result.machine_busy = machine_busy_seconds() - machine_busy
    return result


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def print_level(result: LevelResult, derivation: float) -> None:
    good = [o for o in result.outcomes if o.ok]
    posts = [o.post_seconds * 1000 for o in good]
    totals = [o.total_seconds * 1000 for o in good]
    errors = len(result.outcomes) - len(good)
    rate = len(good) / result.elapsed if result.elapsed else 0.0
    cpu_per = result.server_cpu / len(good) if good else float("nan")
    # Efficiency: submissions per second against what the cores could do if each submission
    # cost one derivation and nothing else (cores / derivation time); "of free" counts only
    # the cores that other processes left.
    cores = os.cpu_count() or 1
    others = result.foreign_cpu / result.elapsed if result.elapsed else 0.0
    efficiency = rate * derivation / cores
    free_efficiency = rate * derivation / max(0.1, cores - others)
    print(f"{result.concurrency:>5} {len(good):>6} {errors:>6} {rate:>8.2f} "
          f"{percentile(posts, 50):>8.0f} {percentile(posts, 95):>8.0f} "
          f"{percentile(posts, 99):>8.0f} {percentile(totals, 50):>9.0f} "
          f"{cpu_per * 1000:>9.0f} {100 * result.client_cpu / result.elapsed:>7.0f}% "
          f"{100 * result.database_cpu / result.elapsed:>6.0f}% "
          f"{100 * result.foreign_cpu / result.elapsed:>7.0f}% {efficiency:>6.0%} "
          f"{free_efficiency:>6.0%}", flush=True)
    kinds = collections.Counter(o.error for o in result.outcomes if not o.ok)
    if kinds:
        print("        errors: " + ", ".join(f"{kind} ×{n}" for kind, n in kinds.items()))


# --- Argon2id alone ----------------------------------------------------------------------------

def parse_kdf_sets(text: str) -> list[kdf.KdfParams]:
    sets = []
    for item in text.split(","):
        memory, _, iterations = item.partition(":")
        sets.append(kdf.KdfParams(int(memory), int(iterations or 1), 1))
    return sets


def time_kdf(params: kdf.KdfParams, runs: int) -> tuple[float, float, float, float]:
    """Median, min and max wall seconds of one receipt derivation (Argon2id + HKDF), and the
    median CPU seconds of this thread (what the run costs when the machine is busy)."""
    salt = os.urandom(16)
    receipt = f"{secrets.randbelow(10**16):016d}"
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        kdf.derive(receipt, salt, params, purpose="receipt")
        times.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def print_kdf_table(sets: list[kdf.KdfParams], runs: int) -> None:
    default = kdf.KdfParams(Config.KDF_MEMORY_KIB, Config.KDF_ITERATIONS, Config.KDF_LANES)
    print(f"\nOne receipt derivation alone (Argon2id, p=1: one thread, so one core; median of "
          f"{runs}; the server is not running yet). CPU s: this thread's CPU time (median); others: CPU "
          f"used meanwhile by other processes on the machine, in cores (noisy above ~10%)")
    print(f"{'parameters':<28} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>7} "
          f"{'others':>7}")
    if default not in sets:
        sets = [*sets, default]
    for params in sets:
        busy = machine_busy_seconds()
        started = time.monotonic()
        median, low, high, cpu = time_kdf(params, runs)
        elapsed = time.monotonic() - started
        others = max(0.0, machine_busy_seconds() - busy - elapsed) / elapsed
        mark = "  <- production default (config.py)" if params == default else ""
        print(f"{params.encode():<28} {median:>9.3f} {low:>7.3f} {high:>7.3f} {cpu:>7.3f} "
              f"{others:>6.0%}{mark}", flush=True)


# --- main --------------------------------------------------------------------------------------

def machine_description() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"nproc={os.cpu_count()}, CPU: {model}{memory}, Python {sys.version.split()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432",
                        help="server where a fresh database is created (and dropped)")
    parser.add_argument("--duration", type=float, default=20.0,
                        help="seconds per concurrency level (ignored with --count)")
    parser.add_argument("--count", type=int, help="submissions per level instead of a duration")
    parser.add_argument("--levels", default="1,4,16", help="concurrent clients per level")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn workers (default: the gunicorn.conf.py default, cores)")
    parser.add_argument("--worker-class", default="gthread", help="gthread (default) or sync")
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
    parser.add_argument("--kdf-threads", type=int,
                        help="derivation threads per worker, 0: in the request's thread "
                             "(default: gunicorn.conf.py's, cores / workers)")
    parser.add_argument("--kdf-nice", type=int, help="nice of the derivation threads (5)")
    parser.add_argument("--file-ratio", type=float, default=0.5,
                        help="share of submissions that carry a file (0 to 1)")
    parser.add_argument("--file-kb", type=int, default=200, help="size of that file")
    parser.add_argument("--server-kdf", metavar="MEMORY_KIB:ITERATIONS",
                        help="Argon2id parameters for the server (default: config.py)")
    parser.add_argument("--kdf-sets", default=DEFAULT_KDF_SETS,
                        help="MEMORY_KIB:ITERATIONS,... to time alone (p=1)")
    parser.add_argument("--kdf-runs", type=int, default=10)
    parser.add_argument("--no-kdf", action="store_true", help="skip the Argon2id timings")
    parser.add_argument("--no-load", action="store_true", help="only the Argon2id timings")
    parser.add_argument("--timeout", type=float, default=120.0, help="per HTTP request")
    parser.add_argument("--keep", action="store_true", help="keep the database and uploads")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]

    print(f"Machine: {machine_description()}")
    print(f"Load average before the run: {Path('/proc/loadavg').read_text().split()[:3]}")
    if not args.no_kdf:
        # First, while nothing else runs: these are the figures the default is chosen by.
        print_kdf_table(parse_kdf_sets(args.kdf_sets), args.kdf_runs)
    if args.no_load:
        return

    workdir = Path(tempfile.mkdtemp(prefix="avertizor-bench-"))
    uploads = workdir / "uploads"
    uploads.mkdir()
    pg_name = None
    if args.database == "postgres":
        database_url, pg_name = create_postgres_database(args.postgres_url, "avertizor_bench")
    else:
        database_url = f"sqlite:///{workdir / 'bench.db'}"
    env = {
        **os.environ,
        "AVERTIZOR_ENV": "production",
        "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": str(uploads),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SESSION_COOKIE_SECURE": "0",  # plain http on 127.0.0.1
        # Every client comes from 127.0.0.1: the real limit (10 per hour) would stop the run.
        "RATELIMIT_SUBMIT": "1000000 per hour",
    }
    if args.server_kdf:
        memory, _, iterations = args.server_kdf.partition(":")
        env["KDF_MEMORY_KIB"], env["KDF_ITERATIONS"] = memory, iterations or "1"
    env["GUNICORN_WORKER_CLASS"], env["GUNICORN_THREADS"] = args.worker_class, str(args.threads)
    for name, value in (("KDF_THREADS", args.kdf_threads), ("KDF_NICE", args.kdf_nice)):
        if value is not None:
            env[name] = str(value)
    server_params = kdf.KdfParams(int(env.get("KDF_MEMORY_KIB", Config.KDF_MEMORY_KIB)),
                                  int(env.get("KDF_ITERATIONS", Config.KDF_ITERATIONS)),
                                  Config.KDF_LANES)
    server_kdf = server_params.encode()
    derivation = time_kdf(server_params, 7)[0]
    print(f"One derivation at the server's parameters, here, before the load: "
          f"{derivation:.3f} s (median of 7): at most {(os.cpu_count() or 1) / derivation:.2f} "
          f"submissions per second on {os.cpu_count()} cores")
    attachment = os.urandom(args.file_kb * 1024)  # incompressible, like a scanned PDF

    try:
        set_up_portal(env)
        with gunicorn_server(database_url, str(uploads), workers=args.workers,
                             environment="production", extra_env=env) as (base_url, process):
            watch = ServerWatch(process)
            threads = f" × {args.threads} threads" if args.worker_class == "gthread" else ""
            print(f"\nSubmissions over HTTP: {args.database}, {args.workers} gunicorn "
                  f"{args.worker_class} workers{threads}, KDF_THREADS "
                  f"{env.get('KDF_THREADS', 'default')}, KDF_NICE {env.get('KDF_NICE', 'default')}"
                  f", server KDF {server_kdf}, {args.file_ratio:.0%} with a "
                  f"{args.file_kb} KB file, "
                  + (f"{args.count} per level" if args.count else f"{args.duration:g} s per level"))
            # Warm-up (not counted): every worker imports, connects and compiles templates.
            run_level(base_url, args.workers, duration=0, count=2 * args.workers,
                      file_ratio=args.file_ratio, attachment=attachment, timeout=args.timeout,
                      watch=watch)
            print(f"{'conc':>5} {'ok':>6} {'errors':>6} {'subs/s':>8} {'p50 ms':>8} "
                  f"{'p95 ms':>8} {'p99 ms':>8} {'GET+POST':>9} {'srv CPU':>9} {'client':>8} "
                  f"{'db':>7} {'others':>8} {'eff':>6} {'eff of':>6}")
            print(f"{'':>5} {'':>6} {'':>6} {'':>8} {'POST':>8} {'POST':>8} {'POST':>8} "
                  f"{'p50 ms':>9} {'ms/sub':>9} {'CPU':>8} {'CPU':>7} {'CPU':>8} {'':>6} "
                  f"{'free':>6}")
            server_errors = 0
            for concurrency in levels:
                result = run_level(base_url, concurrency, duration=args.duration,
                                   count=args.count, file_ratio=args.file_ratio,
                                   attachment=attachment, timeout=args.timeout, watch=watch,
                                   database=(args.postgres_url, pg_name))
                print_level(result, derivation)
                server_errors += result.server_errors
            watch.stop()
            peaks = sorted(watch.peak_kib.values(), reverse=True)
            master_kib = watch.status_kib(process.pid, "VmHWM")
            print(f"\nHTTP 5xx in the server log: {server_errors}")
            print(f"Peak RSS (VmHWM) of the gunicorn workers: max {peaks[0] / 1024:.0f} MiB, "
                  f"sum {sum(peaks) / 1024:.0f} MiB over {len(peaks)} worker processes "
                  f"(master {master_kib / 1024:.0f} MiB)")
            if server_errors:
                print("--- last lines of the server log ---")
                print("".join(watch.log_tail))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if pg_name:
                drop_postgres_database(args.postgres_url, pg_name)
        else:
            print(f"Kept: {database_url} and {uploads}")


if __name__ == "__main__":
    main()
