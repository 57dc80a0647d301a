"""The printable recovery page of one institution: its name, SIRUTA code and CUI, and its
recovery code in large monospaced groups, with what to do with it. Romanian, like the other
documents addressed to an institution. The page is written once, when the institution is set
up, and handed over sealed: the code exists nowhere else (only its public half is stored)."""
from datetime import datetime

from ..services.localtime import LOCAL_ZONE
from .model import Document

GROUPS_PER_LINE = 4
WARNING = ("Păstrați această pagină în seiful instituției, în plic sigilat. Cine deține acest "
           "cod poate deschide toate sesizările instituției; nu îl fotografiați, nu îl "
           "scanați, nu îl trimiteți prin e-mail și nu îl introduceți decât în aplicație, "
           "atunci când este nevoie.")
USES = ("Codul este cerut: când persoana desemnată își pierde parola sau pleacă, pentru ca "
        "alt membru al personalului să primească accesul la sesizări; pentru confirmarea "
        "primului administrator; pentru deschiderea unei copii de siguranță sau a arhivei de "
        "predare a datelor instituției.")
NOT_STORED = ("Codul nu este păstrat nicăieri altundeva: platforma reține doar jumătatea lui "
              "publică. Dacă pagina se pierde, codul nu poate fi refăcut.")


def code_lines(code: str) -> list[str]:
    """The code's groups, GROUPS_PER_LINE to a line, separated by two spaces."""
    groups = code.split("-")
    return ["  ".join(groups[i:i + GROUPS_PER_LINE])
            for i in range(0, len(groups), GROUPS_PER_LINE)]


def recovery_document(*, name: str, slug: str, county: str | None, siruta_code: str | None,
                      cui: str | None, code: str, made_at: datetime) -> Document:
    document = Document(title="Cod de recuperare al instituției",
                        subtitle=name,
                        footer="CONFIDENȚIAL: a se păstra în seiful instituției")
    document.key_values([
        ("Instituția", name),
        ("Județul", county or "—"),
        ("Cod SIRUTA", siruta_code or "—"),
        ("CUI", cui or "—"),
        ("Adresa în platformă", f"/{slug}/"),
        ("Emis la", made_at.astimezone(LOCAL_ZONE).strftime("%d.%m.%Y %H:%M")),
    ])
    document.heading("Codul de recuperare")
    document.code(code_lines(code), size_pt=20)
    document.paragraph("La introducere, spațiile și liniuțele nu contează; literele mari sau "
                       "mici nici atât.")
    document.heading("Ce faceți cu această pagină", level=2)
    document.paragraph(WARNING)
    document.paragraph(USES)
    document.paragraph(NOT_STORED)
    document.heading("Predare", level=2)
    document.paragraph("Predat de (nume, semnătură): ..................................")
    document.paragraph("Primit de (nume, funcție, semnătură): .........................")
    document.paragraph("Data: ....................")
    return document
