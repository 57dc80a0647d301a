"""Commands for operators, `make run` and the tests: flask --app wsgi <command>."""
import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from . import demo
from .cli_institutions import echo_backup, institution_group
from .cli_platform import platform_group
from .extensions import db
from .models import AuditEntry, AuditHead, Institution, Role
from .opendata.commands import opendata_group
from .services.access import recovery
from .services.audit import chain as audit
from .services.errors import DomainError
from .services.kdf import kdf_params
from .services.operations import database_role, notify
from .services.operations.institutions import by_slug, create_institution, default_institution
from .services.operations.preflight import ERROR, run_checks
from .services.plan import data as plan_data
from .services.plan.loader import empty_plan, store_plan
from .services.staff import accounts
from .services.staff import members as staff_service
from .services.transaction import unit_of_work
from .tenancy import only_institution


def _read_password(prompt: str) -> str:
    """From stdin when piped (scripts), else asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _print_recovery_code(code: str) -> None:
    click.echo("\nInstitution recovery code (shown once, never stored). Print it, keep it in the")
    click.echo("institution's safe: it opens every case when staff passwords are lost.\n")
    click.echo(f"    {code}\n")


@click.command("setup")
@click.option("--institution", "name", required=True, help="Name of the institution.")
@click.option("--admin-email", required=True, help="E-mail of the first administrator.")
@click.option("--admin-name", default="Administrator", show_default=True)
def setup_command(name: str, admin_email: str, admin_name: str):
    """Create the institution, its recovery key pair and its first administrator."""
    if default_institution() is not None:
        raise click.ClickException("An institution is already set up.")
    password = _read_password("Administrator password")
    try:
        with unit_of_work():
            institution, code = create_institution(name)
            staff_service.add_staff(institution, email=admin_email, name=admin_name,
                                    roles=[Role.ADMIN], password=password,
                                    kdf_params=kdf_params())
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Institution “{name}” is set up; administrator {admin_email}.")
    _print_recovery_code(code)


def _choose_institution(ctx, _param, slug):
    ctx.meta["institution_slug"] = slug


# `flask staff --institution sinesti add …`: which institution the commands act on, needed
# when the deployment serves several.
INSTITUTION_OPTION = click.Option(
    ["--institution", "institution_slug"], default=None, expose_value=False,
    callback=_choose_institution, help="The institution's slug (when there are several).")

staff_group = click.Group("staff", help="Staff accounts.", params=[INSTITUTION_OPTION])


@staff_group.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([role.value for role in Role]))
def staff_add(email: str, name: str, roles: tuple[str, ...]):
    """Create a staff account with its key pair (password from stdin or prompt)."""
    institution = _institution_or_fail()
    password = _read_password(f"Password for {email}")
    try:
        with unit_of_work():
            member = staff_service.add_staff(institution, email=email, name=name,
                                             roles=[Role(role) for role in roles],
                                             password=password, kdf_params=kdf_params())
            if member.is_reader:
                notify.new_reader(member, "confirmed")  # the operator confirmed it
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Staff account {email} created ({', '.join(roles)}).")


@staff_group.command("serve")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([role.value for role in Role]))
def staff_serve(email: str, roles: tuple[str, ...]):
    """Give an existing account a place in this institution too (a designated person shared
    by several authorities): same password, key pair and TOTP; these roles here."""
    institution = _institution_or_fail()
    try:
        with unit_of_work():
            account = staff_service.account_by_email(email)
            if account is None:
                raise click.ClickException(f"No staff account has the e-mail {email}.")
            member = staff_service.add_membership(account, institution,
                                                  [Role(role) for role in roles])
            if member.is_reader:
                notify.new_reader(member, "confirmed")  # the operator confirmed it
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"{email} now also serves {institution.name} ({', '.join(roles)}).")


@staff_group.command("confirm")
@click.argument("email")
@click.option("--institution", "slug", help="The institution's slug (default: the first one "
                                            "set up).")
def staff_confirm(email: str, slug: str | None):
    """Confirm an account waiting for a second person (recovery code from stdin or prompt):
    for an institution where no other administrator or designated person can, such as the
    first administrator the platform operator invited."""
    institution = _institution_or_fail(slug)
    code = _read_secret("Institution recovery code")
    try:
        with unit_of_work():
            recovery.recovery_key(institution, code)
            member = recovery.staff_by_email(institution, email)
            accounts.confirm(None, member.id, by_recovery_code=True)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"{member.email} is confirmed; the institution's handlers have been told.")


jobs_group = click.Group("jobs", help="Background work for cron or a systemd timer.")


@jobs_group.command("run")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1),
              help="Most mails to send in this run.")
def jobs_run(limit: int):
    """Purge expired sessions, queue deadline reminders, deliver the outbox. Safe to run on
    several nodes at once; an SMTP outage is not an error (mails wait for the next run)."""
    from .services.operations import jobs, outbox

    report = jobs.run_all(limit=limit)
    delivery = report.delivery
    click.echo(f"Reminders queued: {report.reminders_queued}")
    click.echo(f"Cases purged: {report.cases_purged}, purge notices queued: "
               f"{report.purge_notices_queued}, orphan files removed: "
               f"{report.orphan_files_removed}")
    click.echo(f"Mails sent: {delivery.sent}, failed: {delivery.failed}, "
               f"waiting: {delivery.remaining}")
    if report.undeliverable:
        click.echo(f"Warning: {report.undeliverable} mail(s) could not be delivered for "
                   f"{outbox.GIVE_UP_AFTER.days} days and were set aside; see the outbox_mail "
                   "table (last_error).", err=True)
    if report.errors:
        # A bug or a database problem, not an SMTP outage: cron should tell someone.
        raise click.ClickException("; ".join(report.errors) + " (see the log)")


# --- the recovery code and the audit chain -------------------------------------------------------

def _read_secret(prompt: str) -> str:
    """One line from stdin when piped, else asked once without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return click.prompt(prompt, hide_input=True)


def _institution_or_fail(slug: str | None = None) -> Institution:
    """The institution a command acts on: `--institution SLUG` (on the command or its
    group), else the only one the deployment serves."""
    slug = slug or click.get_current_context().find_root().meta.get("institution_slug")
    if slug:
        try:
            return by_slug(slug)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
    institution = only_institution()
    if institution is None:
        if default_institution() is None:
            raise click.ClickException("No institution yet: run `flask --app wsgi setup` first.")
        raise click.ClickException("This deployment serves several institutions: name one "
                                   "with --institution SLUG.")
    return institution


recovery_group = click.Group("recovery", help="Use the institution's offline recovery code.",
                             params=[INSTITUTION_OPTION])


@recovery_group.command("grant")
@click.argument("email")
def recovery_grant(email: str):
    """Give a handler every existing case (recovery code from stdin or prompt), except the
    cases whose reporter excluded them."""
    institution = _institution_or_fail()
    code = _read_secret("Institution recovery code")
    try:
        with unit_of_work():
            recovery_key = recovery.recovery_key(institution, code)
            member = recovery.staff_by_email(institution, email)
            result = recovery.grant_all(institution, member, recovery_key)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Cases granted to {member.email}: {result.granted}")
    click.echo(f"Skipped (the reporter excluded this person): {result.skipped_excluded}")
    if result.already_held:
        click.echo(f"Already held: {result.already_held}")


@staff_group.command("reset-password")
@click.argument("email")
def staff_reset_password(email: str):
    """Give a staff member who lost their password a new one and a new key pair, with their
    cases sealed again from the recovery code (code, then password, from stdin or prompt).
    Their second factor is reset: they enrol again at the next sign-in."""
    institution = _institution_or_fail()
    code = _read_secret("Institution recovery code")
    try:
        recovery_key = recovery.recovery_key(institution, code)
        member = recovery.staff_by_email(institution, email)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    password = _read_password(f"New password for {member.email}")
    try:
        with unit_of_work():
            result = recovery.reset_password(institution, member, recovery_key, password,
                                             kdf_params())
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"New password and key pair set for {member.email}; cases restored: "
               f"{result.restored}.")
    if result.skipped_excluded:
        click.echo(f"Not restored (the reporter excluded this person): "
                   f"{result.skipped_excluded}")
    click.echo("Their sessions have ended; they set up the authenticator app again at the next "
               "sign-in.")


audit_group = click.Group("audit", help="The hash-chained audit log.")


@audit_group.command("verify")
@click.option("--head", "heads", multiple=True, metavar="VALUE",
              help="A head noted earlier (audit page or the daily mail), short or full; it must "
                   "still be in the chain. May be given several times.")
def audit_verify(heads: tuple[str, ...]):
    """Recompute the hash chain and its authentication; with --head, check that the chain
    still contains a head noted earlier (detects cut or rewritten entries). Exit status 1 at
    the first problem."""
    chain_break = audit.verify(list(heads))
    if chain_break is not None:
        click.echo(f"audit chain BROKEN: {chain_break}", err=True)
        sys.exit(1)
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    click.echo(f"audit chain intact: {count} entries")
    if heads:
        click.echo(f"noted head(s) found in the chain: {', '.join(heads)}")
    for head in db.session.scalars(select(AuditHead).order_by(AuditHead.institution_id)):
        click.echo(f"current head (institution {head.institution_id}, {head.length} entries): "
                   f"{audit.short_head(head.head_hash)}  {head.head_hash.hex()}")


@click.command("check")
def check_command():
    """Tell what is misconfigured for production (exit 1 on errors)."""
    from config import environment_name
    findings = run_checks(environment_name())
    for finding in findings:
        click.echo(f"{finding.level.upper():8} {finding.message}")
    errors = sum(1 for finding in findings if finding.level == ERROR)
    if not findings:
        click.echo("No problems found.")
    if errors:
        raise click.exceptions.Exit(1)


db_role_group = click.Group("db-role", help="The portal's PostgreSQL role, which owns nothing.")


@db_role_group.command("grant")
@click.argument("role")
def db_role_grant(role: str):
    """Grant ROLE rows on every table, now and for tables migrations add later (run as the
    tables' owner: MIGRATION_DATABASE_URL, else DATABASE_URL)."""
    engine = database_role.owner_engine()
    try:
        with engine.begin() as connection:
            database_role.grant_application_role(connection, role)
    except database_role.RoleRefused as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(f"{role}: SELECT, INSERT, UPDATE, DELETE on every table (the schema revision "
               "read only), sequences usable; tables created later are granted too. Set "
               f"DATABASE_URL to connect as {role}.")


backup_group = click.Group("backup", help="Encrypted backups, opened only with the recovery "
                                          "code.")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


@backup_group.command("create")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--institution", "slug", help="Only this institution, sealed to its own "
                                            "recovery key.")
@click.option("--each-institution", is_flag=True,
              help="PATH is a folder: one archive per institution (<slug>.avz), each sealed "
                   "to its own recovery key only.")
def backup_create(path: str, slug: str | None, each_institution: bool):
    """Write an encrypted backup of the database and the evidence files to PATH. Needs no
    secret (the archive key is sealed to the recovery public key), so cron can run it."""
    from .services.operations import backup, institution_backup

    if each_institution:
        try:
            reports = institution_backup.create_each(path)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
        except OSError as error:
            raise click.ClickException(f"The backup could not be written: {error}") from error
        for one in reports:
            echo_backup(one, str(Path(path) / f"{one.slug}.avz"))
        return
    if slug:
        try:
            report_ = institution_backup.create(by_slug(slug), path)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
        except OSError as error:
            raise click.ClickException(f"The backup could not be written: {error}") from error
        echo_backup(report_, path)
        return
    try:
        report = backup.create(path)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    except OSError as error:  # no such folder, no room, no permission
        raise click.ClickException(f"The backup could not be written: {error}") from error
    if report.rows.get("institution", 0) > 1:
        click.echo(f"Note: this backup holds {report.rows['institution']} institutions and any "
                   "one of their recovery codes opens all of it; use --each-institution for "
                   "archives that only their own institution opens.", err=True)
    click.echo(f"Backup written to {path} ({_megabytes(report.size)}): "
               f"{sum(report.rows.values())} rows in {len(report.rows)} tables, "
               f"{report.files} files.")
    if report.missing_files:
        click.echo(f"Note: {report.missing_files} file(s) were deleted (purge or redaction) "
                   "while the backup ran; their rows are in the backup without them.", err=True)


@backup_group.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--accept-broken-audit-chain", is_flag=True,
              help="Restore even if the audit chain in the backup does not verify.")
@click.option("--institution", "slug", help="Restore this one institution into a deployment "
                                            "that serves others (its slot must be free).")
def backup_restore(path: str, accept_broken_audit_chain: bool, slug: str | None):
    """Restore a backup into an empty, freshly migrated database and an empty upload folder
    (recovery code from stdin or prompt). All or nothing. With --institution, put one
    institution's backup back beside the others, which stay untouched."""
    from .services.operations import backup, institution_backup

    code = _read_secret("Institution recovery code")
    if slug:
        try:
            one = institution_backup.restore(
                slug, path, code, accept_broken_audit_chain=accept_broken_audit_chain)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
        click.echo(f"Restored {slug}: {sum(one.rows.values())} rows and {one.files} files.")
        click.echo("Audit chain intact." if one.audit_chain is None
                   else f"Warning: audit chain BROKEN at {one.audit_chain}")
        return
    try:
        report = backup.restore(path, code, accept_broken_audit_chain=accept_broken_audit_chain)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    for table, count in report.rows.items():
        click.echo(f"  {table}: {count}")
    click.echo(f"Restored {sum(report.rows.values())} rows and {report.files} files.")
    if report.audit_chain is None:
        click.echo("Audit chain intact.")
    else:
        click.echo(f"Warning: audit chain BROKEN at {report.audit_chain}", err=True)
    if report.missing_files:
        click.echo(f"Note: {report.missing_files} file(s) referred to by the restored rows are "
                   "not in the backup (deleted while it was made).", err=True)


stats_group = click.Group("stats", help="Integrity-plan indicators (measure 2.2) and open data.",
                          params=[INSTITUTION_OPTION])


@stats_group.command("export")
@click.option("--year", type=click.IntRange(2000, 9998), required=True)
@click.option("--format", "kind", type=click.Choice(["csv", "json", "metadata"]),
              default="csv", show_default=True,
              help="csv: the data; metadata: its JSON description; json: both in one file.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
def stats_export(year: int, kind: str, output: str | None):
    """The open-data export of one year, small counts suppressed as on the public page.
    Recorded in the audit log (without a staff member)."""
    from .services.indicators import exports
    from .services.indicators.periods import Period

    institution = _institution_or_fail()
    with unit_of_work():
        made = exports.export(institution, Period.year(year), kind, actor=None)
    if output:
        Path(output).write_text(made.body, encoding="utf-8")
        click.echo(f"Written {output} ({made.filename})", err=True)
    else:
        click.echo(made.body, nl=False)


plan_group = click.Group("plan", help="The institution's integrity plan.",
                         params=[INSTITUTION_OPTION])


@plan_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--title", help="The plan's title (a CSV file carries none; default: the file "
                              "name).")
def plan_load(path: str, title: str | None):
    """Load a plan from a YAML or CSV file with the plan's columns; it becomes the plan in
    force (earlier plans and their records are kept)."""
    institution = _institution_or_fail()
    try:
        data = plan_data.read_file(path)
        if title:
            data.title = title
        with unit_of_work():
            store_plan(institution, data)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"The file could not be read: {error}") from error
    click.echo(f"Plan “{data.title}” loaded: {len(data.objectives)} objectives, "
               f"{len(data.measures)} measures.")


@plan_group.command("new")
@click.option("--title", required=True)
def plan_new(title: str):
    """Start an empty plan, to be filled in on the plan's pages."""
    institution = _institution_or_fail()
    with unit_of_work():
        empty_plan(institution, title)
    click.echo(f"Empty plan “{title}” started.")


@plan_group.command("overview")
@click.option("--year", type=click.IntRange(2000, 9998), required=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
def plan_overview(year: int, output: str | None):
    """Every institution's degree of implementation and overdue measures for YEAR, as CSV
    (for the county or the ministry collecting the plans' results)."""
    from .services.localtime import local_today
    from .services.plan import overview

    body = overview.as_csv(overview.rows(year, local_today()))
    if output:
        Path(output).write_text(body, encoding="utf-8")
        click.echo(f"Written {output}", err=True)
    else:
        click.echo(body, nl=False)


def register(app: Flask) -> None:
    app.cli.add_command(plan_group)
    app.cli.add_command(setup_command)
    app.cli.add_command(staff_group)
    app.cli.add_command(platform_group)
    app.cli.add_command(demo.demo_command)
    app.cli.add_command(check_command)
    app.cli.add_command(jobs_group)
    app.cli.add_command(recovery_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(stats_group)
    app.cli.add_command(backup_group)
    app.cli.add_command(institution_group)
    app.cli.add_command(db_role_group)
    app.cli.add_command(opendata_group)  # app/opendata/commands.py
