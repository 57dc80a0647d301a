"""a meeting on request: the inbox's marker (the days and way stay encrypted)

Revision ID: 0011_t_meeting_request
Revises: 0010_p_outreach_feedback
Create Date: 2026-12-01 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_t_meeting_request'
down_revision = '0010_p_outreach_feedback'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_requested', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('meeting_requested')
