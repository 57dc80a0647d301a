"""The outreach kit (integrity plan, measure 2.2, third indicator): a poster (A4 PDF), a
leaflet (A5 PDF, front and back) and a square social-media image (SVG and PNG), each with the
institution's name, the portal's address and a QR code of that address.

The QR code is drawn from segno's module matrix as filled squares (vector in the PDF and SVG,
pixels in the PNG), and the PNG is drawn with Pillow and the bundled DejaVu Sans: no browser,
no system font. The text is Romanian: the kit is for the institution's public."""
import textwrap
from dataclasses import dataclass
from io import BytesIO

import markupsafe
import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image, ImageDraw, ImageFont

from .model import clean
from .to_pdf import FAMILY, FONTS

SOCIAL_SIZE = 1080  # pixels: the square most platforms show without cropping
INK = (20, 52, 94)
PAPER = (255, 255, 255)
ACCENT = (250, 204, 21)

HEADLINE = "Ați observat corupție sau o neregulă?"
CALL = "Sesizați în siguranță, chiar și anonim."
PROMISES = (
    "Sesizarea este criptată: numai persoana desemnată o poate citi.",
    "Nu trebuie să vă spuneți numele. Primiți un cod cu care urmăriți răspunsul.",
    "Primiți confirmarea în 7 zile și un răspuns în cel mult 3 luni (Legea nr. 361/2022).",
    "Fotografiile sunt curățate de datele ascunse (locație, aparat) înainte de a fi păstrate.",
)
OTHER_WAYS = ("Puteți sesiza și prin poștă, la cutia de sesizări a instituției, prin telefon "
              "sau cerând o întâlnire cu persoana desemnată.")
EXTERNAL = ("Canal extern: Agenția Națională de Integritate, www.integritate.eu.")


def _xml(text: str) -> str:
    """Text for SVG content or a quoted attribute: & < > " ' escaped (markupsafe)."""
    return str(markupsafe.escape(text))


@dataclass(frozen=True)
class KitText:
    institution: str
    address: str  # the portal's public address, also in the QR code


def _modules(address: str) -> list[list[bool]]:
    """The QR code's dark modules, with the 4-module quiet zone the standard asks for."""
    qr = segno.make(address, error="m")
    return [[bool(module) for module in row] for row in qr.matrix_iter(scale=1, border=4)]


# --- PDF -------------------------------------------------------------------------------------

class _Pdf(FPDF):
    def __init__(self, page_format: str | tuple[float, float]) -> None:
        super().__init__(format=page_format, unit="mm")
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(False)

    def text_block(self, text: str, size: float, bold: bool = False, height: float = 0,
                   align: str = "L") -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(0, height or size * 0.5, clean(text), align=align,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def qr(self, address: str, x: float, y: float, side: float) -> None:
        modules = _modules(address)
        cell = side / len(modules)
        self.set_fill_color(*PAPER)
        self.rect(x, y, side, side, style="F")
        self.set_fill_color(0, 0, 0)
        for row, line in enumerate(modules):
            for column, dark in enumerate(line):
                if dark:
                    self.rect(x + column * cell, y + row * cell, cell, cell, style="F")


def poster_pdf(kit: KitText) -> bytes:
    pdf = _Pdf("A4")
    pdf.set_title(f"{HEADLINE} {kit.institution}")
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_fill_color(*INK)
    pdf.rect(0, 0, 210, 70, style="F")
    pdf.set_text_color(*PAPER)
    pdf.set_y(16)
    pdf.text_block(HEADLINE, 30, bold=True, height=13)
    pdf.ln(3)
    pdf.text_block(CALL, 18, height=9)
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(80)
    for promise in PROMISES:
        pdf.text_block(f"•  {promise}", 14, height=7.5)
        pdf.ln(2)
    pdf.qr(kit.address, 65, 150, 80)
    pdf.set_y(234)
    pdf.text_block("Scanați codul sau scrieți adresa:", 13, height=7, align="C")
    pdf.text_block(kit.address, 20, bold=True, height=10, align="C")
    pdf.ln(3)
    pdf.text_block(kit.institution, 15, bold=True, height=7.5, align="C")
    pdf.ln(2)
    pdf.text_block(EXTERNAL, 10, height=5, align="C")
    return bytes(pdf.output())


def leaflet_pdf(kit: KitText) -> bytes:
    """A5, two pages: the call and the QR code on the front, how it works on the back."""
    pdf = _Pdf((148, 210))
    pdf.set_title(f"{HEADLINE} {kit.institution}")
    pdf.set_margins(14, 14, 14)
    pdf.add_page()
    pdf.set_fill_color(*INK)
    pdf.rect(0, 0, 148, 58, style="F")
    pdf.set_text_color(*PAPER)
    pdf.set_y(12)
    pdf.text_block(kit.institution, 12, bold=True, height=6)
    pdf.ln(2)
    pdf.text_block(HEADLINE, 21, bold=True, height=9.5)
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(66)
    pdf.text_block(CALL, 14, bold=True, height=7)
    pdf.qr(kit.address, 39, 82, 70)
    pdf.set_y(158)
    pdf.text_block(kit.address, 15, bold=True, height=7.5, align="C")
    pdf.add_page()
    pdf.text_block("Cum sesizați", 17, bold=True, height=9)
    pdf.ln(2)
    steps = (f"1. Deschideți {kit.address} (sau scanați codul de pe față).",
             "2. Scrieți ce s-a întâmplat; puteți adăuga fișiere sau un mesaj vocal.",
             "3. Păstrați codul de urmărire primit: cu el vedeți răspunsul și puteți "
             "trimite mesaje.")
    for step in steps:
        pdf.text_block(step, 11.5, height=6)
        pdf.ln(1.5)
    pdf.ln(3)
    pdf.text_block("Ce vă promitem", 14, bold=True, height=7)
    pdf.ln(1)
    for promise in PROMISES:
        pdf.text_block(f"•  {promise}", 10.5, height=5.5)
        pdf.ln(1)
    pdf.ln(3)
    pdf.text_block(OTHER_WAYS, 10.5, height=5.5)
    pdf.ln(3)
    pdf.text_block(EXTERNAL, 9.5, height=5)
    return bytes(pdf.output())


# --- the square social-media image -----------------------------------------------------------

def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(clean(text), width=width, break_long_words=True) or [""]


@dataclass(frozen=True)
class _Line:
    text: str
    y: int
    size: int
    bold: bool
    color: tuple[int, int, int]


QR_TOP, QR_SIDE = 560, 400


def _layout(kit: KitText) -> list[_Line]:
    """The lines of the square image and where they sit, shared by the SVG and the PNG."""
    lines, y = [], 110
    for text in _wrapped(HEADLINE, 22):
        lines.append(_Line(text, y, 64, True, PAPER))
        y += 78
    y += 10
    for text in _wrapped(CALL, 40):
        lines.append(_Line(text, y, 40, False, ACCENT))
        y += 52
    y = max(y + 20, 430)
    for text in _wrapped(kit.institution, 38)[:2]:
        lines.append(_Line(text, y, 36, True, PAPER))
        y += 46
    lines.append(_Line(kit.address, QR_TOP + QR_SIDE + 60, 34, True, PAPER))
    return lines


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def social_svg(kit: KitText) -> str:
    modules = _modules(kit.address)
    cell = QR_SIDE / len(modules)
    left = (SOCIAL_SIZE - QR_SIDE) / 2
    squares = "".join(f"M{left + c * cell:.2f} {QR_TOP + r * cell:.2f}h{cell:.2f}v{cell:.2f}"
                      f"h-{cell:.2f}z" for r, row in enumerate(modules)
                      for c, dark in enumerate(row) if dark)
    texts = "".join(
        f'<text x="{SOCIAL_SIZE // 2}" y="{line.y}" font-size="{line.size}" '
        f'font-weight="{"bold" if line.bold else "normal"}" fill="{_hex(line.color)}">'
        f"{_xml(line.text)}</text>" for line in _layout(kit))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{SOCIAL_SIZE}" '
            f'height="{SOCIAL_SIZE}" viewBox="0 0 {SOCIAL_SIZE} {SOCIAL_SIZE}" role="img" '
            f'aria-label="{_xml(HEADLINE)} {_xml(kit.institution)}">'
            f"<title>{_xml(kit.institution)}: {_xml(kit.address)}</title>"
            f'<rect width="100%" height="100%" fill="{_hex(INK)}"/>'
            f'<g text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif">{texts}</g>'
            f'<rect x="{left}" y="{QR_TOP}" width="{QR_SIDE}" height="{QR_SIDE}" fill="#fff"/>'
            f'<path fill="#000" d="{squares}"/></svg>')


def social_png(kit: KitText) -> bytes:
    image = Image.new("RGB", (SOCIAL_SIZE, SOCIAL_SIZE), INK)
    draw = ImageDraw.Draw(image)
    for line in _layout(kit):
        font = ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if line.bold
                                               else "DejaVuSans.ttf")), line.size)
        # SVG's y is the baseline; Pillow's "ms" anchor puts the text's baseline at y too.
        draw.text((SOCIAL_SIZE // 2, line.y), line.text, font=font, fill=line.color,
                  anchor="ms")
    modules = _modules(kit.address)
    cell = QR_SIDE / len(modules)
    left = (SOCIAL_SIZE - QR_SIDE) // 2
    draw.rectangle((left, QR_TOP, left + QR_SIDE - 1, QR_TOP + QR_SIDE - 1), fill=PAPER)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                x0, y0 = left + round(c * cell), QR_TOP + round(r * cell)
                draw.rectangle((x0, y0, left + round((c + 1) * cell) - 1,
                                QR_TOP + round((r + 1) * cell) - 1), fill=(0, 0, 0))
    buffer = BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
