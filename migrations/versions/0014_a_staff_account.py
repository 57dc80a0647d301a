"""staff accounts: one person (e-mail, password, key pair, TOTP) may serve several
institutions; staff_member becomes their place (roles) in one institution

Revision ID: 0014_a_staff_account
Revises: 0013_v_institution_profile
Create Date: 2026-12-01 15:45:00

Existing members keep their id as their account's id, so TOTP secrets (sealed with the id in
their associated data) and device cookies stay valid.
"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


revision = '0014_a_staff_account'
down_revision = '0013_v_institution_profile'
branch_labels = None
depends_on = None

MOVED = ('email', 'name', 'password_salt', 'password_kdf', 'password_verifier', 'public_key',
         'wrapped_private_key', 'totp_secret', 'totp_last_step', 'failed_logins',
         'locked_until', 'last_login_at')


def _moved_columns():
    return [
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('password_salt', sa.LargeBinary(length=16), nullable=False),
        sa.Column('password_kdf', sa.String(length=64), nullable=False),
        sa.Column('password_verifier', sa.LargeBinary(length=32), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
        sa.Column('wrapped_private_key', sa.LargeBinary(), nullable=False),
        sa.Column('totp_secret', sa.LargeBinary(), nullable=True),
        sa.Column('totp_last_step', sa.Integer(), nullable=True),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', UTCDateTime(), nullable=True),
        sa.Column('last_login_at', UTCDateTime(), nullable=True),
    ]


def upgrade():
    op.create_table(
        'staff_account',
        sa.Column('id', sa.Integer(), nullable=False),
        *_moved_columns(),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('platform_role', sa.String(length=16), nullable=True),
        sa.Column('observer_scope', sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_account')),
        sa.UniqueConstraint('email', name=op.f('uq_staff_account_email')),
    )
    columns = ', '.join(MOVED)
    op.execute(f"INSERT INTO staff_account (id, {columns}, created_at) "
               f"SELECT id, {columns}, created_at FROM staff_member")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval(pg_get_serial_sequence('staff_account', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM staff_account), 0) + 1, false)")
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
    op.execute("UPDATE staff_member SET account_id = id")
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_staff_member_institution_id', type_='unique')
        batch_op.create_unique_constraint('uq_staff_member_institution_id',
                                          ['institution_id', 'account_id'])
        batch_op.create_index('ix_staff_member_account_id', ['account_id'], unique=False)
        batch_op.create_foreign_key('fk_staff_member_account_id_staff_account',
                                    'staff_account', ['account_id'], ['id'])
        for column in MOVED:
            batch_op.drop_column(column)


def downgrade():
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        for column in _moved_columns():
            batch_op.add_column(sa.Column(column.name, column.type, nullable=True))
    for column in MOVED:
        op.execute(f"UPDATE staff_member SET {column} = (SELECT a.{column} FROM staff_account a "
                   f"WHERE a.id = staff_member.account_id)")
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        for column in _moved_columns():
            if not column.nullable:
                batch_op.alter_column(column.name, existing_type=column.type, nullable=False)
        batch_op.drop_constraint('fk_staff_member_account_id_staff_account', type_='foreignkey')
        batch_op.drop_index('ix_staff_member_account_id')
        batch_op.drop_constraint('uq_staff_member_institution_id', type_='unique')
        batch_op.create_unique_constraint('uq_staff_member_institution_id',
                                          ['institution_id', 'email'])
        batch_op.drop_column('account_id')
    op.drop_table('staff_account')
