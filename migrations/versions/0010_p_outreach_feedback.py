"""outreach log: participants' feedback of an awareness activity (integrity plan, measure 2.1)

Revision ID: 0010_p_outreach_feedback
Revises: 0009_p_integrity_plan
Create Date: 2026-12-01 13:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_p_outreach_feedback'
down_revision = '0009_p_integrity_plan'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outreach_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('outreach_item', schema=None) as batch_op:
        batch_op.drop_column('feedback')
