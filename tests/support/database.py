"""What the database and the upload folder hold, read as a dump or a disk image would show
it: tests search these for anything that must never be stored in clear."""
from pathlib import Path

from app.extensions import db


def stored_row_values() -> str:
    """Every value of every row of every table, as text (what a database dump shows)."""
    chunks = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                chunks += [bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview))
                           else str(v) for v in row if v is not None]
    return "\n".join(chunks)


def every_stored_value(database_url: str) -> bytes:
    """Every value of every row of every table, as bytes; plus the raw SQLite files."""
    chunks = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if candidate.exists():
                chunks.append(candidate.read_bytes())
    return b"\n".join(chunks)


def every_uploaded_byte(folder: str) -> bytes:
    return b"".join(p.read_bytes() for p in Path(folder).rglob("*") if p.is_file())
