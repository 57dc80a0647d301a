"""gunicorn settings for Avertizor. Used by `make run` and in production (see README)."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:" + os.environ.get("PORT", "5000"))
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
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
