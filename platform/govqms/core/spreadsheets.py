"""Opening uploaded spreadsheets without letting them take the server down.

An XLSX is a ZIP of XML parts, and 96 KB of it can unpack into a sheet of 1.5 million rows. So a
workbook is judged before anything in it is unpacked: the archive's directory says how large each
part becomes (zipfile never inflates a part past that size) and how tightly it was packed, and the
first few KB of the first sheet say how many rows and columns it declares. What passes is read as
a stream: the sheet, its shared strings and its styles are walked element by element and dropped
as soon as they are read, rows are counted as they come, and reading stops at the first row past
the limit, whatever the file declared. A CSV is read line by line in the same way.

A web request reads only the first rows (``read_rows(data, extension, limit=…)``, for the column
mapping); the import job reads them all. Cell values come from openpyxl's own cell parser, so they are
what ``load_workbook(read_only=True, data_only=True)`` gives; its loader is not used because it
walks a whole sheet that declares no size just to size it, and keeps every shared string and style
in memory first (a 74 KB file of empty rows took 6 s and 670 MB that way).
"""
from __future__ import annotations

import csv
import io
import posixpath
import zipfile
from contextlib import closing
from dataclasses import dataclass
from typing import IO, Any, Iterator
from xml.etree import ElementTree

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

# The parser openpyxl's read-only worksheets use for each row; here it is given one cell at a time.
from openpyxl.worksheet._reader import WorkSheetParser

from govqms.core.imports import ImportRefused, RowError, delimiter_of

#: Defaults of the ``IMPORT_MAX_UNCOMPRESSED_BYTES`` and ``IMPORT_MAX_ROWS`` settings.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
#: No import has a use for more columns; the rows of a read file are kept in memory, rows x columns.
MAX_COLUMNS = 64
#: An XLSX has a dozen parts, a few hundred with many sheets and images.
MAX_PARTS = 1000
#: Sheet XML deflates about 10 to 1; a part over 1 MB that shrank a hundredfold is a bomb.
MAX_RATIO, RATIO_FROM = 100, 1024 * 1024
#: How much of the first sheet is unpacked to find its declared size (it comes before the rows).
HEAD_BYTES = 64 * 1024
#: Excel's own last column: a row with more cells than this was not written by a spreadsheet.
MAX_CELLS_IN_ROW = 16_384
#: Cell formats: Excel keeps at most 64,000.
MAX_STYLES = 65_536
#: Elements inside one cell or shared string (rich text runs); typed text has a handful.
MAX_NODES_IN_VALUE = 1000
#: Characters in one line of a CSV.
MAX_LINE = 1024 * 1024

WORKBOOK, STYLES = "xl/workbook.xml", "xl/styles.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

NOT_A_WORKBOOK = _l("The file is not a readable XLSX workbook.")
UNREADABLE = _l("The file could not be read as a table.")


class SpreadsheetRefused(ImportRefused):
    """The file is not read (further): too large once unpacked, too many rows or columns, or not a
    table. An :class:`ImportRefused`, so an import job reports it like any other problem; row 0 is
    the file as a whole."""

    def __init__(self, message: Any, row: int = 0):
        super().__init__([RowError(row, "", str(message))])

    def __str__(self) -> str:
        return self.errors[0].message


@dataclass(frozen=True)
class FirstSheet:
    """What reading the first worksheet needs, found without unpacking it."""

    path: str                 # its part in the archive
    rows: int | None          # as its <dimension> declares them
    columns: int | None
    shared_strings: str | None
    date1904: bool


def _setting(key: str, default: int) -> int:
    return current_app.config.get(key, default) if has_app_context() else default


def _max_rows() -> int:
    return _setting("IMPORT_MAX_ROWS", MAX_ROWS)


def _too_many_rows(limit: int) -> SpreadsheetRefused:
    return SpreadsheetRefused(_l("The file has more than %(n)s rows; split it into several files.", n=limit),
                              row=limit + 1)


def _too_many_columns(row: int = 0) -> SpreadsheetRefused:
    return SpreadsheetRefused(_l("The file has more than %(n)s columns.", n=MAX_COLUMNS), row=row)


def _too_many_parts() -> SpreadsheetRefused:
    return SpreadsheetRefused(_l("The workbook has more than %(n)s parts.", n=MAX_PARTS))


def _megabytes(size: int) -> float:
    return round(size / 1024 / 1024, 1)


# --- XML, one element at a time -------------------------------------------------------------------

def _name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _events(source: IO[bytes], keep: frozenset[str] = frozenset()) -> Iterator[tuple[str, str, Any]]:
    """``(event, local name, element)`` for each start and end tag of *source*, in constant memory.

    Once the caller has seen an element end, it is dropped from its parent, so the tree never holds
    more than the current path. An element named in *keep* (a cell, a shared string) is given whole
    at its end, with what it holds (at most MAX_NODES_IN_VALUE elements, not given one by one).
    """
    path: list[Any] = []
    kept_at = nodes = 0
    for event, element in ElementTree.iterparse(source, events=("start", "end")):
        if event == "start":
            path.append(element)
            if kept_at:
                nodes += 1
                if nodes > MAX_NODES_IN_VALUE:
                    raise SpreadsheetRefused(UNREADABLE)
                continue
            name = _name(element.tag)
            if name in keep:
                kept_at, nodes = len(path), 0
            yield event, name, element
            continue
        path.pop()
        if kept_at and len(path) >= kept_at:
            continue  # inside a kept element, which is read whole at its end
        kept_at = 0
        yield event, _name(element.tag), element
        if path:
            path[-1].remove(element)  # its earlier siblings are gone already: this is the only child


def _string(element) -> str:
    """A shared string's text: plain, or its rich-text runs; not the phonetic guide (as openpyxl)."""
    parts = []
    for child in element:
        name = _name(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _name(t.tag) == "t")
    return "".join(parts).replace("x005F_", "")


class _SharedStrings:
    """The shared strings, read only as far as the cells read so far refer to them."""

    def __init__(self, archive: zipfile.ZipFile, path: str | None, limit: int):
        self._source = archive.open(path) if path else None
        self._events = _events(self._source, keep=frozenset({"si"})) if self._source else iter(())
        self._strings: list[str] = []
        self._limit = limit

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < self._limit:
            raise SpreadsheetRefused(UNREADABLE)
        while index >= len(self._strings):
            for event, name, element in self._events:
                if event == "end" and name == "si":
                    self._strings.append(_string(element))
                    break
            else:
                raise SpreadsheetRefused(UNREADABLE)  # a cell refers to a string that is not there
        return self._strings[index]

    def close(self) -> None:
        if self._source is not None:
            self._source.close()


# --- the workbook, judged before it is opened ------------------------------------------------------

def _archive(data: bytes) -> zipfile.ZipFile:
    # zipfile builds an object per entry of the directory: count the entries' signatures first
    if data.count(b"PK\x01\x02") > MAX_PARTS:
        raise _too_many_parts()
    return zipfile.ZipFile(io.BytesIO(data))


def _part(target: str) -> str:
    """A relationship's target, relative to the workbook, as a name in the archive."""
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """From the archive's directory alone: the sizes it gives are the most zipfile will unpack."""
    if len(infos) > MAX_PARTS:
        raise _too_many_parts()
    unpacked = sum(info.file_size for info in infos)
    limit = _setting("IMPORT_MAX_UNCOMPRESSED_BYTES", MAX_UNCOMPRESSED_BYTES)
    if unpacked > limit:
        raise SpreadsheetRefused(_l("The workbook unpacks to %(size)s MB, more than the %(limit)s MB allowed.",
                                    size=_megabytes(unpacked), limit=_megabytes(limit)))
    for info in infos:
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
            raise SpreadsheetRefused(_l(
                "A part of the workbook unpacks to %(ratio)s times its packed size; such a file is not opened.",
                ratio=info.file_size // max(1, info.compress_size)))


def _sheets(archive: zipfile.ZipFile, names: set[str]) -> tuple[list[str], str | None, bool]:
    """The worksheets' parts in the workbook's order, the shared strings' part, and the 1904 calendar."""
    date1904, sheet_ids = False, []
    with archive.open(WORKBOOK) as source:
        for event, name, element in _events(source):
            if event == "start" and name == "workbookPr":
                date1904 = element.get("date1904", "").lower() in ("1", "true")
            elif event == "start" and name == "sheet":
                sheet_ids.append(element.get(RELATIONSHIP_ID))
                if len(sheet_ids) > MAX_PARTS:
                    raise SpreadsheetRefused(NOT_A_WORKBOOK)  # each sheet is a part
            elif event == "end" and name == "sheets":
                break  # the sheets come before the (possibly many) defined names
    targets = {}
    with archive.open(WORKBOOK_RELS) as source:
        for event, name, element in _events(source):
            if event == "start" and name == "Relationship":
                targets[element.get("Id")] = (element.get("Type", ""), _part(element.get("Target", "")))
                if len(targets) > MAX_PARTS:
                    raise SpreadsheetRefused(NOT_A_WORKBOOK)
    worksheets = [targets[i][1] for i in sheet_ids
                  if i in targets and targets[i][0].endswith("/worksheet") and targets[i][1] in names]
    strings = next((part for kind, part in targets.values() if kind.endswith("/sharedStrings") and part in names),
                   None)
    return worksheets, strings, date1904


def _declared_size(archive: zipfile.ZipFile, path: str) -> tuple[int | None, int | None]:
    """Rows and columns as the sheet's ``<dimension>`` says, read from its first KB (it precedes the rows)."""
    parser = ElementTree.XMLPullParser(events=("start",))
    with archive.open(path) as source:
        parser.feed(source.read(HEAD_BYTES))
    for _, element in parser.read_events():
        name = _name(element.tag)
        if name == "dimension":
            try:
                _, _, columns, rows = range_boundaries(element.get("ref", ""))
            except (TypeError, ValueError):
                break  # an unreadable size is no size: rows are counted as they are read
            return rows, columns
        if name == "sheetData":
            break
    return None, None


def _first_sheet(archive: zipfile.ZipFile) -> FirstSheet:
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if not {"[Content_Types].xml", WORKBOOK, WORKBOOK_RELS} <= names:
        raise SpreadsheetRefused(NOT_A_WORKBOOK)
    _check_sizes(infos)
    worksheets, strings, date1904 = _sheets(archive, names)
    if not worksheets:
        raise SpreadsheetRefused(NOT_A_WORKBOOK)
    rows, columns = _declared_size(archive, worksheets[0])
    if rows is not None and rows > _max_rows():
        raise _too_many_rows(_max_rows())
    if columns is not None and columns > MAX_COLUMNS:
        raise _too_many_columns()
    return FirstSheet(worksheets[0], rows, columns, strings, date1904)


_BROKEN = (zipfile.BadZipFile, zipfile.LargeZipFile, ElementTree.ParseError, KeyError, IndexError, ValueError,
           OverflowError, OSError, EOFError, RuntimeError, NotImplementedError)


def check_workbook(data: bytes) -> FirstSheet:
    """Refuse (:class:`SpreadsheetRefused`) an XLSX that is not one, or too large to open, before
    unpacking it: more parts than MAX_PARTS, more unpacked bytes than ``IMPORT_MAX_UNCOMPRESSED_BYTES``,
    a part packed over MAX_RATIO to 1, a first sheet declaring more than ``IMPORT_MAX_ROWS`` rows or
    MAX_COLUMNS columns. Only the workbook's list of sheets and the first KB of its first sheet are read."""
    try:
        with _archive(data) as archive:
            return _first_sheet(archive)
    except SpreadsheetRefused:
        raise
    except _BROKEN as err:
        raise SpreadsheetRefused(NOT_A_WORKBOOK) from err


def check_spreadsheet(data: bytes, extension: str) -> None:
    """What can be judged of an upload without reading its rows (for the request that receives it)."""
    if extension == "xlsx":
        check_workbook(data)
    else:
        _check_text(data)


# --- reading rows ----------------------------------------------------------------------------------

def _date_styles(archive: zipfile.ZipFile) -> tuple[set[int], set[int]]:
    """Which cell formats show a date or a duration (openpyxl turns those numbers into dates)."""
    formats: dict[int, str] = {}
    dates, durations = set(), set()
    if STYLES not in archive.namelist():
        return dates, durations
    index, in_cell_formats = 0, False
    with archive.open(STYLES) as source:
        for event, name, element in _events(source):
            if event == "end":
                if name == "cellXfs":
                    break
                continue
            if name == "numFmt" and len(formats) < MAX_STYLES:
                formats[int(element.get("numFmtId", 0))] = element.get("formatCode", "")
            elif name == "cellXfs":
                in_cell_formats = True
            elif name == "xf" and in_cell_formats:
                if index >= MAX_STYLES:
                    raise SpreadsheetRefused(UNREADABLE)
                number = int(element.get("numFmtId", 0))
                code = formats[number] if number in formats else BUILTIN_FORMATS.get(number)
                if is_date_format(code):
                    dates.add(index)
                if is_timedelta_format(code):
                    durations.add(index)
                index += 1
    return dates, durations


def _sheet_rows(archive: zipfile.ZipFile, sheet: FirstSheet, limit: int) -> Iterator[list[Any]]:
    """The rows as openpyxl's read-only sheet gives them: missing rows empty, each row as wide as the
    declared size (or as its last cell when none is declared), nothing past the declared last row."""
    dates, durations = _date_styles(archive)
    # the table serves every sheet of the workbook; ten strings a row is more than any import has
    strings = _SharedStrings(archive, sheet.shared_strings, limit=10 * limit)
    cells = WorkSheetParser(None, strings, data_only=True, date_formats=dates, timedelta_formats=durations,
                            epoch=CALENDAR_MAC_1904 if sheet.date1904 else CALENDAR_WINDOWS_1900)
    width = sheet.columns

    def row_of(values: dict[int, Any]) -> list[Any]:
        row = [None] * (width if width is not None else max(values, default=0))
        for column, value in values.items():
            row[column - 1] = value
        return row

    done, values, seen = 0, None, 0  # the last row given; the row being read, and how many cells it had
    try:
        with archive.open(sheet.path) as source:
            for event, name, element in _events(source, keep=frozenset({"c"})):
                if name == "c" and event == "end" and values is not None:
                    seen += 1
                    if seen > MAX_CELLS_IN_ROW:
                        raise SpreadsheetRefused(UNREADABLE, row=cells.row_counter)
                    cell = cells.parse_cell(element)
                    column = cell["column"]
                    if width is not None and column > width:
                        continue  # past the declared size: openpyxl does not read it either
                    if column > MAX_COLUMNS:
                        if cell["value"] is None:
                            continue
                        raise _too_many_columns(cells.row_counter)
                    values[column] = cell["value"]
                elif name == "row" and event == "start":
                    number = element.get("r")
                    cells.row_counter = int(number) if number else cells.row_counter + 1
                    cells.col_counter, values, seen = 0, {}, 0
                elif name == "row":
                    number, row, values = cells.row_counter, row_of(values), None
                    if sheet.rows is not None and number > sheet.rows:
                        # openpyxl stops at the first row past the declared size, and gives the rest empty
                        for _missing in range(done + 1, sheet.rows + 1):
                            yield row_of({})
                        return
                    if number <= done:
                        continue  # out of order: openpyxl skips it
                    for _missing in range(done + 1, number):
                        yield row_of({})
                    yield row
                    done = number
                elif name == "sheetData" and event == "end":
                    return  # nothing after the rows matters
    finally:
        strings.close()


def _check_text(data: bytes) -> None:
    limit = _setting("IMPORT_MAX_UNCOMPRESSED_BYTES", MAX_UNCOMPRESSED_BYTES)
    if len(data) > limit:
        raise SpreadsheetRefused(_l("The file is larger than %(mb)s MB.", mb=_megabytes(limit)))


def _lines(text: IO[str]) -> Iterator[str]:
    while line := text.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise SpreadsheetRefused(UNREADABLE)
        yield line


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    """UTF-8, comma, semicolon or tab separated (as its first lines show); decoded as it is read."""
    _check_text(data)
    delimiter = delimiter_of(data[:256 * 1024].decode("utf-8-sig", errors="ignore"))
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        yield from csv.reader(_lines(text), delimiter=delimiter)
    except UnicodeDecodeError as err:
        raise SpreadsheetRefused(_l("The file is not UTF-8 text.")) from err
    except csv.Error as err:
        raise SpreadsheetRefused(UNREADABLE) from err


def _xlsx_rows(data: bytes, limit: int) -> Iterator[list[Any]]:
    sheet = check_workbook(data)
    archive = zipfile.ZipFile(io.BytesIO(data))

    def rows():
        try:
            yield from _sheet_rows(archive, sheet, limit)
        except SpreadsheetRefused:
            raise
        except _BROKEN as err:
            raise SpreadsheetRefused(UNREADABLE) from err
        finally:
            archive.close()

    return rows()


def _open(data: bytes, extension: str, limit: int) -> Iterator[list[Any]]:
    if extension == "xlsx":
        return _xlsx_rows(data, limit)
    return _csv_rows(data)


def _counted(rows: Iterator[list[Any]], count: int | None, limit: int) -> Iterator[list[Any]]:
    with closing(rows):
        for number, row in enumerate(rows, start=1):
            if count is not None and number > count:
                return
            if number > limit:
                raise _too_many_rows(limit)
            if len(row) > MAX_COLUMNS:
                raise _too_many_columns(number)
            yield row


def iter_rows(data: bytes, extension: str, limit: int | None = None) -> Iterator[list[Any]]:
    """The rows of the first sheet (XLSX) or of the file (CSV), header included, one at a time: the
    first *limit* of them, or all, refused at the first row past ``IMPORT_MAX_ROWS``. A file that
    cannot be read, or is too large, raises :class:`SpreadsheetRefused` (an XLSX before it is unpacked)."""
    most = _max_rows()
    return _counted(_open(data, extension, most), limit, most)


def read_rows(data: bytes, extension: str, limit: int | None = None) -> list[list[Any]]:
    """:func:`iter_rows` as a list: what ``govqms.core.imports.read_table`` returns."""
    return list(iter_rows(data, extension, limit))
