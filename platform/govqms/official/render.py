"""Forms to files: a form's DOCX template rendered with docxtpl, or its tables written to XLSX.

The template of a kind is the jurisdiction's own when its overseer uploaded one
(:class:`~govqms.official.models.DocumentTemplate`), otherwise the default laid out from the form's
YAML by :mod:`govqms.official.layout`. Both are rendered by the same Jinja environment, with the
filters every template may use: ``number`` (26.000.000), ``percent`` (85,7%) and ``day``
(05/12/2026), and with autoescaping, so text typed by users stays text.
"""
from __future__ import annotations

import copy
import datetime as dt
import functools
from io import BytesIO
from pathlib import Path
from typing import Any

import jinja2
import yaml
from docxtpl import DocxTemplate
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from govqms.core.exports import append_row, formula_like
from govqms.official import layout

FORMS = Path(__file__).parent / "forms"
#: The kinds of document, each a form in ``forms/<kind>.yaml``.
KINDS = ("yearly", "inspection-summary", "inspection-plan", "inspection-decision", "inspection-minutes",
         "report-request", "audit-report", "review-minutes")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- formatting shared by DOCX and XLSX ------------------------------------------------------------

def number(value: Any) -> str:
    """Thousands separated by dots, the Vietnamese way: 26000000 -> 26.000.000."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and not value.is_integer():
        whole, _dot, decimals = f"{value:,.1f}".partition(".")
        return whole.replace(",", ".") + "," + decimals
    return f"{int(value):,}".replace(",", ".")


def percent(rate: float | None) -> str:
    """A rate as a percentage with one decimal and a comma: 0.857 -> 85,7%."""
    if rate is None:
        return ""
    return f"{rate * 100:.1f}".replace(".", ",") + "%"


def day(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def date_parts(value: dt.date) -> dict[str, str]:
    """Day, month and year of the place-and-date line: a day below 10 and the months 1 and 2 take a
    leading zero (ND 30/2020, annex I)."""
    return {"day": f"{value.day:02d}", "month": f"{value.month:02d}" if value.month < 3 else str(value.month),
            "year": str(value.year)}


def environment() -> jinja2.Environment:
    """A Jinja environment with the documents' filters. docxtpl turns autoescaping on in the one it
    is given, so each DOCX gets its own; text for XLSX cells is never escaped."""
    env = jinja2.Environment(autoescape=False, undefined=jinja2.ChainableUndefined)  # noqa: S701 - see above
    env.filters.update(number=number, percent=percent, day=day)
    return env


_TEXT = environment()


def text(template: str, context: dict) -> str:
    """A piece of a form (a label, a line) rendered with the context, for XLSX and for data lists."""
    return _TEXT.from_string(template or "").render(context)


# --- forms -----------------------------------------------------------------------------------------

def _merge(base: dict, over: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@functools.cache
def _yaml(name: str) -> dict:
    return yaml.safe_load((FORMS / f"{name}.yaml").read_text(encoding="utf-8"))


def form(kind: str) -> dict:
    if kind not in KINDS:
        raise KeyError(kind)
    return _merge(_yaml("common"), _yaml(kind))


def profile_defaults() -> dict:
    return copy.deepcopy(_yaml("profiles"))


@functools.cache
def default_template(kind: str) -> bytes:
    """The default DOCX template of a kind, laid out from its form."""
    return layout.build_template(form(kind))


def tables(kind: str) -> list[dict]:
    return [item["table"] for item in form(kind).get("body", []) if "table" in item]


# --- rendering -------------------------------------------------------------------------------------

class TemplateBroken(ValueError):
    """An uploaded template that cannot be rendered (a tag left open, an unknown filter…)."""


def render_docx(template: bytes, context: dict) -> bytes:
    document = DocxTemplate(BytesIO(template))
    try:
        document.render(context, environment(), autoescape=True)
    except (jinja2.TemplateError, ValueError, KeyError, AttributeError, TypeError) as error:
        raise TemplateBroken(str(error)) from error
    out = BytesIO()
    document.save(out)
    return out.getvalue()


FORMATS = {"number": "#,##0", "percent": "0.0%", "date": "DD/MM/YYYY"}
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _font(size: int = 12, **kwargs) -> Font:
    return Font(name=layout.FONT, size=size, **kwargs)


def _cell(sheet, row: int, column: int, value):
    """A cell holding *value*; typed text that looks like a formula stays text (see core.exports)."""
    cell = sheet.cell(row=row, column=column, value=value)
    if formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _line(sheet, row: int, first: int, last: int, value: str, **font) -> None:
    """A line of text over merged columns, centred (the heading and signature blocks)."""
    sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    cell = _cell(sheet, row, first, value)
    cell.font = _font(**font)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _page(sheet) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left, sheet.page_margins.right = 30 / 25.4, 15 / 25.4
    sheet.page_margins.top, sheet.page_margins.bottom = 20 / 25.4, 20 / 25.4
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


#: The row of a sheet's table header (above it: the heading block and the title).
HEADER_ROW = 7


def _heading(sheet, spec: dict, context: dict, width: int) -> None:
    half = max(1, width // 2)
    _line(sheet, 1, 1, half, text(spec["issuer"].get("authority", ""), context), size=12)
    _line(sheet, 2, 1, half, text(spec["issuer"]["name"], context), size=12, bold=True)
    _line(sheet, 1, half + 1, width, spec["national"]["name"], size=12, bold=True)
    _line(sheet, 2, half + 1, width, spec["national"]["motto"], size=13, bold=True, underline="single")
    _line(sheet, 3, 1, half, text(spec["number_line"], context), size=12)
    _line(sheet, 3, half + 1, width, text(spec["place_date"], context), size=13, italic=True)
    _line(sheet, 5, 1, width, text(spec.get("type_name", "") or spec.get("dispatch_abstract", ""), context),
          size=13, bold=True)
    _line(sheet, 6, 1, width, text(spec.get("abstract", ""), context).replace("\n", " "), size=12, bold=True)
    sheet.row_dimensions[6].height = 32


#: A column's width in Excel's units (characters of the default font) for each centimetre of the form.
WIDTH_PER_CM = 5.2
#: Points per line of 12 pt text, and how many characters of it fit in one of Excel's width units.
LINE_PT, CHARS_PER_UNIT = 15.5, 1.1


def _height(values: list, columns: list[dict]) -> float:
    """A row tall enough for its longest wrapped cell: spreadsheets store no height for wrapped text,
    and LibreOffice draws such rows one line high over each other."""
    lines = 1
    for value, column in zip(values, columns, strict=True):
        if isinstance(value, str) and value:
            per_line = max(1, int(column["width"] * WIDTH_PER_CM * CHARS_PER_UNIT))
            lines = max(lines, sum(-(-len(part) // per_line) or 1 for part in value.split("\n")))
    return lines * LINE_PT


def _table(sheet, table: dict, context: dict) -> int:
    """The header, a row per record (figures as numbers with their formats) and the total row; the
    next free row."""
    columns = table["columns"]
    for column, spec_column in enumerate(columns, start=1):
        cell = _cell(sheet, HEADER_ROW, column, text(spec_column["label"], context))
        cell.font = _font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BOX
        sheet.column_dimensions[get_column_letter(column)].width = round(spec_column["width"] * WIDTH_PER_CM, 1)
    sheet.row_dimensions[HEADER_ROW].height = _height([text(c["label"], context) for c in columns], columns)
    row_number = HEADER_ROW + 1
    for record in context.get(table["rows"], []):
        values = []
        for spec_column in columns:
            if spec_column["value"] == "{{ r.stt }}":
                values.append(record.get("stt"))
            elif spec_column.get("key") and spec_column.get("format"):
                values.append(record.get(spec_column["key"]))
            else:
                values.append(text(spec_column["value"], {**context, "r": record}))
        append_row(sheet, values)
        sheet.row_dimensions[row_number].height = _height(values, columns)
        for column, spec_column in enumerate(columns, start=1):
            cell = sheet.cell(row=row_number, column=column)
            cell.font, cell.border = _font(), BOX
            cell.alignment = Alignment(horizontal=spec_column.get("align", "left"), vertical="top", wrap_text=True)
            if spec_column.get("format"):
                cell.number_format = FORMATS[spec_column["format"]]
        row_number += 1
    if table.get("total"):
        for column, value in enumerate(table["total"], start=1):
            cell = _cell(sheet, row_number, column, text(value, context) if value else None)
            cell.font, cell.border = _font(bold=True), BOX
        row_number += 1
    return row_number + 1


def _signature(sheet, spec: dict, context: dict, first_row: int, width: int) -> None:
    """Nơi nhận (or the other side's signer) on the left, the signer on the right."""
    half = max(1, width // 2)
    signature = spec["signature"]
    if signature.get("left"):
        left = [text(signature["left"].get(key, ""), context) for key in ("capacity", "title", "note")]
    else:
        left = [spec.get("recipients_label", "")] + [text(line, context) for line in spec.get("recipients", [])]
    right = signature["right"]
    right_lines = [text(right.get(key, ""), context) for key in ("capacity", "title", "note")]
    name_offset = len(right_lines) + 4  # room for the signature and the seal
    for offset in range(max(len(left), name_offset + 1)):
        if offset < len(left) and left[offset]:
            cell = _cell(sheet, first_row + offset, 1, left[offset])
            recipients = not signature.get("left")
            cell.font = _font(11 if offset and recipients else 12, bold=offset == 0, italic=offset == 0 and recipients)
        value = right_lines[offset] if offset < len(right_lines) else (
            text(right.get("name", ""), context) if offset == name_offset else "")
        if value:
            _line(sheet, first_row + offset, half + 1, width, value, size=13, bold=offset != 2, italic=offset == 2)


def render_xlsx(kind: str, context: dict) -> bytes:
    """Every table of the form on its own A4 sheet: the heading block, the title, the table with its
    columns' widths and number formats (figures stay numbers), and the signature block."""
    spec = form(kind)
    book = Workbook()
    book.remove(book.active)
    for index, table in enumerate(tables(kind), start=1):
        sheet = book.create_sheet(text(table.get("sheet", ""), context)[:31] or str(index))
        _page(sheet)
        _heading(sheet, spec, context, len(table["columns"]))
        next_row = _table(sheet, table, context)
        _signature(sheet, spec, context, next_row, len(table["columns"]))
    out = BytesIO()
    book.save(out)
    return out.getvalue()
