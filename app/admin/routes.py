"""Administration views: parse the form, call one service, render. The services check the
admin role again; nothing here reads or shows case content or identities."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..auth.session import staff_view
from ..extensions import limiter
from ..form_errors import show_error
from ..models import Category, Role
from ..services.audit.browse import audit_page
from ..services.errors import DomainError
from ..services.kdf import kdf_params
from ..services.operations import settings
from ..services.staff import accounts, invitations, totp
from ..services.staff.members import MIN_PASSWORD_LENGTH
from ..services.transaction import unit_of_work
from . import bp
from .forms import (
    ROLE_NAMES,
    ActionForm,
    ActivationForm,
    AuditFilterForm,
    InviteForm,
    RolesForm,
    SettingsForm,
)


def _roles(values) -> list[Role]:
    return [Role(value) for value in values or [] if value in {r.value for r in Role}]


# --- staff accounts ------------------------------------------------------------------------------

@bp.route("/admin/")
@staff_view(Role.ADMIN)
def staff_list(access):
    with unit_of_work():
        rows = accounts.staff_list(access.member)
        pending = invitations.pending(access.member.institution_id)
        confirmable = {member.id for member in accounts.awaiting_confirmation(access.member)}
    return render_template("admin/staff.html", rows=rows, pending=pending,
                           roles_of=invitations.invited_roles, role_names=ROLE_NAMES,
                           action_form=ActionForm(), confirmable=confirmable)


# --- confirming a trusted role (a second person; admins, or handlers with a single admin) -------

@bp.route("/admin/confirmations")
@staff_view(Role.ADMIN, Role.HANDLER)
def confirmations(access):
    with unit_of_work():
        me = access.member
        waiting = accounts.awaiting_confirmation(me)
        others = [row.member for row in accounts.staff_list_for_confirmation(me)
                  if row.member.id not in {member.id for member in waiting}]
    return render_template("admin/confirmations.html", waiting=waiting, others=others,
                           role_names=ROLE_NAMES, action_form=ActionForm())


@bp.route("/admin/staff/<int:member_id>/confirm", methods=["POST"])
@staff_view(Role.ADMIN, Role.HANDLER)
def confirm_member(access, member_id: int):
    ActionForm().validate_on_submit()  # CSRF is checked globally; nothing else to read
    try:
        with unit_of_work():
            member = accounts.confirm(access.member, member_id)
    except accounts.NoSuchAccount:
        abort(404)
    except DomainError as error:
        flash(error.message)
    else:
        # str(): a lazy string counts as markup (__html__) once in the session, and the name
        # is typed by the invitee.
        flash(str(_l("%(name)s is confirmed. The institution's handlers have been told.",
                     name=member.name)))
    return redirect(url_for(".confirmations"))


@bp.route("/admin/invite", methods=["GET", "POST"])
@staff_view(Role.ADMIN)
def invite(access):
    form = InviteForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                invitation, link = invitations.invite(
                    access.member, name=form.name.data, email=form.email.data,
                    roles=_roles(form.roles.data), public_url=current_app.config["PUBLIC_URL"])
        except DomainError as error:
            show_error(form, error)
        else:
            # The link is in this response and the queued e-mail only: shown once, no redirect.
            return render_template("admin/invited.html", invitation=invitation, link=link,
                                   roles=invitations.invited_roles(invitation),
                                   role_names=ROLE_NAMES)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/invite.html", form=form), status


@bp.route("/admin/invitations/<int:invitation_id>/cancel", methods=["POST"])
@staff_view(Role.ADMIN)
def cancel_invitation(access, invitation_id: int):
    ActionForm().validate_on_submit()  # CSRF is checked globally; nothing else to read
    try:
        with unit_of_work():
            invitation = invitations.cancel(access.member, invitation_id)
    except DomainError as error:
        flash(error.message)
    else:
        flash(str(_l("The invitation for %(email)s is cancelled; its link no longer works.",
                     email=invitation.email)))
    return redirect(url_for(".staff_list"))


def _render_member(admin, member_id: int, roles_form=None, status: int = 200):
    try:
        member = accounts.staff_member(admin, member_id)
    except accounts.NoSuchAccount:
        abort(404)
    if roles_form is None:
        roles_form = RolesForm(formdata=None)
        roles_form.roles.data = [role.value for role in member.role_list]
    return render_template("admin/member.html", member=member, roles_form=roles_form,
                           action_form=ActionForm(), locked=accounts.is_locked(member),
                           role_names=ROLE_NAMES, is_self=member.id == admin.id,
                           may_confirm=member.awaiting_confirmation
                           and accounts.may_confirm(admin, member),
                           confirmers=accounts.eligible_confirmers(member)
                           if member.awaiting_confirmation else []), status


@bp.route("/admin/staff/<int:member_id>")
@staff_view(Role.ADMIN)
def member(access, member_id: int):
    with unit_of_work():
        return _render_member(access.member, member_id)


@bp.route("/admin/staff/<int:member_id>/roles", methods=["POST"])
@staff_view(Role.ADMIN)
def change_roles(access, member_id: int):
    form = RolesForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                accounts.change_roles(access.member, member_id, _roles(form.roles.data))
        except accounts.NoSuchAccount:
            abort(404)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_l("The roles are saved."))
            return redirect(url_for(".member", member_id=member_id))
    with unit_of_work():
        return _render_member(access.member, member_id, roles_form=form, status=400)


STATE_ACTIONS = {
    "deactivate": (accounts.deactivate, _l("The account is deactivated and its sessions have "
                                           "ended.")),
    "reactivate": (accounts.reactivate, _l("The account is active again.")),
    "unlock": (accounts.unlock, _l("The account is unlocked.")),
}


@bp.route("/admin/staff/<int:member_id>/<action>", methods=["POST"])
@staff_view(Role.ADMIN)
def member_action(access, member_id: int, action: str):
    """Deactivate, reactivate or unlock: one button, nothing typed, so errors are flashed."""
    if action not in STATE_ACTIONS:
        abort(404)
    ActionForm().validate_on_submit()  # CSRF is checked globally; nothing else to read
    service, done = STATE_ACTIONS[action]
    try:
        with unit_of_work():
            service(access.member, member_id)
    except accounts.NoSuchAccount:
        abort(404)
    except DomainError as error:
        flash(error.message)
    else:
        flash(done)
    return redirect(url_for(".member", member_id=member_id))


# --- settings ------------------------------------------------------------------------------------

@bp.route("/admin/settings", methods=["GET", "POST"])
@staff_view(Role.ADMIN)
def institution_settings(access):
    with unit_of_work():
        _institution, current = settings.for_admin(access.member)
    form = SettingsForm()
    if request.method == "GET":
        form.identity_policy.data = current.identity_policy
        form.retention_years.data = current.retention_years
        form.acknowledge_reminder_days.data = current.acknowledge_reminder_days
        form.answer_reminder_days.data = current.answer_reminder_days
        form.mail_sender.data = current.mail_sender or ""
        form.categories.data = [category.value for category in current.enabled_categories]
        form.siruta_code.data = current.siruta_code or ""
        form.cui.data = current.cui or ""
    if form.validate_on_submit():
        try:
            with unit_of_work():
                changes = settings.update(access.member, settings.InstitutionSettings(
                    identity_policy=form.identity_policy.data,
                    retention_years=form.retention_years.data,
                    acknowledge_reminder_days=form.acknowledge_reminder_days.data,
                    answer_reminder_days=form.answer_reminder_days.data,
                    mail_sender=form.mail_sender.data,
                    enabled_categories=[Category(value) for value in form.categories.data],
                    siruta_code=form.siruta_code.data, cui=form.cui.data))
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_l("The settings are saved.") if changes else _l("Nothing was changed."))
            return redirect(url_for(".institution_settings"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/settings.html", form=form,
                           default_sender=current_app.config["MAIL_DEFAULT_SENDER"]), status


# --- audit log -----------------------------------------------------------------------------------

@bp.route("/admin/audit")
@staff_view(Role.ADMIN)
def audit_log(access):
    form = AuditFilterForm(request.args)
    with unit_of_work():
        page = audit_page(access.member, action=request.args.get("action") or None,
                          page=request.args.get("page", 1, type=int))
    form.action.choices = [("", _l("All"))] + [(action, action) for action in page.actions]
    return render_template("admin/audit.html", form=form, page=page)


# --- activation (no sign-in: the link is the invitation) -----------------------------------------

def _render_activation(invitation, form, secret: bytes, status: int = 200):
    uri = totp.provisioning_uri(secret, invitation.email)
    return render_template(
        "admin/activate.html", invitation=invitation, form=form,
        roles=invitations.invited_roles(invitation), role_names=ROLE_NAMES,
        min_password=MIN_PASSWORD_LENGTH, secret_text=totp.secret_text(secret),
        qr_svg=Markup(totp.qr_svg(uri))), status  # noqa: S704 (SVG by segno)  # nosec B704


@bp.route("/activate/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF_LOGIN"], methods=["POST"])
def activate(token: str):
    app_secret = current_app.config["SECRET_KEY"]
    form = ActivationForm()
    with unit_of_work():
        try:
            invitation = invitations.valid_invitation(token)
        except invitations.InvitationInvalid as error:
            return render_template("admin/activate_invalid.html", message=error.message), 404
    secret = invitations.open_enrolment(app_secret, invitation, form.enrolment.data) \
        if form.is_submitted() else None
    key_lost = form.is_submitted() and secret is None
    secret = secret or totp.new_secret()
    form.enrolment.data = invitations.seal_enrolment(app_secret, invitation, secret)
    valid = form.validate_on_submit()
    if key_lost:  # a forged or damaged field: enrol again with the new key shown below
        form.code.errors.append(_l("The key was not received intact. Add the account to your "
                                   "authenticator app again with the code below, then enter "
                                   "its 6-digit code."))
    elif valid:
        try:
            with unit_of_work():
                invitations.activate(
                    token, password=form.password.data, totp_secret=secret,
                    code=form.code.data, app_secret=app_secret,
                    kdf_params=kdf_params())
        except invitations.InvitationInvalid as error:
            return render_template("admin/activate_invalid.html", message=error.message), 404
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_l("Your account is active. Sign in with your e-mail, your password and the "
                     "next code from your authenticator app."))
            return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return _render_activation(invitation, form, secret, status)
