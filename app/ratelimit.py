"""Rate-limit keys that never hold a client's address in clear, and the counters behind them.

The address is reduced to an HMAC under a key that changes every day and lives only in this
process's configuration; the limiter store (the application's database by default, or Redis)
sees the digest, and entries expire with their window. An IPv6 client is keyed on its /64:
one household or server usually holds the whole network, 2^64 addresses.

The counters of the default store live in the `rate_counter` table of the application's own
database, so that every gunicorn worker of the host (and every host of a shared database)
counts against the same budget. Each change is one atomic statement (an upsert) committed at
once on its own connection, outside the request's unit of work.
"""
import hashlib
import hmac
import ipaddress
import time
from datetime import UTC, datetime

from flask import has_request_context, request
from limits.storage import Storage
from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from .crypto.appkey import Purpose, app_key

PURGE_EVERY_SECONDS = 60
_last_purge = 0.0


def client_network(address: str | None) -> str:
    """The client as rate limits and lockouts see it: IPv4 per address, IPv6 per /64."""
    address = address or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _request_network() -> str:
    return client_network(request.remote_addr if has_request_context() else None)


def anonymous_client_key() -> str:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    secret = app_key(Purpose.RATE_LIMIT_DAY, day)
    # Read only to throttle; the address itself is neither logged nor stored.
    return hmac.new(secret, _request_network().encode(), hashlib.sha256).hexdigest()[:32]


def keyed_digest(purpose: str, *parts: str) -> str:
    """An HMAC (key from SECRET_KEY) of parts, for counter names that must not reveal them."""
    secret = app_key(Purpose.RATE_LIMIT_COUNTER, purpose)
    return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def client_digest(purpose: str, *parts: str) -> str:
    """keyed_digest over parts and the requesting client's network."""
    return keyed_digest(purpose, *parts, _request_network())


# --- shared counters in SQL ---------------------------------------------------------------------

def _row_key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _run(work, in_transaction: bool = False):
    """Run work(connection) on its own connection, committed at once, so other workers see
    the change immediately (rate limits). With in_transaction, on the request's own connection
    instead, committed with its unit of work (sign-in counters: the row stays locked until the
    request ends, so parallel attempts on one counter wait for it and then see its count).
    (In-memory SQLite has a single connection: there the request's own is always used.)"""
    from .extensions import db
    engine = db.engine
    if in_transaction or isinstance(engine.pool, StaticPool):
        return work(db.session.connection())
    with engine.begin() as connection:
        return work(connection)


def _upsert(connection, key: str, amount: int, expiry: float, now: float) -> int:
    from .models import RateCounter
    table = RateCounter.__table__
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    live = table.c.expires_at > now
    statement = insert(RateCounter).values(
        key=key, count=amount, expires_at=now + expiry).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"count": case((live, table.c.count + amount), else_=literal(amount)),
              "expires_at": case((live, table.c.expires_at), else_=literal(now + expiry))},
    ).returning(table.c.count)
    return connection.execute(statement).scalar_one()


def _purge(connection, now: float) -> None:
    global _last_purge
    if now - _last_purge < PURGE_EVERY_SECONDS:
        return
    from .models import RateCounter
    connection.execute(delete(RateCounter).where(RateCounter.expires_at <= now))
    _last_purge = now


def counter_hit(name: str, expiry: float, amount: int = 1, *,
                in_transaction: bool = False) -> int:
    """Add amount to the counter (a new window of `expiry` seconds starts if the last one
    ended) and return its value, atomically."""
    key, now = _row_key(name), time.time()

    def work(connection):
        count = _upsert(connection, key, amount, expiry, now)
        _purge(connection, now)
        return count
    return _run(work, in_transaction)


def counter_value(name: str, *, in_transaction: bool = False) -> int:
    from .models import RateCounter
    now = time.time()
    return _run(lambda connection: connection.execute(
        select(RateCounter.count).where(RateCounter.key == _row_key(name),
                                        RateCounter.expires_at > now)).scalar() or 0,
        in_transaction)


def counter_extend(name: str, expiry: float, *, in_transaction: bool = False) -> None:
    """Let the counter's window end `expiry` seconds from now (a lockout starts now)."""
    from .models import RateCounter
    until = time.time() + expiry
    _run(lambda connection: connection.execute(
        update(RateCounter).where(RateCounter.key == _row_key(name))
        .values(expires_at=until)), in_transaction)


def counter_clear(name: str, *, in_transaction: bool = False) -> None:
    from .models import RateCounter
    _run(lambda connection: connection.execute(
        delete(RateCounter).where(RateCounter.key == _row_key(name))), in_transaction)


class SQLStorage(Storage):
    """limits storage over the rate_counter table (fixed windows), for Flask-Limiter."""

    STORAGE_SCHEME = ["avertizor-sql"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return counter_hit("limit|" + key, expiry, amount)

    def get(self, key: str) -> int:
        return counter_value("limit|" + key)

    def get_expiry(self, key: str) -> float:
        from .models import RateCounter
        now = time.time()
        found = _run(lambda connection: connection.execute(
            select(RateCounter.expires_at).where(RateCounter.key == _row_key("limit|" + key),
                                                 RateCounter.expires_at > now)).scalar())
        return found or now

    def check(self) -> bool:
        try:
            _run(lambda connection: connection.execute(select(1)))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        from .models import RateCounter
        return _run(lambda connection: connection.execute(delete(RateCounter)).rowcount)

    def clear(self, key: str) -> None:
        counter_clear("limit|" + key)
