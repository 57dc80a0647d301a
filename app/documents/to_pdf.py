"""PDF rendering with fpdf2: A4, 11 pt DejaVu Sans embedded from `fonts/` (never a system
font, so ș ț ă â î print the same on every machine), table headers repeated on each page,
"Pagina n din m" in the footer."""
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from .model import Document, Heading, KeyValues, Paragraph, Table, clean

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
BODY_PT = 11
LINE_MM = 5.5


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FAMILY, "", 9)
        self.cell(0, 10, f"Pagina {self.page_no()} din {{nb}}", align="C")


def render_pdf(document: Document) -> bytes:
    pdf = _Pdf(orientation="L" if document.landscape else "P", format="A4", unit="mm")
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(clean(document.title))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    _lines(pdf, document.title, 8)
    if document.subtitle:
        pdf.set_font(FAMILY, "", BODY_PT)
        _lines(pdf, document.subtitle)
    pdf.ln(3)
    for block in document.blocks:
        _RENDER[type(block)](pdf, block)
    return bytes(pdf.output())


def _lines(pdf: FPDF, text: str, height: float = LINE_MM) -> None:
    pdf.multi_cell(0, height, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF, block: Heading) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 14 if block.level <= 1 else 12)
    _lines(pdf, block.text, 7)
    pdf.ln(1)


def _paragraph(pdf: FPDF, block: Paragraph) -> None:
    pdf.set_font(FAMILY, "", BODY_PT)
    _lines(pdf, block.text)
    pdf.ln(1.5)


def _key_values(pdf: FPDF, block: KeyValues) -> None:
    for label, value in block.items:
        pdf.set_font(FAMILY, "B", BODY_PT)
        label_text = f"{clean(label)}: "
        width = pdf.get_string_width(label_text) + 1
        if width > pdf.epw / 2:  # a long label gets its own line
            _lines(pdf, label_text)
            pdf.set_font(FAMILY, "", BODY_PT)
            _lines(pdf, value or "—")
            continue
        pdf.cell(width, LINE_MM, label_text)
        pdf.set_font(FAMILY, "", BODY_PT)
        pdf.multi_cell(0, LINE_MM, clean(value) or "—", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.ln(1.5)


def _table(pdf: FPDF, block: Table) -> None:
    pdf.set_font(FAMILY, "", 10)
    with pdf.table(col_widths=block.relative_widths(), repeat_headings=1,
                   headings_style=_heading_style(), line_height=5,
                   cell_fill_color=(240, 240, 240),
                   cell_fill_mode=TableCellFillMode.ROWS, text_align="LEFT") as table:
        table.row([clean(text) for text in block.headers])
        for row in block.rows:
            table.row([clean(text) for text in row])
    pdf.ln(3)


def _heading_style() -> FontFace:
    return FontFace(family=FAMILY, emphasis="BOLD")


_RENDER = {Heading: _heading, Paragraph: _paragraph, KeyValues: _key_values, Table: _table}
