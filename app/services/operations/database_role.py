"""The portal's database role on PostgreSQL: owns nothing, reads and writes rows only.

Row-level security (app/rls.py, migration 0014) binds every role except the tables' owner and
roles with SUPERUSER or BYPASSRLS. So the portal connects (DATABASE_URL) as a role of its own,
and the owner (MIGRATION_DATABASE_URL) runs the migrations and `flask db-role grant`, which
gives that role SELECT, INSERT, UPDATE and DELETE on every table, USAGE and UPDATE on the
sequences (UPDATE for the restore's setval), and the same on every table and sequence the
owner creates later (ALTER DEFAULT PRIVILEGES), so a new migration needs no grant of its own.
The schema's revision table is read only, and no role but the owner may create tables in
the public schema (PostgreSQL before 15 let every role do so).
"""
import re

from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, UPDATE"


class RoleRefused(Exception):
    """The role cannot serve as the portal's role; the message says why."""


def owner_engine() -> Engine:
    """A connection as the tables' owner: MIGRATION_DATABASE_URL, else DATABASE_URL."""
    url = current_app.config.get("MIGRATION_DATABASE_URL") \
        or current_app.config["SQLALCHEMY_DATABASE_URI"]
    return create_engine(url, poolclass=NullPool)


def _quoted(connection: Connection, role: str) -> str:
    if not ROLE_NAME.match(role):
        raise RoleRefused(f"{role!r} is not a plain role name (lower-case letters, digits, _).")
    return connection.dialect.identifier_preparer.quote_identifier(role)


def role_problems(connection: Connection, role: str) -> list[str]:
    """Why `role` would not be held by the policies (empty when it would be)."""
    found = connection.execute(text(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": role}).first()
    if found is None:
        return [f"role {role} does not exist: CREATE ROLE {role} LOGIN PASSWORD '…' first."]
    problems = []
    if found.rolsuper:
        problems.append(f"{role} is a superuser: row-level security does not bind it.")
    if found.rolbypassrls:
        problems.append(f"{role} has BYPASSRLS: row-level security does not bind it.")
    owned = connection.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = :role "
        "ORDER BY tablename"), {"role": role}).scalars().all()
    if connection.execute(text(
            "SELECT 1 FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
            "WHERE d.datname = current_database() AND r.rolname = :role"),
            {"role": role}).first():
        problems.append(f"{role} owns the database: give it to the tables' owner "
                        "(ALTER DATABASE … OWNER TO …).")
    if owned:
        problems.append(f"{role} owns tables ({', '.join(owned[:5])}…): an owner is not bound "
                        "by row-level security. Run the migrations as another role.")
    return problems


def grant_application_role(connection: Connection, role: str) -> None:
    """Give `role` rows, not schema, on this database (run as the tables' owner)."""
    if connection.dialect.name != "postgresql":
        raise RoleRefused("Database roles are for PostgreSQL; SQLite has none.")
    quoted = _quoted(connection, role)
    if role == connection.execute(text("SELECT current_user")).scalar():
        raise RoleRefused(f"{role} is the role running this command, the tables' owner: the "
                          "portal needs a role of its own.")
    problems = role_problems(connection, role)
    if problems:
        raise RoleRefused(" ".join(problems))
    database = connection.dialect.identifier_preparer.quote_identifier(
        str(connection.execute(text("SELECT current_database()")).scalar()))
    for statement in (
        # Before PostgreSQL 15 every role may create tables in public, which it would own.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {TABLE_PRIVILEGES} ON TABLES "
        f"TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES "
        f"TO {quoted}",
    ):
        connection.execute(text(statement))
    if connection.execute(text("SELECT to_regclass('public.alembic_version')")).scalar():
        connection.execute(text(
            f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}"))


def connected_role_problems(connection: Connection) -> list[str]:
    """For `flask check`: is the portal's own connection bound by row-level security?"""
    if connection.dialect.name != "postgresql":
        return []
    role = str(connection.execute(text("SELECT current_user")).scalar())
    return role_problems(connection, role)
