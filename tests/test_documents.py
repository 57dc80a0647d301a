"""The document toolkit and the annual evaluation: each file is opened again with its own
reader (python-docx, pypdf) and its text read back, Romanian diacritics included."""
import csv
import io

import docx
import pypdf
import pytest
from docx.oxml.ns import qn

from app.documents.evaluation import (
    AnnualEvaluation,
    IndicatorValue,
    MeasureEvaluation,
    evaluation_csv,
    evaluation_docx,
    evaluation_pdf,
)
from app.documents.model import Document
from app.documents.to_docx import render_docx
from app.documents.to_pdf import render_pdf

DIACRITICS = "ș ț Ș Ț ă â î Ă Â Î"
A4_POINTS = (595.28, 841.89)


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def long_document() -> Document:
    document = Document("Registrul riscurilor — Comuna Bălțați", "Anul 2025")
    document.heading("Achiziții publice").paragraph(f"Literele {DIACRITICS} rămân întregi.")
    document.key_values([("Responsabil", "Compartimentul achiziții"), ("Notă", "")])
    document.table(["Nr.", "Descriere", "Clasă"],
                   [(str(n), "Întârzierea plăților către furnizori", "mediu") for n in range(150)],
                   (1, 6, 2))
    return document


def test_pdf_text_reads_back_with_diacritics_page_numbers_and_a4():
    data = render_pdf(long_document())
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = pdf_text(data)
    assert len(pages) >= 2
    assert DIACRITICS in pages[0]
    assert "Registrul riscurilor — Comuna Bălțați" in pages[0]
    assert "Responsabil: Compartimentul achiziții" in pages[0]
    for number, text in enumerate(pages, start=1):
        assert f"Pagina {number} din {len(pages)}" in text
    for page in reader.pages:
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) \
            == A4_POINTS


def test_pdf_repeats_the_table_header_and_embeds_the_bundled_font():
    data = render_pdf(long_document())
    pages = pdf_text(data)
    for text in pages[1:]:
        assert text.splitlines()[0].split() == ["Nr.", "Descriere", "Clasă"]
    fonts = {str(font["/BaseFont"]) for page in pypdf.PdfReader(io.BytesIO(data)).pages
             for font in page["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVu" in name for name in fonts)
    assert b"/FontFile2" in data  # embedded, so the reader needs no font of its own


def test_docx_text_reads_back_and_is_a4_with_a_repeated_header():
    data = render_docx(long_document())
    document = docx.Document(io.BytesIO(data))
    text = docx_text(data)
    assert DIACRITICS in text
    assert "Registrul riscurilor — Comuna Bălțați" in text
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert document.styles["Normal"].font.size.pt == 11
    header = document.tables[0].rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [c.text for c in header.cells] == ["Nr.", "Descriere", "Clasă"]
    assert len(document.tables[0].rows) == 151
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml


def test_a_table_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError):
        Document("x").table(["a", "b"], [("1",)])


def evaluation() -> AnnualEvaluation:
    return AnnualEvaluation(
        institution="Comuna Bălțați", year=2025,
        plan_title="Planul de integritate 2022–2025",
        measures=[
            MeasureEvaluation(
                code="1.7", objective="Obiectivul 1. Dezvoltarea unei culturi organizaționale",
                text="Evaluarea anuală a modului de implementare a planului",
                status_label="Implementată", reason=None,
                indicators=[IndicatorValue("Grad de implementare a planului", "50 %", False,
                                           None)],
                evidence=["Raport de evaluare nr. 12/2025"],
                progress=["15.01.2025: raport întocmit de coordonator"]),
            MeasureEvaluation(
                code="2.2", objective="Obiectivul 2. Consolidarea transparenței",
                text="Avertizarea în interes public: canale de raportare",
                status_label="Neimplementată", reason="Lipsă de personal instruit",
                indicators=[
                    IndicatorValue("Nr. sesizări depuse de cetățeni", "7", True,
                                   "Avertizor, 01.01.2025–31.12.2025"),
                    IndicatorValue("Canale utilizate", "=1+2", False, None)],
                evidence=[], progress=[]),
        ],
        implemented=1, total=2, degree_percent=50.0,
        degree_method="Măsuri cu stadiul „implementată” sau „permanentă” din totalul celor "
                      "în vigoare la 31 decembrie",
        introduced_or_revised=["2.2 revizuită la 10.03.2025"],
        new_risks=["Conflict de interese în achiziții publice"])


def test_the_evaluation_reads_back_from_docx_and_pdf():
    e = evaluation()
    for text in (docx_text(evaluation_docx(e)), "\n".join(pdf_text(evaluation_pdf(e)))):
        flat = " ".join(text.split())
        for expected in ("Raport de evaluare a implementării planului de integritate — 2025",
                         "Comuna Bălțați", "Măsuri implementate: 1 din 2",
                         "Grad de implementare: 50,0 %", "Mod de calcul: Măsuri cu stadiul",
                         "Măsura 2.2.", "Motiv: Lipsă de personal instruit",
                         "calculat de portal (Avertizor, 01.01.2025–31.12.2025)",
                         "introdus de responsabil", "Raport de evaluare nr. 12/2025",
                         "2.2 revizuită la 10.03.2025",
                         "Conflict de interese în achiziții publice",
                         "Riscuri și vulnerabilități nou identificate"):
            assert expected in flat, expected


def test_the_evaluation_csv_marks_computed_values_and_defuses_formulas():
    rows = list(csv.DictReader(io.StringIO(evaluation_csv(evaluation()))))
    assert [(r["cod_masura"], r["calculat_de_portal"]) for r in rows] == [
        ("1.7", "nu"), ("2.2", "da"), ("2.2", "nu")]
    assert rows[1]["sursa"] == "Avertizor, 01.01.2025–31.12.2025"
    assert rows[1]["masura"] == "Avertizarea în interes public: canale de raportare"
    assert rows[2]["valoare"] == "'=1+2"


def test_control_characters_and_long_words_do_not_break_either_file():
    document = Document("Titlu\x00 cu\tcaractere\x0b de control")
    document.paragraph("Clopoțel\x07 și\r\nrând nou")
    document.key_values([("Etichetă\x1b", "valoare\x7f"), ("L" * 150, "lungă")])
    document.table(["Nr.", "Text", "Altceva"],
                   [("1", "x" * 400, "😀 fără glif"), ("2", "https://example.org/" + "a" * 200,
                                                       "ț")], (1, 3, 6))
    pdf = "\n".join(pdf_text(render_pdf(document)))
    assert "Titlu cu caractere de control" in pdf and "Clopoțel și" in pdf
    text = docx_text(render_docx(document))
    assert "Titlu cu caractere de control" in text and "Clopoțel și" in text
    assert "x" * 400 in text
