"""The layout of a sheet as government forms have it: title rows, one or two (merged) header rows,
an optional row of column numbers, data rows with group and total rows among them, and a signature
block below.

``detect`` finds the header itself: it tries each of the first rows, alone and with the row below,
as the header, names each column by the labels above it ("Số hồ sơ đã giải quyết / Quá hạn" is not
"Số hồ sơ đang giải quyết / Quá hạn"), asks the importer's *match* which field each column holds,
and keeps the reading that finds the most required fields. Merged cells are read from the sheet
itself (``merged_ranges``) and their value given to every cell they cover, so a group label spanning
three columns names all three.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

from govqms.core.text import fold

#: How many rows from the top may hold the title block and the header.
SCAN_ROWS = 30

_COLUMN_NUMBER = re.compile(r"^\(?\s*\d{1,2}\s*\)?(\s*=\s*[\d\s()+\-*/]+)?$")
_SIGNATURE = re.compile(
    r"nguoi lap bieu|nguoi lap|thu truong|ky,? ghi ro ho ten|ky ten|dong dau|noi nhan|xac nhan cua"
    r"|ngay\s*\.*\s*\d*\s*thang\s*\.*\s*\d*\s*nam|^giam doc$|^chu tich$|^pho giam doc$|^kt\.|^tm\.|^ttl\.")
_MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_TOTAL = re.compile(r"^(tong cong|tong so|tong|cong|total|grand total|sum)\b")


@dataclass(frozen=True)
class Layout:
    header_rows: list[int]           # indexes into the rows (0-based) of the header
    labels: list[str]                # each column named by its header rows, joined with " / "
    mapping: dict[str, int]          # field → column index
    title: list[str] = field(default_factory=list)  # the text of each row above the header
    data_start: int = 1              # index of the first row below the header (and its column numbers)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (index, reason) of rows skipped at the top

    def row_number(self, index: int) -> int:
        """The row as the spreadsheet numbers it."""
        return index + 1


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def is_blank(row: list[Any]) -> bool:
    return all(text_of(cell) == "" for cell in row)


def is_column_numbers(row: list[Any]) -> bool:
    """The row of column numbers forms print under their header: (1) (2) (3)… or 1 2 3…, or (4)=(5)+(6)."""
    values = [text_of(c) for c in row if text_of(c)]
    return len(values) >= 3 and all(_COLUMN_NUMBER.match(v) for v in values)


def is_signature(row: list[Any]) -> bool:
    """A line of the block under a form: the place and date, "Người lập biểu", "THỦ TRƯỞNG ĐƠN VỊ",
    "(Ký, ghi rõ họ tên)", "Nơi nhận"."""
    return any(_SIGNATURE.search(fold(text_of(c))) for c in row if text_of(c))


def is_total(labels: list[Any]) -> bool:
    """A total row: its label reads "Tổng cộng", "Tổng số", "Cộng"… (in whichever label column)."""
    return any(_TOTAL.match(fold(text_of(c))) for c in labels if text_of(c))


#: More merged ranges than any form has: a sheet with more is not read for them.
MAX_MERGED = 10_000


def merged_ranges(data: bytes, sheet_path: str, max_row: int, max_col: int) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a worksheet of an XLSX, as (first row, first column, last row, last column),
    1-based, clamped to the rows and columns read. The ranges follow the cells in the sheet's XML, so
    the part is scanned as bytes for them (not parsed: the mapping step reads 60 rows of a sheet that
    may hold 100,000), in constant memory."""
    from openpyxl.utils.cell import range_boundaries

    found, tail = [], b""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(sheet_path.lstrip("/")) as sheet:
        while len(found) < MAX_MERGED:
            chunk = sheet.read(1 << 20)
            if not chunk:
                break
            text = tail + chunk
            cut = text.rfind(b"<")  # a tag may straddle two chunks: keep it for the next
            for ref in _MERGE_CELL.findall(text[:cut] if cut > 0 else text):
                try:
                    min_col, min_row, max_c, max_r = range_boundaries(ref.decode("ascii"))
                except (TypeError, ValueError, UnicodeDecodeError):
                    continue
                if min_row <= max_row and min_col <= max_col:
                    found.append((min_row, min_col, min(max_r, max_row), min(max_c, max_col)))
            tail = text[cut:] if cut > 0 else b""
    return found[:MAX_MERGED]


def fill_merged(rows: list[list[Any]], ranges: list[tuple[int, int, int, int]]) -> list[list[Any]]:
    """Give every cell of a merged range the value of its first cell (as the eye reads the sheet)."""
    for min_row, min_col, max_row, max_col in ranges:
        if min_row > len(rows):
            continue
        first = rows[min_row - 1]
        value = first[min_col - 1] if min_col - 1 < len(first) else None
        for r in range(min_row - 1, min(max_row, len(rows))):
            row = rows[r]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            for c in range(min_col - 1, max_col):
                row[c] = value
    return rows


def _column_labels(rows: list[list[Any]], header: list[int], width: int) -> tuple[list[str], list[list[str]]]:
    """Each column's label (display) and its parts (folded), from the header rows; a label repeated by a
    vertical merge counts once, and a blank upper cell takes the label on its left (a group header
    flattened into its first column, as CSV exports leave it)."""
    labels, parts = [], []
    carried: dict[int, str] = {}
    for c in range(width):
        shown, folded = [], []
        for level, r in enumerate(header):
            row = rows[r]
            value = text_of(row[c]) if c < len(row) else ""
            if not value and level < len(header) - 1 and c > 0 and carried.get(level):
                below = text_of(rows[header[level + 1]][c]) if c < len(rows[header[level + 1]]) else ""
                value = carried[level] if below else ""
            if value:
                carried[level] = value
            if value and (not shown or shown[-1] != value):
                shown.append(value)
                folded.append(fold(value))
        labels.append(" / ".join(shown))
        parts.append(folded)
    return labels, parts


def detect(rows: list[list[Any]], match: Callable[[list[str]], str | None], required: tuple[str, ...],
           known: tuple[str, ...] = ()) -> Layout | None:
    """The header of *rows* and which column holds which field (None: no header found).

    *match* names the field of a column from its folded header parts (upper first), or None. The
    reading kept finds the most *required* fields, then the most fields, then the fewest header rows."""
    best, best_score = None, None
    scan = min(SCAN_ROWS, len(rows))
    for top in range(scan):
        if is_blank(rows[top]):
            continue
        for depth in (1, 2, 3):
            header = list(range(top, top + depth))
            if header[-1] >= len(rows) or any(is_blank(rows[r]) for r in header):
                break
            width = max(len(rows[r]) for r in header)
            labels, parts = _column_labels(rows, header, width)
            mapping: dict[str, int] = {}
            for index, column in enumerate(parts):
                name = match(column) if column else None
                if name and name not in mapping:
                    mapping[name] = index
            score = (sum(f in mapping for f in required), sum(f in mapping for f in (*required, *known)), -depth)
            if score[0] and (best_score is None or score > best_score):
                best, best_score = (header, labels, mapping), score
    if best is None:
        return None
    header, labels, mapping = best
    start = header[-1] + 1
    skipped = []
    if start < len(rows) and is_column_numbers(rows[start]):
        skipped.append((start, "column_numbers"))
        start += 1
    title = [" ".join(text_of(c) for c in rows[r] if text_of(c)) for r in range(header[0])]
    return Layout(header, labels, mapping, [t for t in title if t], start, skipped)
