"""The migration that adds case.feedback_given_at fills it in from the history already
stored, and clears the stale "feedback" deadline of cases that had their feedback."""
from datetime import datetime

import flask_migrate
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.conftest import config_for

BEFORE = "7aed78331823"


def test_feedback_given_is_backfilled_from_events_and_messages(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(config_for(url, str(tmp_path / "uploads")))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        meta = sa.MetaData()
        meta.reflect(db.engine)
        t = meta.tables
        day = lambda d, h=10: datetime(2025, 1, d, h)  # noqa: E731 (naive UTC, as stored)
        with db.engine.begin() as c:
            c.execute(t["institution"].insert().values(
                id=1, name="Comuna", slug="comuna", recovery_public_key=b"k" * 32,
                receipt_salt=b"s" * 16, identity_policy="direct", retention_years=5,
                acknowledge_reminder_days=2, answer_reminder_days=14, disabled_categories="",
                created_at=day(1)))
            common = dict(institution_id=1, channel="web", category="bribery",
                          work_context=True, regime="whistleblower", anonymous=True,
                          language="ro", received_at=day(1), acknowledge_due_at=day(8),
                          acknowledged_at=day(2), feedback_due_at=datetime(2025, 4, 2, 10),
                          updated_at=day(1))
            # 1: a message after the acknowledgement on day 20; 2: closed on day 15, then
            # reopened; 3: only the acknowledgement's own message: no feedback yet.
            for case_id in (1, 2, 3):
                c.execute(t["case"].insert().values(
                    id=case_id, uuid=f"u{case_id}", reference=f"SES-2025-000{case_id}",
                    status="assessment", next_deadline_kind="feedback",
                    next_deadline_at=datetime(2025, 4, 2, 10), **common))
            message = dict(institution_id=1, author="staff", body=b"x")
            for message_id, case_id, at in ((1, 1, day(2, 9)), (2, 1, day(20)),
                                            (3, 3, day(2, 9)), (4, 2, day(2, 9))):
                c.execute(t["message"].insert().values(id=message_id, uuid=f"m{message_id}",
                                                       case_id=case_id, created_at=at,
                                                       **message))
            for kind, at in (("closed", day(15)), ("reopened", day(16))):
                c.execute(t["case_event"].insert().values(case_id=2, institution_id=1,
                                                          kind=kind, at=at))
        flask_migrate.upgrade()
        with db.engine.connect() as c:
            rows = dict((row[0], row[1:]) for row in c.execute(sa.text(
                'SELECT id, feedback_given_at, next_deadline_kind FROM "case" ORDER BY id')))
        assert str(rows[1][0]).startswith("2025-01-20") and rows[1][1] is None
        assert str(rows[2][0]).startswith("2025-01-15") and rows[2][1] is None
        assert rows[3] == (None, "feedback")
        db.engine.dispose()
