"""Inbox at scale: 100,000 cases of one institution on PostgreSQL, one handler holding every
key, then the inbox queries the back office runs (default sort, filters, overdue, deep pages).

    .venv/bin/python bench/inbox_scale.py [--cases 100000] [--runs 30]

Prints p50/p95 per query. Needs the local PostgreSQL (127.0.0.1:5432, user postgres); it
creates and drops its own database. Case content is random bytes: the inbox never decrypts.
"""
import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    name = f"avz_inbox_bench_{os.getpid()}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    os.environ.update(AVERTIZOR_ENV="testing", TEST_DATABASE_URL=url)
    try:
        run(url, args.cases, args.runs)
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name],
                       check=False)


def run(url: str, count: int, runs: int) -> None:
    import flask_migrate
    from sqlalchemy import insert, text

    from app import create_app
    from app.crypto.kdf import KdfParams
    from app.extensions import db
    from app.models import Case, Category, Channel, KeyKind, KeyWrap, Regime, Role, Status
    from app.services.casework import deadlines
    from app.services.casework.inbox import InboxFilters, inbox, page_query
    from app.services.operations.institutions import create_institution
    from app.services.staff.members import add_staff
    from config import TestingConfig

    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        flask_migrate.upgrade()
        institution, _ = create_institution("Comuna Bălțați")
        handler = add_staff(institution, email="ana@baltati.example", name="Ana",
                            roles=[Role.HANDLER], password="bench password 123",
                            kdf_params=KdfParams.from_config(app.config))
        db.session.commit()

        started = time.perf_counter()
        rng = random.Random(7)
        now = datetime.now(UTC)
        batch_cases, batch_wraps = [], []
        for n in range(1, count + 1):
            received = now - timedelta(minutes=rng.randrange(0, 5 * 365 * 24 * 60))
            status = rng.choice(list(Status))
            regime = rng.choice([None, *Regime])
            case = Case(received_at=received, status=status, regime=regime,
                        acknowledged_at=received + timedelta(days=2)
                        if status is not Status.RECEIVED else None)
            deadlines.refresh(case)
            batch_cases.append({
                "id": n, "uuid": secrets.token_hex(16), "institution_id": institution.id,
                "reference": f"SES-{received.year}-{n:06d}", "channel": rng.choice(list(Channel)),
                "category": rng.choice(list(Category)), "work_context": rng.random() < .3,
                "regime": regime, "status": status, "anonymous": rng.random() < .6,
                "language": "ro", "received_at": received, "updated_at": received,
                "acknowledge_due_at": case.acknowledge_due_at,
                "acknowledged_at": case.acknowledged_at,
                "feedback_due_at": case.feedback_due_at, "answer_due_at": case.answer_due_at,
                "forward_due_at": case.forward_due_at,
                "next_deadline_at": case.next_deadline_at,
                "next_deadline_kind": case.next_deadline_kind,
                "content": os.urandom(64)})
            batch_wraps.append({"institution_id": institution.id, "case_id": n,
                                "staff_id": handler.id, "kind": KeyKind.CASE,
                                "sealed_key": os.urandom(92)})
            if len(batch_cases) == 5000:
                db.session.execute(insert(Case), batch_cases)
                db.session.execute(insert(KeyWrap), batch_wraps)
                batch_cases, batch_wraps = [], []
        if batch_cases:
            db.session.execute(insert(Case), batch_cases)
            db.session.execute(insert(KeyWrap), batch_wraps)
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), "
                                "(SELECT max(id) FROM \"case\"))"))
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"filled {count:,} cases and key wraps in {time.perf_counter() - started:.1f} s")

        handler = db.session.get(type(handler), handler.id)
        queries = {
            "default (next deadline first), page 1": InboxFilters(),
            "status=received": InboxFilters(status=Status.RECEIVED),
            "channel=phone, regime=petition": InboxFilters(channel=Channel.PHONE,
                                                           regime=Regime.PETITION),
            "overdue only": InboxFilters(overdue=True),
            "page 20 (the last one offered)": InboxFilters(page=20),
        }
        print(f"{'query':42} {'p50 ms':>8} {'p95 ms':>8} {'rows':>6} {'total':>8}")
        for label, filters in queries.items():
            timings = []
            for _ in range(runs):
                t0 = time.perf_counter()
                page = inbox(handler, filters)
                timings.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(len(timings) * .95))]
            print(f"{label:42} {statistics.median(timings):8.1f} {p95:8.1f} "
                  f"{len(page.rows):6d} {page.total:7,}{'+' if page.capped else ' '}")
        statement = page_query(handler, InboxFilters())
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = db.session.execute(text(f"EXPLAIN ANALYZE {compiled}")).scalars().all()
        print("\nplan of the default page query:\n  " + "\n  ".join(plan))


if __name__ == "__main__":
    main()
