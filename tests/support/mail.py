"""A real SMTP server (aiosmtpd) on a free port, and the fixtures that point the app at it:
import `smtp_port` and `app_config` into the test module. The port is the session's, so that
every mail test shares one app configuration (one app); each test starts its own server."""
import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from tests.support.server import free_port

SENDER = "avertizor@baltati.example"


@pytest.fixture(scope="session")
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    """The app mails through 127.0.0.1:<smtp_port>; Flask-Mail suppresses sending when TESTING
    unless told otherwise."""
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_SUPPRESS_SEND": False,
            "MAIL_DEFAULT_SENDER": SENDER, "MAIL_TIMEOUT": 10}


@dataclass
class Received:
    recipients: list[str]
    raw: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def body(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def text(self) -> str:
        """Headers and decoded body: everything a reader of the mail sees."""
        message = self.message
        headers = "\n".join(f"{name}: {value}" for name, value in message.items())
        return f"{headers}\n\n{self.body}"


class Inbox:
    """aiosmtpd handler: keeps every message; refuses the addresses in `refuse` the way real
    servers do, echoing the address back."""

    def __init__(self):
        self.messages: list[Received] = []
        self.refuse: set[str] = set()
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append(Received(list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
