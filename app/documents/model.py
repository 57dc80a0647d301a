"""A document as plain data, so each renderer only decides how a block looks."""
import re
from dataclasses import dataclass, field

# C0 and C1 control characters other than the line break: DOCX (XML) cannot hold them and a
# PDF font has no glyph for them. A tab reads as a space.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text) -> str:
    return _CONTROL.sub("", str(text).replace("\t", " ").replace("\r\n", "\n"))


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1 or 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    """A table whose header row is repeated on every page it spans. `widths` are relative
    column widths (any unit); equal columns when empty."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()

    def __post_init__(self):
        if any(len(row) != len(self.headers) for row in self.rows):
            raise ValueError("every row needs one cell per header")
        if self.widths and len(self.widths) != len(self.headers):
            raise ValueError("one width per column")

    def relative_widths(self) -> tuple[float, ...]:
        return self.widths or tuple(1.0 for _ in self.headers)


@dataclass(frozen=True)
class KeyValues:
    """Lines "label: value", the label in bold."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Lines:
    """Ruled lines to write on by hand (paper forms)."""

    count: int


@dataclass(frozen=True)
class Cut:
    """A dashed line to cut along, with what the part below is for."""

    text: str


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass(frozen=True)
class Code:
    """Lines to copy by hand without mistakes (a recovery code): large, monospaced, bold.
    ASCII only, since the monospaced font is a PDF core font."""

    lines: tuple[str, ...]
    size_pt: float = 18

    def __post_init__(self):
        if not all(line.isascii() for line in self.lines):
            raise ValueError("a code block holds ASCII only")


Block = Heading | Paragraph | Table | KeyValues | Lines | Cut | PageBreak | Code


@dataclass
class Document:
    title: str
    subtitle: str | None = None
    blocks: list[Block] = field(default_factory=list)
    # Large print (paper forms for the public) sets a bigger body size; headings follow it.
    body_pt: float = 11
    # The footer of every page; None is "Pagina n din m".
    footer: str | None = None
    # A4 landscape, for registers whose many columns would not fit upright.
    landscape: bool = False

    def heading(self, text: str, level: int = 1) -> "Document":
        self.blocks.append(Heading(text, level))
        return self

    def paragraph(self, text: str) -> "Document":
        self.blocks.append(Paragraph(text))
        return self

    def table(self, headers, rows, widths=()) -> "Document":
        self.blocks.append(Table(tuple(headers), tuple(tuple(row) for row in rows),
                                 tuple(widths)))
        return self

    def lines(self, count: int) -> "Document":
        self.blocks.append(Lines(count))
        return self

    def cut(self, text: str) -> "Document":
        self.blocks.append(Cut(text))
        return self

    def page_break(self) -> "Document":
        self.blocks.append(PageBreak())
        return self

    def code(self, lines, size_pt: float = 18) -> "Document":
        self.blocks.append(Code(tuple(lines), size_pt))
        return self

    def key_values(self, items) -> "Document":
        self.blocks.append(KeyValues(tuple((str(k), str(v)) for k, v in items)))
        return self
