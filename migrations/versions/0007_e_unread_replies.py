"""unread reporter messages: when the reporter last wrote, when each handler last looked;
evidence held across a refused report form

Revision ID: 0007_e_unread_replies
Revises: 7aed78331823
Create Date: 2026-12-01 10:10:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '0007_e_unread_replies'
down_revision = '0007_d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_message_at', app.models.types.UTCDateTime(),
                                      nullable=True))
    op.create_table(
        'case_seen',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('seen_at', app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'staff_id'),
    )
    with op.batch_alter_table('case_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_seen_staff_id'), ['staff_id'], unique=False)
    op.create_table(
        'held_upload',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('held_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_upload_created_at'), ['created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('held_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_upload_created_at'))
    op.drop_table('held_upload')
    with op.batch_alter_table('case_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_seen_staff_id'))
    op.drop_table('case_seen')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('reporter_message_at')
