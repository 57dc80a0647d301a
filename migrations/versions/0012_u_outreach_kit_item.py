"""outreach log: the outreach-kit item a post used (poster, leaflet, social-media image)

Revision ID: 0012_u_outreach_kit_item
Revises: 0011_t_meeting_request
Create Date: 2026-12-01 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_u_outreach_kit_item'
down_revision = '0011_t_meeting_request'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outreach_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kit_item', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('outreach_item', schema=None) as batch_op:
        batch_op.drop_column('kit_item')
