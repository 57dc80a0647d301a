"""gunicorn settings for Avertizor. Used by `make run` and in production (see README)."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:" + os.environ.get("PORT", "5000"))
# One process per core, each with threads for pages and a derivation pool of its own
# (app/crypto/kdf.py): Argon2id (libsodium, 256 MiB) releases the GIL, runs on at most
# cores / workers threads per process, i.e. at most one per core over all workers, at a
# lower CPU priority, so a page never waits in a queue behind a derivation and the cores are
# not oversubscribed. Measured against 5 sync workers in bench/README.md ("Worker model").
_cores = multiprocessing.cpu_count()
workers = int(os.environ.get("WEB_CONCURRENCY", _cores))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# (gunicorn turns "sync" with threads > 1 into gthread: a sync worker gets one thread.)
threads = int(os.environ.get("GUNICORN_THREADS", 8)) if worker_class == "gthread" else 1
# Read by config.py in the workers, which inherit the master's environment.
os.environ.setdefault("KDF_THREADS", str(max(1, _cores // workers)))
os.environ.setdefault("KDF_NICE", "5")
# Argon2id runs ~0.25 s per login and uploads can be 50 MB: leave room, but not forever.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
# Never log who the client is: no address (%(h)s), no user agent (%(a)s), no referrer (%(f)s).
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Reporters' addresses must not reach the application either, except hashed for rate limits.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# gunicorn itself names the client in some of its own messages ("Invalid request from
# ip=…", at warning level, whatever the access log format): a filter on its loggers blanks
# every IPv4 and IPv6 address in what they write, whatever the level.
import ipaddress  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402

# Candidates: runs of hex digits, dots and colons (and an IPv6 zone); kept if they parse.
_CANDIDATE = re.compile(r"[0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*(?:%[\w.-]+)?")


def _blank_address(match: re.Match) -> str:
    text = match.group(0)
    # Try the longest readings first: "ip=2001:db8::1: error" ends with a separator colon.
    for end in range(len(text), 0, -1):
        candidate = text[:end]
        core = candidate.split("%", 1)[0].strip(".")
        if core.count(":") + core.count(".") < 2:
            break
        try:
            ipaddress.ip_address(core if ":" in core or core.count(".") == 3 else "x")
        except ValueError:
            continue
        return "[address removed]" + text[end:]
    return text


def scrub_addresses(message: str) -> str:
    return _CANDIDATE.sub(_blank_address, message)


class NoClientAddress(logging.Filter):
    """Rewrites a record's message so that no client address remains in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (a malformed record: keep gunicorn's behaviour)
            return True
        cleaned = scrub_addresses(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True


def _install_address_filter() -> None:
    for name in ("gunicorn.error", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoClientAddress) for f in logger.filters):
            logger.addFilter(NoClientAddress())


def on_starting(server):
    _install_address_filter()


def post_fork(server, worker):
    _install_address_filter()


_install_address_filter()
