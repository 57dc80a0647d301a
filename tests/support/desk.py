"""Building case histories for the indicator tests, through the real services.

Reports enter through app.services.intake.submit (the web form in some tests) and move through
app.services.casework.workflow with a handler really signed in (password → Argon2id → private key →
split session). Time is the one thing simulated: `age(case, days)` moves everything recorded
about the case so far into the past, as if that much time had passed since, and
`place(case, received_at)` moves the whole history so that the report arrived then. The
deadlines are then recomputed by app.services.casework.deadlines, exactly as the workflow would.
"""
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseEvent, Category, Channel, Message, Outcome, Platform, Regime
from app.services.access.opened import open_case
from app.services.casework import deadlines, workflow
from app.services.intake import submit as intake
from app.services.transaction import unit_of_work
from tests.support.staff import signed_in_access

TIMESTAMPS = ("received_at", "acknowledged_at", "closed_at", "extended_at", "forwarded_at",
              "feedback_given_at", "updated_at")


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class Desk:
    """A signed-in handler who receives reports and works them, with a simulated clock."""

    def __init__(self, institution, handler, kdf_params):
        self.institution, self.handler, self.kdf_params = institution, handler, kdf_params
        self.access = signed_in_access(institution, handler, kdf_params)

    def receive(self, channel=Channel.WEB, *, platform: Platform | None = None,
                category=Category.OTHER, anonymous=True, at: datetime | None = None) -> Case:
        """A report through intake: from the web when channel is WEB, else recorded by the
        handler as manual intake does. Placed at `at` when given."""
        report = intake.Report(
            category=category, what_happened="Metadata test report.", work_context=False,
            language="ro", anonymous=anonymous, name="" if anonymous else "Ion Ionescu",
            email="" if anonymous else "ion@example.org", channel=channel, platform=platform,
            recorded_by=None if channel is Channel.WEB else self.handler)
        with unit_of_work():
            case = intake.submit_report(self.institution, report, [], self.kdf_params,
                                        issue_receipt=False).case
        if at is not None:
            self.place(case, at)
        return case

    def _key(self, case) -> bytes:
        return open_case(self.access, case.id).key

    def step(self, service, case, *args, **kwargs) -> Case:
        with unit_of_work():
            return service(open_case(self.access, case.id), *args, **kwargs)

    def step_with_key(self, service, case, *args, **kwargs) -> Case:
        with unit_of_work():
            return service(open_case(self.access, case.id), *args, **kwargs)

    def triage(self, case, regime: Regime) -> Case:
        return self.step(workflow.triage, case, regime=regime, category=case.category,
                         examine_anonymous=True)

    def acknowledge(self, case) -> Case:
        return self.step_with_key(workflow.acknowledge, case, "Am primit sesizarea.")

    def message(self, case) -> None:
        from app.services.casework.messages import message_reporter

        with unit_of_work():
            message_reporter(open_case(self.access, case.id), "Vă informăm despre demersuri.", [])

    def close(self, case, outcome: Outcome) -> Case:
        return self.step_with_key(workflow.close, case, outcome, "Răspuns motivat.")

    def extend(self, case) -> Case:
        return self.step_with_key(workflow.extend, case, "Avem nevoie de 15 zile.")

    def forward(self, case, authority="DNA") -> Case:
        return self.step_with_key(workflow.forward, case, authority, date.today(),
                                  "Transmis autorității competente.")

    def reopen(self, case) -> Case:
        return self.step(workflow.reopen, case)

    def assess(self, case) -> Case:
        return self.step(workflow.start_assessment, case)

    # --- the clock ---

    def age(self, case, days: float = 0, hours: float = 0) -> None:
        """Everything that happened to the case so far happened this much earlier."""
        shift(case.id, -timedelta(days=days, hours=hours))

    def place(self, case, received_at: datetime) -> None:
        """Move the whole history so that the report was received at `received_at`."""
        db.session.expire_all()
        current = db.session.get(Case, case.id).received_at
        shift(case.id, received_at - current)


def shift(case_id: int, delta: timedelta) -> None:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    for name in TIMESTAMPS:
        value = getattr(case, name)
        if value is not None:
            setattr(case, name, value + delta)
    for event in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)):
        event.at += delta
    for message in db.session.scalars(select(Message).where(Message.case_id == case_id)):
        message.created_at += delta
    deadlines.refresh(case)
    db.session.commit()
