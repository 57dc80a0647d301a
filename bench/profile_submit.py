#!/usr/bin/env python3
"""Where a submission's time goes, apart from Argon2id: cProfile of real submissions made
in-process (Flask's test client, the real form with CSRF, the production configuration) on a
fresh PostgreSQL or SQLite database set up with the operator's commands.

Prints the wall and CPU time per submission, the part spent in Argon2id, and the functions
with the most cumulative time. A benchmark aid: it prints and asserts nothing.

    .venv/bin/python bench/profile_submit.py --count 40
    .venv/bin/python bench/profile_submit.py --database sqlite --kdf 1024:1 --top 40
"""
import argparse
import cProfile
import os
import pstats
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.scratch_database import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--kdf", metavar="MEMORY_KIB:ITERATIONS", help="default: config.py")
    parser.add_argument("--file-kb", type=int, default=200, help="0: no file")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime")
    parser.add_argument("--no-profile", action="store_true", help="time only, no cProfile")
    parser.add_argument("--sql", action="store_true",
                        help="also print the SQL statements of one submission")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="avertizor-profile-"))
    uploads = workdir / "uploads"
    uploads.mkdir()
    pg_name = None
    if args.database == "postgres":
        database_url, pg_name = create_postgres_database(args.postgres_url, "avertizor_profile")
    else:
        database_url = f"sqlite:///{workdir / 'profile.db'}"
    os.environ.update({
        "AVERTIZOR_ENV": "production", "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": str(uploads), "INSTANCE_DIR": str(workdir / "instance"),
        "SECRET_KEY": secrets.token_urlsafe(48), "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_SUBMIT": "1000000 per hour",
    })
    if args.kdf:
        memory, _, iterations = args.kdf.partition(":")
        os.environ["KDF_MEMORY_KIB"], os.environ["KDF_ITERATIONS"] = memory, iterations or "1"
    try:
        from bench.submit import set_up_portal
        set_up_portal(dict(os.environ))
        profile_submissions(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if pg_name:
            drop_postgres_database(args.postgres_url, pg_name)


def profile_submissions(args) -> None:
    from app import create_app
    from tests.conftest import report_fields
    from tests.support.forms import RECEIPT_RE, csrf_token

    app = create_app()
    app.config["PREFERRED_URL_SCHEME"] = "http"  # plain http, as gunicorn on 127.0.0.1 sees it
    attachment = os.urandom(args.file_kb * 1024)

    def one(number: int) -> None:
        client = app.test_client()
        data = report_fields(what_happened=f"Profiled report {number}: a permit for a fee.")
        data["csrf_token"] = csrf_token(client, "/report")
        if attachment and number % 2:
            from io import BytesIO
            data["evidence"] = [(BytesIO(attachment), "scan.pdf", "application/pdf")]
        reply = client.post("/report", data=data, content_type="multipart/form-data")
        page = reply.get_data(as_text=True)
        if not RECEIPT_RE.search(page):
            raise SystemExit(f"HTTP {reply.status_code}, no receipt: "
                             + " ".join(re.sub(r"<[^>]+>", " ", page).split())[:1500])

    for number in range(3):  # warm-up: imports, connections, templates
        one(number)
    if args.sql:
        print_statements(app, lambda: one(1))
    profiler = cProfile.Profile()
    started, started_cpu = time.perf_counter(), time.process_time()
    if not args.no_profile:
        profiler.enable()
    for number in range(args.count):
        one(number)
    profiler.disable()
    wall = (time.perf_counter() - started) / args.count
    cpu = (time.process_time() - started_cpu) / args.count
    if args.no_profile:
        print(f"  wall {wall * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms per submission")
        return
    stats = pstats.Stats(profiler)
    kdf_seconds = sum(v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                      if k[2] == "argon2id") / args.count
    print(f"{args.count} submissions (GET /report + POST /report, half with a "
          f"{args.file_kb} KB file)" + ("" if args.no_profile else
                                        ", under cProfile (which inflates Python-heavy parts)"))
    print(f"  wall {wall * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms per submission; Argon2id "
          f"{kdf_seconds * 1000:.1f} ms; everything else {(wall - kdf_seconds) * 1000:.1f} ms")
    stats.sort_stats(args.sort).print_stats(args.top)


def print_statements(app, submission) -> None:
    from sqlalchemy import event

    from app.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:150])

    event.listen(engine, "before_cursor_execute", record)
    submission()
    event.remove(engine, "before_cursor_execute", record)
    print(f"SQL statements of one submission (GET + POST): {len(statements)}")
    for statement in statements:
        print("  " + statement)


if __name__ == "__main__":
    main()
