"""Which rows and files belong to one institution, worked out from the schema itself.

A row belongs to institution X when it is X's `institution` row, when its `institution_id`
is X, or, for a table without that column (a staff member's sessions, a plan's measures...),
when a foreign key points to a row that belongs to X. The tables are walked in the models'
dependency order, so a table added later is covered without touching this module; the test
of offboarding fails if a new table holds an institution's data through no such path.

Two tables hold nothing attributable to an institution and are left out on purpose:
`rate_counter` (keyed digests of client addresses, gone when their window ends, minutes) and
`held_upload` (files kept for a few minutes across a refused form, under a key that exists
only in the reporter's cookie).
"""
import os
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, and_, false, func, or_, select

from ...extensions import db
from ...models import Attachment, PlanEvidence
from ..intake.evidence import upload_path

UNATTRIBUTABLE = frozenset({"rate_counter", "held_upload"})


def ownership(table: Table, institution_id: int) -> ColumnElement[bool] | None:
    """The WHERE clause selecting the institution's rows of `table`, or None when the table
    holds nothing of any institution."""
    if table.name == "institution":
        return table.c.id == institution_id
    if table.name == "staff_account":
        # A person's account is the institution's when it is their only place; a designated
        # person shared with other institutions keeps it for them.
        member = db.metadata.tables["staff_member"]
        return and_(
            table.c.id.in_(select(member.c.account_id).where(
                member.c.institution_id == institution_id)),
            table.c.id.not_in(select(member.c.account_id).where(
                member.c.institution_id != institution_id)))
    if "institution_id" in table.c:
        return table.c.institution_id == institution_id
    clauses = []
    for key in table.foreign_keys:
        parent = key.column.table
        if parent is table:
            continue
        parent_clause = ownership(parent, institution_id)
        if parent_clause is not None:
            clauses.append(key.parent.in_(select(key.column).where(parent_clause)))
    return or_(*clauses) if clauses else None


def owned_tables() -> list[tuple[Table, ColumnElement[bool]]]:
    """Every table holding institution data, parents before children."""
    return [(table, clause) for table in db.metadata.sorted_tables
            if (clause := ownership(table, 0)) is not None]


def owned_clause(table: Table, institution_id: int) -> ColumnElement[bool]:
    clause = ownership(table, institution_id)
    return clause if clause is not None else false()


def row_counts(institution_id: int, connection=None) -> dict[str, int]:
    """Rows of the institution in every table that can hold any, in dependency order."""
    execute = (connection or db.session).execute
    return {table.name: execute(select(func.count()).select_from(table)
                                .where(owned_clause(table, institution_id))).scalar_one()
            for table, _ in owned_tables()}


def storage_names(institution_id: int, connection=None) -> list[str]:
    """The institution's upload files: case evidence and the plan's verification documents."""
    execute = (connection or db.session).execute
    return [*execute(select(Attachment.storage_name).where(
                Attachment.institution_id == institution_id).order_by(Attachment.id)).scalars(),
            *execute(select(PlanEvidence.storage_name).where(
                PlanEvidence.institution_id == institution_id)
                .order_by(PlanEvidence.id)).scalars()]


@dataclass
class RemovalCheck:
    """What is left of an institution after its removal: nothing, when `clean`."""

    rows_left: dict[str, int]
    files_left: list[str]

    @property
    def clean(self) -> bool:
        return not any(self.rows_left.values()) and not self.files_left


def orphan_accounts(connection=None) -> int:
    """Accounts with no place in any institution and no platform role: what a removal that
    forgot a person's account would leave behind."""
    execute = (connection or db.session).execute
    account, member = db.metadata.tables["staff_account"], db.metadata.tables["staff_member"]
    return execute(select(func.count()).select_from(account).where(
        account.c.platform_role.is_(None),
        account.c.id.not_in(select(member.c.account_id)))).scalar_one()


def remaining(institution_id: int, names: list[str]) -> RemovalCheck:
    rows = row_counts(institution_id)
    rows["staff_account"] += orphan_accounts()
    return RemovalCheck(rows, [name for name in names if os.path.exists(upload_path(name))])
