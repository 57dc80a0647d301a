"""Empty PostgreSQL databases made for one test or one benchmark run, and dropped after it."""
import secrets

import psycopg
from sqlalchemy.engine import make_url


def _server(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql", database="postgres") \
        .render_as_string(hide_password=False)


def create_postgres_database(server_url: str, prefix: str) -> tuple[str, str]:
    """A fresh, empty database on the server of `server_url`; returns (SQLAlchemy URL, name)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(_server(server_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), name


def drop_postgres_database(server_url: str, name: str) -> None:
    with psycopg.connect(_server(server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
