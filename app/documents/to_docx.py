"""DOCX rendering with python-docx: A4, 11 pt body, the header row of each table repeated on
every page (w:tblHeader), page numbers in the footer (a PAGE field Word fills in).

DOCX stores text as Unicode, so ș and ț (comma below) are kept as typed; the font named is
Arial, which every Word installation has with those letters (fonts are not embedded)."""
from io import BytesIO

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

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

FONT = "Arial"
BODY_PT = 11


def render_docx(document: Document) -> bytes:
    out = docx.Document()
    _page_setup(out, document.landscape)
    out.core_properties.title = clean(document.title)
    out.add_heading(clean(document.title), level=0)
    if document.subtitle:
        out.add_paragraph(clean(document.subtitle))
    for block in document.blocks:
        _render(out, block)
    buffer = BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _page_setup(out, landscape: bool) -> None:
    section = out.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = out.styles[name]
        style.font.name = FONT
        # East-Asian and complex-script slots too, or Word may pick another font for them.
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:cs"), FONT)
    out.styles["Normal"].font.size = Pt(BODY_PT)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_field(footer)


def _page_field(paragraph) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _heading(out, block: Heading) -> None:
    out.add_heading(clean(block.text), level=min(max(block.level, 1), 2))


def _paragraph(out, block: Paragraph) -> None:
    out.add_paragraph(clean(block.text))


def _key_values(out, block: KeyValues) -> None:
    for label, value in block.items:
        paragraph = out.add_paragraph()
        paragraph.add_run(f"{clean(label)}: ").bold = True
        paragraph.add_run(clean(value))


def _table(out, block: Table) -> None:
    table = out.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    header = table.rows[0]
    _repeat_as_header(header)
    for cell, text in zip(header.cells, block.headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(clean(text)).bold = True
    for row in block.rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = clean(text)
    widths = block.relative_widths()
    section = out.sections[0]
    usable = section.page_width - section.left_margin - section.right_margin
    for column, share in zip(table.columns, widths, strict=True):
        width = int(usable * share / sum(widths))
        for cell in column.cells:
            cell.width = width
    out.add_paragraph()


def _repeat_as_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    properties.append(element)


def _lines(out, block: Lines) -> None:
    for _ in range(block.count):
        out.add_paragraph("_" * 60)


def _cut(out, block: Cut) -> None:
    out.add_paragraph(f"✂ {'- ' * 20}{clean(block.text)}")


def _code(out, block: Code) -> None:
    for line in block.lines:
        paragraph = out.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(clean(line))
        run.bold, run.font.name, run.font.size = True, "Courier New", Pt(block.size_pt)


def _page_break(out, _block: PageBreak) -> None:
    out.add_page_break()


def _render(out, block: Block) -> None:
    match block:
        case Heading():
            _heading(out, block)
        case Paragraph():
            _paragraph(out, block)
        case KeyValues():
            _key_values(out, block)
        case Table():
            _table(out, block)
        case Lines():
            _lines(out, block)
        case Cut():
            _cut(out, block)
        case PageBreak():
            _page_break(out, block)
        case Code():
            _code(out, block)
