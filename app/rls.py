"""Row-Level Security, the second wall: which institutions the current unit of work may see.

The first wall is the application's own filter (every query names the request's
institution). On PostgreSQL a second one stands behind it: every tenant table carries a
policy (migration 0014_w_row_level_security) that shows and accepts only the rows whose
institution is in the transaction's setting `avertizor.institution_ids`, so a forgotten
filter returns nothing rather than another commune's rows. The application connects as a
role that owns no table (`flask --app wsgi db-role grant`, app/dbrole.py), so the policies
hold for it; the owner, who runs the migrations, is not subject to them.

The scope of a unit of work:

- `limit_to(ids)`: only these institutions (a set: a designated person serving several
  communes has one inbox across them). `limit_to(())` sees no tenant row at all.
- `unrestricted()`: every institution, for operator commands, jobs, migrations and sweeps
  that cover the whole deployment (retention, outbox, backups).
- `scoped(ids)` / `scoped(None)`: the same for a block, put back afterwards (tests, a job
  that walks institutions one by one, a sign-in lookup made before the tenant is known).

Inside a request the scope lives in `flask.g` (it ends with the request); elsewhere (CLI,
jobs, tests) in a context variable. A request is expected to call `limit_to()` early, as soon
as its institution is resolved (path, host, or the staff member's chosen institutions).
Until that resolution calls it, a request is unrestricted, as everything else, unless the app
was told `restrict_request_by_default(app)` (config `RLS_RESTRICT_REQUESTS`): then a request
starts with no institution and sees no tenant row until it calls `limit_to()`.

How it reaches the database: a listener on every engine's `begin` runs
`SELECT set_config('avertizor.institution_ids', <ids>, true)` as the first statement of each
transaction ('*' for unrestricted, '1,2' for a limit, '' for none). `true` makes it local to
the transaction, so a pooled connection carries nothing into the next one; the engine's
`begin` (rather than the ORM session's `after_begin`) also covers Core connections, such as
the backup's snapshot, which would otherwise see nothing. Changing the scope while the
request's session is inside a transaction sets it on that transaction too. On SQLite nothing
is sent: the application's filter is the only wall there.
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

SETTING = "avertizor.institution_ids"
RESTRICT_REQUESTS = "RLS_RESTRICT_REQUESTS"
_G_KEY = "rls_scope"

# Tables without a tenant: read by every institution's pages or before a tenant is known.
# Every other table has a policy (tests/test_row_level_security.py holds the two lists
# against the models, so a new table cannot be forgotten).
SHARED_TABLES = {
    "institution": "the tenants themselves: the portal home lists them, a request finds its "
                   "own by path or host before any scope exists",
    "rate_counter": "rate limits keyed by a hashed client or account, across institutions",
    "held_upload": "a reporter's files kept for 15 minutes between two tries of a form, "
                   "sealed under a key in that browser's cookie; no institution yet",
    "alembic_version": "the schema's revision",
}


@dataclass(frozen=True)
class Scope:
    """The institutions visible to a unit of work; `institution_ids` None means all."""
    institution_ids: frozenset[int] | None

    @property
    def unrestricted(self) -> bool:
        return self.institution_ids is None

    def allows(self, institution_id: int) -> bool:
        return self.institution_ids is None or institution_id in self.institution_ids

    def setting(self) -> str:
        """The value of avertizor.institution_ids the policies read."""
        if self.institution_ids is None:
            return "*"
        return ",".join(str(i) for i in sorted(self.institution_ids))


EVERY_INSTITUTION = Scope(None)
NO_INSTITUTION = Scope(frozenset())

_outside_requests: contextvars.ContextVar[Scope] = contextvars.ContextVar(
    "avertizor_rls_scope", default=EVERY_INSTITUTION)


def _scope_of(institution_ids: Iterable[int] | None) -> Scope:
    if institution_ids is None:
        return EVERY_INSTITUTION
    ids = frozenset(institution_ids)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise TypeError("institution ids are integers")
    return Scope(ids)


def current_scope() -> Scope:
    """The scope the next transaction will carry."""
    if has_request_context():
        scope = g.get(_G_KEY)
        if scope is not None:
            return scope
        return NO_INSTITUTION if current_app.config.get(RESTRICT_REQUESTS) \
            else EVERY_INSTITUTION
    return _outside_requests.get()


def _set(scope: Scope) -> None:
    if has_request_context():
        setattr(g, _G_KEY, scope)
    else:
        _outside_requests.set(scope)
    _apply_to_open_session(scope)


def limit_to(institution_ids: Iterable[int]) -> None:
    """From now on this unit of work sees and writes only these institutions' rows."""
    _set(_scope_of(institution_ids))


def unrestricted() -> None:
    """From now on this unit of work sees every institution (operator work, jobs, sweeps)."""
    _set(EVERY_INSTITUTION)


@contextmanager
def scoped(institution_ids: Iterable[int] | None) -> Iterator[Scope]:
    """A block limited to `institution_ids` (None: every institution); the previous scope
    is put back afterwards, on the open transaction too."""
    previous = current_scope()
    scope = _scope_of(institution_ids)
    _set(scope)
    try:
        yield scope
    finally:
        _set(previous)


def restrict_request_by_default(app: Flask) -> None:
    """Requests of `app` start with no institution: until the request's institution
    resolution calls `limit_to()`, a request sees no tenant row on PostgreSQL."""
    app.config[RESTRICT_REQUESTS] = True


def apply(connection: Connection, scope: Scope | None = None) -> None:
    """Set the scope on a connection's current transaction (PostgreSQL only)."""
    if connection.dialect.name != "postgresql":
        return
    value = (scope or current_scope()).setting()
    connection.execute(text("SELECT set_config(:name, :ids, true)"),
                       {"name": SETTING, "ids": value})


def _apply_to_open_session(scope: Scope) -> None:
    """A transaction already open in the request's session gets the new scope at once."""
    if not has_app_context():
        return
    from .extensions import db  # app.extensions imports nothing from here; kept lazy anyway

    session = db.session()
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return  # none open, or failed and waiting for its rollback: the next begin sets it
    apply(session.connection(), scope)


@event.listens_for(Engine, "begin")
def _scope_each_transaction(connection: Connection) -> None:
    """The first statement of every transaction on PostgreSQL: its institutions."""
    if connection.dialect.name != "postgresql":
        return
    apply(connection)
