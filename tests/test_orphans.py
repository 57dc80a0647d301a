"""Files without a row (a process killed between writing an upload and committing) are
removed by `jobs run` once no upload can still be in flight; files with a row stay."""
import io
import os
import time
from pathlib import Path

from app.services.operations import orphans


def test_orphan_files_are_swept_after_the_grace_period(app, submit, make_handler,
                                                       upload_folder):
    make_handler()
    submit(files=[(io.BytesIO(b"kept evidence"), "kept.pdf")])
    [kept] = [p for p in Path(upload_folder).iterdir()]
    orphan = Path(upload_folder) / ("ab" * 16)
    orphan.write_bytes(b"\x01" + os.urandom(100))
    fresh = Path(upload_folder) / ("cd" * 16)
    fresh.write_bytes(b"\x01" + os.urandom(100))
    hours_ago = time.time() - 2 * 3600
    os.utime(orphan, (hours_ago, hours_ago))
    os.utime(kept, (hours_ago, hours_ago))

    assert orphans.sweep() == 1
    assert not orphan.exists() and kept.exists() and fresh.exists()
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert "orphan files removed: 0" in result.output
    assert orphans.sweep(now=time.time() + 2 * 3600) == 1  # the fresh one, later
    assert kept.exists()
