"""The table reader rebuilds rows and cells from the tab/blank-line export."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare.reader import Cell, FreeLine, Row, read_blocks, source_lines
from tests.conftest import FIXTURES


def _shape(blocks):
    return [b.texts() if isinstance(b, Row) else b.text for b in blocks]


def test_tiny_fixture_rows_cells_and_free_lines():
    text = (FIXTURES / "tiny_table.txt").read_text(encoding="utf-8")
    blocks = read_blocks(text)
    assert _shape(blocks) == [
        "附件",
        "小表标题",
        ("序号", "名称", "部门"),
        ("1", "第一行\n跨两行", "甲局、\n乙局"),
        ("", "第二行", "丙局"),
        # two blank lines inside a short row keep the row going
        ("2", "第三行", "丁局"),
        "孤立的一行",
        ("3", "第四行", "戊局"),
    ]


def test_cells_keep_their_source_lines():
    text = (FIXTURES / "tiny_table.txt").read_text(encoding="utf-8")
    row = [b for b in read_blocks(text) if isinstance(b, Row)][1]
    assert [(c.first_line, c.last_line) for c in row.cells] == [(7, 7), (8, 9), (10, 11)]


def test_blank_line_inside_a_cell_is_kept():
    (row,) = read_blocks("\t领导小组相\n\n关成员单位\n")
    assert row.cells == (Cell("领导小组相\n\n关成员单位", 1, 3),)


def test_empty_cells_stand_for_merged_cells():
    (row,) = read_blocks("\t\n\t\n\tx\n")
    assert [c.is_empty for c in row.cells] == [True, True, False]


def test_width_decides_rows_after_two_blank_lines():
    text = "\ta\n\tb\n\n\n\tc\n"
    assert _shape(read_blocks(text, width=3)) == [("a", "b", "c")]
    assert _shape(read_blocks(text, width=2)) == [("a", "b"), ("c",)]


def test_crlf_line_ends_are_accepted():
    assert _shape(read_blocks("t\r\n\ta\r\n\tb\r\n")) == ["t", ("a", "b")]


def test_changzhou_row_with_cells_split_by_double_blank_lines(raw_text):
    """Item 6 (changzhou.txt:L137-L165) has two blank lines between its 分值 and
    its 验收方式 cells, and its 考核内容 broken over a blank line; it is one row of
    nine cells."""
    rows = [b for b in read_blocks(raw_text["changzhou"], width=9) if isinstance(b, Row)]
    (row,) = [r for r in rows if r.first_line == 137]
    assert len(row) == 9
    assert row.cells[2].text == "15"
    assert row.cells[3].text == "听取企业\n\n工作汇报\n\n随机抽查"


def test_changzhou_lost_cells_surface_as_free_lines(raw_text):
    """The scoring text of item 18 (changzhou.txt:L662) stands alone."""
    free = {b.line: b.text for b in read_blocks(raw_text["changzhou"], width=9) if isinstance(b, FreeLine)}
    assert free[662].startswith("设立并实施政府质量奖的得20分")


# Property: whatever text comes in, every non-blank line lands in exactly one
# block, in order, and the reader never raises.
_line = st.one_of(
    st.just(""),
    st.just("\t"),
    st.text(alphabet="质量甲乙丙、，12 .\u3000\uf020", max_size=8),
    st.text(alphabet="质量甲乙丙、，12 .", max_size=8).map(lambda s: "\t" + s),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_line, max_size=40))
def test_every_line_lands_in_exactly_one_block(lines):
    text = "\n".join(lines)
    blocks = read_blocks(text)
    seen: list[int] = []
    for block in blocks:
        if isinstance(block, FreeLine):
            seen.append(block.line)
        else:
            for cell in block.cells:
                seen.extend(n for n, _ in cell.lines())
    assert seen == [n for n, _ in source_lines(text) if lines[n - 1].strip(" \u3000\xa0\t")]


_cell_text = st.text(alphabet="质量甲乙丙、，12()（）", min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_cell_text, min_size=3, max_size=3), min_size=1, max_size=8))
def test_a_written_table_reads_back(rows):
    text = "\n\n".join("\n".join("\t" + cell for cell in row) for row in rows) + "\n"
    assert [r.texts() for r in read_blocks(text)] == [tuple(row) for row in rows]
