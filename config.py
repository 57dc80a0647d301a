"""Configuration classes. Every setting can come from the environment."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("AVERTIZOR_INSTANCE", BASE_DIR / "instance"))

MIB = 1024 * 1024
# The demo checkout (`make run`) marks itself here, so that the operator commands the README
# shows (`flask --app wsgi ...`) run in development mode there without any variable set.
LOCAL_SETTINGS_FILE = "avertizor.env"
LOCAL_SETTINGS = ("AVERTIZOR_ENV", "PORT")
# Rate-limit counters in the application's own database: shared by every worker of the host.
SQL_RATELIMIT_STORAGE = "avertizor-sql://"


def _local_settings() -> dict[str, str]:
    """instance/avertizor.env (KEY=VALUE lines), read only when AVERTIZOR_ENV is not set:
    an explicit environment always wins, and only the keys of LOCAL_SETTINGS are taken."""
    if "AVERTIZOR_ENV" in os.environ:
        return {}
    try:
        text = (INSTANCE_PATH / LOCAL_SETTINGS_FILE).read_text()
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name.strip() in LOCAL_SETTINGS:
            found[name.strip()] = value.strip()
    return found


LOCAL = _local_settings()
PORT = os.environ.get("PORT") or LOCAL.get("PORT") or "5000"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def make_private_folder(path: Path) -> None:
    """A folder only the portal's user can enter (0700 when it is created here)."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)


def _development_secret() -> str:
    """A secret generated once and kept under instance/ (0600), so sessions survive restarts.
    Called only when the development configuration is chosen, never at import."""
    path = INSTANCE_PATH / "secret_key"
    if not path.exists():
        make_private_folder(INSTANCE_PATH)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process of the same start wrote it first
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class Config:
    INSTANCE_DIR = str(INSTANCE_PATH)
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'avertizor.db'}"
    )
    # The owner of the tables runs `flask db upgrade` and `flask db-role grant`; the portal
    # itself connects (DATABASE_URL) as a role that owns nothing, so that PostgreSQL's
    # row-level security holds for it (app/rls.py). Unset: migrations use DATABASE_URL.
    MIGRATION_DATABASE_URL = os.environ.get("MIGRATION_DATABASE_URL") or None
    # Requests start with no institution until their resolution calls rls.limit_to().
    RLS_RESTRICT_REQUESTS = _bool("RLS_RESTRICT_REQUESTS", True)
    # hide_parameters: error logs never show bound values (lookup ids, ciphertexts, addresses).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_PATH / "uploads"))

    # Evidence limits: per file, per submission, and which kinds of file are accepted.
    UPLOAD_MAX_FILE_BYTES = _int("UPLOAD_MAX_FILE_MB", 20) * MIB
    UPLOAD_MAX_TOTAL_BYTES = _int("UPLOAD_MAX_TOTAL_MB", 50) * MIB
    UPLOAD_MAX_FILES = _int("UPLOAD_MAX_FILES", 10)
    # Pictures are decoded to strip their metadata: 25 megapixels take ~100 MB as RGBA.
    UPLOAD_MAX_IMAGE_PIXELS = _int("UPLOAD_MAX_IMAGE_MEGAPIXELS", 25) * 1_000_000
    UPLOAD_ALLOWED_EXTENSIONS = frozenset(
        os.environ.get(
            "UPLOAD_ALLOWED_EXTENSIONS",
            "pdf,jpg,jpeg,png,webp,txt,doc,docx,odt,xls,xlsx,ods,rtf,mp3,m4a,ogg,wav,mp4,zip,"
            "opus,webm,amr,aac",
        ).split(",")
    )
    # Voice messages: their limits, and the disguise (pitch in semitones, formant scale).
    VOICE_MAX_SECONDS = _int("VOICE_MAX_MINUTES", 10) * 60
    VOICE_MAX_BYTES = _int("VOICE_MAX_MB", 20) * MIB
    VOICE_PITCH_SEMITONES = _float("VOICE_PITCH_SEMITONES", -4.0)
    VOICE_FORMANT_FACTOR = _float("VOICE_FORMANT_FACTOR", 0.87)

    # Argon2id for receipts and staff passwords; raised later without breaking old secrets,
    # because the parameters are stored beside every derived value. 256 MiB, 2 passes: about
    # 0.25 s on one core with libsodium (bench/kdf.py, bench/README.md); until December 2026
    # the default was 65536 KiB, 2 passes, and secrets made with it keep opening.
    KDF_MEMORY_KIB = _int("KDF_MEMORY_KIB", 262144)
    KDF_ITERATIONS = _int("KDF_ITERATIONS", 2)
    KDF_LANES = _int("KDF_LANES", 1)
    # Derivations on threads of their own, at most this many at once per process, at this
    # nice value (deploy/gunicorn.conf.py sets them for its workers; 0: in the request's
    # thread, as the CLI and `flask run` do).
    KDF_THREADS = _int("KDF_THREADS", 0)
    KDF_NICE = _int("KDF_NICE", 0)

    REPORTER_SESSION_IDLE_MINUTES = _int("REPORTER_SESSION_IDLE_MINUTES", 15)
    REPORTER_SESSION_MAX_MINUTES = _int("REPORTER_SESSION_MAX_MINUTES", 60)

    # Without Redis, the counters live in the application's database, so that a limit holds
    # across all workers (memory:// would give each worker its own budget).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or SQL_RATELIMIT_STORAGE
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_SUBMIT = os.environ.get("RATELIMIT_SUBMIT", "10 per hour")
    # Hearing the disguised voice before sending: decoding and disguising cost CPU, nothing
    # is stored.
    RATELIMIT_VOICE_PREVIEW = os.environ.get("RATELIMIT_VOICE_PREVIEW", "30 per hour")
    RATELIMIT_RECEIPT_LOGIN = os.environ.get("RATELIMIT_RECEIPT_LOGIN", "5 per minute;30 per hour")
    RATELIMIT_STAFF_LOGIN = os.environ.get("RATELIMIT_STAFF_LOGIN", "10 per minute;60 per hour")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "avertizor@localhost")
    # "smtp", or "files": one .eml per mail under MAIL_FOLDER (default instance/mail/).
    MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT", "smtp")
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER")
    # Deliver the outbox right after each request that queued mail (development's mailbox);
    # production runs `flask jobs run` from a timer instead.
    MAIL_DELIVER_AFTER_REQUEST = _bool("MAIL_DELIVER_AFTER_REQUEST", False)
    # The address people reach the portal at; mail links point here (jobs run outside requests).
    # Unset, it follows PORT (the port `make run` and gunicorn.conf.py listen on).
    PUBLIC_URL = (os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{PORT}").rstrip("/")

    BABEL_DEFAULT_LOCALE = "ro"
    BABEL_DEFAULT_TIMEZONE = "Europe/Bucharest"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("ro", "en")

    WTF_CSRF_TIME_LIMIT = 3600 * 4
    SESSION_COOKIE_NAME = "avertizor"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Strict"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"
    # The portal sits behind one reverse proxy in production (see deploy/).
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)

    @classmethod
    def validate(cls, config: dict) -> None:
        if not config.get("SECRET_KEY"):
            raise RuntimeError(
                "SECRET_KEY is not set. Generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` "
                "and put it in the environment."
            )


class DevelopmentConfig(Config):
    @classmethod
    def validate(cls, config: dict) -> None:
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = _development_secret()
        super().validate(config)

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PREFERRED_URL_SCHEME = "http"
    MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT", "files")
    MAIL_DELIVER_AFTER_REQUEST = _bool("MAIL_DELIVER_AFTER_REQUEST", True)


class TestingConfig(Config):
    TESTING = True
    # Shared by every worker of a test server, hence from the environment when given.
    SECRET_KEY = os.environ.get("SECRET_KEY") or "testing-only-" + secrets.token_hex(16)
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    MIGRATION_DATABASE_URL = None  # tests/conftest.py names the owner when it differs
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    SESSION_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    # Cheap but real Argon2id: the cipher is never faked, only made fast.
    KDF_MEMORY_KIB = _int("KDF_MEMORY_KIB", 1024)
    KDF_ITERATIONS = _int("KDF_ITERATIONS", 1)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", False)


class ProductionConfig(Config):
    pass


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def environment_name() -> str:
    """Production unless told otherwise (AVERTIZOR_ENV, else the demo's instance/avertizor.env):
    forgetting the variable must not weaken anything."""
    return os.environ.get("AVERTIZOR_ENV") or LOCAL.get("AVERTIZOR_ENV") or "production"


def config_from_environment():
    return CONFIGS[environment_name()]
