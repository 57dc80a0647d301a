"""Aggregation pieces that SQLite and PostgreSQL spell differently, and small builders the
statistics share. Each compiles to plain SQL on both databases."""
from sqlalchemy import bindparam, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float

from ...extensions import db
from ...models.types import UTCDateTime


class days_between(FunctionElement):
    """(later - earlier) in days, as a float, on either database."""

    type = Float()
    inherit_cache = True


@compiles(days_between)
def _days_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(julianday({compiler.process(later, **kw)}) - " \
           f"julianday({compiler.process(earlier, **kw)}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - " \
           f"{compiler.process(earlier, **kw)})) / 86400.0)"


def on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def count_if(condition):
    """COUNT of the rows meeting `condition` (CASE … END: NULL otherwise, so not counted)."""
    return func.count(case((condition, 1)))


def moment(name: str):
    """A bound timestamp, converted like the UTC columns it is compared with."""
    return bindparam(name, type_=UTCDateTime())


class earliest(FunctionElement):
    """The earlier of two moments, either of which may be missing (NULL)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(earliest)
def _earliest_sqlite(element, compiler, **kw):
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"min(coalesce({first}, {second}), coalesce({second}, {first}))"


@compiles(earliest, "postgresql")
def _earliest_postgresql(element, compiler, **kw):
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"LEAST({first}, {second})"  # LEAST skips NULLs
