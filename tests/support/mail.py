"""Fixtures for tests that mail through a real SMTP server (aiosmtpd) on a free port: import
`smtp_port` and `app_config` into the test module to point the app at it."""
import pytest

from tests.support.server import free_port

SENDER = "avertizor@baltati.example"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    """The app mails through 127.0.0.1:<smtp_port>; Flask-Mail suppresses sending when TESTING
    unless told otherwise."""
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_SUPPRESS_SEND": False,
            "MAIL_DEFAULT_SENDER": SENDER, "MAIL_TIMEOUT": 10}
