"""`flask --app wsgi institution …`: the platform operator's commands to onboard, list,
suspend, export and remove the institutions a shared deployment serves. The rules are in
services.operations (institutions, onboarding, institution_backup, offboarding); the
operator's web page calls the same functions."""
from pathlib import Path

import click
from flask import current_app

from .services.errors import DomainError
from .services.operations import institution_backup, institutions, offboarding, onboarding
from .services.transaction import unit_of_work

institution_group = click.Group("institution", help="The institutions this deployment serves "
                                                    "(platform operator).")


def _fail(error: DomainError) -> click.ClickException:
    return click.ClickException(str(error.message))


def _institution(slug: str):
    try:
        return institutions.by_slug(slug)
    except DomainError as error:
        raise _fail(error) from error


def _describe_page(made: onboarding.Onboarded) -> str:
    institution = made.institution
    invited = f", administrator invited: {made.invitation.email}" if made.invitation else ""
    return f"{institution.name} (/{institution.slug}/){invited}; recovery page: {made.page}"


@institution_group.command("add")
@click.option("--name", required=True)
@click.option("--county")
@click.option("--siruta", help="SIRUTA code of the administrative unit (digits).")
@click.option("--cui", help="Fiscal code (CUI), with or without RO.")
@click.option("--admin-email", required=True, help="The first administrator, invited by "
                                                   "e-mail.")
@click.option("--admin-name", default=onboarding.ADMIN_NAME, show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the printable recovery page (PDF).")
def institution_add(name, county, siruta, cui, admin_email, admin_name, out_dir):
    """Create an institution with its own recovery key and receipt salt, invite its
    administrator, and write its recovery page (the code is printed nowhere else)."""
    try:
        with unit_of_work():
            made = onboarding.onboard(name, county=county, siruta_code=siruta, cui=cui,
                                      admin_email=admin_email, admin_name=admin_name,
                                      public_url=current_app.config["PUBLIC_URL"])
            onboarding.write_recovery_page(made, out_dir)
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"Created {_describe_page(made)}")
    click.echo("Print the page, seal it in an envelope and hand it to the institution; then "
               "delete the file.")


@institution_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the recovery pages (one PDF per institution).")
def institution_import(csv_file: str, out_dir: str):
    """Create every institution of a CSV file (columns name, county, siruta, cui,
    admin_email; UTF-8; header row). All rows are checked first: one bad row and nothing is
    created."""
    try:
        rows = onboarding.read_csv(Path(csv_file).read_bytes())
    except onboarding.ImportRefused as error:
        for row_error in error.errors:
            click.echo(f"  {row_error}", err=True)
        raise _fail(error) from error
    click.echo(f"{len(rows)} institution(s) to create.")

    def progress(number: int, total: int, name: str) -> None:
        if total <= 20 or number % 50 == 0 or number == total:
            click.echo(f"  page {number}/{total}: {name}")

    try:
        with unit_of_work():
            made = onboarding.import_institutions(
                rows, public_url=current_app.config["PUBLIC_URL"], out_dir=out_dir,
                progress=progress)
    except DomainError as error:
        raise _fail(error) from error
    for one in made[:20]:
        click.echo(f"  {_describe_page(one)}")
    click.echo(f"Created {len(made)} institution(s); recovery pages in {out_dir}.")
    click.echo("Print each page, seal it and hand it over; then delete the files.")


@institution_group.command("list")
@click.option("--county")
def institution_list(county: str | None):
    """Slug, name, county, SIRUTA, CUI and state of every institution."""
    for institution in institutions.list_institutions(county):
        state = "suspended" if institution.suspended_at else "active"
        click.echo("\t".join([institution.slug, institution.name, institution.county or "-",
                              institution.siruta_code or "-", institution.cui or "-", state]))


@institution_group.command("suspend")
@click.argument("slug")
def institution_suspend(slug: str):
    """Its public pages say so and take no reports; its staff keep working."""
    try:
        with unit_of_work():
            institutions.suspend(_institution(slug))
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"{slug} is suspended.")


@institution_group.command("resume")
@click.argument("slug")
def institution_resume(slug: str):
    try:
        with unit_of_work():
            institutions.resume(_institution(slug))
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"{slug} takes reports again.")


@institution_group.command("export")
@click.argument("slug")
@click.option("--out", "path", required=True, type=click.Path(dir_okay=False, writable=True))
def institution_export(slug: str, path: str):
    """All of one institution's data and files, encrypted to its own recovery key (only its
    recovery code opens it). The same archive as `backup create --institution`."""
    echo_backup(institution_backup.create(_institution(slug), path), path)


def echo_backup(report: institution_backup.InstitutionBackupReport, path: str) -> None:
    click.echo(f"Archive of {report.slug} written to {path} ({report.size / 1048576:.1f} MB): "
               f"{sum(report.rows.values())} rows in {len(report.rows)} tables, "
               f"{report.files} files. Only its recovery code opens it.")
    if report.missing_files:
        click.echo(f"Note: {report.missing_files} file(s) were deleted while the archive was "
                   "made.", err=True)


@institution_group.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Confirm: delete everything of this institution.")
def institution_delete(slug: str, yes: bool):
    """Delete the institution and all its data and files, then check that nothing is left.
    Export it first: nothing else can bring it back."""
    if not yes:
        raise click.ClickException("Nothing deleted: add --yes to confirm (export the "
                                   "institution first).")
    try:
        with unit_of_work():
            removal = offboarding.delete_institution(_institution(slug), confirm_slug=slug)
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"Deleted {slug}: {sum(removal.rows.values())} rows, "
               f"{len(removal.files)} files.")
    check = offboarding.check_removed(removal)
    for table, count in check.rows_left.items():
        click.echo(f"  check {table}: {count} rows left")
    click.echo(f"  check upload files: {len(check.files_left)} left")
    if not check.clean:
        raise click.ClickException(f"Something of {slug} is still there (see above).")
    click.echo(f"Check passed: nothing of {slug} is left.")
