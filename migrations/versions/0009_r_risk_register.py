"""corruption-risk register and self-assessment answers

The register of corruption risks (integrity plan, measures 1.5 and 1.6) and each year's
answers to the national strategy's inventory of preventive measures (measure 1.8). New tables
only: nothing existing changes.

Revision ID: 0009_r_risk_register
Revises: 0008_b_sealed_request_reasons
Create Date: 2026-12-01 12:45:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '0009_r_risk_register'
down_revision = '0008_b_sealed_request_reasons'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('corruption_risk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('activity', sa.String(length=200), nullable=False),
    sa.Column('area', sa.Enum('bribery', 'conflict_of_interest', 'abuse_of_office', 'public_procurement', 'misuse_of_funds', 'favouritism_in_hiring', 'incompatibility', 'other', name='category', native_enum=False, length=32), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('causes', sa.Text(), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('prevention', sa.Text(), nullable=False),
    sa.Column('plan_measures', sa.String(length=200), nullable=False),
    sa.Column('identified_on', sa.Date(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('identified', 'treated', 'remediated', 'closed', name='riskstatus', native_enum=False, length=32), nullable=False),
    sa.Column('remediation', sa.Text(), nullable=False),
    sa.Column('remediated_on', sa.Date(), nullable=True),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_member.id'], name=op.f('fk_corruption_risk_created_by_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_corruption_risk_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corruption_risk'))
    )
    with op.batch_alter_table('corruption_risk', schema=None) as batch_op:
        batch_op.create_index('ix_corruption_risk_institution_status', ['institution_id', 'status'], unique=False)

    op.create_table('self_assessment_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('inventory', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('answer', sa.Enum('implemented', 'partial', 'not_implemented', 'not_applicable', name='answer', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('answered_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_staff_id'], ['staff_member.id'], name=op.f('fk_self_assessment_answer_answered_by_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_self_assessment_answer_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessment_answer')),
    sa.UniqueConstraint('institution_id', 'inventory', 'year', 'item_code', name=op.f('uq_self_assessment_answer_institution_id'))
    )


def downgrade():
    op.drop_table('self_assessment_answer')
    with op.batch_alter_table('corruption_risk', schema=None) as batch_op:
        batch_op.drop_index('ix_corruption_risk_institution_status')

    op.drop_table('corruption_risk')
