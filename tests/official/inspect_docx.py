"""Reading a generated DOCX the way an official's eye does: page, fonts, blocks, tables."""
from __future__ import annotations

import io

from docx import Document as Docx
from docx.oxml.ns import qn
from docx.shared import Mm

FONT = "Times New Roman"


def open_docx(data: bytes):
    return Docx(io.BytesIO(data))


def all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def assert_page_and_fonts(doc) -> None:
    """A4, the decree's margins, Times New Roman on every run and in the Normal style, no heading styles."""
    section = doc.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    margins = {side: round(getattr(section, f"{side}_margin").mm) for side in ("top", "bottom", "left", "right")}
    assert 20 <= margins["top"] <= 25 and 20 <= margins["bottom"] <= 25, margins
    assert 30 <= margins["left"] <= 35 and 15 <= margins["right"] <= 20, margins
    assert doc.styles["Normal"].font.name == FONT
    body = doc.element.body
    fonts = {f.get(qn("w:ascii")) for f in body.iter(qn("w:rFonts"))}
    assert fonts == {FONT}, fonts
    assert not [p for p in doc.paragraphs if p.style.name.startswith("Heading")]
    sizes = {r.font.size.pt for p in _paragraphs(doc) for r in p.runs if r.text.strip() and r.font.size}
    assert sizes <= {11, 12, 13, 14}, sizes
    # the page number, at the top, from the second page
    assert section.different_first_page_header_footer
    assert 'w:instr="PAGE"' in section.header._element.xml


def _paragraphs(doc):
    yield from doc.paragraphs
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs


def heading_block(doc) -> tuple[str, str]:
    """The texts of the left (issuing body, number) and right (national heading, place and date)
    columns of the first table."""
    table = doc.tables[0]
    left = "\n".join(table.cell(r, 0).text for r in range(len(table.rows)))
    right = "\n".join(table.cell(r, 1).text for r in range(len(table.rows)))
    return left, right


def signature_block(doc) -> tuple[str, str]:
    table = doc.tables[-1]
    return table.cell(0, 0).text, table.cell(0, 1).text


def column_widths_cm(table) -> list[float]:
    grid = table._tbl.find(qn("w:tblGrid"))
    return [round(int(col.get(qn("w:w"))) / 567, 1) for col in grid.findall(qn("w:gridCol"))]


def rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def bold_runs(doc) -> set[str]:
    return {r.text for p in _paragraphs(doc) for r in p.runs if r.bold and r.text.strip()}
