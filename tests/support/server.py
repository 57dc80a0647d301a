"""A real Avertizor served by gunicorn workers, for browser, concurrency and load tests."""
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


FLASK = str(Path(sys.executable).parent / "flask")


def flask_command(args: list[str], env: dict, stdin: str | None = None) -> str:
    """Run an operator command (`flask --app wsgi …`) as an operator would; exit on failure."""
    done = subprocess.run([FLASK, "--app", "wsgi", *args], cwd=ROOT, env=env, input=stdin,
                          text=True, capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local test server)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


@contextmanager
def gunicorn_server(database_url: str, upload_folder: str, *, workers: int = 4,
                    environment: str = "testing", extra_env: dict | None = None):
    """Serve wsgi:app on a free port; yields (base_url, process). The schema must exist.
    gunicorn's output is a pipe: the caller must read it (an unread pipe fills and stalls
    the server) — e.g. a thread over process.stdout, or communicate() after terminate()."""
    port = free_port()
    env = {
        **os.environ,
        "AVERTIZOR_ENV": environment,
        "TEST_DATABASE_URL": database_url,
        "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": upload_folder,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SESSION_COOKIE_SECURE": "0",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [GUNICORN, "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url + "/", process)
        yield base_url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
