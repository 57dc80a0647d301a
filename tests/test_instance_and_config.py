"""What the portal writes on disk and when: instance files private, no secret written in
production, development's own secret and port, and the README's operator commands working as
written in a `make run` checkout. Each runs a real Python process on a copy or a temp folder."""
import os
import shutil
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def clean_env(**settings) -> dict:
    """Only what a person's shell has: none of the portal's variables."""
    env = {name: os.environ[name] for name in KEPT if name in os.environ}
    env["PATH"] = f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update(settings)
    return env


def python(code: str, env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


# --- production never writes a secret ------------------------------------------------------------

def test_production_without_secret_key_refuses_with_the_message_and_writes_nothing(tmp_path):
    instance = tmp_path / "instance"
    result = python("import wsgi", clean_env(AVERTIZOR_ENV="production",
                                             AVERTIZOR_INSTANCE=str(instance)))
    assert result.returncode != 0
    assert "RuntimeError: SECRET_KEY is not set" in result.stderr, result.stderr[-2000:]
    assert files_under(instance) == []


def test_production_on_a_read_only_install_fails_with_the_designed_message(tmp_path):
    """instance/ cannot be created (its parent is a file: even root cannot write there)."""
    blocker = tmp_path / "read-only"
    blocker.write_text("")
    env = clean_env(AVERTIZOR_INSTANCE=str(blocker / "instance"))  # AVERTIZOR_ENV unset
    result = python("import wsgi", env)
    assert "RuntimeError: SECRET_KEY is not set" in result.stderr, result.stderr[-2000:]
    # With its secret given, production starts there and writes nothing.
    result = python("import wsgi; print(wsgi.app.config['SECRET_KEY'] == 'x' * 48)",
                    {**env, "SECRET_KEY": "x" * 48,
                     "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr[-2000:]
    assert blocker.read_text() == ""


def test_development_keeps_its_own_secret_private_and_links_follow_the_port(tmp_path):
    instance = tmp_path / "instance"
    env = clean_env(AVERTIZOR_ENV="development", AVERTIZOR_INSTANCE=str(instance),
                    PORT="8123")
    code = "import wsgi; c = wsgi.app.config; print(c['SECRET_KEY']); print(c['PUBLIC_URL'])"
    first, second = python(code, env), python(code, env)
    assert first.returncode == 0, first.stderr[-2000:]
    secret, public_url = first.stdout.split()
    assert public_url == "http://127.0.0.1:8123"
    assert second.stdout.split()[0] == secret and len(secret) >= 48
    assert (instance / "secret_key").read_text().strip() == secret
    assert mode(instance) == 0o700 and mode(instance / "secret_key") == 0o600
    given = python("import wsgi; print(wsgi.app.config['PUBLIC_URL'])",
                   {**env, "PUBLIC_URL": "https://avertizor.example/"})
    assert given.stdout.strip() == "https://avertizor.example"


def test_the_sqlite_database_and_instance_files_are_private(tmp_path):
    instance = tmp_path / "instance"
    env = clean_env(AVERTIZOR_ENV="development", AVERTIZOR_INSTANCE=str(instance),
                    UPLOAD_FOLDER=str(instance / "uploads"))
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    database = instance / "avertizor.db"
    assert database.exists()
    assert mode(instance) == 0o700
    assert mode(database) == 0o600, oct(mode(database))
    assert mode(instance / "secret_key") == 0o600
    for path in instance.rglob("*"):
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))


# --- the README's operator commands in a `make run` checkout -----------------------------------

@pytest.fixture
def demo_checkout(tmp_path) -> Path:
    """A copy of the checkout, made into the demo the way `make run` does (its demo-env
    target, then the two flask commands of its recipe), without starting gunicorn."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    listed += [str(p.relative_to(ROOT)) for p in (ROOT / "translations").rglob("*.mo")]
    copy = tmp_path / "avertizor"
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(BIN.parent)
    env = clean_env()
    subprocess.run(["make", "-s", "demo-env", "PORT=5055"], cwd=copy, env=env, check=True,
                   timeout=60)
    for command in (["db", "upgrade"], ["demo"]):
        result = subprocess.run([str(copy / ".venv/bin/flask"), "--app", "wsgi", *command],
                                cwd=copy, env={**env, "AVERTIZOR_ENV": "development"},
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    return copy


def test_the_readmes_operator_commands_work_as_written_in_the_demo(demo_checkout, tmp_path):
    env = clean_env()  # nothing of the portal's: only what `make run` left in the checkout
    env["PATH"] = f"{demo_checkout / '.venv/bin'}:{env['PATH']}"
    readme = (demo_checkout / "README.md").read_text()
    year = date.today().year
    commands = [
        ("flask --app wsgi db upgrade", None),
        ("flask --app wsgi audit verify", None),
        ("flask --app wsgi jobs run", None),
        ("flask --app wsgi check", None),
        (f"flask --app wsgi stats --institution comuna-baltati export --year {year} "
         "--format csv", None),
        (f"flask --app wsgi backup create {tmp_path / 'backup.avz'}", None),
        ("flask --app wsgi staff --institution comuna-baltati add ana@baltati.ro "
         "--name \"Ana Popescu\" --role handler",
         "o parolă destul de lungă\n"),
    ]
    for command, given in commands:
        shown = command.split(" --year")[0].split(" create")[0].split(" ana@")[0]
        assert shown in readme, f"the README no longer shows {shown!r}"
        result = subprocess.run(command, shell=True, cwd=demo_checkout, env=env, input=given,  # noqa: S602 (the README's own command lines)  # nosec B602
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-3000:])
        assert "SECRET_KEY is not set" not in result.stderr
    # The mail links of the demo follow its port.
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi; print(wsgi.app.config['PUBLIC_URL'])"],
        cwd=demo_checkout, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "http://127.0.0.1:5055", result.stderr[-2000:]
    assert mode(demo_checkout / "instance" / "avertizor.env") == 0o600
    # An explicit environment wins over the demo's file: production still refuses.
    result = subprocess.run("flask --app wsgi audit verify", shell=True, cwd=demo_checkout,  # noqa: S602  # nosec B602
                            env={**env, "AVERTIZOR_ENV": "production"}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_the_readmes_confirmation_and_audit_head_commands_work_in_the_demo(demo_checkout):
    """`staff confirm EMAIL` (recovery code from standard input), `audit verify --head VALUE`
    and the development mailbox under instance/mail/, as the README shows them."""
    env = clean_env()
    env["PATH"] = f"{demo_checkout / '.venv/bin'}:{env['PATH']}"
    readme = (demo_checkout / "README.md").read_text()
    for shown in ("flask --app wsgi staff confirm EMAIL", "flask --app wsgi audit verify --head "
                  "VALUE", "instance/mail/"):
        assert shown in readme, f"the README does not show {shown!r}"

    def run(command, given=None):
        return subprocess.run(command, shell=True, cwd=demo_checkout, env=env, input=given,  # noqa: S602 (the README's own command lines)  # nosec B602
                              capture_output=True, text=True, timeout=300)

    for command in ("flask --app wsgi staff confirm --help",
                    "flask --app wsgi audit verify --help"):
        assert run(command).returncode == 0, command
    # A custodian waiting for a second person, as after an activated invitation.
    added = run("flask --app wsgi staff --institution comuna-baltati add elena@baltati.ro --name \"Elena Custode\" "
                "--role custodian", "o parolă destul de lungă\n")
    assert added.returncode == 0, added.stderr[-2000:]
    waiting = subprocess.run(
        [sys.executable, "-c", "import wsgi\n"
         "from app.extensions import db\nfrom app.services.staff import members\n"
         "with wsgi.app.app_context():\n"
         "    m = members.account_by_email('elena@baltati.ro').memberships[0]\n"
         "    m.confirmed_at = None\n    db.session.commit()\n"
         "    print(m.has_role(m.role_list[0]))"],
        cwd=demo_checkout, env=env, capture_output=True, text=True, timeout=60)
    assert waiting.stdout.strip() == "False", waiting.stderr[-2000:]
    credentials = (demo_checkout / "instance" / "demo-credentials.txt").read_text()
    code = credentials.split("recovery code:")[1].split()[0]
    wrong = run("flask --app wsgi staff --institution comuna-baltati confirm elena@baltati.ro", "AAAA-BBBB\n")
    assert wrong.returncode != 0
    confirmed = run("flask --app wsgi staff --institution comuna-baltati confirm "
                    "elena@baltati.ro", code + "\n")
    assert confirmed.returncode == 0, confirmed.stderr[-2000:]
    assert "elena@baltati.ro is confirmed" in confirmed.stdout

    verified = run("flask --app wsgi audit verify")
    assert verified.returncode == 0, verified.stderr[-2000:]
    head_line = [line for line in verified.stdout.splitlines()
                 if line.startswith("current head")][0]
    short, full = head_line.split(": ", 1)[1].split()
    for value in (short, full):
        checked = run(f"flask --app wsgi audit verify --head {value}")
        assert checked.returncode == 0, checked.stderr[-2000:]
        assert f"noted head(s) found in the chain: {value}" in checked.stdout
    unknown = run("flask --app wsgi audit verify --head 0000-0000-0000-0000")
    assert unknown.returncode == 1 and "BROKEN" in unknown.stderr

    # The handler is told of the new reader: the mail is in the development mailbox.
    assert run("flask --app wsgi jobs run").returncode == 0
    mails = list((demo_checkout / "instance" / "mail").glob("*.eml"))
    assert mails and any("persoana.desemnata@baltati.example" in m.read_text() for m in mails)
