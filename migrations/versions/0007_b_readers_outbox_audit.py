"""reader confirmation, sealed outbox secrets, audit entry MAC

Revision ID: 0007_b
Revises: 7aed78331823
Create Date: 2026-12-01 10:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


revision = '0007_b'
down_revision = '7aed78331823'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', app.models.types.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_staff_id', sa.Integer(),
                                      nullable=True))
        batch_op.add_column(sa.Column('proposed_by_staff_id', sa.Integer(),
                                      nullable=True))
    # Accounts that exist already were accepted under the old rules: they stay readers.
    op.execute("UPDATE staff_member SET confirmed_at = created_at")
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_mac', sa.LargeBinary(length=32), nullable=True))
    # Activation links already sent sit in clear in the bodies: cut them out. Unsent ones are
    # dropped (the administrator sends the invitation again from the staff page).
    op.execute("UPDATE outbox_mail SET body = '(erased)' WHERE kind = 'invitation'")
    op.execute("DELETE FROM outbox_mail WHERE kind = 'invitation' AND sent_at IS NULL")


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('entry_mac')
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_column('sealed')
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_column('proposed_by_staff_id')
        batch_op.drop_column('confirmed_by_staff_id')
        batch_op.drop_column('confirmed_at')
