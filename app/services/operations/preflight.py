"""`flask check`: what an operator has left misconfigured, before reporters rely on it."""
import os
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from ...crypto.kdf import MINIMUM_MEMORY_KIB
from ...extensions import db
from .database_role import connected_role_problems

ERROR, WARNING = "error", "warning"


@dataclass
class Finding:
    level: str
    message: str


def _migrations_at_head() -> bool:
    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def run_checks(environment: str) -> list[Finding]:
    config = current_app.config
    production = environment == "production"
    findings: list[Finding] = []

    def add(level: str, message: str) -> None:
        findings.append(Finding(level, message))

    if len(config.get("SECRET_KEY") or "") < 32:
        add(ERROR, "SECRET_KEY is missing or shorter than 32 characters.")
    if production and config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        add(ERROR, "Production runs on SQLite; set DATABASE_URL to PostgreSQL.")
    if production and not config["SESSION_COOKIE_SECURE"]:
        add(ERROR, "Cookies are not marked Secure (SESSION_COOKIE_SECURE=0).")
    if config["KDF_MEMORY_KIB"] < MINIMUM_MEMORY_KIB or config["KDF_ITERATIONS"] < 1:
        add(ERROR, f"Argon2id memory {config['KDF_MEMORY_KIB']} KiB is below the minimum "
                   f"of {MINIMUM_MEMORY_KIB} KiB (KDF_MEMORY_KIB).")
    if config["MAIL_SERVER"] in ("", "localhost") and production:
        add(WARNING, "MAIL_SERVER is unset: notices wait in the outbox until it is set.")
    if config["MAIL_DEFAULT_SENDER"].endswith("@localhost"):
        add(WARNING, "MAIL_DEFAULT_SENDER is a local address.")
    if production and config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        add(WARNING, "Rate limits are kept in memory, per process: set RATELIMIT_STORAGE_URI "
                     "to Redis when more than one process serves.")
    if production and not config["PUBLIC_URL"].startswith("https://"):
        add(WARNING, "PUBLIC_URL is not https: links in mail would point to plain http.")
    if production and not config["PROXY_FIX_HOPS"]:
        add(WARNING, "PROXY_FIX_HOPS is 0: behind a reverse proxy, every client shares one "
                     "rate-limit bucket.")
    folder = config["UPLOAD_FOLDER"]
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        add(ERROR, f"The upload folder {folder} does not exist or is not writable.")
    try:
        if not _migrations_at_head():
            add(ERROR, "The database is not migrated to the latest schema "
                       "(flask --app wsgi db upgrade).")
    except Exception as exc:  # noqa: BLE001 (any connection failure is the finding)
        add(ERROR, f"The database cannot be reached: {type(exc).__name__}.")
    else:
        with db.engine.connect() as connection:
            for problem in connected_role_problems(connection):
                add(ERROR if production else WARNING,
                    f"The portal's database role: {problem} See README, \"Production\" "
                    "(flask --app wsgi db-role grant).")
    return findings
