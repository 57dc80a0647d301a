"""The second wall: on PostgreSQL, a query with no institution filter at all still sees only
the institutions of its transaction's scope (app/rls.py, migration 0014), and the portal's
role can neither see past the policies nor take them down.

Two institutions with cases, messages, notes, staff, sessions, receipts and audit rows; the
queries are raw SQL (`SELECT ... FROM t`) through the portal's own role, which in this suite
is `<database>_app` (tests/conftest.py application_role_url), granted as `flask db-role grant`
grants production's. The first test (policy coverage) runs on SQLite too: it holds the lists
of the migrations against the models, so a new table cannot forget its policy.
"""
import os
import secrets
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool, QueuePool

from app import create_app, rls
from app.extensions import db
from app.models import Institution, Role
from app.services.access.opened import open_case
from app.services.casework.messages import send_staff_message
from app.services.casework.notes import add_note
from app.services.intake import submit as intake
from app.services.operations.institutions import create_institution
from app.services.operations.preflight import run_checks
from app.services.staff import members as staff_service
from app.services.transaction import unit_of_work
from tests.conftest import config_for
from tests.support.scratch_database import create_postgres_database, drop_postgres_database
from tests.support.staff import signed_in_access

ON_POSTGRESQL = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
AS_APP_ROLE = ON_POSTGRESQL and os.environ.get("TEST_DATABASE_APP_ROLE") != "0"
postgresql_only = pytest.mark.skipif(
    not AS_APP_ROLE,
    reason="row-level security is PostgreSQL's: runs when TEST_DATABASE_URL is PostgreSQL "
           "(and TEST_DATABASE_APP_ROLE is not 0); on SQLite the application's filter is the "
           "only wall")


def _oldest_first():
    config = current_app.extensions["migrate"].migrate.get_config()
    return reversed(list(ScriptDirectory.from_config(config).walk_revisions()))


def declared_policy_kinds() -> tuple[set[str], dict[str, tuple[str, str]],
                                     dict[str, tuple[str, str]]]:
    """Every table given a policy by some migration: by its institution_id, by a parent, or
    by a parent it may lack (a platform account's session has no place: visible only under
    '*'). A later migration that remakes a table's policy decides its kind."""
    by_institution: set[str] = set()
    by_parent: dict[str, tuple[str, str]] = {}
    by_optional_parent: dict[str, tuple[str, str]] = {}
    for script in _oldest_first():
        by_institution |= set(getattr(script.module, "ROW_LEVEL_SECURITY_BY_INSTITUTION", ()))
        for table, link in getattr(script.module, "ROW_LEVEL_SECURITY_BY_PARENT", {}).items():
            by_parent[table] = link
            by_optional_parent.pop(table, None)
        for table, link in getattr(script.module, "ROW_LEVEL_SECURITY_BY_OPTIONAL_PARENT",
                                   {}).items():
            by_optional_parent[table] = link
            by_parent.pop(table, None)
    return by_institution, by_parent, by_optional_parent


def declared_policies() -> tuple[set[str], dict[str, tuple[str, str]]]:
    """By institution_id, and by a parent (whether or not every row has one)."""
    by_institution, by_parent, by_optional_parent = declared_policy_kinds()
    return by_institution, {**by_parent, **by_optional_parent}


def declared_membership_policies() -> dict[str, tuple[str, str]]:
    """Tables seen through the rows that point at them (a person's account, via their places)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    found: dict[str, tuple[str, str]] = {}
    for script in ScriptDirectory.from_config(config).walk_revisions():
        found.update(getattr(script.module, "ROW_LEVEL_SECURITY_BY_MEMBERSHIP", {}))
    return found


def test_every_table_has_a_policy_or_is_named_shared(app):
    by_institution, by_parent = declared_policies()
    tables = db.metadata.tables
    with_institution = {name for name, table in tables.items() if "institution_id" in table.c}
    assert with_institution - by_institution == set(), \
        "a table with institution_id needs a policy (see migration 0014)"
    assert by_institution - with_institution == set(), "a policy by institution_id on a table " \
                                                       "without it, or a table gone"
    by_membership = declared_membership_policies()
    unclassified = (set(tables) - by_institution - set(by_parent) - set(by_membership)
                    - set(rls.SHARED_TABLES))
    assert unclassified == set(), \
        "each table gets a policy (by institution_id or by its parent) or is named in " \
        "app/rls.py SHARED_TABLES with the reason it has no tenant"
    assert set(rls.SHARED_TABLES) & (by_institution | set(by_parent)) == set()
    _, must_have_parent, may_lack_parent = declared_policy_kinds()
    for child, (column, parent) in by_parent.items():
        assert parent in by_institution or parent in by_parent, (child, parent)
        foreign = {fk.column.table.name for fk in tables[child].c[column].foreign_keys}
        assert foreign == {parent}, (child, column)
        if child in must_have_parent:
            assert not tables[child].c[column].nullable, f"{child}.{column} may be NULL"
    assert set(may_lack_parent) == {"staff_session"}, \
        "a row without a parent is seen only unrestricted: say why a new table needs that"


@pytest.fixture
def owner(database_url):
    """The tables' owner, who ran the migrations (bound by no policy)."""
    engine = create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def _data_of(institution, kdf_params):
    """A handler and an admin, a report with its case, receipt, key wraps, events and
    outbox mail, a staff session, a message, a note and the audit rows these leave."""
    password = secrets.token_urlsafe(16)
    slug = secrets.token_hex(3)
    handler = staff_service.add_staff(
        institution, email=f"ana.{slug}@example.org", name="Ana Popescu",
        roles=[Role.HANDLER], password=password, kdf_params=kdf_params)
    staff_service.add_staff(
        institution, email=f"admin.{slug}@example.org", name="Maria Admin",
        roles=[Role.ADMIN], password=secrets.token_urlsafe(16), kdf_params=kdf_params)
    db.session.commit()
    handler.password = password
    report = intake.Report(category=intake.Category.BRIBERY, what_happened="A bribe.",
                           work_context=False, language="ro")
    with unit_of_work():
        submitted = intake.submit_report(institution, report, [], kdf_params)
    access = signed_in_access(institution, handler, kdf_params)
    with unit_of_work():
        opened = open_case(access, submitted.case.id)
        send_staff_message(opened, "Please tell us more.", [])
        add_note(opened, "Check the permit register.")


@pytest.fixture
def two_institutions(app, kdf_params):
    a, _ = create_institution("Comuna Bălțați")
    b, _ = create_institution("Comuna Scânteia")
    db.session.commit()
    for institution in (a, b):
        _data_of(institution, kdf_params)
    return a.id, b.id


def _institution_of(table: str, alias: str, by_parent: dict, depth: int = 0) -> str:
    """SQL for the institution a row belongs to, through its parents."""
    if table not in by_parent:
        return f"{alias}.institution_id"
    column, parent = by_parent[table]
    inner = f"p{depth}"
    # Names from the migration's lists, not from input.
    return (f'(SELECT {_institution_of(parent, inner, by_parent, depth + 1)} '  # noqa: S608
            f'FROM "{parent}" {inner} WHERE {inner}.id = {alias}.{column})')


def rows_by_institution(connection, tables, by_parent) -> dict[str, dict[int, int]]:
    counts = {}
    for table in sorted(tables):
        found = connection.execute(text(
            f'SELECT {_institution_of(table, "t", by_parent)} AS institution, count(*) '  # noqa: S608  # nosec B608
            f'FROM "{table}" t GROUP BY 1')).all()
        counts[table] = {institution: count for institution, count in found}
    return counts


def visible_counts(tables) -> dict[str, int]:
    """`SELECT count(*) FROM t`, nothing else, through the portal's own connection."""
    with db.engine.connect() as connection:
        return {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()  # noqa: S608  # nosec B608
                for table in sorted(tables)}


@postgresql_only
def test_the_policies_are_in_the_database(app, owner):
    by_institution, by_parent = declared_policies()
    with owner.connect() as connection:
        enabled = set(connection.execute(text(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'")).scalars())
        policed = set(connection.execute(text(
            "SELECT tablename FROM pg_policies WHERE policyname = 'institution_scope' "
            "AND cmd = 'ALL' AND qual IS NOT NULL AND with_check IS NOT NULL")).scalars())
        forced = set(connection.execute(text(
            "SELECT relname FROM pg_class WHERE relforcerowsecurity")).scalars())
    assert by_institution | set(by_parent) <= enabled & policed
    assert enabled & set(rls.SHARED_TABLES) == set()
    assert forced == set(), "the owner runs migrations and is not bound (no FORCE)"


@postgresql_only
def test_a_query_without_any_filter_sees_only_the_scopes_institutions(two_institutions, owner):
    a, b = two_institutions
    by_institution, by_parent = declared_policies()
    tables = by_institution | set(by_parent)
    with owner.connect() as connection:
        truth = rows_by_institution(connection, tables, by_parent)
    # Both institutions really have rows where it matters, so "only A" is not vacuous.
    for table in ("case", "message", "note", "staff_member", "staff_session", "audit_entry",
                  "audit_head", "key_wrap", "receipt", "case_event"):
        assert truth[table].get(a) and truth[table].get(b), table

    with rls.scoped({a}):
        only_a = visible_counts(tables)
        with db.engine.connect() as connection:
            seen = set(connection.execute(text(
                'SELECT institution_id FROM "case" UNION SELECT institution_id FROM message '
                "UNION SELECT institution_id FROM staff_member "
                "UNION SELECT institution_id FROM audit_entry")).scalars())
    assert seen == {a}
    assert only_a == {table: truth[table].get(a, 0) for table in tables}

    with rls.scoped({a, b}):
        both = visible_counts(tables)
    assert both == {table: sum(truth[table].values()) for table in tables}

    with rls.scoped({b}):
        assert visible_counts(tables) == {table: truth[table].get(b, 0) for table in tables}
    with rls.scoped(()):
        assert set(visible_counts(tables).values()) == {0}


@postgresql_only
def test_a_persons_account_is_seen_through_their_places(two_institutions, kdf_params):
    """Accounts of A's staff only with A in scope; a designated person serving both from
    either; a platform account (no place) only unrestricted."""
    a, b = two_institutions
    shared = staff_service.add_staff(db.session.get(Institution, a), email="dana@iasi.example",
                                     name="Dana Comun", roles=[Role.HANDLER],
                                     password=secrets.token_urlsafe(16), kdf_params=kdf_params)
    staff_service.add_membership(shared.account, db.session.get(Institution, b),
                                 [Role.HANDLER])
    db.session.commit()

    def emails():
        with db.engine.connect() as connection:
            return set(connection.execute(text("SELECT email FROM staff_account")).scalars())
    everyone = emails()
    with rls.scoped({a}):
        only_a = emails()
    with rls.scoped({b}):
        only_b = emails()
    with rls.scoped(()):
        assert emails() == set()
    assert "dana@iasi.example" in only_a & only_b
    assert only_a | only_b == everyone and len(only_a & only_b) == 1
    assert all(email.split("@")[0] in ("dana",) or (email in only_a) != (email in only_b)
               for email in everyone)


@postgresql_only
def test_a_request_in_restricted_mode_sees_nothing_until_limited(app, two_institutions):
    a, _ = two_institutions
    by_institution, by_parent = declared_policies()
    tables = by_institution | set(by_parent)
    rls.restrict_request_by_default(app)
    # Each request has its own app context, hence its own `g`, as under gunicorn.
    with app.app_context(), app.test_request_context("/"):
        assert rls.current_scope() == rls.NO_INSTITUTION
        assert set(visible_counts(tables).values()) == {0}
        rls.limit_to({a})
        assert visible_counts(tables)["case"] == 1
    app.config[rls.RESTRICT_REQUESTS] = False
    with app.app_context(), app.test_request_context("/"):
        assert rls.current_scope() == rls.EVERY_INSTITUTION
        assert visible_counts(tables)["case"] == 2


@postgresql_only
def test_rows_of_another_institution_are_refused_on_write(app, two_institutions, kdf_params,
                                                          owner):
    a, b = two_institutions
    with owner.connect() as connection:
        case_of_b = connection.execute(text('SELECT id FROM "case" WHERE institution_id = :b'),
                                       {"b": b}).scalar()
        staff_of_a = connection.execute(text(
            "SELECT min(id) FROM staff_member WHERE institution_id = :a"), {"a": a}).scalar()
    institution_b = db.session.get(Institution, b)
    db.session.commit()
    with rls.scoped({a}):
        with pytest.raises(ProgrammingError, match="row-level security"):
            staff_service.add_staff(
                institution_b, email="intruder@example.org", name="Intrus",
                roles=[Role.HANDLER], password=secrets.token_urlsafe(16), kdf_params=kdf_params)
            db.session.flush()
    db.session.rollback()
    with rls.scoped({a}), db.engine.begin() as connection:
        # Moving A's rows to B is refused too, and B's rows cannot be touched at all.
        with pytest.raises(ProgrammingError, match="row-level security"):
            with connection.begin_nested():
                connection.execute(text("UPDATE staff_member SET institution_id = :b"),
                                   {"b": b})
        touched = connection.execute(text(
            "UPDATE staff_member SET roles = roles WHERE institution_id = :b"), {"b": b})
        assert touched.rowcount == 0
        assert connection.execute(text(
            "DELETE FROM message WHERE institution_id = :b"), {"b": b}).rowcount == 0
        # A child row whose parent is B's: refused, its parent is not visible.
        with pytest.raises(ProgrammingError, match="row-level security"):
            with connection.begin_nested():
                connection.execute(text(
                    "INSERT INTO case_seen (case_id, staff_id, seen_at) "
                    "VALUES (:case, :staff, now())"), {"case": case_of_b, "staff": staff_of_a})
    with rls.scoped(None), db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM message WHERE institution_id = :b"),
                                  {"b": b}).scalar() == 1


@postgresql_only
def test_the_portals_role_owns_nothing_and_cannot_take_the_wall_down(app, two_institutions):
    with db.engine.connect() as connection:
        role = connection.execute(text("SELECT current_user")).scalar()
        owners = set(connection.execute(text(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
        flags = connection.execute(text(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user")).one()
    assert role not in owners
    assert tuple(flags) == (False, False, False, False)
    for statement in ('ALTER TABLE "case" DISABLE ROW LEVEL SECURITY',
                      'ALTER TABLE "case" NO FORCE ROW LEVEL SECURITY',
                      'DROP POLICY institution_scope ON "case"',
                      'CREATE POLICY everything ON "case" USING (true)',
                      'DROP TABLE message',
                      'TRUNCATE message',
                      'CREATE TABLE copied AS SELECT 1 AS x'):
        with db.engine.connect() as connection:
            with pytest.raises((ProgrammingError, DBAPIError), match="(?i)owner|permission"):
                connection.execute(text(statement))
    # Turning row security off does not show more: the query is refused instead.
    with db.engine.connect() as connection:
        connection.execute(text("SET row_security = off"))
        with pytest.raises(ProgrammingError, match="row-level security"):
            connection.execute(text('SELECT count(*) FROM "case"'))
        connection.rollback()


@postgresql_only
def test_a_pooled_connection_carries_no_scope_into_the_next_transaction(app, two_institutions):
    a, b = two_institutions
    engine = create_engine(db.engine.url, poolclass=QueuePool, pool_size=1, max_overflow=0)
    try:
        with rls.scoped({a}), engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
            assert connection.execute(text('SELECT count(*) FROM "case"')).scalar() == 1
            connection.commit()
        # The same server connection, back from the pool, used without the portal's begin:
        # the setting was local to the transaction that ended, so it sees nothing at all.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT pg_backend_pid(), "
                           "current_setting('avertizor.institution_ids', true)")
            assert cursor.fetchone() == (pid, "")
            cursor.execute('SELECT count(*) FROM "case"')
            assert cursor.fetchone() == (0,)
            raw.rollback()
        finally:
            raw.close()
        with rls.scoped({b}), engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() == pid
            assert connection.execute(text(
                'SELECT DISTINCT institution_id FROM "case"')).scalars().all() == [b]
    finally:
        engine.dispose()


@postgresql_only
def test_the_scope_changes_an_open_transaction_too(app, two_institutions):
    a, b = two_institutions
    db.session.execute(text("SELECT 1"))  # the session's transaction is open, unrestricted
    assert db.session.execute(text('SELECT count(*) FROM "case"')).scalar() == 2
    with rls.scoped({b}):
        assert db.session.execute(text(
            'SELECT array_agg(institution_id) FROM "case"')).scalar() == [b]
    assert db.session.execute(text('SELECT count(*) FROM "case"')).scalar() == 2
    db.session.rollback()


def test_the_scope_is_kept_per_request_and_outside_requests(app):
    assert rls.current_scope() == rls.EVERY_INSTITUTION
    with rls.scoped({3, 1}) as scope:
        assert scope.setting() == "1,3" and rls.current_scope() == scope
        with app.app_context(), app.test_request_context("/"):
            # A request starts afresh, with no institution until it resolves its own.
            assert rls.current_scope() == rls.NO_INSTITUTION
            rls.limit_to({7})
            assert rls.current_scope().setting() == "7"
            rls.unrestricted()
            assert rls.current_scope().setting() == "*"
        assert rls.current_scope() == scope
    assert rls.current_scope() == rls.EVERY_INSTITUTION
    assert rls.NO_INSTITUTION.setting() == ""
    with pytest.raises(TypeError):
        rls.limit_to({"1"})  # type: ignore[arg-type]


def test_the_migration_lists_tables_by_name(app):
    """The policies are written into the migration, not derived from today's models."""
    path = Path(__file__).parent.parent / "migrations/versions/0014_w_row_level_security.py"
    source = path.read_text()
    assert "metadata" not in source and "import app" not in source
    assert '"case"' in source and '"staff_member"' in source


@postgresql_only
def test_an_operator_migrates_as_the_owner_and_grants_the_portals_role(database_url, tmp_path):
    """README "Production": the owner runs `db upgrade` (MIGRATION_DATABASE_URL), then
    `db-role grant`; the portal (DATABASE_URL) then reads and writes rows and nothing more,
    also in a table a later migration adds."""
    url, name = create_postgres_database(database_url, "avz_rls_operator")
    owner_role, app_role = f"{name}_owner", f"{name}_app"
    server = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{owner_role}" LOGIN'))
        connection.execute(text(f'CREATE ROLE "{app_role}" LOGIN'))
        connection.execute(text(f'ALTER DATABASE "{name}" OWNER TO "{owner_role}"'))
    owner_url = make_url(url).set(username=owner_role).render_as_string(hide_password=False)
    app_url = make_url(url).set(username=app_role).render_as_string(hide_password=False)
    operator = create_app(config_for(app_url, str(tmp_path / "uploads"),
                                     MIGRATION_DATABASE_URL=owner_url))
    try:
        runner = operator.test_cli_runner()

        def flask(*args):  # as `flask --app wsgi …`, which runs in an app context
            with operator.app_context():
                return runner.invoke(args=list(args))

        migrated = flask("db", "upgrade")
        assert migrated.exit_code == 0, migrated.output
        granted = flask("db-role", "grant", app_role)
        assert granted.exit_code == 0, granted.output
        assert f"Set DATABASE_URL to connect as {app_role}" in granted.output
        with operator.app_context():
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT current_user")).scalar() == app_role
                assert set(connection.execute(text(
                    "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()) == {owner_role}
                assert connection.execute(text(
                    "SELECT version_num FROM alembic_version")).scalar()
                assert connection.execute(text('SELECT count(*) FROM "case"')).scalar() == 0
            with db.engine.connect() as connection:
                with pytest.raises(ProgrammingError, match="permission"):
                    connection.execute(text("UPDATE alembic_version SET version_num = 'x'"))
            assert not [f for f in run_checks("production") if "database role" in f.message]
            # A table a later migration creates is the portal's to use at once.
            owner = create_engine(owner_url, poolclass=NullPool)
            with owner.begin() as connection:
                connection.execute(text("CREATE TABLE added_later (id serial PRIMARY KEY)"))
            owner.dispose()
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO added_later DEFAULT VALUES"))
                assert connection.execute(text("SELECT count(*) FROM added_later")).scalar() == 1
            db.engine.dispose()
        for role, reason in ((owner_role, "running this command"), ("postgres", "superuser"),
                             ("Robert'); DROP TABLE x;--", "plain role name"),
                             (f"{name}_nobody", "does not exist")):
            refused = flask("db-role", "grant", role)
            assert refused.exit_code != 0 and reason in refused.output, refused.output
    finally:
        drop_postgres_database(database_url, name)
        with server.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{app_role}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{owner_role}"'))
        server.dispose()
