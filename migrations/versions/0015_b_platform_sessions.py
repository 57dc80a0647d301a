"""staff sessions of platform accounts: a session belongs to an account, its place is optional

Revision ID: 0015_b_platform_sessions
Revises: 0014_x_indicator_snapshot
Create Date: 2026-12-01 17:00:00

A platform operator or observer has an account and no place (staff_member) in any
institution, so a session names its account (`account_id`, backfilled from its place) and its
place only when it has one (`staff_id`, now nullable).

Row-level security (PostgreSQL): a session with a place is visible when its place is, as
before; a session without one (a platform account's) only to an unrestricted transaction
('*'), never to an institution-scoped request. The policy of 0014 is dropped and made again.
"""
import sqlalchemy as sa
from alembic import op


revision = '0015_b_platform_sessions'
down_revision = '0014_x_indicator_snapshot'
branch_labels = None
depends_on = None

POLICY = "institution_scope"
SETTING = "current_setting('avertizor.institution_ids', true)"

# child table -> (its column, parent table): visible when the parent row is; a row whose
# column is NULL (no parent) only under '*'. Replaces the table's entry in 0014's
# ROW_LEVEL_SECURITY_BY_PARENT.
ROW_LEVEL_SECURITY_BY_OPTIONAL_PARENT = {"staff_session": ("staff_id", "staff_member")}

_WITH_PARENT = '(EXISTS (SELECT 1 FROM "staff_member" p WHERE p.id = "staff_session".staff_id))'
_PARENTLESS = f"(staff_id IS NULL AND (SELECT {SETTING}) = '*')"
_OPTIONAL_PARENT = f"({_WITH_PARENT} OR {_PARENTLESS})"


def _policy(condition: str) -> None:
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "staff_session"')
    op.execute(f'CREATE POLICY {POLICY} ON "staff_session" USING {condition} '
               f'WITH CHECK {condition}')


def upgrade():
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
    op.execute('UPDATE staff_session SET account_id = (SELECT m.account_id FROM staff_member m '
               'WHERE m.id = staff_session.staff_id)')
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('staff_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index('ix_staff_session_account_id', ['account_id'], unique=False)
        batch_op.create_foreign_key('fk_staff_session_account_id_staff_account',
                                    'staff_account', ['account_id'], ['id'])
    if op.get_bind().dialect.name == "postgresql":
        _policy(_OPTIONAL_PARENT)


def downgrade():
    # Platform sessions have no place to fall back to: they end.
    op.execute('DELETE FROM staff_session WHERE staff_id IS NULL')
    if op.get_bind().dialect.name == "postgresql":
        _policy(_WITH_PARENT)
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_constraint('fk_staff_session_account_id_staff_account',
                                 type_='foreignkey')
        batch_op.drop_index('ix_staff_session_account_id')
        batch_op.alter_column('staff_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('account_id')
