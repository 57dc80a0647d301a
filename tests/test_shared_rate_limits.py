"""Rate limits hold exactly across all gunicorn workers of the default set-up (no Redis):
the counters live in the application's database (app/ratelimit.py SQLStorage)."""
import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import func, select

from app.extensions import db
from app.models import RateCounter
from tests.conftest import CSRF_RE
from tests.support.server import gunicorn_server

WORKERS, TRIES = 4, 12


def _try_receipt(base_url: str, barrier, statuses: list) -> None:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base_url + "/follow-up", timeout=60) as response:
        token = CSRF_RE.search(response.read().decode()).group(1)
    body = urllib.parse.urlencode({"receipt": "1111 2222 3333 4444",
                                   "csrf_token": token}).encode()
    barrier.wait()
    try:
        with opener.open(urllib.request.Request(base_url + "/follow-up", data=body),
                         timeout=60) as response:
            statuses.append(response.status)
    except urllib.error.HTTPError as error:
        statuses.append(error.code)


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
