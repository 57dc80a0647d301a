"""`flask --app wsgi platform …`: the deployment's own accounts, the platform operator and
observers (app/services/staff/platform_accounts.py). Password from stdin when piped, as for
`staff add`; the TOTP is enrolled at the first sign-in."""
import click

from .models import PlatformRole
from .services.errors import DomainError
from .services.kdf import kdf_params
from .services.staff import platform_accounts
from .services.transaction import unit_of_work

platform_group = click.Group("platform", help="Platform accounts: the operator and observers.")


def _add(email: str, name: str, role: PlatformRole, scope: str | None) -> None:
    from .cli import _read_password  # the one password prompt of the commands

    password = _read_password(f"Password for {email}")
    try:
        with unit_of_work():
            platform_accounts.add_platform_account(email, name=name, role=role,
                                                   password=password,
                                                   kdf_params=kdf_params(), scope=scope)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    where = f", scope {scope}" if scope else ""
    click.echo(f"Platform {role.value} {email.strip().lower()} created{where}. The TOTP is "
               "set up at the first sign-in, at /staff/login.")


@platform_group.command("add-operator")
@click.argument("email")
@click.option("--name", required=True)
def add_operator(email: str, name: str):
    """An operator: creates, suspends and removes institutions; sees counts only."""
    _add(email, name, PlatformRole.OPERATOR, None)


@platform_group.command("add-observer")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--scope", required=True,
              help='"*" (every institution), "county:<name>" or "ids:1,2".')
def add_observer(email: str, name: str, scope: str):
    """An observer of a group of institutions (suppressed indicators only)."""
    _add(email, name, PlatformRole.OBSERVER, scope)
