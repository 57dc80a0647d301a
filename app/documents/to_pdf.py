"""PDF rendering with fpdf2: A4, DejaVu Sans embedded from `fonts/` (never a system font, so
ș ț ă â î print the same on every machine), 11 pt unless the document asks for large print,
table headers repeated on each page, "Pagina n din m" (or the document's own text) in the
footer."""
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from .model import (
    Block,
    Code,
    Cut,
    Document,
    Heading,
    KeyValues,
    Lines,
    PageBreak,
    Paragraph,
    Table,
    clean,
)

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
MONOSPACE = "Courier"  # a PDF core font: ASCII only, which is all a code block holds
BODY_PT = 11
LINE_MM = 5.5
WRITING_LINE_MM = 10  # room for handwriting


class _Pdf(FPDF):
    """Remembers the body size: every block's font and line height follow it."""

    def __init__(self, document: Document):
        super().__init__(orientation="L" if document.landscape else "P", format="A4", unit="mm")
        self.body_pt = document.body_pt
        self.line_mm = LINE_MM * document.body_pt / BODY_PT
        self.footer_text = document.footer

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FAMILY, "", max(9, self.body_pt - 2))
        text = self.footer_text if self.footer_text is not None \
            else f"Pagina {self.page_no()} din {{nb}}"
        self.cell(0, 10, clean(text), align="C")


def render_pdf(document: Document) -> bytes:
    pdf = _Pdf(document)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(clean(document.title))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(FAMILY, "B", pdf.body_pt + 5)
    _lines(pdf, document.title, pdf.line_mm + 2.5)
    if document.subtitle:
        pdf.set_font(FAMILY, "", pdf.body_pt)
        _lines(pdf, document.subtitle)
    pdf.ln(3)
    for block in document.blocks:
        _render(pdf, block)
    return bytes(pdf.output())


def _lines(pdf: _Pdf, text: str, height: float | None = None) -> None:
    pdf.multi_cell(0, height or pdf.line_mm, clean(text), new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)


def _heading(pdf: _Pdf, block: Heading) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", pdf.body_pt + (3 if block.level <= 1 else 1))
    _lines(pdf, block.text, pdf.line_mm + 1.5)
    pdf.ln(1)


def _paragraph(pdf: _Pdf, block: Paragraph) -> None:
    pdf.set_font(FAMILY, "", pdf.body_pt)
    _lines(pdf, block.text)
    pdf.ln(1.5)


def _writing_lines(pdf: _Pdf, block: Lines) -> None:
    pdf.set_draw_color(120, 120, 120)
    for _ in range(block.count):
        pdf.ln(WRITING_LINE_MM)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(3)


def _cut(pdf: _Pdf, block: Cut) -> None:
    pdf.ln(2)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=2, gap=2)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1)
    pdf.set_font(FAMILY, "", max(9, pdf.body_pt - 2))
    _lines(pdf, f"✂ {block.text}")
    pdf.ln(1)


def _page_break(pdf: _Pdf, _block: PageBreak) -> None:
    pdf.add_page()


def _key_values(pdf: _Pdf, block: KeyValues) -> None:
    for label, value in block.items:
        pdf.set_font(FAMILY, "B", pdf.body_pt)
        label_text = f"{clean(label)}: "
        width = pdf.get_string_width(label_text) + 1
        if width > pdf.epw / 2:  # a long label gets its own line
            _lines(pdf, label_text)
            pdf.set_font(FAMILY, "", pdf.body_pt)
            _lines(pdf, value or "—")
            continue
        pdf.cell(width, pdf.line_mm, label_text)
        pdf.set_font(FAMILY, "", pdf.body_pt)
        pdf.multi_cell(0, pdf.line_mm, clean(value) or "—", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.ln(1.5)


def _table(pdf: _Pdf, block: Table) -> None:
    pdf.set_font(FAMILY, "", pdf.body_pt - 1)
    with pdf.table(col_widths=block.relative_widths(), repeat_headings=1,
                   headings_style=_heading_style(), line_height=5,
                   cell_fill_color=(240, 240, 240),
                   cell_fill_mode=TableCellFillMode.ROWS, text_align="LEFT") as table:
        table.row([clean(text) for text in block.headers])
        for row in block.rows:
            table.row([clean(text) for text in row])
    pdf.ln(3)


def _code(pdf: _Pdf, block: Code) -> None:
    pdf.ln(2)
    pdf.set_font(MONOSPACE, "B", block.size_pt)
    for line in block.lines:
        pdf.cell(0, block.size_pt * 0.55, clean(line), align="C", new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)
    pdf.ln(3)


def _heading_style() -> FontFace:
    return FontFace(family=FAMILY, emphasis="BOLD")


def _render(pdf: _Pdf, block: Block) -> None:
    match block:
        case Heading():
            _heading(pdf, block)
        case Paragraph():
            _paragraph(pdf, block)
        case KeyValues():
            _key_values(pdf, block)
        case Table():
            _table(pdf, block)
        case Lines():
            _writing_lines(pdf, block)
        case Cut():
            _cut(pdf, block)
        case PageBreak():
            _page_break(pdf, block)
        case Code():
            _code(pdf, block)
