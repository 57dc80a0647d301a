"""A country on one portal: 3,200 institutions, 10,000,000 cases over 5 years, 20,000 staff on
PostgreSQL, then the indicators' and the inbox's queries at that size, timed.

    .venv/bin/python bench/scale.py [--cases 1000000] [--institutions 3200] [--staff 20000]
                                    [--runs 20] [--keep | --database NAME]

Measures p50/p95 of one institution's dashboard for a year (the largest town and a median
commune), a county of 100 institutions (group_indicators and its public figures), the whole
country for a year, the inbox query of a designated person serving 20 communes, and the
worker's memory (RSS) after the country computation. Prints the heaviest query's plan.

The skew is Zipf's law over institutions (weight 1/rank, as town sizes go): the largest town
gets about 12 % of all cases, the median commune a few hundred over five years. One county
holds exactly 100 institutions. Only the metadata columns the indicators and the inbox read
are filled, with COPY (psycopg 3) from numpy-generated columns; the encrypted content is 16
random bytes, and the deadlines follow services/casework/deadlines.py's rules (7 days,
3 months, 30 + 15 days, 5 days) computed in numpy; the secondary indexes of the case and
event tables are dropped for the COPY and built once after it. The database is made by
tests/support/scratch_database.py and dropped at the end unless --keep; --database NAME
measures an existing filled database again (no fill).
"""
import argparse
import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
YEARS = 5
COUNTIES = 42
CHUNK = 250_000
DAY = 86_400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--institutions", type=int, default=3_200)
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure this already filled database (no fill)")
    args = parser.parse_args()

    from tests.support.scratch_database import create_postgres_database, drop_postgres_database

    if args.database:
        url = SERVER.rsplit("/", 1)[0] + f"/{args.database}"
        name, fill_it = args.database, False
    else:
        url, name = create_postgres_database(SERVER, "avz_scale_bench")
        fill_it = True
    os.environ.update(AVERTIZOR_ENV="testing", TEST_DATABASE_URL=url)
    try:
        run(url, args, fill_it)
    finally:
        if args.keep or args.database:
            print(f"\nkept database {name}")
        else:
            drop_postgres_database(SERVER, name)


def percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * .95))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- filling ---------------------------------------------------------------------------------

def _stamp(seconds: np.ndarray, valid: np.ndarray | None = None) -> list[str]:
    """Epoch seconds as COPY text timestamps (naive UTC, as UTCDateTime stores them)."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").astype(object)
    if valid is not None:
        text[~valid] = r"\N"
    return text.tolist()


def fill_institutions(cursor, count: int, rng) -> tuple[list[int], dict[int, str]]:
    """`count` institutions in COUNTIES counties; the first county holds exactly 100."""
    counties = {}
    rest = count - 100
    per_county = [100] + [rest // (COUNTIES - 1) + (1 if i < rest % (COUNTIES - 1) else 0)
                          for i in range(COUNTIES - 1)]
    ids = []
    with cursor.copy("COPY institution (id, name, slug, recovery_public_key, receipt_salt, "
                     "identity_policy, retention_years, acknowledge_reminder_days, "
                     "answer_reminder_days, disabled_categories, siruta_code, cui, county, "
                     "created_at) FROM STDIN") as copy:
        n = 0
        for county_index, size in enumerate(per_county):
            county = f"Județul {county_index + 1:02d}"
            for _ in range(size):
                n += 1
                ids.append(n)
                counties[n] = county
                copy.write_row((n, f"Comuna {n:04d}", f"comuna-{n:04d}", os.urandom(32),
                                os.urandom(16), "direct", 5, 2, 14, "", f"{100000 + n}",
                                f"{4000000 + n}", county, datetime.now(UTC)))
    cursor.execute("SELECT setval(pg_get_serial_sequence('institution', 'id'), %s)", (n,))
    return ids, counties


def fill_staff(cursor, institutions: list[int], count: int) -> dict[int, int]:
    """`count` staff spread over the institutions; returns one handler id per institution."""
    first = {}
    with cursor.copy("COPY staff_member (id, institution_id, email, name, roles, active, "
                     "password_salt, password_kdf, password_verifier, public_key, "
                     "wrapped_private_key, failed_logins, created_at, confirmed_at) "
                     "FROM STDIN") as copy:
        now = datetime.now(UTC)
        for n in range(1, count + 1):
            institution = institutions[(n - 1) % len(institutions)]
            first.setdefault(institution, n)
            copy.write_row((n, institution, f"persoana{n}@example.org", f"Persoana {n}",
                            "handler,coordinator", True, os.urandom(16), "argon2id$bench",
                            os.urandom(32), os.urandom(32), os.urandom(48), 0, now, now))
    cursor.execute("SELECT setval(pg_get_serial_sequence('staff_member', 'id'), %s)", (count,))
    return first


def institution_weights(count: int, rng) -> np.ndarray:
    """Zipf (1/rank) over a shuffled order, so that big towns are spread over counties."""
    ranks = rng.permutation(count) + 1
    weights = 1.0 / ranks
    return weights / weights.sum()


def fill_cases(cursor, institutions: list[int], weights: np.ndarray, staff: dict[int, int],
               count: int, rng) -> int:
    now = int(datetime.now(UTC).timestamp())
    span = int(YEARS * 365.25 * DAY)
    channels = np.array(["web", "email", "phone", "in_person", "post", "social_media", "box",
                         "other"], dtype=object)
    channel_p = np.array([40, 15, 12, 8, 6, 10, 6, 3]) / 100
    platforms = np.array(["facebook", "instagram", "x", "youtube", "tiktok", "other"],
                         dtype=object)
    categories = np.array(["bribery", "conflict_of_interest", "abuse_of_office",
                           "public_procurement", "misuse_of_funds", "favouritism_in_hiring",
                           "incompatibility", "other"], dtype=object)
    outcomes = np.array(["substantiated", "partially_substantiated", "unsubstantiated",
                         "dismissed"], dtype=object)
    regimes = np.array([r"\N", "whistleblower", "petition", "forwarded"], dtype=object)
    ids_array = np.array(institutions)
    handler = np.array([staff[i] for i in institutions])
    events = 0
    columns = ("id", "uuid", "institution_id", "reference", "channel", "platform", "category",
               "work_context", "regime", "status", "outcome", "anonymous", "language",
               "received_at", "acknowledge_due_at", "acknowledged_at", "feedback_due_at",
               "feedback_given_at", "answer_due_at", "extended_at", "forward_due_at",
               "forwarded_at", "next_deadline_at", "next_deadline_kind", "closed_at",
               "updated_at", "recorded_by_staff_id", "meeting_requested", "content")
    blob = "\\\\x" + os.urandom(16).hex()
    with cursor.copy(f'COPY "case" ({", ".join(columns)}) FROM STDIN') as case_copy:
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            ids = np.arange(start + 1, start + n + 1)
            which = rng.choice(len(institutions), size=n, p=weights)
            institution = ids_array[which]
            received = now - rng.integers(0, span, size=n)
            channel = rng.choice(len(channels), size=n, p=channel_p)
            social = channel == 5
            regime = rng.choice(4, size=n, p=[.10, .40, .45, .05])
            law = (regime == 0) | (regime == 1)
            petition, forwarded_regime = regime == 2, regime == 3
            acknowledged = received + rng.integers(0, 12 * DAY, size=n)
            has_ack = law & (rng.random(n) < .85) & (acknowledged <= now)
            extended = received + rng.integers(10 * DAY, 26 * DAY, size=n)
            age = now - received
            finished = (regime != 0) & (rng.random(n) < np.where(age > 120 * DAY, .92, .3))
            low = np.select([petition, regime == 1, forwarded_regime], [5, 10, 1], 1) * DAY
            high = np.select([petition, regime == 1, forwarded_regime], [50, 120, 8], 8) * DAY
            closed = received + (low + rng.random(n) * (high - low)).astype(np.int64)
            closed = np.where(has_ack & (closed < acknowledged), acknowledged + DAY, closed)
            has_closed = finished & (closed <= now)
            has_ext = petition & (rng.random(n) < .2) & (extended <= now) & \
                (~has_closed | (extended <= closed))
            acknowledge_due = received + 7 * DAY
            feedback_due = np.where(has_ack, acknowledged, acknowledge_due) + 91 * DAY
            answer_due = received + 30 * DAY + np.where(has_ext, 15 * DAY, 0)
            forward_due = received + 5 * DAY
            open_kind = np.select([petition, forwarded_regime, ~has_ack],
                                  ["answer", "forward", "acknowledge"], "feedback")
            open_due = np.select([petition, forwarded_regime, ~has_ack],
                                 [answer_due, forward_due, acknowledge_due], feedback_due)
            status = np.where(has_closed, "closed", np.where(has_ack, "acknowledged",
                                                             "received")).tolist()
            outcome = np.where(has_closed, np.where(forwarded_regime, "forwarded",
                                                    outcomes[rng.integers(0, 4, size=n)]),
                               r"\N").tolist()
            kind = np.where(has_closed, r"\N", open_kind).tolist()
            platform = np.where(social, platforms[rng.integers(0, 6, size=n)], r"\N").tolist()
            recorder = np.where(channel == 0, r"\N", handler[which].astype(str)).tolist()
            text_columns = [
                _stamp(received), _stamp(acknowledge_due), _stamp(acknowledged, has_ack),
                _stamp(feedback_due, law), _stamp(closed, has_closed & law),
                _stamp(answer_due, petition), _stamp(extended, has_ext),
                _stamp(forward_due, forwarded_regime),
                _stamp(closed, has_closed & forwarded_regime),
                _stamp(open_due, ~has_closed), _stamp(closed, has_closed),
                _stamp(np.where(has_closed, closed, received))]
            years = received.astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970
            lines = []
            channel_names = channels[channel].tolist()
            category = categories[rng.integers(0, 8, size=n)].tolist()
            regime_names = regimes[regime].tolist()
            work = np.where(rng.random(n) < .3, "t", "f").tolist()
            anonymous = np.where(rng.random(n) < .6, "t", "f").tolist()
            for k, case_id in enumerate(ids.tolist()):
                (rec, ack_due, ack, fb_due, fb_given, ans_due, ext, fwd_due, fwd, nxt, clo,
                 upd) = (column[k] for column in text_columns)
                lines.append(
                    f"{case_id}\t00000000-0000-4000-8000-{case_id:012x}\t{institution[k]}\t"
                    f"SES-{years[k]}-{case_id}\t{channel_names[k]}\t{platform[k]}\t"
                    f"{category[k]}\t{work[k]}\t{regime_names[k]}\t{status[k]}\t{outcome[k]}\t"
                    f"{anonymous[k]}\tro\t{rec}\t{ack_due}\t{ack}\t{fb_due}\t{fb_given}\t"
                    f"{ans_due}\t{ext}\t{fwd_due}\t{fwd}\t{nxt}\t{kind[k]}\t{clo}\t{upd}\t"
                    f"{recorder[k]}\tf\t{blob}\n")
            case_copy.write("".join(lines))
            closing = np.flatnonzero(has_closed)
            events += len(closing)
            _pending_events.append((ids[closing], institution[closing],
                                    np.where(forwarded_regime[closing], "forwarded", "closed"),
                                    handler[which[closing]], closed[closing]))
            print(f"  {start + n:,} cases", end="\r", flush=True)
    with cursor.copy("COPY case_event (case_id, institution_id, kind, actor_staff_id, at) "
                     "FROM STDIN") as copy:
        for case_ids, institution_ids, kinds, actors, ats in _pending_events:
            stamps = _stamp(ats)
            copy.write("".join(
                f"{c}\t{i}\t{k}\t{a}\t{s}\n" for c, i, k, a, s in zip(
                    case_ids.tolist(), institution_ids.tolist(), kinds.tolist(),
                    actors.tolist(), stamps, strict=True)))
    _pending_events.clear()
    cursor.execute("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), %s)", (count,))
    return events


_pending_events: list = []


def fill_outreach(cursor, institutions: list[int], weights: np.ndarray, rng) -> None:
    """Preventive posts: big towns post often, a third of communes never (measure 2.2)."""
    today = datetime.now(UTC).date()
    with cursor.copy("COPY outreach_item (institution_id, kind, platform, published_on, "
                     "title, audience, participants, created_at, updated_at) "
                     "FROM STDIN") as copy:
        for institution, weight in zip(institutions, weights, strict=True):
            if rng.random() < .33:
                continue
            for _ in range(int(5 + weight * 20_000)):
                day = today - timedelta(days=int(rng.integers(0, YEARS * 365)))
                activity = rng.random() < .15
                copy.write_row((institution, "activity" if activity else "post",
                                "facebook" if rng.random() < .6 else "website", day,
                                "Mesaj preventiv", None if activity else 100,
                                20 if activity else None, datetime.now(UTC),
                                datetime.now(UTC)))


def fill(url: str, args, rng) -> None:
    import psycopg

    started = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # Indexes are built once at the end: faster than keeping them during COPY.
        indexes = cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename IN ('case', "
            "'case_event') AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)").fetchall()
        for index_name, _ in indexes:
            cursor.execute(f'DROP INDEX "{index_name}"')
        # So are foreign keys and unique constraints: checked once, in bulk, when re-added,
        # instead of three trigger calls per row.
        constraints = cursor.execute(
            "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid IN ('\"case\"'::regclass, "
            "'case_event'::regclass) AND contype IN ('f', 'u')").fetchall()
        for constraint, table, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
        institutions, _ = fill_institutions(cursor, args.institutions, rng)
        staff = fill_staff(cursor, institutions, args.staff)
        weights = institution_weights(len(institutions), rng)
        events = fill_cases(cursor, institutions, weights, staff, args.cases, rng)
        fill_outreach(cursor, institutions, weights, rng)
        connection.commit()
        copied = time.perf_counter() - started
        for _, definition in indexes:
            cursor.execute(definition)
        for constraint, table, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {definition}')
        connection.commit()
        print(f"filled {args.cases:,} cases, {events:,} closing events, "
              f"{len(institutions):,} institutions, {args.staff:,} staff in "
              f"{time.perf_counter() - started:.0f} s (COPY {copied:.0f} s, "
              f"indexes and constraints {time.perf_counter() - started - copied:.0f} s)")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        size = connection.execute("SELECT pg_size_pretty(pg_database_size(current_database()))"
                                  ).fetchone()
        print(f"database size {size[0] if size else '?'}")


# --- measuring -------------------------------------------------------------------------------

def timed(label: str, action, runs: int, rollback) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
        rollback()
    p50, p95 = percentiles(timings)
    print(f"{label:64} {p50:9.1f} {p95:9.1f}", flush=True)
    return p50, p95


def designate(connection, staff_id: int, institution_ids: list[int]) -> int:
    """Key wraps of one designated person for every case of 20 communes (their inbox)."""
    from sqlalchemy import text

    result = connection.execute(text(
        "INSERT INTO key_wrap (institution_id, case_id, staff_id, kind, sealed_key, created_at) "
        "SELECT institution_id, id, :staff, 'case', '\\x00'::bytea, received_at FROM \"case\" "
        "WHERE institution_id = ANY(:ids) AND NOT EXISTS (SELECT 1 FROM key_wrap w WHERE "
        "w.case_id = \"case\".id AND w.staff_id = :staff)"),
        {"staff": staff_id, "ids": institution_ids})
    connection.execute(text("ANALYZE key_wrap"))
    return result.rowcount


def inbox_statement(staff_id: int, institution_ids: list[int]):
    """The inbox's page query (casework/inbox.py page_query) for a person serving several
    institutions: institution_id IN (…) instead of one institution."""
    from sqlalchemy import and_, exists, select

    from app.models import Case, KeyKind, KeyWrap

    holds_key = exists().where(and_(KeyWrap.case_id == Case.id, KeyWrap.staff_id == staff_id,
                                    KeyWrap.kind == KeyKind.CASE))
    return (select(Case.id, Case.reference, Case.status, Case.next_deadline_at)
            .where(Case.institution_id.in_(institution_ids), holds_key)
            .order_by(Case.next_deadline_at.asc().nulls_last(), Case.id).limit(50))


def inbox_per_institution(staff_id: int, institution_ids: list[int], page: int = 1):
    """The same page as one UNION ALL branch per institution, each walking
    ix_case_institution_deadline in order and stopping after page × 50 rows, then merged:
    about 20 × 50 index entries and heap rows instead of every case of the 20 communes."""
    from sqlalchemy import and_, exists, select, union_all

    from app.models import Case, KeyKind, KeyWrap

    holds_key = exists().where(and_(KeyWrap.case_id == Case.id, KeyWrap.staff_id == staff_id,
                                    KeyWrap.kind == KeyKind.CASE))
    branches = [select(Case.id, Case.reference, Case.status, Case.next_deadline_at)
                .where(Case.institution_id == institution_id, holds_key)
                .order_by(Case.next_deadline_at.asc().nulls_last(), Case.id)
                .limit(50 * page).subquery().select()
                for institution_id in institution_ids]
    merged = union_all(*branches).subquery()
    return (select(merged).order_by(merged.c.next_deadline_at.asc().nulls_last(), merged.c.id)
            .limit(50).offset(50 * (page - 1)))


def run(url: str, args, fill_it: bool) -> None:
    import flask_migrate
    from sqlalchemy import delete, func, select, text

    from app import create_app
    from app.extensions import db
    from app.models import Case, IndicatorSnapshot, Institution
    from app.services.casework.inbox import COUNT_CAP
    from app.services.indicators.compute import compute
    from app.services.indicators.group import (
        all_institutions,
        county_group,
        group_indicators,
        list_group,
        refresh_snapshots,
    )
    from app.services.indicators.group_exports import to_csv
    from app.services.indicators.group_public import public_group
    from app.services.indicators.periods import Period, local_today
    from config import TestingConfig

    rng = np.random.default_rng(7)
    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        flask_migrate.upgrade()
        db.session.commit()
        if fill_it:
            db.engine.dispose()
            fill(url, args, rng)
        year = local_today().year - 1
        period = Period.year(year)
        sizes = db.session.execute(
            select(Case.institution_id, func.count()).where(
                Case.received_at >= period.start_utc, Case.received_at < period.end_utc)
            .group_by(Case.institution_id).order_by(func.count().desc())).all()
        biggest, biggest_count = sizes[0]
        median_id, median_count = sizes[len(sizes) // 2]
        total = db.session.scalar(select(func.count()).select_from(Case))
        print(f"{total:,} cases; year {year}: {sum(c for _, c in sizes):,} cases; largest "
              f"institution {biggest_count:,}, median {median_count:,}")
        county = db.session.scalar(select(Institution.county).order_by(Institution.id))
        group = county_group(county)
        everyone = all_institutions()
        communes = [member.id for member in group.members[:20]]
        designated = db.session.scalar(text(
            "SELECT min(id) FROM staff_member WHERE institution_id = :i"), {"i": communes[0]})
        wraps = designate(db.session.connection(), designated, communes)
        db.session.commit()
        inbox_cases = db.session.scalar(select(func.count()).select_from(Case).where(
            Case.institution_id.in_(communes)))
        print(f"county {county}: {len(group.members)} institutions; designated person "
              f"serving 20 communes: {inbox_cases:,} cases ({wraps:,} key wraps added)")

        rollback, runs = db.session.rollback, args.runs
        print(f"\n{'operation':64} {'p50 ms':>9} {'p95 ms':>9}")
        timed(f"dashboard, largest institution ({biggest_count:,} cases in {year})",
              lambda: compute(biggest, period), runs, rollback)
        timed(f"dashboard, median commune ({median_count:,} cases in {year})",
              lambda: compute(median_id, period), runs, rollback)
        timed(f"county of {len(group.members)}: group_indicators, live",
              lambda: group_indicators(group, period, use_snapshots=False), runs, rollback)
        timed(f"county of {len(group.members)}: + public figures (group page), live",
              lambda: public_group(group_indicators(group, period, use_snapshots=False)),
              runs, rollback)
        timed("association of 20 communes: group_indicators, live",
              lambda: group_indicators(list_group(communes, "ADI"), period,
                                       use_snapshots=False), runs, rollback)
        country_runs = max(3, runs // 4)
        timed(f"whole country ({len(everyone.members):,}): group_indicators, live",
              lambda: group_indicators(everyone, period, use_snapshots=False), country_runs,
              rollback)
        db.session.execute(delete(IndicatorSnapshot))
        started = time.perf_counter()
        kept = refresh_snapshots(everyone, period)
        db.session.commit()
        print(f"{'nightly snapshot of the year (opendata refresh), once':64} "
              f"{(time.perf_counter() - started) * 1000:9.1f}   ({kept:,} rows)")
        timed(f"county of {len(group.members)}: group_indicators, from snapshots",
              lambda: group_indicators(group, period), runs, rollback)
        timed(f"county of {len(group.members)}: + public figures, from snapshots",
              lambda: public_group(group_indicators(group, period)), runs, rollback)
        timed("whole country: group_indicators, from snapshots",
              lambda: group_indicators(everyone, period), runs, rollback)
        timed("whole country: + public figures, from snapshots",
              lambda: public_group(group_indicators(everyone, period)), country_runs, rollback)
        published = public_group(group_indicators(everyone, period))
        timed("whole country: CSV (from the public figures)", lambda kept=published: to_csv(kept),
              country_runs, rollback)
        print(f"worker RSS after the country computation: {rss_mb():.0f} MB "
              f"(peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
        del published

        page = inbox_statement(designated, communes)
        count = select(func.count()).select_from(
            inbox_statement(designated, communes).limit(COUNT_CAP + 1).order_by(None)
            .subquery())
        timed("inbox of a designated person serving 20 communes: page",
              lambda: db.session.execute(page).all(), runs * 2, rollback)
        merged = inbox_per_institution(designated, communes)
        assert [row.id for row in db.session.execute(merged)] == \
            [row.id for row in db.session.execute(page)]
        timed("inbox, 20 communes: one UNION ALL branch per institution",
              lambda: db.session.execute(merged).all(), runs * 2, rollback)
        deep = inbox_per_institution(designated, communes, page=5)
        timed("inbox, 20 communes: page 5, one branch per institution",
              lambda: db.session.execute(deep).all(), runs * 2, rollback)
        timed("inbox of a designated person serving 20 communes: capped count",
              lambda: db.session.execute(count).scalar(), runs * 2, rollback)
        with db.engine.connect() as connection:
            compiled = page.compile(dialect=connection.dialect,
                                    compile_kwargs={"literal_binds": True})
            plan = connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS) {compiled}").scalars().all()
        print("EXPLAIN ANALYZE of the inbox page:\n  " + "\n  ".join(plan))
        explain_country(db, period)


def explain_country(db, period) -> None:
    """The plan of the country's received-in-period pass, the heaviest statement."""
    from app.services.indicators.group_queries import _received_statement

    statement, _ = _received_statement(len(period.months()), True)
    parameters = {"start": period.start_utc, "end": period.end_utc}
    for index, (_, start, end) in enumerate(period.months()):
        parameters[f"month{index}"], parameters[f"month{index + 1}"] = start, end
    with db.engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        plan = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS) {compiled}",
            {key: compiled.construct_params(parameters)[key]
             for key in compiled.construct_params(parameters)}).scalars().all()
    print("EXPLAIN ANALYZE of the country's received pass:\n  " + "\n  ".join(plan[-8:]))


if __name__ == "__main__":
    main()
