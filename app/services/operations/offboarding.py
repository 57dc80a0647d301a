"""Removing an institution completely, then checking that nothing of it is left.

Everything `tenant_data` attributes to the institution goes, children first, in the caller's
one transaction: its cases and all that hangs on them, staff and their sessions, plan, risks,
outbox, usage counters, invitations, its audit chain and the institution row itself. Its
upload files are shredded once that transaction commits (nothing is lost if it rolls back).
`check_removed` then counts again: every table at 0 rows for the institution, and none of its
files on disk. Export the institution first (institution_backup.create): after this, only
that archive and its recovery code bring it back.
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Institution
from ..errors import DomainError
from ..intake.evidence import upload_path
from .shredding import shred_after_commit, zero_freed_pages
from .tenant_data import RemovalCheck, owned_clause, owned_tables, remaining, storage_names


class RemovalRefused(DomainError):
    pass


@dataclass
class Removal:
    institution_id: int
    slug: str
    rows: dict[str, int] = field(default_factory=dict)  # deleted per table
    files: list[str] = field(default_factory=list)  # storage names shredded after commit


def delete_institution(institution: Institution, *, confirm_slug: str) -> Removal:
    """Delete the institution and all its data (flushed; the caller commits). `confirm_slug`
    must repeat its slug, so a slip of the keyboard deletes nothing."""
    if confirm_slug != institution.slug:
        raise RemovalRefused(_l("Type the institution's slug (%(slug)s) to confirm the "
                                "deletion.", slug=institution.slug))
    removal = Removal(institution.id, institution.slug)
    removal.files = storage_names(institution.id)
    zero_freed_pages()
    db.session.flush()
    db.session.expunge_all()  # the ORM must not write back rows deleted below
    # The accounts only this institution holds, found while its staff rows still name them.
    accounts = db.metadata.tables["staff_account"]
    own_accounts = list(db.session.scalars(select(accounts.c.id).where(
        owned_clause(accounts, removal.institution_id))))
    for table, _ in reversed(owned_tables()):
        clause = (accounts.c.id.in_(own_accounts) if table is accounts
                  else owned_clause(table, removal.institution_id))
        result = db.session.execute(table.delete().where(clause))
        removal.rows[table.name] = result.rowcount  # type: ignore[attr-defined]
    for name in removal.files:
        shred_after_commit(upload_path(name))
    return removal


def check_removed(removal: Removal) -> RemovalCheck:
    """After the commit: what is left of the institution (nothing, when `.clean`)."""
    return remaining(removal.institution_id, removal.files)
