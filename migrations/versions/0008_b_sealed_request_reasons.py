"""identity requests: the requester's and the custodian's reasons sealed, no longer in clear

The reasons may quote the report. Each request gets a random key that encrypts its reasons,
sealed to the requester, the custodians holding the case's identity key and the recovery key
(app.crypto.request_reasons). Sealing needs only public keys, all in the database, so the
existing reasons are encrypted here, not lost; the clear columns are then dropped.
On PostgreSQL the old values stay in dead row versions until the next VACUUM (run
`VACUUM FULL identity_request` after the upgrade to remove them at once).

Revision ID: 0008_b_sealed_request_reasons
Revises: 0007_e_unread_replies
Create Date: 2026-12-01 11:20:00

"""
from alembic import op
import sqlalchemy as sa

from app.crypto import request_reasons as sealed
from app.crypto.envelope import Recipient
from app.crypto.keys import load_public


# revision identifiers, used by Alembic.
revision = '0008_b_sealed_request_reasons'
down_revision = '0007_e_unread_replies'
branch_labels = None
depends_on = None


def _seal_existing(connection):
    requests = connection.execute(sa.text(
        "SELECT r.id, r.case_id, r.requested_by_staff_id, r.reason, r.decision_reason, "
        "i.recovery_public_key FROM identity_request r "
        "JOIN institution i ON i.id = r.institution_id")).all()
    for request_id, case_id, requester_id, reason, decision_reason, recovery in requests:
        readers = {None: load_public(bytes(recovery))}  # None: the recovery key
        requester = connection.execute(sa.text(
            "SELECT public_key FROM staff_member WHERE id = :id"),
            {"id": requester_id}).scalar()
        if requester is not None:
            readers[requester_id] = load_public(bytes(requester))
        holders = connection.execute(sa.text(
            "SELECT s.id, s.roles, s.public_key FROM staff_member s "
            "JOIN key_wrap w ON w.staff_id = s.id "
            "WHERE w.case_id = :case AND w.kind = 'identity'"), {"case": case_id}).all()
        for staff_id, roles, public_key in holders:
            if "custodian" in (roles or "").split(","):
                readers[staff_id] = load_public(bytes(public_key))
        key = sealed.new_key()
        to = [Recipient(staff_id, public) for staff_id, public in readers.items()]
        values = {"id": request_id, "keys": sealed.seal_request_key(key, request_id, to=to),
                  "reason": sealed.seal_reason(key, request_id, sealed.REASON, reason or ""),
                  "decision": (sealed.seal_reason(key, request_id, sealed.DECISION_REASON,
                                                  decision_reason)
                               if decision_reason is not None else None)}
        connection.execute(sa.text(
            "UPDATE identity_request SET reader_keys = :keys, reason_sealed = :reason, "
            "decision_reason_sealed = :decision, reason = '', decision_reason = NULL "
            "WHERE id = :id"), values)


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        # Replaced values must not linger in SQLite's free pages.
        connection.execute(sa.text("PRAGMA secure_delete = ON"))
    with op.batch_alter_table('identity_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('decision_reason_sealed', sa.LargeBinary(),
                                      nullable=True))
        batch_op.add_column(sa.Column('reader_keys', sa.Text(), nullable=True))
    _seal_existing(connection)
    with op.batch_alter_table('identity_request', schema=None) as batch_op:
        batch_op.drop_column('reason')
        batch_op.drop_column('decision_reason')


def downgrade():
    # The sealed reasons cannot be opened without a private key: going back keeps none.
    with op.batch_alter_table('identity_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=1000), nullable=False,
                                      server_default='(reason not kept)'))
        batch_op.add_column(sa.Column('decision_reason', sa.String(length=1000),
                                      nullable=True))
        batch_op.drop_column('reader_keys')
        batch_op.drop_column('decision_reason_sealed')
        batch_op.drop_column('reason_sealed')
