"""institution: county, public contacts, logo, own host name, suspension (many institutions)

Revision ID: 0013_v_institution_profile
Revises: 0012_u_outreach_kit_item
Create Date: 2026-12-01 15:30:00

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


revision = '0013_v_institution_profile'
down_revision = '0012_u_outreach_kit_item'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('office_hours', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('public_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('dpo_contact', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_mime', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('host', sa.String(length=253), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', UTCDateTime(), nullable=True))
        batch_op.create_index('ix_institution_county', ['county'], unique=False)
        batch_op.create_unique_constraint('uq_institution_host', ['host'])


def downgrade():
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_constraint('uq_institution_host', type_='unique')
        batch_op.drop_index('ix_institution_county')
        for column in ('suspended_at', 'host', 'logo_mime', 'logo', 'dpo_contact',
                       'public_email', 'office_hours', 'phone', 'address', 'county'):
            batch_op.drop_column(column)
