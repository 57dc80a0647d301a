"""integrity plan: plan, objectives, measures with their versions, per-year status,
progress, indicator values, encrypted evidence, open-data publications

Revision ID: 0009_p_integrity_plan
Revises: 0009_r_risk_register
Create Date: 2026-12-01 12:43:36.054296

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '0009_p_integrity_plan'
down_revision = '0009_r_risk_register'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('adopted_on', sa.Date(), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('publish_status', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_plan_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan'))
    )
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_institution_id'), ['institution_id'], unique=False)

    op.create_table('open_data_publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_member.id'], name=op.f('fk_open_data_publication_created_by_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_open_data_publication_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open_data_publication'))
    )
    with op.batch_alter_table('open_data_publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_data_publication_institution_id'), ['institution_id'], unique=False)

    op.create_table('plan_objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_objective_plan_id_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_objective')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_plan_objective_plan_id'))
    )
    with op.batch_alter_table('plan_objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_objective_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('footnote', sa.Text(), nullable=True),
    sa.Column('risks', sa.JSON(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('responsible', sa.JSON(), nullable=False),
    sa.Column('deadline', sa.String(length=100), nullable=True),
    sa.Column('budget', sa.Text(), nullable=True),
    sa.Column('retired_at', app.models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['plan_objective.id'], name=op.f('fk_plan_measure_objective_id_plan_objective')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_measure_plan_id_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_measure')),
    sa.UniqueConstraint('plan_id', 'code', name=op.f('uq_plan_measure_plan_id'))
    )
    with op.batch_alter_table('plan_measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_measure_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_measure_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('storage_name', sa.String(length=64), nullable=False),
    sa.Column('wrapped_file_key', sa.LargeBinary(), nullable=False),
    sa.Column('meta', sa.LargeBinary(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('uploaded_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_plan_evidence_institution_id_institution')),
    sa.ForeignKeyConstraint(['measure_id'], ['plan_measure.id'], name=op.f('fk_plan_evidence_measure_id_plan_measure')),
    sa.ForeignKeyConstraint(['uploaded_by_staff_id'], ['staff_member.id'], name=op.f('fk_plan_evidence_uploaded_by_staff_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_evidence')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_plan_evidence_storage_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_plan_evidence_uuid'))
    )
    with op.batch_alter_table('plan_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_evidence_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_evidence_measure_id'), ['measure_id'], unique=False)

    op.create_table('plan_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('count', 'yes_no', 'percent', 'amount_lei', 'text', name='indicatorkind', native_enum=False, length=32), nullable=False),
    sa.Column('computed', sa.String(length=64), nullable=True),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['plan_measure.id'], name=op.f('fk_plan_indicator_measure_id_plan_measure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_indicator'))
    )
    with op.batch_alter_table('plan_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_indicator_measure_id'), ['measure_id'], unique=False)

    op.create_table('plan_measure_assignee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['plan_measure.id'], name=op.f('fk_plan_measure_assignee_measure_id_plan_measure')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], name=op.f('fk_plan_measure_assignee_staff_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_measure_assignee')),
    sa.UniqueConstraint('measure_id', 'staff_id', name=op.f('uq_plan_measure_assignee_measure_id'))
    )
    with op.batch_alter_table('plan_measure_assignee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_measure_assignee_measure_id'), ['measure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_measure_assignee_staff_id'), ['staff_id'], unique=False)

    op.create_table('plan_measure_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('change', sa.Enum('loaded', 'introduced', 'revised', 'retired', name='change', native_enum=False, length=32), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('changed_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_staff_id'], ['staff_member.id'], name=op.f('fk_plan_measure_version_changed_by_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['measure_id'], ['plan_measure.id'], name=op.f('fk_plan_measure_version_measure_id_plan_measure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_measure_version')),
    sa.UniqueConstraint('measure_id', 'number', name=op.f('uq_plan_measure_version_measure_id'))
    )
    with op.batch_alter_table('plan_measure_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_measure_version_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_measure_version_measure_id'), ['measure_id'], unique=False)

    op.create_table('plan_measure_year',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'implemented', 'ongoing', 'not_implemented', name='measurestatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('updated_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['plan_measure.id'], name=op.f('fk_plan_measure_year_measure_id_plan_measure')),
    sa.ForeignKeyConstraint(['updated_by_staff_id'], ['staff_member.id'], name=op.f('fk_plan_measure_year_updated_by_staff_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_measure_year')),
    sa.UniqueConstraint('measure_id', 'year', name=op.f('uq_plan_measure_year_measure_id'))
    )
    with op.batch_alter_table('plan_measure_year', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_measure_year_measure_id'), ['measure_id'], unique=False)

    op.create_table('plan_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_staff_id'], ['staff_member.id'], name=op.f('fk_plan_progress_by_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['measure_id'], ['plan_measure.id'], name=op.f('fk_plan_progress_measure_id_plan_measure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_progress'))
    )
    with op.batch_alter_table('plan_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_progress_measure_id'), ['measure_id'], unique=False)

    op.create_table('plan_indicator_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('entered_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_staff_id'], ['staff_member.id'], name=op.f('fk_plan_indicator_value_entered_by_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['indicator_id'], ['plan_indicator.id'], name=op.f('fk_plan_indicator_value_indicator_id_plan_indicator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_indicator_value')),
    sa.UniqueConstraint('indicator_id', 'year', name=op.f('uq_plan_indicator_value_indicator_id'))
    )
    with op.batch_alter_table('plan_indicator_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_indicator_value_indicator_id'), ['indicator_id'], unique=False)



def downgrade():
    with op.batch_alter_table('plan_indicator_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_indicator_value_indicator_id'))

    op.drop_table('plan_indicator_value')
    with op.batch_alter_table('plan_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_progress_measure_id'))

    op.drop_table('plan_progress')
    with op.batch_alter_table('plan_measure_year', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_measure_year_measure_id'))

    op.drop_table('plan_measure_year')
    with op.batch_alter_table('plan_measure_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_measure_version_measure_id'))
        batch_op.drop_index(batch_op.f('ix_plan_measure_version_changed_at'))

    op.drop_table('plan_measure_version')
    with op.batch_alter_table('plan_measure_assignee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_measure_assignee_staff_id'))
        batch_op.drop_index(batch_op.f('ix_plan_measure_assignee_measure_id'))

    op.drop_table('plan_measure_assignee')
    with op.batch_alter_table('plan_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_indicator_measure_id'))

    op.drop_table('plan_indicator')
    with op.batch_alter_table('plan_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_evidence_measure_id'))
        batch_op.drop_index(batch_op.f('ix_plan_evidence_institution_id'))

    op.drop_table('plan_evidence')
    with op.batch_alter_table('plan_measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_measure_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_measure_objective_id'))

    op.drop_table('plan_measure')
    with op.batch_alter_table('plan_objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_objective_plan_id'))

    op.drop_table('plan_objective')
    with op.batch_alter_table('open_data_publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_data_publication_institution_id'))

    op.drop_table('open_data_publication')
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_institution_id'))

    op.drop_table('plan')
