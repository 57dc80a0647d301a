"""The forwarding packet's PDF: what a competent authority receives with a case, in Romanian
(services/papers/forwarding.py decides what is in it; this only lays it out)."""
from flask_babel import force_locale

from ..labels import CATEGORY, CHANNEL, REPORT_PART
from ..services.localtime import LOCAL_ZONE, local_date
from ..services.papers.forwarding import PacketContent
from .model import Document

ANONYMOUS = "ANONIM: sesizantul nu și-a declarat identitatea."
LEFT_OUT = ("Identitatea sesizantului nu este transmisă: acordul său nu este consemnat "
            "(Legea nr. 361/2022 protejează identitatea avertizorului).")
NOT_HELD = ("Sesizantul și-a dat acordul, dar identitatea se află la custodele identității "
            "și nu este inclusă în acest document.")


def _day(value) -> str:
    return local_date(value).strftime("%d.%m.%Y") if value else "—"


def _moment(value) -> str:
    return value.astimezone(LOCAL_ZONE).strftime("%d.%m.%Y %H:%M")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB".replace(".", ",")


def forwarding_document(institution_name: str, content: PacketContent) -> Document:
    with force_locale("ro"):
        return _build(institution_name, content)


def _reporter(content: PacketContent) -> str:
    if content.case.identity is None:
        return ANONYMOUS
    if content.identity is None:
        return NOT_HELD if content.consent else LEFT_OUT
    parts = [("Nume", content.identity.get("name")), ("E-mail", content.identity.get("email")),
             ("Telefon", content.identity.get("phone"))]
    return "\n".join(f"{label}: {value}" for label, value in parts if value)


def _build(institution_name: str, content: PacketContent) -> Document:
    case = content.case
    document = Document(f"Transmiterea sesizării {case.reference}",
                        f"{institution_name} către {case.forwarded_to}")
    document.key_values([
        ("Nr. de înregistrare", case.reference),
        ("Data primirii", _day(case.received_at)),
        ("Canal", str(CHANNEL[case.channel])),
        ("Obiect", str(CATEGORY[case.category])),
        ("Transmisă către", case.forwarded_to or "—"),
        ("Data transmiterii", _day(case.forwarded_at)),
    ])
    document.heading("Sesizantul")
    document.paragraph(_reporter(content))
    document.heading("Conținutul sesizării")
    parts = [(str(label), content.report.get(key, "")) for key, label in REPORT_PART.items()]
    document.key_values([(label, text) for label, text in parts if (text or "").strip()])
    document.heading("Fișiere anexate")
    if content.files:
        document.paragraph("Fișierele se află în arhiva ZIP alături de acest document, în "
                           "dosarul „fisiere”, numerotate ca mai jos. Metadatele fotografiilor "
                           "au fost eliminate la primire.")
        document.table(["Nr.", "Nume", "Tip", "Mărime"],
                       [(f"{f.number:02d}", f.name, f.type, _size(f.size))
                        for f in content.files], (1, 6, 3, 2))
    else:
        document.paragraph("Niciun fișier.")
    document.heading("Mesajele schimbate cu sesizantul")
    if not content.messages:
        document.paragraph("Niciun mesaj.")
    for message in content.messages:
        author = "Sesizantul" if message.from_reporter else \
            f"{message.staff_name or 'Persoana desemnată'} (persoana desemnată)"
        document.heading(f"{author} · {_moment(message.created_at)}", level=2)
        document.paragraph(message.body)
    return document
