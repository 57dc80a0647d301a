"""feedback given timestamp on cases; SIRUTA code and CUI on institutions

Revision ID: 0007_d
Revises: 7aed78331823
Create Date: 2026-12-01 10:10:00

The first-feedback time is backfilled from what the database already holds: the first
closing or forwarding event, or the first message from staff sent after the acknowledgement
(any staff message when the case was never acknowledged), whichever came first. Open cases
whose feedback was already given lose their stale "feedback" deadline. Forwarded reports get
the feedback due date they now keep (3 months after the acknowledgement, or after the 7 days).
"""
import calendar
from datetime import timedelta

from alembic import op
import sqlalchemy as sa

import app.models.types


revision = '0007_d'
down_revision = '0007_c_rate_counter'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_given_at', app.models.types.UTCDateTime(),
                                      nullable=True))
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('siruta_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('cui', sa.String(length=10), nullable=True))

    # Timestamps are stored the same way on both sides, so min() over them compares as the
    # columns do; NULLs are skipped by min().
    op.execute(sa.text('''
        UPDATE "case" SET feedback_given_at = (
            SELECT min(t.at) FROM (
                SELECT e.at AS at FROM case_event e
                 WHERE e.case_id = "case".id AND e.kind IN ('closed', 'forwarded')
                UNION ALL
                SELECT m.created_at AS at FROM message m
                 WHERE m.case_id = "case".id AND m.author = 'staff'
                   AND ("case".acknowledged_at IS NULL
                        OR m.created_at > "case".acknowledged_at)
            ) AS t)
    '''))
    _backfill_forwarded_feedback_due()
    op.execute(sa.text('''
        UPDATE "case" SET next_deadline_kind = NULL, next_deadline_at = NULL
         WHERE next_deadline_kind = 'feedback' AND feedback_given_at IS NOT NULL
    '''))


def _add_months(moment, months):
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def _backfill_forwarded_feedback_due():
    case = sa.table('case', sa.column('id', sa.Integer),
                    sa.column('regime', sa.String),
                    sa.column('received_at', sa.DateTime),
                    sa.column('acknowledged_at', sa.DateTime),
                    sa.column('feedback_due_at', sa.DateTime))
    connection = op.get_bind()
    rows = connection.execute(sa.select(case.c.id, case.c.received_at, case.c.acknowledged_at)
                              .where(case.c.regime == 'forwarded',
                                     case.c.feedback_due_at.is_(None))).all()
    for case_id, received_at, acknowledged_at in rows:
        start = acknowledged_at or received_at + timedelta(days=7)
        connection.execute(case.update().where(case.c.id == case_id)
                           .values(feedback_due_at=_add_months(start, 3)))


def downgrade():
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_column('cui')
        batch_op.drop_column('siruta_code')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('feedback_given_at')
