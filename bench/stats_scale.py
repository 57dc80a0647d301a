"""Indicators at scale: 1,000,000 cases' metadata over 5 years and 20 institutions on
PostgreSQL, then the coordinator's dashboard, the open-data CSV export and the public
transparency page for one institution, timed.

    .venv/bin/python bench/stats_scale.py [--cases 1000000] [--runs 20] [--keep]

Prints p50/p95 per operation, the time of each query of one dashboard, and EXPLAIN ANALYZE
of the heaviest. Needs the local PostgreSQL (127.0.0.1:5432, user postgres); it creates its
own database and drops it at the end (unless --keep). Nothing is encrypted: the statistics
never read content, so content is a few random bytes. Rows go in with COPY (psycopg's
cursor.copy), with each case's closing event and staff messages, so the compliance
subqueries have the tables they read in production.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INSTITUTIONS = 20
YEARS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = f"avz_stats_bench_{os.getpid()}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    os.environ.update(AVERTIZOR_ENV="testing", TEST_DATABASE_URL=url)
    try:
        run(url, args.cases, args.runs)
    finally:
        if args.keep:
            print(f"\nkept database {name}")
        else:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name],
                           check=False)


def percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * .95))]


# --- filling ---------------------------------------------------------------------------------------

def fill(connection, institutions: list[int], staff: dict[int, int], count: int) -> None:
    """`count` cases spread evenly over the institutions and the last five years, with their
    legal deadlines as app.services.casework.deadlines computes them, closing events and messages."""
    from app.models import Category, Channel, DeadlineKind, Outcome, Platform, Regime, Status
    from app.services.casework import deadlines

    rng = random.Random(7)
    now = datetime.now(UTC).replace(tzinfo=None)
    span = int(YEARS * 365.25 * 24 * 3600)
    channels = [c.value for c in Channel]
    channel_weights = [40, 15, 12, 8, 6, 10, 6, 3]
    platforms = [p.value for p in Platform]
    categories = [c.value for c in Category]
    closing_outcomes = [o.value for o in Outcome if o is not Outcome.FORWARDED]
    open_statuses = [Status.RECEIVED.value, Status.ACKNOWLEDGED.value,
                     Status.ASSESSMENT.value, Status.INVESTIGATION.value]
    blobs = [os.urandom(64) for _ in range(16)]
    counters = {}
    case_columns = ("id", "uuid", "institution_id", "reference", "channel", "platform",
                    "category", "work_context", "regime", "status", "outcome", "anonymous",
                    "language", "received_at", "acknowledge_due_at", "acknowledged_at",
                    "feedback_due_at", "answer_due_at", "extended_at", "forward_due_at",
                    "forwarded_to", "forwarded_at", "next_deadline_at", "next_deadline_kind",
                    "closed_at", "updated_at", "recorded_by_staff_id", "content")
    event_columns = ("case_id", "institution_id", "kind", "actor_staff_id", "at")
    message_columns = ("uuid", "institution_id", "case_id", "author", "staff_id", "body",
                       "created_at")
    events, messages = [], []
    with connection.cursor() as cursor:
        with cursor.copy(f'COPY "case" ({", ".join(case_columns)}) FROM STDIN') as copy:
            for case_id in range(1, count + 1):
                institution = institutions[case_id % len(institutions)]
                received = now - timedelta(seconds=rng.randrange(span))
                channel = rng.choices(channels, channel_weights)[0]
                platform = rng.choice(platforms) if channel == "social_media" else None
                regime = rng.choices([None, Regime.WHISTLEBLOWER, Regime.PETITION,
                                      Regime.FORWARDED], [10, 40, 45, 5])[0]
                age = (now - received).days
                acknowledged = extended = closed = forwarded = None
                if regime in (None, Regime.WHISTLEBLOWER) and rng.random() < .85:
                    acknowledged = received + timedelta(hours=rng.randrange(0, 12 * 24))
                if regime is Regime.PETITION and rng.random() < .2:
                    extended = received + timedelta(days=rng.randrange(10, 26))
                finished = rng.random() < (.92 if age > 120 else .3)
                if regime is not None and finished:
                    days = {Regime.PETITION: (5, 50), Regime.WHISTLEBLOWER: (10, 120),
                            Regime.FORWARDED: (1, 8)}[regime]
                    closed = received + timedelta(days=rng.uniform(*days))
                    if regime is Regime.WHISTLEBLOWER and acknowledged and closed < acknowledged:
                        closed = acknowledged + timedelta(days=1)
                if closed is not None and closed > now:
                    closed = None
                if acknowledged is not None and acknowledged > now:
                    acknowledged = None
                if extended is not None and (extended > now or (closed and extended > closed)):
                    extended = None
                if regime is Regime.FORWARDED and closed is not None:
                    forwarded = closed
                status = Status.CLOSED.value if closed else (
                    Status.ACKNOWLEDGED.value if acknowledged else rng.choice(open_statuses[:1]
                                                                              + open_statuses[2:]
                                                                              if regime else
                                                                              open_statuses[:1]))
                outcome = None if not closed else (
                    Outcome.FORWARDED.value if regime is Regime.FORWARDED
                    else rng.choice(closing_outcomes))
                acknowledge_due = deadlines.acknowledge_due(received)
                feedback_due = deadlines.feedback_due(received, acknowledged) \
                    if regime in (None, Regime.WHISTLEBLOWER) else None
                answer_due = deadlines.answer_due(received, extended is not None) \
                    if regime is Regime.PETITION else None
                forward_due = deadlines.forward_due(received) \
                    if regime is Regime.FORWARDED else None
                if closed:
                    kind, due = None, None
                elif regime is Regime.PETITION:
                    kind, due = DeadlineKind.ANSWER, answer_due
                elif regime is Regime.FORWARDED:
                    kind, due = DeadlineKind.FORWARD, forward_due
                elif acknowledged is None:
                    kind, due = DeadlineKind.ACKNOWLEDGE, acknowledge_due
                else:
                    kind, due = DeadlineKind.FEEDBACK, feedback_due
                key = (institution, received.year)
                counters[key] = counters.get(key, 0) + 1
                recorder = None if channel == "web" else staff[institution]
                copy.write_row((
                    case_id, str(uuid.UUID(int=rng.getrandbits(128))), institution,
                    f"SES-{received.year}-{counters[key]:06d}", channel, platform,
                    rng.choice(categories), rng.random() < .3,
                    regime.value if regime else None, status, outcome, rng.random() < .6, "ro",
                    received, acknowledge_due, acknowledged, feedback_due, answer_due, extended,
                    forward_due, "DNA" if forwarded else None, forwarded, due, kind, closed,
                    closed or acknowledged or received, recorder, rng.choice(blobs)))
                handler = staff[institution]
                if acknowledged:
                    messages.append((acknowledged - timedelta(milliseconds=1), case_id,
                                     institution, handler))
                    events.append((case_id, institution, "acknowledged", handler, acknowledged))
                if closed:
                    messages.append((closed, case_id, institution, handler))
                    events.append((case_id, institution,
                                   "forwarded" if regime is Regime.FORWARDED else "closed",
                                   handler, closed))
        with cursor.copy(f"COPY case_event ({', '.join(event_columns)}) FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        with cursor.copy(f"COPY message ({', '.join(message_columns)}) FROM STDIN") as copy:
            for at, case_id, institution, handler in messages:
                copy.write_row((str(uuid.UUID(int=rng.getrandbits(128))), institution, case_id,
                                "staff", handler, blobs[0], at))
        cursor.execute("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), %s)", (count,))
    connection.commit()
    print(f"  {len(events):,} case events and {len(messages):,} messages")


def fill_outreach(connection, institutions: list[int]) -> None:
    rng = random.Random(11)
    today = datetime.now(UTC).date()
    with connection.cursor() as cursor:
        with cursor.copy("COPY outreach_item (institution_id, kind, platform, published_on, "
                         "title, audience, participants, created_at, updated_at) "
                         "FROM STDIN") as copy:
            for institution in institutions:
                for _ in range(YEARS * 60):
                    day = today - timedelta(days=rng.randrange(YEARS * 365))
                    activity = rng.random() < .15
                    copy.write_row((institution, "activity" if activity else "post",
                                    rng.choice(["facebook", "instagram", "website",
                                                "public_meeting"]), day, "Mesaj preventiv",
                                    None if activity else rng.randrange(50, 2000),
                                    rng.randrange(5, 80) if activity else None,
                                    datetime.now(UTC), datetime.now(UTC)))
    connection.commit()


# --- measuring ---------------------------------------------------------------------------------------

class QueryClock:
    """Times every statement, to find the heaviest query of one dashboard."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.event = engine, event
        self.timings: list[tuple[float, str, object]] = []

    def __enter__(self):
        self.event.listen(self.engine, "before_cursor_execute", self._before)
        self.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        self.event.remove(self.engine, "before_cursor_execute", self._before)
        self.event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["query_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info.pop("query_started")
        self.timings.append((elapsed * 1000, statement, parameters))


def timed(label: str, action, runs: int, rollback) -> None:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
        rollback()
    p50, p95 = percentiles(timings)
    print(f"{label:58} {p50:9.1f} {p95:9.1f}")


def run(url: str, count: int, runs: int) -> None:
    import flask_migrate
    from sqlalchemy import text

    from app import create_app
    from app.crypto.kdf import KdfParams
    from app.extensions import db
    from app.models import Role
    from app.services.indicators import compute as stats
    from app.services.indicators import exports
    from app.services.indicators.periods import Period, local_today
    from app.services.indicators.transparency import public_years
    from app.services.operations.institutions import create_institution
    from app.services.staff.members import add_staff
    from config import TestingConfig

    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        flask_migrate.upgrade()
        institutions, staff = [], {}
        for n in range(INSTITUTIONS):
            institution, _ = create_institution(f"Comuna {n + 1:02d}")
            member = add_staff(institution, email=f"coordonator{n}@example.org",
                               name="Coordonator", roles=[Role.COORDINATOR, Role.HANDLER],
                               password="bench password 123",
                               kdf_params=KdfParams.from_config(app.config))
            institutions.append(institution.id)
            staff[institution.id] = member.id
        db.session.commit()

        started = time.perf_counter()
        raw = db.engine.raw_connection()
        try:
            fill(raw.driver_connection, institutions, staff, count)
            fill_outreach(raw.driver_connection, institutions)
        finally:
            raw.close()
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(f"filled {count:,} cases for {INSTITUTIONS} institutions over {YEARS} years in "
              f"{time.perf_counter() - started:.1f} s")

        from app.models import Institution, StaffMember

        institution = db.session.get(Institution, institutions[0])
        coordinator = db.session.get(StaffMember, staff[institution.id])
        year = local_today().year - 1
        per_year = db.session.scalar(text(
            "SELECT count(*) FROM \"case\" WHERE institution_id = :i AND received_at >= :a "
            "AND received_at < :b"), {"i": institution.id, "a": Period.year(year).start_utc,
                                      "b": Period.year(year).end_utc})
        print(f"institution {institution.id}, year {year}: {per_year:,} cases")

        def measure(title: str) -> None:
            rollback = db.session.rollback
            print(f"\n== {title}\n{'operation':58} {'p50 ms':>9} {'p95 ms':>9}")
            timed(f"dashboard, year {year}",
                  lambda: stats.dashboard(coordinator, Period.year(year)), runs, rollback)
            timed(f"dashboard, quarter {year}-Q2",
                  lambda: stats.dashboard(coordinator, Period.quarter(year, 2)), runs, rollback)
            timed("dashboard, all five years (custom range)",
                  lambda: stats.dashboard(coordinator, Period.between(
                      Period.year(year - 4).first_day, Period.year(year).last_day)),
                  max(3, runs // 4), rollback)
            timed(f"open-data CSV export, year {year} (audited, rolled back)",
                  lambda: exports.export(institution, Period.year(year), "csv",
                                         actor=coordinator), runs, rollback)
            timed("public /transparency data, every completed year (uncached)",
                  lambda: [exports.public_indicators(institution, Period.year(y))
                           for y in public_years(institution)], max(3, runs // 4), rollback)
            with QueryClock(db.engine) as clock:
                stats.dashboard(coordinator, Period.year(year))
            rollback()
            print(f"queries of one dashboard ({len(clock.timings)}):")
            for elapsed, statement, _ in sorted(clock.timings, reverse=True):
                print(f"  {elapsed:8.1f} ms  {' '.join(statement.split())[:90]}")
            _, statement, parameters = max(clock.timings, key=lambda item: item[0])
            with db.engine.connect() as connection:
                plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                                  parameters).scalars().all()
            print("EXPLAIN ANALYZE of the heaviest query:\n  " + "\n  ".join(plan))

        measure("with the indexes of the schema (ix_case_institution_received, _status, "
                "_deadline)")
        for stage in PROPOSED_INDEXES:
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql(stage)
                connection.exec_driver_sql('VACUUM ANALYZE "case"')
            measure(f"adding: {stage}")


# What the statistics would add to the schema, measured one after the other (see the closing
# note of issue 4). Feedback is found by its due date, which no received_at range bounds (the
# acknowledgement may be late), so without an index on it every case of the institution is
# read. The covering index lets the received-in-period pass and the acknowledgement and answer
# clocks read the index alone instead of one heap page per case (PostgreSQL only: INCLUDE).
PROPOSED_INDEXES = (
    'CREATE INDEX ix_case_institution_feedback_due ON "case" (institution_id, feedback_due_at) '
    "INCLUDE (regime, received_at, acknowledged_at, id)",
    'CREATE INDEX ix_case_stats ON "case" (institution_id, received_at) INCLUDE (id, channel, '
    "platform, category, regime, status, outcome, anonymous, recorded_by_staff_id, "
    "acknowledge_due_at, acknowledged_at, answer_due_at, extended_at)",
)


if __name__ == "__main__":
    main()
