"""The workflow's rules, through app.services.casework.workflow with a really signed-in StaffAccess
(password → Argon2id → private key → split session), and the reporter's view at /follow-up.

Every illegal step is refused with its own message and leaves the case exactly as it was;
every legal step changes the status, writes a case event and an audit entry, and recomputes
the next legal deadline."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Category,
    DeadlineKind,
    Message,
    OutboxMail,
    Outcome,
    Regime,
    Status,
)
from app.services.access.opened import open_case
from app.services.casework import deadlines, workflow
from app.services.casework.workflow import IllegalTransition
from app.services.errors import NotAuthorised
from app.services.transaction import unit_of_work
from tests.conftest import csrf_token
from tests.support.staff import signed_in_access


def msgid(message) -> str:
    """The English msgid behind a lazy message (services speak the request's language)."""
    return getattr(message, "_args", (str(message),))[0]


@pytest.fixture
def desk(staff_access, submit):
    """A handler signed in through the service layer, and a way to get fresh cases."""

    class Desk:
        member = staff_access.member
        access = staff_access

        @staticmethod
        def new_case(**report) -> tuple[Case, str]:
            response, receipt = submit(**report)
            assert response.status_code == 200
            case = db.session.scalar(select(Case).order_by(Case.id.desc()))
            return case, receipt

        @staticmethod
        def key(case) -> bytes:
            return open_case(Desk.access, case.id).key

        @staticmethod
        def step(service, case, *args, **kwargs) -> Case:
            with unit_of_work():
                return service(open_case(Desk.access, case.id), *args, **kwargs)

        @staticmethod
        def step_with_key(service, case, *args, **kwargs) -> Case:
            with unit_of_work():
                return service(open_case(Desk.access, case.id), *args, **kwargs)

    return Desk


def snapshot(case_id: int) -> dict:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    columns = ("status", "outcome", "regime", "category", "acknowledged_at", "extended_at",
               "closed_at", "forwarded_to", "forwarded_at", "next_deadline_kind",
               "next_deadline_at", "answer_due_at", "feedback_due_at", "assigned_staff_id")
    state = {name: getattr(case, name) for name in columns}
    for model in (CaseEvent, AuditEntry, Message):
        state[model.__name__] = db.session.scalar(
            select(func.count(model.id)).where(model.case_id == case_id))
    state["outbox"] = db.session.scalar(select(func.count(OutboxMail.id)))
    return state


def refused(desk, case, expected: str, service, *args, with_key=False, **kwargs):
    """The step raises IllegalTransition with `expected`, and nothing about the case moved."""
    before = snapshot(case.id)
    step = desk.step_with_key if with_key else desk.step
    with pytest.raises(IllegalTransition) as refusal:
        step(service, case, *args, **kwargs)
    assert msgid(refusal.value.message) == expected
    assert snapshot(case.id) == before
    return refusal.value


def events(case_id: int) -> list[str]:
    return list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.id)))


def audit_actions(case_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.case_id == case_id).order_by(AuditEntry.seq)))


TRIAGE_FIRST = "Triage the case first: choose the law that applies."
ALREADY_CLOSED = "This case is already closed."
MESSAGE_NEEDED = "Write the message the reporter will receive."
# Forwarded "today": valid whatever the rule about dates before the report arrived.
TODAY = date.today()


# --- illegal transitions ---------------------------------------------------------------------

def test_untriaged_case_refuses_what_needs_a_regime(desk):
    case, _ = desk.new_case()
    refused(desk, case, "A case moves to investigation from assessment.",
            workflow.start_investigation)
    refused(desk, case, TRIAGE_FIRST, workflow.start_assessment)
    refused(desk, case, TRIAGE_FIRST, workflow.close, Outcome.DISMISSED, "Clasat.",
            with_key=True)
    refused(desk, case, "Only a petition's deadline can be extended.", workflow.extend,
            "Mai avem nevoie de timp.", with_key=True)
    refused(desk, case, "Only a closed case can be reopened.", workflow.reopen)


def test_acknowledge_only_once_and_only_with_a_message(desk):
    case, _ = desk.new_case()
    refused(desk, case, MESSAGE_NEEDED, workflow.acknowledge, "   ", with_key=True)
    desk.step_with_key(workflow.acknowledge, case, "Am primit sesizarea.")
    refused(desk, case, "This case has already been acknowledged.",
            workflow.acknowledge, "Din nou.", with_key=True)


def test_close_refuses_forwarded_outcome_empty_message_and_a_closed_case(desk):
    case, _ = desk.new_case()
    desk.step(workflow.triage, case, regime=Regime.WHISTLEBLOWER, category=Category.BRIBERY)
    error = refused(desk, case, "Use “Forward” to send the case to another authority.",
                    workflow.close, Outcome.FORWARDED, "Trimis la DNA.", with_key=True)
    assert error.field == "outcome"
    refused(desk, case, MESSAGE_NEEDED, workflow.close, Outcome.DISMISSED, "",
            with_key=True)
    desk.step_with_key(workflow.close, case, Outcome.DISMISSED, "Clasat: fapte repetate.")
    refused(desk, case, ALREADY_CLOSED, workflow.close, Outcome.SUBSTANTIATED, "Din nou.",
            with_key=True)
    refused(desk, case, ALREADY_CLOSED, workflow.extend, "Prelungire.", with_key=True)
    refused(desk, case, ALREADY_CLOSED, workflow.forward, "DNA", TODAY, "Trimis.",
            with_key=True)
    refused(desk, case, "A closed case cannot be triaged; reopen it first.", workflow.triage,
            regime=Regime.PETITION, category=Category.OTHER)
    refused(desk, case, "A case moves to investigation from assessment.",
            workflow.start_investigation)
    refused(desk, case, "Only a received or acknowledged case can move to assessment.",
            workflow.start_assessment)


def test_extend_only_a_petition_and_only_once(desk):
    case, _ = desk.new_case()
    desk.step(workflow.triage, case, regime=Regime.WHISTLEBLOWER, category=Category.BRIBERY)
    refused(desk, case, "Only a petition's deadline can be extended.", workflow.extend,
            "Avem nevoie de timp.", with_key=True)
    desk.step(workflow.triage, case, regime=Regime.PETITION, category=Category.OTHER)
    refused(desk, case, MESSAGE_NEEDED, workflow.extend, "", with_key=True)
    desk.step_with_key(workflow.extend, case, "Așteptăm un răspuns de la ADI.")
    refused(desk, case, "The deadline has already been extended once.", workflow.extend,
            "Încă o dată.", with_key=True)


def test_forward_needs_an_authority_and_a_date_not_in_the_future(desk):
    case, _ = desk.new_case()
    error = refused(desk, case, "Name the authority the case goes to.", workflow.forward,
                    "  ", TODAY, "Trimis.", with_key=True)
    assert error.field == "authority"
    error = refused(desk, case, "The date cannot be in the future.", workflow.forward,
                    "DNA Iași", date.today() + timedelta(days=1), "Trimis.", with_key=True)
    assert error.field == "forwarded_on"
    refused(desk, case, MESSAGE_NEEDED, workflow.forward, "DNA Iași", TODAY, " ",
            with_key=True)


def test_reopen_refuses_an_open_case_and_a_forwarded_one(desk):
    case, _ = desk.new_case()
    desk.step(workflow.triage, case, regime=Regime.WHISTLEBLOWER, category=Category.BRIBERY)
    desk.step(workflow.start_assessment, case)
    refused(desk, case, "Only a closed case can be reopened.", workflow.reopen)
    desk.step_with_key(workflow.forward, case, "Parchetul de pe lângă Judecătoria Iași",
                       TODAY, "Sesizarea a fost trimisă parchetului.")
    refused(desk, case, "A forwarded case belongs to another authority now.", workflow.reopen)


def test_assign_only_to_someone_who_holds_the_key(opened_case, make_handler):
    case = opened_case.case
    stranger = make_handler("Ion Nou")  # joined after the report: holds no key for it
    for member_id in (stranger.id, 999999):
        before = snapshot(case.id)
        with pytest.raises(IllegalTransition) as refusal:
            with unit_of_work():
                workflow.assign(opened_case, member_id)
        assert msgid(refusal.value.message) == "Assign the case to a handler who holds its key."
        assert snapshot(case.id) == before
    with unit_of_work():
        workflow.assign(opened_case, opened_case.member.id)
    assert db.session.get(Case, case.id).assigned_staff_id == opened_case.member.id


def test_a_handler_without_the_key_is_refused_before_any_rule(desk, make_handler,
                                                             institution, kdf_params):
    case, _ = desk.new_case()
    outsider = make_handler("Ion Nou")
    access = signed_in_access(institution, outsider, kdf_params)
    before = snapshot(case.id)
    for call in (lambda: workflow.triage(open_case(access, case.id), regime=Regime.PETITION,
                                         category=Category.OTHER),
                 lambda: workflow.start_assessment(open_case(access, case.id)),
                 lambda: workflow.reopen(open_case(access, case.id)),
                 lambda: workflow.assign(open_case(access, case.id), outsider.id),
                 lambda: workflow.acknowledge(open_case(access, case.id), "Primit.")):
        with pytest.raises(NotAuthorised):
            with unit_of_work():
                call()
    assert snapshot(case.id) == before


def test_unacknowledged_whistleblower_case_in_assessment_is_not_stuck(opened_case):
    case = opened_case.case
    with unit_of_work():
        workflow.triage(opened_case, regime=Regime.WHISTLEBLOWER, category=Category.BRIBERY)
    with unit_of_work():
        workflow.start_assessment(opened_case)
    # Moving to assessment first does not stop the 7-day clock: it is still open, and the
    # acknowledgement can still be sent; the case keeps its status and the clock moves on.
    assert db.session.get(Case, case.id).next_deadline_kind == DeadlineKind.ACKNOWLEDGE
    with unit_of_work():
        workflow.acknowledge(opened_case, "Am primit sesizarea.")
    case = db.session.get(Case, case.id)
    assert case.acknowledged_at is not None and case.status is Status.ASSESSMENT
    assert case.next_deadline_kind == DeadlineKind.FEEDBACK
    assert events(case.id)[-1] == "acknowledged"


def test_forward_date_cannot_be_before_the_report_arrived(desk):
    case, _ = desk.new_case()
    refused(desk, case, "The date cannot be before the report was received.",
            workflow.forward, "DNA Iași", date(2001, 1, 1), "Trimis.", with_key=True)


# --- legal paths -------------------------------------------------------------------------------

def test_whistleblower_path_moves_status_events_audit_and_deadlines(desk):
    case, _ = desk.new_case(work_context="yes")
    assert case.next_deadline_kind == DeadlineKind.ACKNOWLEDGE
    assert case.next_deadline_at == case.received_at + timedelta(days=7)

    desk.step(workflow.triage, case, regime=Regime.WHISTLEBLOWER,
              category=Category.ABUSE_OF_OFFICE)
    case = db.session.get(Case, case.id)
    assert case.regime is Regime.WHISTLEBLOWER and case.category is Category.ABUSE_OF_OFFICE
    assert case.status is Status.RECEIVED and case.next_deadline_kind == DeadlineKind.ACKNOWLEDGE

    desk.step_with_key(workflow.acknowledge, case, "Am primit sesizarea dumneavoastră.")
    case = db.session.get(Case, case.id)
    assert case.status is Status.ACKNOWLEDGED and case.acknowledged_at is not None
    assert case.next_deadline_kind == DeadlineKind.FEEDBACK
    assert case.next_deadline_at == deadlines.add_months(case.acknowledged_at, 3)

    desk.step(workflow.start_assessment, case)
    assert db.session.get(Case, case.id).status is Status.ASSESSMENT
    desk.step(workflow.start_investigation, case)
    assert db.session.get(Case, case.id).status is Status.INVESTIGATION
    assert db.session.get(Case, case.id).next_deadline_kind == DeadlineKind.FEEDBACK

    desk.step_with_key(workflow.close, case, Outcome.PARTIALLY_SUBSTANTIATED,
                       "O parte din fapte s-a confirmat.")
    case = db.session.get(Case, case.id)
    assert case.status is Status.CLOSED and case.outcome is Outcome.PARTIALLY_SUBSTANTIATED
    assert case.closed_at is not None
    assert case.next_deadline_at is None and case.next_deadline_kind is None

    assert events(case.id) == ["received", "triaged", "acknowledged", "status_changed",
                               "status_changed", "closed"]
    actors = set(db.session.scalars(select(CaseEvent.actor_staff_id).where(
        CaseEvent.case_id == case.id, CaseEvent.kind != "received")))
    assert actors == {desk.member.id}
    actions = audit_actions(case.id)
    for expected in ("triaged", "acknowledged", "status_changed", "closed"):
        assert expected in actions
    assert actions.count("message_sent") == 2  # the acknowledgement and the answer
    assert db.session.scalar(select(func.count(Message.id)).where(
        Message.case_id == case.id)) == 2


def test_anonymous_petition_records_the_decision_to_examine_it(desk):
    case, _ = desk.new_case()
    desk.step(workflow.triage, case, regime=Regime.PETITION, category=Category.OTHER,
              examine_anonymous=True)
    detail = db.session.scalar(select(CaseEvent.detail).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "triaged"))
    assert '"examine_anonymous": true' in detail and '"regime": "petition"' in detail


def test_petition_path_with_its_one_extension(desk):
    case, _ = desk.new_case()
    desk.step(workflow.triage, case, regime=Regime.PETITION, category=Category.OTHER)
    case = db.session.get(Case, case.id)
    assert case.next_deadline_kind == DeadlineKind.ANSWER
    assert case.next_deadline_at == case.received_at + timedelta(days=30)
    assert case.feedback_due_at is None

    desk.step_with_key(workflow.extend, case, "Așteptăm documente de la ADI.")
    case = db.session.get(Case, case.id)
    assert case.extended_at is not None
    assert case.next_deadline_at == case.received_at + timedelta(days=45)
    assert events(case.id)[-1] == "extended"
    assert audit_actions(case.id)[-1] == "extended"

    desk.step(workflow.start_assessment, case)
    desk.step_with_key(workflow.close, case, Outcome.UNSUBSTANTIATED, "Nu s-a confirmat.")
    case = db.session.get(Case, case.id)
    assert case.status is Status.CLOSED and case.next_deadline_at is None


def test_forward_records_authority_and_date_and_closes(desk):
    case, _ = desk.new_case()
    # The report arrived ten days ago (as a manual intake may record); forwarded two days ago.
    case.received_at -= timedelta(days=10)
    deadlines.refresh(case)
    db.session.commit()
    on = date.today() - timedelta(days=2)
    desk.step_with_key(workflow.forward, case, "  Agenția Națională de Integritate  ", on,
                       "Faptele țin de ANI; le-am trimis acolo.")
    case = db.session.get(Case, case.id)
    assert case.status is Status.CLOSED and case.outcome is Outcome.FORWARDED
    assert case.regime is Regime.FORWARDED
    assert case.forwarded_to == "Agenția Națională de Integritate"
    assert case.forwarded_at.date() == on
    assert case.closed_at is not None and case.next_deadline_at is None
    assert events(case.id)[-1] == "forwarded"
    detail = db.session.scalar(select(AuditEntry.detail).where(
        AuditEntry.case_id == case.id, AuditEntry.action == "forwarded"))
    assert on.isoformat() in detail and "Agenția Națională de Integritate" in detail


def test_reopened_case_goes_back_to_assessment_with_its_deadline(desk):
    case, _ = desk.new_case()
    desk.step(workflow.triage, case, regime=Regime.WHISTLEBLOWER, category=Category.BRIBERY)
    desk.step_with_key(workflow.acknowledge, case, "Primit.")
    deadline = db.session.get(Case, case.id).next_deadline_at
    desk.step_with_key(workflow.close, case, Outcome.UNSUBSTANTIATED, "Nu s-a confirmat.")
    assert db.session.get(Case, case.id).next_deadline_at is None

    desk.step(workflow.reopen, case)
    case = db.session.get(Case, case.id)
    assert case.status is Status.ASSESSMENT
    assert case.outcome is None and case.closed_at is None
    # The closing was the reporter's feedback (Law 361/2022): a reopening does not undo it,
    # so no legal deadline is open again (the same rule as in the statistics).
    assert case.feedback_given_at is not None and case.feedback_due_at == deadline
    assert case.next_deadline_kind is None and case.next_deadline_at is None
    assert events(case.id)[-1] == "reopened"
    detail = db.session.scalar(select(AuditEntry.detail).where(
        AuditEntry.case_id == case.id, AuditEntry.action == "reopened"))
    assert "unsubstantiated" in detail
    # And it can be worked and closed again.
    desk.step(workflow.start_investigation, case)
    desk.step_with_key(workflow.close, case, Outcome.SUBSTANTIATED, "Confirmat după noi fapte.")
    assert db.session.get(Case, case.id).outcome is Outcome.SUBSTANTIATED


# --- what the reporter sees ------------------------------------------------------------------

def test_reporter_sees_acknowledgement_extension_and_answer(desk, client, follow_up):
    case, receipt = desk.new_case(identity_choice="identified", email="petent@example.org")
    desk.step(workflow.triage, case, regime=Regime.PETITION, category=Category.OTHER)
    desk.step_with_key(workflow.acknowledge, case, "ACK-7Q: am primit petiția.")
    desk.step_with_key(workflow.extend, case, "EXT-7Q: răspundem în 45 de zile.")
    desk.step_with_key(workflow.close, case, Outcome.SUBSTANTIATED, "END-7Q: s-a confirmat.")

    assert follow_up(receipt).status_code == 302
    page = client.get("/follow-up/case").get_data(as_text=True)
    for text in ("ACK-7Q: am primit petiția.", "EXT-7Q: răspundem în 45 de zile.",
                 "END-7Q: s-a confirmat."):
        assert text in page
    assert "Closed: the examination has ended" in page
    assert "Acknowledged on" in page and "Closed on" in page
    # The reporter is told by mail that there is news, without content: once while a notice is
    # pending, however many messages (the three are read at once).
    mails = db.session.scalars(select(OutboxMail).where(
        OutboxMail.kind == "reporter_update")).all()
    assert len(mails) == 1
    assert all("7Q" not in mail.body and "7Q" not in mail.subject for mail in mails)


def test_reporter_sees_the_forwarding_message(desk, client, follow_up):
    case, receipt = desk.new_case()
    desk.step_with_key(workflow.forward, case, "DNA", TODAY,
                       "FWD-7Q: am trimis sesizarea la DNA.")
    follow_up(receipt)
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert "FWD-7Q: am trimis sesizarea la DNA." in page


def test_refusals_through_the_web_show_the_message_and_change_nothing(
        desk, sign_in, client, follow_up):
    """The same rules hold through the forms: 400, the message on the page, nothing saved."""
    case, receipt = desk.new_case()
    staff = sign_in(desk.member)
    page_url = f"/staff/cases/{case.id}"

    def post(action, data):
        token = csrf_token(staff, page_url)
        return staff.post(f"{page_url}/{action}", data={**data, "csrf_token": token})

    before = snapshot(case.id)
    for action, data, message in [
        ("reopen", {}, "Only a closed case can be reopened."),
        ("assess", {}, TRIAGE_FIRST),
        ("forward", {"fwd-authority": "DNA", "fwd-message": "Trimis.",
                     "fwd-forwarded_on": (date.today() + timedelta(days=3)).isoformat()},
         "The date cannot be in the future."),
    ]:
        response = post(action, data)
        assert response.status_code == 400, action
        assert message in response.get_data(as_text=True), action
    after = snapshot(case.id)
    # Opening the case page is audited (case_opened); nothing else may have changed.
    assert {k: v for k, v in after.items() if k != "AuditEntry"} == \
        {k: v for k, v in before.items() if k != "AuditEntry"}
    assert set(audit_actions(case.id)) <= {"case_opened"}

    response = post("close", {"close-outcome": "forwarded", "close-message": "x"})
    assert response.status_code == 400  # not even offered by the form
    assert db.session.get(Case, case.id).status is Status.RECEIVED

    response = post("acknowledge", {"ack-message": "WEB-ACK-7Q"})
    assert response.status_code == 302
    response = post("acknowledge", {"ack-message": "WEB-ACK-7Q again"})
    assert response.status_code == 400
    follow_up(receipt)
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert "WEB-ACK-7Q" in page and "WEB-ACK-7Q again" not in page


def test_a_refusal_from_a_stale_page_still_says_why(desk, sign_in):
    case, _ = desk.new_case()
    desk.step(workflow.triage, case, regime=Regime.PETITION, category=Category.OTHER)
    staff = sign_in(desk.member)
    page_url = f"/staff/cases/{case.id}"
    token = csrf_token(staff, page_url)  # the page as it was: acknowledge and extend offered
    for action, data in (("acknowledge", {"ack-message": "Primit."}),
                         ("extend", {"ext-message": "Prelungim cu 15 zile."})):
        assert staff.post(f"{page_url}/{action}",
                          data={**data, "csrf_token": token}).status_code == 302
    # The same forms sent again from the stale page.
    for action, data, message in (
            ("acknowledge", {"ack-message": "Primit."},
             "This case has already been acknowledged."),
            ("extend", {"ext-message": "Prelungim iar."},
             "The deadline has already been extended once.")):
        response = staff.post(f"{page_url}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), action


def test_case_events_hold_no_typed_text(opened_case):
    """The history every handler reads names places and counts, never a reason or a passage
    (those may quote the report): record_event refuses them before anything is written."""
    from app.models import EventKind
    from app.services.casework.events import record_event

    before = snapshot(opened_case.case.id)
    for typed in ({"reason": "Numele reclamantului este Ion."}, {"passage": "Ion Popescu"}):
        with pytest.raises(ValueError):
            with unit_of_work():
                record_event(opened_case.case, EventKind.REPORT_REDACTED,
                             by=opened_case.member, **typed)
    assert snapshot(opened_case.case.id) == before
