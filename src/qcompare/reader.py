"""Rebuild rows and cells from the tab/blank-line text export of Word tables.

The five seed documents are plain-text exports of Word tables.  The export
follows a few conventions, and breaks them in a few places:

* a line that starts with a TAB starts a new cell;
* a line without a TAB continues the cell above (a cell may span lines);
* a blank line usually ends a row, but a cell may contain blank lines of
  its own, and some rows carry two blank lines *between* their cells;
* lines that stand alone (prose, titles, and the contents of cells the
  export lost) are separated from the table by two or more blank lines.

:func:`read_blocks` turns a document into an ordered list of
:class:`Row` and :class:`FreeLine` blocks, keeping the 1-based source line
of every piece of text.  It knows nothing about any particular city; the
scheme parsers decide what the rows mean.

The row-boundary rules, in order:

1. one blank line followed by a TAB line ends the row;
2. one blank line followed by a text line continues the current cell
   (the blank line is kept inside the cell);
3. two or more blank lines followed by a text line end the row, and the
   text is a :class:`FreeLine`;
4. two or more blank lines followed by a TAB line continue the current row
   while it has fewer cells than the table's width, and end it otherwise.
   The width is the widest row seen since the last free line (the header
   row, in practice), or ``width`` when the caller knows it.

Examples
--------
>>> blocks = read_blocks("Title\\n\\tA\\n\\tB\\n\\n\\t1\\n\\ttwo\\nlines\\n")
>>> [type(b).__name__ for b in blocks]
['FreeLine', 'Row', 'Row']
>>> blocks[2].texts()
('1', 'two\\nlines')
>>> blocks[2].cells[1].first_line, blocks[2].cells[1].last_line
(6, 7)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "Block",
    "Cell",
    "FreeLine",
    "Row",
    "iter_free_lines",
    "iter_rows",
    "read_blocks",
    "source_lines",
    "split_lines",
]


@dataclass(frozen=True)
class Cell:
    """One table cell: its raw lines (blank lines kept) and where they are.

    ``text`` is the raw text with the lines joined by ``"\\n"``; the leading
    TAB of the first line is removed and nothing else is changed.
    """

    text: str
    first_line: int
    last_line: int

    @property
    def is_empty(self) -> bool:
        """True when the cell holds only whitespace (a merged or blank cell)."""
        return not self.text.strip()

    def lines(self) -> list[tuple[int, str]]:
        """The non-blank raw lines of the cell with their source line numbers."""
        out = []
        for offset, line in enumerate(self.text.split("\n")):
            if line.strip():
                out.append((self.first_line + offset, line))
        return out


@dataclass(frozen=True)
class Row:
    """One table row: its cells in order."""

    cells: tuple[Cell, ...]

    @property
    def first_line(self) -> int:
        return self.cells[0].first_line

    @property
    def last_line(self) -> int:
        return self.cells[-1].last_line

    def __len__(self) -> int:
        return len(self.cells)

    def texts(self) -> tuple[str, ...]:
        """The raw text of every cell, in order."""
        return tuple(c.text for c in self.cells)


@dataclass(frozen=True)
class FreeLine:
    """A line outside any cell: prose, a title, or orphaned cell content."""

    text: str
    line: int


Block = Row | FreeLine


@dataclass
class _RowBuilder:
    cells: list[list[tuple[int, str]]] = field(default_factory=list)

    def new_cell(self, line_no: int, text: str) -> None:
        self.cells.append([(line_no, text)])

    def extend_cell(self, line_no: int, text: str, blank_before: int) -> None:
        cell = self.cells[-1]
        last = cell[-1][0]
        for gap in range(blank_before):
            cell.append((last + 1 + gap, ""))
        cell.append((line_no, text))

    def build(self) -> Row:
        cells = []
        for pieces in self.cells:
            cells.append(
                Cell(
                    text="\n".join(text for _, text in pieces),
                    first_line=pieces[0][0],
                    last_line=pieces[-1][0],
                )
            )
        return Row(tuple(cells))


def split_lines(text: str) -> list[str]:
    """Split a document into lines, accepting LF, CRLF and CR endings.

    >>> split_lines("a\\r\\nb\\rc\\n")
    ['a', 'b', 'c', '']
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _is_blank(line: str) -> bool:
    return not line.strip(" \u3000\xa0") and "\t" not in line


def read_blocks(text: str, width: int | None = None) -> list[Block]:
    """Read a tab/blank-line table export into rows and free lines.

    Parameters
    ----------
    text:
        The whole document, as decoded text.
    width:
        The number of cells a complete row has, when the caller knows it.
        Otherwise the widest row seen since the last free line is used.

    Returns
    -------
    list of Row and FreeLine, in document order.

    >>> rows = read_blocks("\\tH1\\n\\tH2\\n\\n\\tx\\n\\n\\n\\ty\\n\\n\\tz\\n")
    >>> [r.texts() for r in rows]
    [('H1', 'H2'), ('x', 'y'), ('z',)]
    """
    blocks: list[Block] = []
    row: _RowBuilder | None = None
    table_width = 0
    blank_run = 0

    def close_row() -> None:
        nonlocal row, table_width
        if row is not None and row.cells:
            built = row.build()
            blocks.append(built)
            table_width = max(table_width, len(built))
        row = None

    for line_no, line in enumerate(split_lines(text), start=1):
        if _is_blank(line):
            blank_run += 1
            continue
        if line.startswith("\t"):
            content = line[1:]
            if row is None:
                row = _RowBuilder()
            elif blank_run == 1:
                close_row()
                row = _RowBuilder()
            elif blank_run >= 2:
                expected = width if width is not None else table_width
                if len(row.cells) >= expected:
                    close_row()
                    row = _RowBuilder()
            row.new_cell(line_no, content)
        else:
            if row is not None and blank_run <= 1:
                row.extend_cell(line_no, line, blank_run)
            else:
                close_row()
                table_width = 0
                blocks.append(FreeLine(line, line_no))
        blank_run = 0
    close_row()
    return blocks


def source_lines(text: str) -> Iterator[tuple[int, str]]:
    """Every non-blank line of a document with its 1-based line number.

    The raw-cell accounting uses this as the ground truth of what the
    document contains.

    >>> list(source_lines("a\\n\\n\\tb\\n\\t\\n"))
    [(1, 'a'), (3, 'b')]
    """
    for line_no, line in enumerate(split_lines(text), start=1):
        content = line[1:] if line.startswith("\t") else line
        if content.strip():
            yield line_no, content


def iter_rows(blocks: Iterable[Block]) -> Iterator[Row]:
    """Only the rows of a block list.

    >>> [row.first_line for row in iter_rows(read_blocks("标题\\n\\ta\\n\\tb\\n"))]
    [2]
    """
    for block in blocks:
        if isinstance(block, Row):
            yield block


def iter_free_lines(blocks: Iterable[Block]) -> Iterator[FreeLine]:
    """Only the free lines (text outside the table) of a block list.

    >>> [line.text for line in iter_free_lines(read_blocks("标题\\n\\ta\\n\\tb\\n"))]
    ['标题']
    """
    for block in blocks:
        if isinstance(block, FreeLine):
            yield block
