"""The administrative format of Nghị định 30/2020/NĐ-CP, laid out once for every document.

A document kind is a *form*: a YAML file of ``official/forms/`` holding its wording (in Vietnamese,
with Jinja placeholders) and its structure: the type of document, the abstract, to whom it is sent,
the legal basis, the body (headings, paragraphs, narrative sections, tables with their columns) and
its recipients. :func:`build_template` lays a form out as a DOCX *template* in the format of annex I
of the decree (A4, margins, Times New Roman at the sizes it sets, the heading block of the issuing
body beside the national heading, number and symbol, place and date, the title, the body, Nơi nhận and
the signature block, page numbers from the second page), with the placeholders left in the text, so
that docxtpl renders it (:mod:`govqms.official.render`) and a jurisdiction can open the template in
Word, change the wording and upload it in place of the default without code.

Sizes and measures (annex I of ND 30/2020): page A4; margins top 20–25 mm, bottom 20–25 mm, left
30–35 mm, right 15–20 mm; national heading 12–13 pt bold capitals, motto 13–14 pt bold, issuing body
12–13 pt capitals (the body bold), number 13 pt, place and date 13–14 pt italic, type of document
13–14 pt bold capitals, abstract 13–14 pt bold, body 13–14 pt justified with a first-line indent of
1–1.27 cm and at least 6 pt between paragraphs, legal basis in italics, Nơi nhận 12 pt bold italic
with its list in 11 pt, signer's authority and name 13–14 pt bold, page number 13–14 pt centred at the
top from the second page.
"""
from __future__ import annotations

from io import BytesIO
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table

FONT = "Times New Roman"
PAGE = (Mm(210), Mm(297))  # A4
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
TEXT_WIDTH_CM = 16.5  # 210 - 30 - 15 mm
BODY_PT = 14
TABLE_PT = 12
INDENT = Cm(1.27)
#: The heading block and the signature block: two columns without borders.
HEADING_COLUMNS_CM = (7.0, 9.5)
SIGNATURE_COLUMNS_CM = (7.5, 9.0)

ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
         "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}


# --- low level --------------------------------------------------------------------------------------

def _fonts(rpr) -> None:
    """Times New Roman on every script of a run's or a style's properties (``<w:rPr>``); Word's
    theme fonts would win otherwise."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(attribute)) is not None:
            del fonts.attrib[qn(attribute)]
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)


def _paragraph(container, text: str = "", *, size: int = BODY_PT, bold: bool = False, italic: bool = False,
               underline: bool = False, align: str = "justify", indent: bool = False, before: int = 0,
               after: int = 0, keep_with_next: bool = False):
    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment = ALIGN[align]
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if indent:
        fmt.first_line_indent = INDENT
    if keep_with_next:
        fmt.keep_with_next = True
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        run.font.size = Pt(size)
        _fonts(run._r.get_or_add_rPr())
    return paragraph


def _short_rule(paragraph, text_cm: float, column_cm: float, share: float = 0.4) -> None:
    """The short line under the issuing body or the abstract: a bottom border of a paragraph indented
    so that the line is about *share* of the text above it, centred in its column."""
    length = max(1.5, text_cm * share)
    side = max(0.0, (column_cm - length) / 2)
    fmt = paragraph.paragraph_format
    fmt.left_indent, fmt.right_indent = Cm(side), Cm(side)
    fmt.space_before, fmt.space_after = Pt(0), Pt(0)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)
    run = paragraph.add_run()
    run.font.size = Pt(4)


def _no_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), "0")
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    table._tbl.tblPr.append(margins)


def _fixed_widths(table: Table, widths_cm: list[float] | tuple[float, ...]) -> None:
    """Columns of fixed widths, as Word and LibreOffice read them (grid, cells and a fixed layout)."""
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(int(sum(widths_cm) * 567)))
    width.set(qn("w:type"), "dxa")
    for old in table._tbl.tblPr.findall(qn("w:tblW")):
        table._tbl.tblPr.remove(old)
    table._tbl.tblPr.append(width)
    for column, cm in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(cm)
    for row in table.rows:
        for cell, cm in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(cm)


def _repeat_header(row) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _cell_text(cell, text: str, *, size: int = TABLE_PT, bold: bool = False, italic: bool = False,
               align: str = "left") -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.alignment = ALIGN[align]
    paragraph.paragraph_format.space_before = Pt(2)
    paragraph.paragraph_format.space_after = Pt(2)
    run = paragraph.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    run.font.size = Pt(size)
    _fonts(run._r.get_or_add_rPr())


def _cell_lines(cell, lines: list[dict]) -> None:
    """Several paragraphs in a cell: each ``{text, size, bold, italic, underline, rule}``."""
    first = True
    for line in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        if line.get("rule"):
            _short_rule(paragraph, line["rule"], line["column"])
            continue
        paragraph.paragraph_format.alignment = ALIGN[line.get("align", "center")]
        paragraph.paragraph_format.space_before = Pt(line.get("before", 0))
        paragraph.paragraph_format.space_after = Pt(0)
        if line.get("text"):
            run = paragraph.add_run(line["text"])
            run.bold, run.italic = line.get("bold") or None, line.get("italic") or None
            run.underline = line.get("underline") or None
            run.font.size = Pt(line.get("size", 13))
            _fonts(run._r.get_or_add_rPr())


def _page_number(section) -> None:
    """The page number, centred at the top, from the second page."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    _fonts(run._r.get_or_add_rPr())
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    inner.append(properties)
    text = OxmlElement("w:t")
    text.text = "2"
    inner.append(text)
    field.append(inner)
    paragraph._p.append(field)
    _fonts(properties)
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(BODY_PT * 2))
    properties.append(size)


def new_document():
    """An empty A4 document with the decree's margins, Times New Roman and page numbers."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    section.header_distance = Mm(10)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr())
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    if rpr_default is not None and rpr_default.find(qn("w:rPr")) is not None:
        _fonts(rpr_default.find(qn("w:rPr")))
    _page_number(section)
    # python-docx starts with one empty paragraph: drop it, the heading block comes first
    body = doc.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)
    return doc


# --- the parts of a document -----------------------------------------------------------------------

def heading_block(doc, form: dict) -> None:
    """Issuing body (left) and national heading (right); number and symbol under the body, place and
    date under the heading; a dispatch (công văn) has its abstract under the number."""
    left_cm, right_cm = HEADING_COLUMNS_CM
    table = doc.add_table(rows=2, cols=2)
    _no_borders(table)
    _fixed_widths(table, HEADING_COLUMNS_CM)
    issuer = form["issuer"]
    left = []
    if issuer.get("authority"):
        left.append({"text": issuer["authority"], "size": 12})
    left.append({"text": issuer["name"], "size": 12, "bold": True})
    left.append({"rule": 3.5, "column": left_cm})
    _cell_lines(table.cell(0, 0), left)
    national = form["national"]
    _cell_lines(table.cell(0, 1), [
        {"text": national["name"], "size": 12, "bold": True},
        {"text": national["motto"], "size": 14, "bold": True, "underline": True},
    ])
    number_lines = [{"text": form["number_line"], "size": 13, "before": 6}]
    if form.get("dispatch_abstract"):
        number_lines.append({"text": form["dispatch_abstract"], "size": 12, "before": 3})
    _cell_lines(table.cell(1, 0), number_lines)
    _cell_lines(table.cell(1, 1), [{"text": form["place_date"], "size": 14, "italic": True, "before": 6}])


def title_block(doc, form: dict) -> None:
    if form.get("type_name"):
        _paragraph(doc, form["type_name"], size=14, bold=True, align="center", before=18, keep_with_next=True)
    if form.get("abstract"):
        for line in form["abstract"].splitlines():
            _paragraph(doc, line, size=14, bold=True, align="center", keep_with_next=True)
        _short_rule(doc.add_paragraph(), 6.0, TEXT_WIDTH_CM, share=0.5)
    if form.get("authority_line"):  # a decision names who decides, then the legal basis
        _paragraph(doc, form["authority_line"], size=14, bold=True, align="center", before=12)


def addressees(doc, to: list[str]) -> None:
    if not to:
        return
    if len(to) == 1:
        _paragraph(doc, to[0], size=14, align="center", before=12, after=6)
        return
    for line in to:
        _paragraph(doc, line, size=14, align="left", indent=True)


def legal_basis(doc, lines: list[str]) -> None:
    for number, line in enumerate(lines):
        _paragraph(doc, line, size=14, italic=True, indent=True, before=12 if number == 0 else 6)


def body(doc, items: list[dict]) -> None:
    for item in items:
        if "heading" in item:
            _paragraph(doc, item["heading"], bold=True, before=12, after=0, keep_with_next=True,
                       indent=item.get("indent", True), align=item.get("align", "justify"))
        elif "subheading" in item:
            _paragraph(doc, item["subheading"], bold=True, italic=True, before=6, indent=True, keep_with_next=True)
        elif "paragraph" in item:
            if item.get("when"):
                _paragraph(doc, "{%p if " + item["when"] + " %}", before=0)
            _paragraph(doc, item["paragraph"], indent=item.get("indent", True), before=6,
                       align=item.get("align", "justify"), bold=item.get("bold", False),
                       italic=item.get("italic", False))
            if item.get("when"):
                _paragraph(doc, "{%p endif %}")
        elif "paragraphs" in item:  # a list from the context: narrative the overseer wrote, lists
            _paragraph(doc, "{%p for line in " + item["paragraphs"] + " %}")
            _paragraph(doc, "{{ line }}", indent=item.get("indent", True), before=6,
                       align=item.get("align", "justify"))
            _paragraph(doc, "{%p endfor %}")
        elif "table" in item:
            table(doc, item["table"])
        elif "page_break" in item:
            doc.add_page_break()
        else:
            raise ValueError(f"unknown body item {sorted(item)}")


def table(doc, spec: dict) -> None:
    """A table with STT, fixed column widths, a repeated header row, one templated row per record of
    ``spec["rows"]`` and an optional total row."""
    columns = spec["columns"]
    widths = [column["width"] for column in columns]
    if abs(sum(widths) - TEXT_WIDTH_CM) > 0.6:
        raise ValueError(f"table columns add up to {sum(widths)} cm, the text is {TEXT_WIDTH_CM} cm wide")
    grid = doc.add_table(rows=0, cols=len(columns))
    grid.style = "Table Grid"
    header = grid.add_row()
    _repeat_header(header)
    size = spec.get("size", TABLE_PT)
    for cell, column in zip(header.cells, columns, strict=True):
        _cell_text(cell, column["label"], bold=True, align="center", size=size)
    start = grid.add_row()
    _cell_text(start.cells[0], "{%tr for r in " + spec["rows"] + " %}", size=size)
    data = grid.add_row()
    data._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for cell, column in zip(data.cells, columns, strict=True):
        _cell_text(cell, column["value"], align=column.get("align", "left"), size=size)
    end = grid.add_row()
    _cell_text(end.cells[0], "{%tr endfor %}", size=size)
    if spec.get("total"):
        total = grid.add_row()
        for cell, text in zip(total.cells, spec["total"], strict=True):
            _cell_text(cell, text or "", bold=True, size=size,
                       align="center" if text and "{{" not in text else "right")
    _fixed_widths(grid, widths)
    _paragraph(doc, "", after=0)


def signature_block(doc, form: dict) -> None:
    """Nơi nhận on the left, the signer on the right; minutes have a signer on each side instead."""
    table_ = doc.add_table(rows=1, cols=2)
    _no_borders(table_)
    _fixed_widths(table_, SIGNATURE_COLUMNS_CM)
    table_.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # the block stays on one page
    left, right = table_.cell(0, 0), table_.cell(0, 1)
    signature = form["signature"]
    if signature.get("left"):
        _cell_lines(left, _signer_lines(signature["left"]))
    else:
        lines = [{"text": form.get("recipients_label", ""), "size": 12, "bold": True, "italic": True,
                  "align": "left", "before": 12}]
        lines += [{"text": line, "size": 11, "align": "left"} for line in form.get("recipients", [])]
        _cell_lines(left, lines)
    _cell_lines(right, _signer_lines(signature["right"]))


def _signer_lines(signer: dict) -> list[dict]:
    lines = [{"text": text, "size": 14, "bold": True, "before": 12 if number == 0 else 0}
             for number, text in enumerate(line for line in (signer.get("capacity"), signer.get("title")) if line)]
    if signer.get("note"):
        lines.append({"text": signer["note"], "size": 13, "italic": True})
    lines += [{"text": ""} for _ in range(4)]  # room for the signature and the seal
    lines.append({"text": signer.get("name", ""), "size": 14, "bold": True})
    return lines


def build_template(form: dict) -> bytes:
    """The DOCX template of a form: the decree's layout with the form's placeholders left in."""
    doc = new_document()
    heading_block(doc, form)
    title_block(doc, form)
    addressees(doc, form.get("to", []))
    legal_basis(doc, form.get("basis", []))
    if form.get("decides"):
        _paragraph(doc, form["decides"], bold=True, align="center", before=12, after=6)
    body(doc, form.get("body", []))
    signature_block(doc, form)
    _paragraph(doc, "", size=2)  # a document ends with a paragraph, not a table
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def measures() -> dict[str, Any]:
    """What the layout promises, for the tests and the README."""
    return {"page_mm": (210, 297), "margins_mm": {k: round(v.mm) for k, v in MARGINS.items()}, "font": FONT,
            "body_pt": BODY_PT, "table_pt": TABLE_PT}
