"""Rate limits hold exactly across all gunicorn workers of the default set-up (no Redis):
the counters live in the application's database (app/ratelimit.py SQLStorage)."""
import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import RateCounter
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server

WORKERS, TRIES = 4, 12


def _try_receipt(base_url: str, barrier, statuses: list) -> None:
    browser = HttpClient(base_url, language=None)
    token = browser.csrf_token("/follow-up")
    barrier.wait()
    statuses.append(browser.post_urlencoded("/follow-up", {"receipt": "1111 2222 3333 4444",
                                                           "csrf_token": token}).status)


def test_the_receipt_limit_holds_exactly_across_four_workers(migrated_database, upload_folder,
                                                             institution, tmp_path):
    """`make run`'s configuration (development, no RATELIMIT_STORAGE_URI): 5 receipt tries a
    minute per address, whichever worker each try reaches."""
    statuses: list[int] = []
    log: list[str] = []
    with gunicorn_server(migrated_database, upload_folder, workers=WORKERS,
                         environment="development",
                         extra_env={"AVERTIZOR_INSTANCE": str(tmp_path / "instance"),
                                    "RATELIMIT_STORAGE_URI": "", "KDF_MEMORY_KIB": "1024",
                                    "KDF_ITERATIONS": "1"}) as (url, process):
        threading.Thread(target=lambda: log.extend(process.stdout), daemon=True).start()
        barrier = threading.Barrier(TRIES)
        threads = [threading.Thread(target=_try_receipt, args=(url, barrier, statuses))
                   for _ in range(TRIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        pids = {line.split("pid: ")[1].strip() for line in log if "Booting worker" in line}
    assert len(pids) == WORKERS, log[-20:]
    assert sorted(statuses) == [400] * 5 + [429] * (TRIES - 5), (statuses, log[-20:])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RateCounter)) >= 1
    keys = " ".join(db.session.scalars(select(RateCounter.key)))
    assert "127.0.0.1" not in keys
