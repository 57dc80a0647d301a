"""Operator commands, through Flask's CLI runner against the real database."""
from sqlalchemy import select

from app.crypto import keys
from app.crypto.seal import public_bytes
from app.extensions import db
from app.models import Institution, Role, StaffMember
from app.services.staff.members import unlock_private_key


def test_setup_creates_institution_admin_and_prints_recovery_code_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup", "--institution", "Comuna Bălțați",
                                 "--admin-email", "Admin@Baltati.example"],
                           input="a long admin password\n")
    assert result.exit_code == 0, result.output
    institution = db.session.scalar(select(Institution))
    code_line = [line.strip() for line in result.output.splitlines() if line.count("-") > 8]
    recovery = keys.private_key_from_recovery_code(code_line[0])
    assert public_bytes(recovery.public_key()) == institution.recovery_public_key
    admin = db.session.scalar(select(StaffMember))
    assert admin.email == "admin@baltati.example" and admin.roles == "admin"
    again = runner.invoke(args=["setup", "--institution", "X", "--admin-email", "x@y.z"],
                          input="a long admin password\n")
    assert again.exit_code != 0 and "already set up" in again.output


def test_staff_add_makes_a_key_pair_locked_by_the_password(app, institution):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "add", "ana@baltati.example", "--name", "Ana",
                                 "--role", "handler", "--role", "coordinator"],
                           input="parola foarte lunga\n")
    assert result.exit_code == 0, result.output
    member = db.session.scalar(select(StaffMember))
    assert member.roles == "handler,coordinator"
    assert unlock_private_key(member, "parola foarte lunga") is not None
    assert unlock_private_key(member, "alta parola lunga") is None

    duplicate = runner.invoke(args=["staff", "add", "ANA@baltati.example", "--name", "A",
                                    "--role", "handler"], input="parola foarte lunga\n")
    assert duplicate.exit_code != 0 and "are deja un cont" in duplicate.output  # Romanian default
    weak = runner.invoke(args=["staff", "add", "ion@baltati.example", "--name", "Ion",
                               "--role", "handler"], input="short\n")
    assert weak.exit_code != 0 and "cel puțin 12 caractere" in weak.output


def test_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and "Comuna Bălțați" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "already present" in second.output
    # Two communes, an administrator each, and one designated person serving both.
    places = db.session.scalars(select(StaffMember)).all()
    assert len(places) == 4
    assert len({place.account_id for place in places}) == 3
    shared = [place for place in places if place.email == "persoana.desemnata@baltati.example"]
    assert len({place.institution_id for place in shared}) == 2
    assert all(place.has_role(Role.HANDLER) for place in shared)
