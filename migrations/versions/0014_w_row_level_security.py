"""row-level security: every tenant table shows only the transaction's institutions

Revision ID: 0014_w_row_level_security
Revises: 0013_v_institution_profile
Create Date: 2026-12-01 16:00:00

On PostgreSQL only (SQLite has no row-level security; the application's filter is the only
wall there). Each transaction of the portal says which institutions it serves in
`avertizor.institution_ids` (app/rls.py): '*' for all, '1,2' for some, '' or unset for none.

Two kinds of policy, both named `institution_scope`, both USING and WITH CHECK:
- a table with an institution_id column: the row's institution is in the setting;
- a table that hangs off a tenant row without its own institution_id (case children keyed
  by case_id, the plan's tree, staff sessions): the parent row is visible. The parent's own
  policy applies inside the EXISTS, so the child follows its parent's institution and cannot
  drift from it; each lookup is by the parent's primary key.

The tables are listed here, by name, rather than found from the models: a migration describes
the schema at its revision. tests/test_row_level_security.py fails when a model's table is in
neither list (nor in app/rls.py SHARED_TABLES), so a new table cannot forget its policy: the
migration that creates it adds one in the same way. The owner that runs migrations is not
subject to the policies (no FORCE); the portal connects as a role that owns nothing
(`flask --app wsgi db-role grant`).
"""
from alembic import op


revision = '0014_w_row_level_security'
down_revision = '0014_a_staff_account'
branch_labels = None
depends_on = None

POLICY = "institution_scope"

ROW_LEVEL_SECURITY_BY_INSTITUTION = (
    "attachment", "audit_entry", "audit_head", "case", "case_event", "corruption_risk",
    "identity_request", "invitation", "key_wrap", "message", "note", "open_data_publication",
    "outbox_mail", "outreach_item", "plan", "plan_evidence", "receipt", "reference_counter",
    "self_assessment_answer", "staff_member", "usage_counter",
)

# child table -> (its column, parent table): visible when the parent row is.
ROW_LEVEL_SECURITY_BY_PARENT = {
    "case_seen": ("case_id", "case"),
    "reporter_session": ("case_id", "case"),
    "staff_session": ("staff_id", "staff_member"),
    "plan_objective": ("plan_id", "plan"),
    "plan_measure": ("plan_id", "plan"),
    "plan_indicator": ("measure_id", "plan_measure"),
    "plan_measure_assignee": ("measure_id", "plan_measure"),
    "plan_measure_version": ("measure_id", "plan_measure"),
    "plan_measure_year": ("measure_id", "plan_measure"),
    "plan_progress": ("measure_id", "plan_measure"),
    "plan_indicator_value": ("indicator_id", "plan_indicator"),
}

# A person's account (one for all the institutions they serve, app/models/staff.py) is seen
# through their places: an account is visible when one of its staff_member rows is, and while
# it has none (created a moment before its first place, or a platform account) only under '*'.
# Any new account may be written: it names no institution until a staff_member row does.
ROW_LEVEL_SECURITY_BY_MEMBERSHIP = {"staff_account": ("account_id", "staff_member")}

# Unset or '' gives NULL or an empty array: no row. The NULLIF keeps '*' out of the cast
# (OR does not short-circuit in SQL); anything else but digits and commas fails the cast, and
# the statement with it. Each side is a scalar subquery, so PostgreSQL reads and parses the
# setting once per query (an InitPlan) rather than once per row: on 2,000,000 rows a full
# scan took 157 ms with this form, 340 ms with the calls inline and 111 ms with no policy.
SETTING = "current_setting('avertizor.institution_ids', true)"
IN_SCOPE = (f"((SELECT {SETTING}) = '*' OR institution_id = ANY ("
            f"(SELECT string_to_array(NULLIF({SETTING}, '*'), ',')::int[])::int[]))")


def _parent_visible(table: str, column: str, parent: str) -> str:
    return f'(EXISTS (SELECT 1 FROM "{parent}" p WHERE p.id = "{table}".{column}))'


def _policies() -> list[tuple[str, str]]:
    return ([(table, IN_SCOPE) for table in ROW_LEVEL_SECURITY_BY_INSTITUTION]
            + [(table, _parent_visible(table, column, parent))
               for table, (column, parent) in ROW_LEVEL_SECURITY_BY_PARENT.items()])


def _through_member(table: str, column: str, child: str) -> str:
    return (f"((SELECT {SETTING}) = '*' OR EXISTS (SELECT 1 FROM \"{child}\" m "
            f'WHERE m.{column} = "{table}".id))')


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, condition in _policies():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING {condition} '
                   f'WITH CHECK {condition}')
    for table, (column, child) in ROW_LEVEL_SECURITY_BY_MEMBERSHIP.items():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY {POLICY} ON "{table}" '
                   f'USING {_through_member(table, column, child)} WITH CHECK (true)')


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ROW_LEVEL_SECURITY_BY_MEMBERSHIP:
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    for table, _ in reversed(_policies()):
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
