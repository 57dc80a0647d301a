"""The paper report form for the institution's box and for post: A4, large print, the questions
of the web form, the privacy notice in short and the external channel (ANI). Each form is two
pages (one sheet printed on both sides) and carries its own receipt code, on the form and on
a strip the reporter cuts off and keeps to follow up online or by telephone.

Romanian whatever the page's language, like every document here: it is handed to the public of
a Romanian institution. A test keeps the questions the same as the web form's."""
from dataclasses import dataclass

from .model import Document
from .to_pdf import render_pdf

LARGE_PRINT_PT = 14
CHECKBOX = "☐"


@dataclass(frozen=True)
class PaperForms:
    institution: str
    followup_address: str
    privacy_address: str
    external_channel: str
    categories: tuple[str, ...]
    codes: tuple[str, ...]  # as displayed, one per form; never stored


def paper_forms_pdf(forms: PaperForms) -> bytes:
    document = Document(title="Formular de sesizare în interes public", body_pt=LARGE_PRINT_PT,
                        subtitle=forms.institution,
                        footer="Sesizare în interes public — Legea nr. 361/2022")
    for number, code in enumerate(forms.codes):
        if number:
            document.page_break()
            document.heading("Formular de sesizare în interes public")
            document.paragraph(forms.institution)
        _first_page(document, forms, code)
        document.page_break()
        _second_page(document, forms, code)
    return render_pdf(document)


def _first_page(document: Document, forms: PaperForms, code: str) -> None:
    document.key_values([("Codul formularului", code)])
    document.paragraph(
        "Completați formularul, puneți-l într-un plic închis și lăsați-l în cutia de sesizări "
        "a instituției sau trimiteți-l prin poștă. Nu este nevoie să vă scrieți numele. "
        "Păstrați partea de jos a paginii 2: cu codul de pe ea urmăriți sesizarea.")
    document.heading("1. Despre ce este vorba?", 2)
    document.paragraph("   ".join(f"{CHECKBOX} {label}" for label in forms.categories))
    document.heading("2. Ce s-a întâmplat?", 2)
    document.lines(7)
    document.heading("3. Când și unde s-a întâmplat?", 2)
    document.lines(2)
    document.heading("4. Cine a fost implicat?", 2)
    document.lines(2)


def _second_page(document: Document, forms: PaperForms, code: str) -> None:
    document.key_values([("Codul formularului", code)])
    document.heading("5. Cum ați aflat?", 2)
    document.lines(2)
    document.heading("6. Ați aflat despre aceste fapte în legătură cu munca dumneavoastră?", 2)
    document.paragraph(f"{CHECKBOX} Da   {CHECKBOX} Nu")
    document.heading("7. Doriți să vă comunicați numele?", 2)
    document.paragraph(f"{CHECKBOX} Nu, trimit sesizarea anonim   {CHECKBOX} Da: nume, telefon "
                       "sau e-mail:")
    document.lines(1)
    document.paragraph(
        "Puteți anexa copii ale documentelor. Date personale: sesizarea este citită numai de "
        "persoanele desemnate și este păstrată criptat; identitatea nu vă este divulgată fără "
        "acordul dumneavoastră, în afara cazurilor prevăzute de lege. Detalii: "
        f"{forms.privacy_address}.")
    document.paragraph(
        "Puteți sesiza și direct Agenția Națională de Integritate (ANI), canalul extern "
        f"prevăzut de Legea nr. 361/2022: {forms.external_channel}.")
    document.cut("Decupați și păstrați partea de mai jos. Nu o puneți în plic.")
    document.key_values([("Codul dumneavoastră", code)])
    document.paragraph(
        f"{forms.institution}. Urmăriți sesizarea la {forms.followup_address} cu acest cod "
        "sau telefonic, la instituție. Confirmăm primirea în cel mult 7 zile de la înregistrare. "
        "Oricine are codul poate citi sesizarea: nu îl arătați altcuiva.")
