"""Reading Word, Excel and text files into grids, merges resolved; bad files refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare import examples
from qcompare.errors import InputError
from qcompare.sources import decode_bytes, read_docx_tables, read_source, read_text_table, read_xlsx_tables


def _shift(merges, rows):
    return [(r0 + rows, c0, r1 + rows, c1) for r0, c0, r1, c1 in merges]


def test_docx_merges_come_from_grid_span_and_vmerge(tmp_path: Path):
    path = examples.write_docx(tmp_path / "scheme.docx")
    [table] = read_docx_tables(path)
    assert table.name == "table 1"
    assert table.before == [examples.EXAMPLE_TITLE]
    assert table.after == ["注：加分项最多加5分。"]
    assert [c.text for c in table.rows[0]] == examples.EXAMPLE_HEADER
    assert table.merges() == sorted(_shift(examples.EXAMPLE_MERGES, 1))
    # the 20 points of 产品质量: anchor keeps the text, the covered cell points at it
    assert table.rows[1][3].text == "20"
    assert table.rows[2][3].text == "" and table.rows[2][3].merged_into == (1, 3)
    assert table.rows[2][3].location == "table 1, row 3, column 4"
    # the veto text spans 二级指标 and 考核内容 (w:gridSpan)
    assert table.rows[9][2].merged_into == (9, 1)


def test_xlsx_merged_ranges_and_title_row(tmp_path: Path):
    path = examples.write_xlsx(tmp_path / "scheme.xlsx")
    [table] = read_xlsx_tables(path)
    assert table.name == "sheet 考核评分表"
    assert table.rows[0][0].text == examples.EXAMPLE_TITLE
    assert table.merges() == sorted([(0, 0, 0, 6), *_shift(examples.EXAMPLE_MERGES, 2)])
    assert table.rows[3][3].location == "sheet 考核评分表, cell D4"
    assert table.rows[3][3].merged_into == (2, 3)
    assert table.rows[2][3].text == "20"  # an int in the sheet, read as text without ".0"


def test_gbk_text_with_crlf_and_full_width_digits(tmp_path: Path):
    path = examples.write_text(tmp_path / "scheme.txt", encoding="gbk", newline="\r\n", full_width_digits=True)
    [table] = read_source(path)
    assert table.encoding == "gb18030"
    assert table.before == [examples.EXAMPLE_TITLE.replace("2024", "２０２４")]
    assert [c.text for c in table.rows[1]][3] == "２０"
    assert "\r" not in (table.text or "")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("质量".encode("utf-8-sig"), "utf-8-sig"),
        ("质量".encode("utf-16"), "utf-16"),
        ("质量".encode("gb18030"), "gb18030"),
        ("质量".encode("gbk"), "gb18030"),
        (b"plain ascii", "utf-8"),
    ],
)
def test_decode_bytes_accepts(data, expected):
    text, encoding = decode_bytes(data, "x.txt")
    assert encoding == expected and text.strip() in ("质量", "plain ascii")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b" \n\n", "the file is empty"),
        ("质量".encode()[:-1], "ends in the middle of a UTF-8 character"),
        (b"\t\xd6\xca\x00\x01\x02", "binary data (a NUL byte)"),
        (b"%PDF-1.7\n...", "this is a PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "legacy Word .doc or Excel .xls"),
        (b"PK\x03\x04rest", "ZIP container"),
        (bytes(range(0x80, 0x100)) * 3, "neither UTF-8 nor GB18030/GBK"),
    ],
)
def test_decode_bytes_refuses_with_a_reason(data, problem):
    with pytest.raises(InputError, match="fix:") as caught:
        decode_bytes(data, "x.txt")
    assert problem in caught.value.problem and caught.value.file == "x.txt"


def test_text_without_a_table_is_refused(tmp_path: Path):
    path = tmp_path / "prose.txt"
    path.write_text("这是一段说明文字。\n没有表格。\n", encoding="utf-8")
    with pytest.raises(InputError, match="no table found"):
        read_source(path)


def test_truncated_and_renamed_office_files_are_refused(tmp_path: Path):
    good = examples.write_docx(tmp_path / "good.docx").read_bytes()
    cut = tmp_path / "cut.docx"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError, match=r"not a readable Word \.docx file"):
        read_source(cut)
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_text("\t一级指标\n\t分值\n", encoding="utf-8")
    with pytest.raises(InputError, match="is a ZIP container, but this one is not"):
        read_source(renamed)
    old = tmp_path / "old.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    with pytest.raises(InputError, match=r"legacy Word \.doc"):
        read_source(old)


def test_docx_without_tables_and_missing_file(tmp_path: Path):
    import docx

    document = docx.Document()
    document.add_paragraph("只有文字")
    document.save(str(tmp_path / "words.docx"))
    with pytest.raises(InputError, match="no table found"):
        read_source(tmp_path / "words.docx")
    with pytest.raises(InputError, match="no such file"):
        read_source(tmp_path / "absent.xlsx")
    with pytest.raises(InputError, match="a folder, not a file"):
        read_source(tmp_path)


def test_uncomputed_formula_is_an_error_not_an_empty_cell(tmp_path: Path):
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    ws.append(["一级指标", "分值"])
    ws.append(["质量目标", "=SUM(1,2)"])
    workbook.save(tmp_path / "formula.xlsx")
    with pytest.raises(InputError, match=r"cell B2: the cell holds a formula \(=SUM\(1,2\)\) with no saved value"):
        read_source(tmp_path / "formula.xlsx")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_read_as_a_table_or_raise_input_error(data):
    try:
        tables = read_text_table(data, "fuzz.txt")
    except InputError as err:
        assert str(err).startswith("fuzz.txt")
    else:
        assert tables[0].rows


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=1, max_value=4000))
def test_a_cut_xlsx_is_refused_cleanly(tmp_path_factory, cut):
    path = tmp_path_factory.mktemp("cut") / "scheme.xlsx"
    examples.write_xlsx(path)
    data = path.read_bytes()
    path.write_bytes(data[: min(cut, len(data) - 1)])
    with pytest.raises(InputError, match=r"scheme\.xlsx: "):
        read_source(path)


def test_text_of_a_table_nested_in_a_word_cell_is_kept(tmp_path: Path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "一级指标", "考核内容"
    table.cell(1, 0).text, table.cell(1, 1).text = "质量目标", "外层文字"
    inner = table.cell(1, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "嵌套甲", "嵌套乙"
    document.save(str(tmp_path / "nested.docx"))
    [grid] = read_source(tmp_path / "nested.docx")
    assert grid.rows[1][1].text.split("\n")[:3] == ["外层文字", "嵌套甲", "嵌套乙"]
