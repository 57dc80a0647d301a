"""Two app nodes share only the database, the rate-limit store and the upload volume.

Two gunicorn instances on two ports (production configuration, the same SECRET_KEY as every
node of a deployment has), on the test database (an SQLite file, or PostgreSQL from
TEST_DATABASE_URL), one upload folder, and the rate-limit counters either in Redis
(redis://127.0.0.1:6379/7) or in the shared database (the default `avertizor-sql://`):

- a report filed with a file on node 1 is followed up with its receipt on node 2 (a CSRF token
  taken on node 1), the file downloads there byte for byte;
- a staff member signed in on node 1 (password, then TOTP) is signed in on node 2: the inbox
  and the case, decrypted with the key half kept in the shared database and the half in the
  cookie, and the evidence;
- the receipt-login limit (5 a minute per address) holds across both: 3 wrong receipts on
  node 1 and 2 on node 2 use it up, and the next try is refused on either node.

Every line either server logs is read: any 5xx or traceback fails the test.
"""
import os
import re
import secrets
from contextlib import ExitStack

import pytest
import redis

from tests.support.forms import RECEIPT_RE
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server
from tests.support.server_log import ServerLog, assert_no_server_errors
from tests.support.staff import sign_in_http

pytestmark = pytest.mark.server

REDIS_URL = "redis://127.0.0.1:6379/7"
FILE_LINK_RE = re.compile(r'href="(/follow-up/files/\d+)"')
STAFF_FILE_RE = re.compile(r'href="(/staff/cases/\d+/files/\d+)"')
CASE_LINK_RE = re.compile(r'href="/staff/cases/(\d+)"')
REFUSED_LIMIT = 429


def report_fields(token: str, text: str) -> dict:
    return {"csrf_token": token, "category": "bribery", "what_happened": text,
            "when_where": "", "persons_involved": "", "how_known": "", "work_context": "no",
            "identity_choice": "anonymous", "name": "", "email": "", "phone": "",
            "consent": "y", "website": ""}


def redis_keys() -> set[bytes]:
    return set(redis.Redis.from_url(REDIS_URL).keys("*"))


@pytest.mark.parametrize("storage", [REDIS_URL, "avertizor-sql://"], ids=["redis", "database"])
def test_two_nodes_share_reports_sessions_and_rate_limits(migrated_database, upload_folder,
                                                          institution, make_handler, storage):
    handler = make_handler("Ana Popescu")
    before = redis_keys() if storage == REDIS_URL else set()
    env = {
        "SECRET_KEY": secrets.token_urlsafe(48),  # one deployment: one secret on every node
        "RATELIMIT_STORAGE_URI": storage,
        "PROXY_FIX_HOPS": "1",  # behind the proxy: each client its own address
        "KDF_MEMORY_KIB": "1024", "KDF_ITERATIONS": "1",
    }
    evidence = os.urandom(150 * 1024)
    marker = f"two-nodes-{secrets.token_hex(6)}"
    with ExitStack() as servers:
        nodes, logs = [], []
        for _ in range(2):
            base_url, process = servers.enter_context(gunicorn_server(
                migrated_database, upload_folder, workers=2, environment="production",
                extra_env=env))
            nodes.append(base_url)
            logs.append(ServerLog(process.stdout))
        one, two = nodes

        # A report on node 1, followed up on node 2.
        reporter = HttpClient(one, headers={"X-Forwarded-For": "198.51.100.10"})
        sent = reporter.post_form(
            "/report", report_fields(reporter.csrf_token("/report"),
                                     f"The clerk asked for money ({marker})."),
            [("evidence", "chitanta.pdf", evidence)])
        assert sent.status == 200, sent.body[:1500]
        receipt = RECEIPT_RE.search(sent.body)
        assert receipt, sent.body[:1500]
        token = reporter.csrf_token("/follow-up")  # taken on node 1, sent to node 2
        reporter.base_url = two
        login = reporter.post_urlencoded("/follow-up", {"receipt": receipt.group(1),
                                                        "csrf_token": token})
        assert login.status == 200 and login.url.endswith("/follow-up/case"), login.body[:1500]
        assert marker in login.body
        download = reporter.get(FILE_LINK_RE.search(login.body).group(1))
        assert download.status == 200 and download.content == evidence

        # A staff session opened on node 1 goes on on node 2.
        staff = sign_in_http(HttpClient(one, headers={"X-Forwarded-For": "198.51.100.20"}),
                             handler)
        staff.base_url = two
        inbox = staff.get("/staff/cases")
        assert inbox.status == 200 and "/staff/login" not in inbox.url, inbox.body[:1500]
        case_id = CASE_LINK_RE.search(inbox.body).group(1)
        case_page = staff.get(f"/staff/cases/{case_id}")
        assert case_page.status == 200 and marker in case_page.body
        staff_download = staff.get(STAFF_FILE_RE.search(case_page.body).group(1))
        assert staff_download.status == 200 and staff_download.content == evidence
        staff.base_url = one
        assert marker in staff.get(f"/staff/cases/{case_id}").body

        # The receipt-login limit (5 a minute per address) counts the tries on both nodes.
        guesser = HttpClient(one, headers={"X-Forwarded-For": "203.0.113.99"})
        statuses = []
        for node in (one, one, one, two, two, one, two):
            guesser.base_url = node
            statuses.append(guesser.post_urlencoded("/follow-up", {
                "receipt": "1111 2222 3333 4444",
                "csrf_token": guesser.csrf_token("/follow-up")}).status)
        assert statuses == [400] * 5 + [REFUSED_LIMIT] * 2, statuses

        for log in logs:
            log.wait_for_quiet()
        lines = [line for log in logs for line in log.lines]
    for log in logs:
        assert_no_server_errors(log.lines)
    assert sum('"POST /report" 200' in line for line in lines) == 1
    assert receipt.group(1) not in "\n".join(lines), "a receipt is never logged"
    if storage == REDIS_URL:
        made = redis_keys() - before
        assert made, "the counters were kept in Redis"
        redis.Redis.from_url(REDIS_URL).delete(*made)
