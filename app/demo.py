"""`flask --app wsgi demo` (run by `make run`): two neighbouring communes on one portal, as a
county or an association of communes hosts them, with one designated person shared by both
(Law 361/2022 lets authorities under 50 workers share their channel and designated person)."""
import secrets
from pathlib import Path

import click
from flask import current_app

from .models import PlatformRole, Role
from .services.kdf import kdf_params
from .services.operations.institutions import create_institution, default_institution
from .services.plan import data as plan_data
from .services.plan.loader import store_plan
from .services.staff import members as staff_service
from .services.staff.platform_accounts import add_platform_account
from .services.transaction import unit_of_work

DEMO_INSTITUTION = "Comuna Bălțați"
DEMO_NEIGHBOUR = "Comuna Sinești"
DEMO_HANDLER = "persoana.desemnata@baltati.example"
DEMO_ADMIN = "admin@baltati.example"
DEMO_NEIGHBOUR_ADMIN = "admin@sinesti.example"
DEMO_OPERATOR = "operator@portal.example"
DEMO_OBSERVER = "observator@judetul-iasi.example"
PROFILES = {
    DEMO_INSTITUTION: {"county": "Iași", "siruta_code": "95621", "cui": "4540461",
                       "address": "Str. Principală nr. 1, Bălțați, județul Iași",
                       "phone": "0232 710 101", "office_hours": "Luni–Vineri 8:00–16:00",
                       "public_email": "primaria@baltati.example",
                       "dpo_contact": "Responsabilul cu protecția datelor, dpo@baltati.example"},
    DEMO_NEIGHBOUR: {"county": "Iași", "siruta_code": "99025", "cui": "4541000",
                     "address": "Str. Școlii nr. 2, Sinești, județul Iași",
                     "phone": "0232 720 202", "office_hours": "Luni–Vineri 8:00–16:00",
                     "public_email": "primaria@sinesti.example",
                     "dpo_contact": "Responsabilul cu protecția datelor, dpo@sinesti.example"},
}


def _credentials_path() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "demo-credentials.txt"


def _institution(name: str):
    institution, code = create_institution(name)
    for field, value in PROFILES[name].items():
        setattr(institution, field, value)
    return institution, code


@click.command("demo")
def demo_command():
    """Create the demo institutions and their staff, unless an institution exists."""
    path = _credentials_path()
    if default_institution() is not None:
        click.echo("Demo institution already present.")
        if path.exists():
            click.echo(f"Demo accounts: see {path}")
        return
    passwords = {email: secrets.token_urlsafe(12)
                 for email in (DEMO_ADMIN, DEMO_HANDLER, DEMO_NEIGHBOUR_ADMIN, DEMO_OPERATOR,
                               DEMO_OBSERVER)}
    with unit_of_work():
        baltati, baltati_code = _institution(DEMO_INSTITUTION)
        sinesti, sinesti_code = _institution(DEMO_NEIGHBOUR)
        for institution, admin in ((baltati, DEMO_ADMIN), (sinesti, DEMO_NEIGHBOUR_ADMIN)):
            staff_service.add_staff(institution, email=admin, name="Administrator",
                                    roles=[Role.ADMIN], password=passwords[admin],
                                    kdf_params=kdf_params())
        shared = staff_service.add_staff(
            baltati, email=DEMO_HANDLER, name="Persoana desemnată",
            roles=[Role.HANDLER, Role.COORDINATOR], password=passwords[DEMO_HANDLER],
            kdf_params=kdf_params())
        staff_service.add_membership(shared.account, sinesti, [Role.HANDLER, Role.COORDINATOR])
        # The portal's own people: its operator, and the county's observer (indicators only).
        add_platform_account(DEMO_OPERATOR, name="Operatorul portalului",
                             role=PlatformRole.OPERATOR, password=passwords[DEMO_OPERATOR],
                             kdf_params=kdf_params())
        add_platform_account(DEMO_OBSERVER, name="Consiliul Județean Iași",
                             role=PlatformRole.OBSERVER, password=passwords[DEMO_OBSERVER],
                             kdf_params=kdf_params(), scope="county:Iași")
        # The commune's integrity plan, as adopted, published on its public page (1.4).
        store_plan(baltati, plan_data.shipped(), actor=None).published = True
        slugs = baltati.slug, sinesti.slug
    credentials = (
        f"Demo portal (demonstration only, not for real reports): /{slugs[0]}/ and /{slugs[1]}/\n"
        f"  handler of both communes: {DEMO_HANDLER}  password: {passwords[DEMO_HANDLER]}\n"
        f"  admin of {DEMO_INSTITUTION}:   {DEMO_ADMIN}  password: {passwords[DEMO_ADMIN]}\n"
        f"  recovery code: {baltati_code}\n"
        f"  admin of {DEMO_NEIGHBOUR}:   {DEMO_NEIGHBOUR_ADMIN}  "
        f"password: {passwords[DEMO_NEIGHBOUR_ADMIN]}\n"
        f"  recovery code of {DEMO_NEIGHBOUR}: {sinesti_code}\n"
        f"  platform operator (/staff/platform/): {DEMO_OPERATOR}  "
        f"password: {passwords[DEMO_OPERATOR]}\n"
        f"  observer of county Iași: {DEMO_OBSERVER}  password: {passwords[DEMO_OBSERVER]}\n")
    click.echo(credentials)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(credentials)
    path.chmod(0o600)
    click.echo(f"(kept in {path})")
