"""shared rate-limit and sign-in counters; case_event.detail as text

Revision ID: 0007_c_rate_counter
Revises: 7aed78331823
Create Date: 2026-12-01 10:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_c_rate_counter'
down_revision = "0007_b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_counter',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_counter')),
    )
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counter_expires_at'), ['expires_at'],
                              unique=False)
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=sa.String(length=400),
                              type_=sa.Text(), existing_nullable=True)


def downgrade():
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=sa.Text(),
                              type_=sa.String(length=400), existing_nullable=True)
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_counter_expires_at'))
    op.drop_table('rate_counter')
