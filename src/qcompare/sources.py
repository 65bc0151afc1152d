"""Read a user's scheme file (Word, Excel or a tab-text export) into grids.

``qcompare import`` accepts three formats.  Each is read into
:class:`SourceTable` grids: rectangular rows of :class:`SourceCell`, every
cell knowing where it stands in the file, and every cell a merge covers
knowing the cell it was merged into:

* ``.docx`` — every table of the document, read with python-docx.  Merges
  are resolved from the document's own marks: ``w:gridSpan`` (a cell
  spanning columns) and ``w:vMerge`` (``restart`` opens a vertical merge,
  ``continue`` extends it).  The paragraphs before a table are kept as its
  ``before`` text (the title, usually).
* ``.xlsx`` — every sheet, read with openpyxl; merged ranges come from the
  sheet's ``mergeCells``.  Cached formula results are used; a formula the
  file never computed is an error, not a silent empty cell.
* anything else is decoded as text (:func:`decode_bytes`: UTF-8 with or
  without BOM, UTF-16 with BOM, GB18030/GBK) and read with
  :func:`qcompare.reader.read_blocks`, the reader of the five seeds.

Every problem is an :class:`~qcompare.errors.InputError` naming the file,
the place and a fix: empty, binary, truncated, legacy ``.doc``/``.xls``,
or no table at all.

>>> table = read_text_table("标题\\n\\t一级指标\\n\\t分值\\n\\n\\t质量目标\\n\\t40\\n".encode("gb18030"), "x.txt")[0]
>>> table.before, [[c.text for c in row] for row in table.rows]
(['标题'], [['一级指标', '分值'], ['质量目标', '40']])
>>> table.encoding, table.rows[1][1].location
('gb18030', 'line 6')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcompare.errors import InputError
from qcompare.reader import Row, iter_free_lines, iter_rows, read_blocks, split_lines

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SourceCell",
    "SourceTable",
    "decode_bytes",
    "grid_frame",
    "read_docx_tables",
    "read_source",
    "read_text_table",
    "read_xlsx_tables",
]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls
_PDF_MAGIC = b"%PDF"


@dataclass(frozen=True)
class SourceCell:
    """One cell of a grid: its text, where it is, and the cell a merge joined it to.

    ``merged_into`` is the (row, column) index of the merge's top-left cell
    when a merge covers this cell; such a cell's own text is empty.
    """

    text: str
    location: str
    merged_into: tuple[int, int] | None = None


@dataclass
class SourceTable:
    """One table of a file: rectangular rows, and the text around it."""

    file: str
    name: str
    rows: list[list[SourceCell]]
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    encoding: str | None = None
    #: for a text source, the decoded text (its line numbers are the cells' locations)
    text: str | None = None

    @property
    def width(self) -> int:
        return max((len(row) for row in self.rows), default=0)

    def merges(self) -> list[tuple[int, int, int, int]]:
        """Every merge as (first row, first column, last row, last column), 0-based."""
        spans: dict[tuple[int, int], list[int]] = {}
        for r, row in enumerate(self.rows):
            for c, cell in enumerate(row):
                if cell.merged_into is not None:
                    box = spans.setdefault(cell.merged_into, [*cell.merged_into, r, c])
                    box[2], box[3] = max(box[2], r), max(box[3], c)
        return sorted((a, b, c, d) for a, b, c, d in spans.values())


def grid_frame(table: SourceTable) -> pd.DataFrame:
    """A grid for display: a cell a merge covers shows ↑ (merged from above)
    or ← (merged from the left) instead of its empty text.

    >>> C = SourceCell
    >>> rows = [[C("A", "a1"), C("", "b1", (0, 0))], [C("", "a2", (0, 0)), C("x", "b2")]]
    >>> grid_frame(SourceTable("x", "t", rows)).to_numpy().tolist()
    [['A', '←'], ['↑', 'x']]
    """
    import pandas as pd

    def shown(r: int, cell: SourceCell) -> str:
        if cell.merged_into is None:
            return cell.text.replace("\n", " ")
        return "↑" if cell.merged_into[0] < r else "←"

    return pd.DataFrame([[shown(r, cell) for cell in row] for r, row in enumerate(table.rows)])


def decode_bytes(data: bytes, file: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file: UTF-8 (BOM or not), UTF-16 with BOM, or GB18030/GBK.

    Returns the text and the encoding used.  ``encoding`` forces one.

    >>> decode_bytes("质量".encode("utf-8-sig"), "a.txt")
    ('质量', 'utf-8-sig')
    >>> decode_bytes("质量".encode("gbk"), "a.txt")
    ('质量', 'gb18030')
    >>> decode_bytes("质量".encode("utf-8")[:-1], "a.txt")
    Traceback (most recent call last):
    ...
    qcompare.errors.InputError: a.txt, byte 3: the file ends in the middle of a UTF-8 character (truncated?)
      fix: copy the whole file again; if it was cut on purpose, remove the last partial character
    """
    if not data.strip():
        raise InputError(file, None, "the file is empty", "export the scheme table into it, or pick another file")
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as err:
            raise InputError(file, None, f"cannot decode it as {encoding} ({err})", "leave --encoding out") from err
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    _refuse_binary(data, file)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise _undecodable(file, err) from err
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        if err.reason == "unexpected end of data" and err.end == len(data):
            raise InputError(
                file,
                f"byte {err.start}",
                "the file ends in the middle of a UTF-8 character (truncated?)",
                "copy the whole file again; if it was cut on purpose, remove the last partial character",
            ) from err
        utf8_error = err
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as err:
        raise _undecodable(file, utf8_error) from err
    if not _looks_like_chinese(text):
        raise _undecodable(file, utf8_error)
    return text, "gb18030"


def _refuse_binary(data: bytes, file: str) -> None:
    if data.startswith(_OLE_MAGIC):
        raise InputError(file, None, "this is a legacy Word .doc or Excel .xls file", "save it as .docx or .xlsx")
    if data.startswith(_ZIP_MAGIC):
        raise InputError(file, None, "this is a ZIP container, not text", "name it .docx or .xlsx if it is one")
    if data.startswith(_PDF_MAGIC):
        raise InputError(file, None, "this is a PDF", "copy the table into Word or Excel and save it as .docx/.xlsx")
    if b"\x00" in data[:4096]:
        position = data.index(b"\x00")
        raise InputError(
            file, f"byte {position}", "binary data (a NUL byte) in a text file", "export the table as text"
        )


def _undecodable(file: str, err: UnicodeDecodeError) -> InputError:
    return InputError(
        file,
        f"byte {err.start}",
        "neither UTF-8 nor GB18030/GBK text",
        "save the file as UTF-8, or name its encoding with --encoding",
    )


def _looks_like_chinese(text: str) -> bool:
    """GB18030 decodes almost any bytes; accept it only when the result reads
    as Chinese text (most non-ASCII characters common CJK or punctuation)."""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return True
    good = sum(
        1 for ch in wide if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
    )
    return good / len(wide) >= 0.9


def read_text_table(data: bytes, file: str, encoding: str | None = None) -> list[SourceTable]:
    """The table of a tab/blank-line text export (the seeds' format).

    Rows shorter than the widest are padded with empty cells located at
    the row's last line.
    """
    text, used = decode_bytes(data, file, encoding)
    text = "\n".join(split_lines(text))
    blocks = read_blocks(text)
    rows = list(iter_rows(blocks))
    if not rows:
        raise InputError(
            file,
            None,
            "no table found: a table row is a run of lines that each start with a TAB, rows separated by a blank line",
            "export the Word table as text with tabs, or import the .docx/.xlsx itself",
        )
    first_row, last_row = rows[0].first_line, rows[-1].last_line
    before = [f.text for f in iter_free_lines(blocks) if f.line < first_row]
    after = [f.text for f in iter_free_lines(blocks) if f.line > last_row]
    width = max(len(row) for row in rows)
    grid = [_text_row(row, width) for row in rows]
    name = "text table"
    return [SourceTable(file, name, grid, before, after, encoding=used, text=text)]


def _text_row(row: Row, width: int) -> list[SourceCell]:
    cells = [SourceCell(cell.text, f"line {cell.first_line}") for cell in row.cells]
    cells += [SourceCell("", f"line {row.last_line}")] * (width - len(cells))
    return cells


def read_docx_tables(path: Path, file: str | None = None) -> list[SourceTable]:
    """Every table of a Word document, merges resolved from its own marks."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    file = file or path.name
    try:
        document = docx.Document(str(path))
    except Exception as err:  # python-docx, lxml and zipfile each raise their own kinds on a damaged file
        raise InputError(
            file,
            None,
            f"not a readable Word .docx file ({type(err).__name__}: {err})",
            "open it in Word and save as .docx",
        ) from err
    tables: list[SourceTable] = []
    texts: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(child, document).text
            if text.strip():
                texts.append(text)
        elif tag == "tbl":
            number = len(tables) + 1
            grid = _docx_grid(Table(child, document), number)
            tables.append(SourceTable(file, f"table {number}", grid, before=texts))
            texts = []
    if tables:
        tables[-1].after = texts
    return tables


def _docx_grid(table: Any, number: int) -> list[list[SourceCell]]:
    """The rectangular grid of one Word table (w:gridSpan and w:vMerge resolved)."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    placed: list[dict[int, SourceCell]] = []
    for r, tr in enumerate(table._tbl.tr_lst):
        row: dict[int, SourceCell] = {}
        column = tr.grid_before
        for tc in tr.tc_lst:
            span = max(1, tc.grid_span)
            # every paragraph inside the cell, nested tables included (python-docx's
            # _Cell.text reads only the cell's own paragraphs and would drop them)
            text = "\n".join(Paragraph(p, table).text for p in tc.iter(qn("w:p")))
            location = f"table {number}, row {r + 1}, column {column + 1}"
            anchor: tuple[int, int] | None = None
            if tc.vMerge == "continue" and r > 0 and not text.strip():
                above = placed[r - 1].get(column)
                if above is not None:
                    anchor = above.merged_into or (r - 1, column)
            if anchor is None:
                row[column] = SourceCell(text, location)
            else:
                row[column] = SourceCell("", location, anchor)
            for extra in range(1, span):
                covered = f"table {number}, row {r + 1}, column {column + extra + 1}"
                row[column + extra] = SourceCell("", covered, anchor or (r, column))
            column += span
        placed.append(row)
    width = max((max(row) + 1 for row in placed if row), default=0)
    grid = []
    for r, row in enumerate(placed):
        grid.append(
            [row.get(c) or SourceCell("", f"table {number}, row {r + 1}, column {c + 1}") for c in range(width)]
        )
    return grid


def read_xlsx_tables(path: Path, file: str | None = None) -> list[SourceTable]:
    """Every sheet of an Excel workbook, merged ranges resolved."""
    import openpyxl

    file = file or path.name
    try:
        values = openpyxl.load_workbook(path, data_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False)
    except Exception as err:  # openpyxl, lxml and zipfile each raise their own kinds on a damaged file
        raise InputError(
            file,
            None,
            f"not a readable Excel .xlsx file ({type(err).__name__}: {err})",
            "open it in Excel and save as .xlsx",
        ) from err
    tables = []
    for sheet in values.worksheets:
        formula_sheet = formulas[sheet.title]
        anchors: dict[tuple[int, int], tuple[int, int]] = {}
        for merged in sheet.merged_cells.ranges:
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    if (r, c) != (merged.min_row, merged.min_col):
                        anchors[(r - 1, c - 1)] = (merged.min_row - 1, merged.min_col - 1)
        grid: list[list[SourceCell]] = []
        for r, row in enumerate(sheet.iter_rows(min_row=1, max_row=sheet.max_row, max_col=sheet.max_column)):
            cells = []
            for c, cell in enumerate(row):
                location = f"sheet {sheet.title}, cell {cell.coordinate}"
                if (r, c) in anchors:
                    cells.append(SourceCell("", location, anchors[(r, c)]))
                    continue
                value = cell.value
                if value is None and formula_sheet.cell(r + 1, c + 1).data_type == "f":
                    raise InputError(
                        file,
                        location,
                        f"the cell holds a formula ({formula_sheet.cell(r + 1, c + 1).value}) with no saved value",
                        "open the workbook in Excel or LibreOffice and save it, or type the value",
                    )
                cells.append(SourceCell(_cell_text(value), location))
            grid.append(cells)
        if any(cell.text.strip() for row in grid for cell in row):
            tables.append(SourceTable(file, f"sheet {sheet.title}", grid))
    return tables


def _cell_text(value: Any) -> str:
    """A spreadsheet value as the text a reader sees."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_source(path: Path, encoding: str | None = None) -> list[SourceTable]:
    """The tables of a scheme file, chosen by its suffix (.docx, .xlsx, else text)."""
    file = path.name
    if not path.exists():
        raise InputError(str(path), None, "no such file", "check the path")
    if path.is_dir():
        raise InputError(str(path), None, "this is a folder, not a file", "name one .docx, .xlsx or text file")
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if not data:
        raise InputError(file, None, "the file is empty", "export the scheme table into it, or pick another file")
    if suffix in (".doc", ".xls") or data.startswith(_OLE_MAGIC):
        raise InputError(file, None, "this is a legacy Word .doc or Excel .xls file", "save it as .docx or .xlsx")
    if suffix in (".docx", ".xlsx") and not data.startswith(_ZIP_MAGIC):
        raise InputError(
            file,
            None,
            f"a {suffix} file is a ZIP container, but this one is not (truncated or renamed?)",
            "save it again",
        )
    if suffix == ".docx":
        tables = read_docx_tables(path, file)
    elif suffix in (".xlsx", ".xlsm"):
        tables = read_xlsx_tables(path, file)
    else:
        return read_text_table(data, file, encoding)
    if not tables:
        raise InputError(file, None, "no table found", "put the scheme in a Word table or on an Excel sheet")
    return tables
