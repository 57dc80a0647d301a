"""indicator snapshots: each institution's exact indicators per completed period, so that a
county's or the country's figures read 3,200 rows instead of scanning millions of cases; on
PostgreSQL, covering indexes for one institution's statistics (index-only scans)

Revision ID: 0014_x_indicator_snapshot
Revises: 0014_w_row_level_security
Create Date: 2026-12-01 16:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


revision = '0014_x_indicator_snapshot'
down_revision = '0014_w_row_level_security'
branch_labels = None
depends_on = None


STATISTICS_COLUMNS = ("id", "channel", "platform", "category", "regime", "status", "outcome",
                      "anonymous", "recorded_by_staff_id", "acknowledge_due_at",
                      "acknowledged_at", "answer_due_at", "extended_at", "forward_due_at",
                      "forwarded_at")
# (index, table, key columns, included columns): the same keys as before, plus INCLUDE.
COVERING = (
    ("ix_case_institution_received", "case", ["institution_id", "received_at"],
     list(STATISTICS_COLUMNS)),
    ("ix_case_institution_deadline", "case", ["institution_id", "next_deadline_at", "id"],
     ["next_deadline_kind"]),
    ("ix_case_event_case_id", "case_event", ["case_id"], ["kind", "at"]),
)


def _recreate(include: bool) -> None:
    """INCLUDE exists on PostgreSQL only; on SQLite the indexes stay as they are."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, keys, included in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, keys, unique=False,
                        postgresql_include=included if include else [])


# Row-level security, as migration 0014_w does for every table with an institution_id.
ROW_LEVEL_SECURITY_BY_INSTITUTION = ("indicator_snapshot",)
SETTING = "current_setting('avertizor.institution_ids', true)"
IN_SCOPE = (f"((SELECT {SETTING}) = '*' OR institution_id = ANY ("
            f"(SELECT string_to_array(NULLIF({SETTING}, '*'), ',')::int[])::int[]))")


def upgrade():
    _recreate(include=True)
    op.create_table(
        'indicator_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('period_code', sa.String(length=32), nullable=False),
        sa.Column('computed_at', UTCDateTime(), nullable=False),
        sa.Column('figures', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institution.id'],
                                name=op.f('fk_indicator_snapshot_institution_id_institution')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_snapshot')),
        sa.UniqueConstraint('period_code', 'institution_id',
                            name=op.f('uq_indicator_snapshot_period_code')),
    )
    with op.batch_alter_table('indicator_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_snapshot_institution_id'),
                              ['institution_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE indicator_snapshot ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY institution_scope ON indicator_snapshot USING {IN_SCOPE} '
                   f'WITH CHECK {IN_SCOPE}')


def downgrade():
    _recreate(include=False)
    with op.batch_alter_table('indicator_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_snapshot_institution_id'))
    op.drop_table('indicator_snapshot')
