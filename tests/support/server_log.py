"""Reading gunicorn's output: every 5xx answer and every traceback a worker printed is a
failure of the test that caused it, whatever the test itself checked.

The access log format is deploy/gunicorn.conf.py's `%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms`,
e.g. `[01/Dec/2026:10:00:00 +0000] "GET /report" 200 5120 12ms`; gunicorn's own (error) log
lines read `[2026-12-01 10:00:00 +0000] [123] [ERROR] ...`.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable

ACCESS_LINE = re.compile(r'^\[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>[^"]*)" (?P<status>\d{3}) ')
# A worker's exception (Flask logs "Exception on /path [GET]" with the traceback), gunicorn's
# "Error handling request", and anything gunicorn itself logs as ERROR or CRITICAL.
TROUBLE = re.compile(r"Traceback \(most recent call last\)|\bException on\b|"
                     r"Error handling request|\[(ERROR|CRITICAL)\]")


def drain(stream, lines: list[str]) -> None:
    """Read gunicorn's log into `lines` so its pipe never fills (a full pipe would block the
    workers); run it in a thread."""
    lines.extend(stream)


def server_errors(lines: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
    """The lines that tell of a 5xx answer or a crash. `allowed` holds regular expressions
    for lines a test provokes on purpose (e.g. a deliberately damaged file's 500 page)."""
    allowed = [re.compile(pattern) for pattern in allowed]
    found = []
    for line in lines:
        access = ACCESS_LINE.match(line)
        bad = (int(access["status"]) >= 500) if access else bool(TROUBLE.search(line))
        if bad and not any(pattern.search(line) for pattern in allowed):
            found.append(line)
    return found


def assert_no_server_errors(lines: Iterable[str], allowed: Iterable[str] = (),
                            context: int = 60) -> None:
    lines = list(lines)
    found = server_errors(lines, allowed)
    assert not found, ("the server answered 5xx or printed a traceback:\n  "
                       + "\n  ".join(found[:20])
                       + f"\n--- gunicorn log (last {context} lines) ---\n"
                       + "\n".join(lines[-context:]))


class ServerLog:
    """Drains gunicorn's output (a full pipe would block the server) and keeps every line, so
    that a test can check what was logged while it ran: `mark = log.mark()` ...
    `log.since(mark)`."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream) -> None:
        for line in stream:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def mark(self) -> int:
        with self._lock:
            return len(self.lines)

    def since(self, mark: int) -> list[str]:
        with self._lock:
            return self.lines[mark:]

    def wait_for_quiet(self, seconds: float = 0.15) -> None:
        """Give the workers a moment to flush the log lines of the last requests."""
        import time

        deadline = time.monotonic() + 5
        seen = self.mark()
        while time.monotonic() < deadline:
            time.sleep(seconds)
            now = self.mark()
            if now == seen:
                return
            seen = now

    def tail(self, count: int = 40) -> str:
        with self._lock:
            return "\n".join(self.lines[-count:])

    def join(self, timeout: float = 15) -> None:
        """After the server stopped: wait until all its output was read."""
        self._thread.join(timeout)
