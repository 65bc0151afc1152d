"""A small, hand-written county scheme, written as Word, Excel or text.

The tutorial notebook ``07_add_your_scheme`` and the import tests need
scheme files that look like the ones researchers download: a title row,
a header, a 一级指标 merged down over its rows, a 分值 and 评分标准 merged
over the two rows of one 二级指标, a 牵头单位 merged over two tasks, a
bonus item and a veto row whose text is merged across two columns.  The
same table is written by :func:`write_docx` (python-docx ``merge``, which
writes ``w:gridSpan`` and ``w:vMerge``), :func:`write_xlsx` (openpyxl
merged ranges) and :func:`write_text` (the seeds' tab/blank-line export,
where merged cells are empty, in any encoding and line ending).

The numbers were chosen so the expected result is easy to check by hand:
质量目标 40 (20 + 10 + 10), 质量工作 60 (10 + 20 + 30), base 100, a
bonus of at most 5, one veto.

>>> len(EXAMPLE_ROWS), EXAMPLE_HEADER[3]
(9, '分值')
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "EXAMPLE_HEADER",
    "EXAMPLE_MERGES",
    "EXAMPLE_ROWS",
    "EXAMPLE_TITLE",
    "write_docx",
    "write_text",
    "write_xlsx",
]

EXAMPLE_TITLE = "示范县2024年度质量工作考核评分表"
EXAMPLE_HEADER = ["一级指标", "二级指标", "考核内容", "分值", "评分标准", "牵头单位", "配合单位"]
#: The table body; "" where a merge covers the cell (see EXAMPLE_MERGES).
EXAMPLE_ROWS = [
    [
        "质量目标（40分）",
        "产品质量",
        "主要工业产品质量监督抽查合格率达到93%以上",
        "20",
        "每低于目标1个百分点扣2分，扣完为止",
        "县市场监管局",
        "县工信局",
    ],
    ["", "", "规模以上工业企业采用国际标准比例达到40%", "", "", "", "县发改局"],
    ["", "工程质量", "竣工工程质量一次验收合格率达到100%", "10", "每降低1个百分点扣2分", "县住建局", "县交通运输局"],
    [
        "",
        "服务质量",
        "公共服务顾客满意度测评达到80分以上",
        "10",
        "达到目标得10分；未达到不得分",
        "县市场监管局",
        "县文旅局",
    ],
    [
        "质量工作（60分）",
        "组织领导",
        "成立质量强县工作领导小组，制定年度工作计划",
        "10",
        "未成立领导小组的扣5分；未制定年度计划的扣5分",
        "县政府办公室",
        "",
    ],
    [
        "",
        "质量基础",
        "加强计量、标准、认证认可和检验检测能力建设",
        "20",
        "视工作完成情况酌情扣分",
        "县市场监管局",
        "县科技局、县财政局",
    ],
    [
        "",
        "质量安全",
        "全年未发生较大以上质量安全事故",
        "30",
        "发生较大以上质量安全事故的，该项不得分",
        "县应急管理局",
        "县市场监管局",
    ],
    ["加分项", "质量奖励", "获得省级以上政府质量奖的", "5", "每项加2分，最多加5分", "县市场监管局", ""],
    ["一票否决", "发生重大质量安全事故并造成恶劣社会影响的", "", "", "实行一票否决", "县应急管理局", ""],
]
#: Merged ranges over EXAMPLE_ROWS as (first row, first column, last row, last column), 0-based.
EXAMPLE_MERGES = [
    (0, 0, 3, 0),  # 质量目标 over its four rows
    (0, 1, 1, 1),  # 产品质量 over its two tasks
    (0, 3, 1, 3),  # its 20 points
    (0, 4, 1, 4),  # its scoring rule
    (0, 5, 1, 5),  # its lead body
    (4, 0, 6, 0),  # 质量工作 over its three rows
    (8, 1, 8, 2),  # the veto text across 二级指标 and 考核内容
]


def write_xlsx(path: Path, sheet: str = "考核评分表") -> Path:
    """The example as an Excel workbook: a merged title row, the header, the body."""
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    ws.append([EXAMPLE_TITLE] + [None] * (len(EXAMPLE_HEADER) - 1))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(EXAMPLE_HEADER))
    ws.append(EXAMPLE_HEADER)
    for row in EXAMPLE_ROWS:
        ws.append([_xlsx_value(value) for value in row])
    for r0, c0, r1, c1 in EXAMPLE_MERGES:
        ws.merge_cells(start_row=r0 + 3, start_column=c0 + 1, end_row=r1 + 3, end_column=c1 + 1)
    workbook.save(path)
    return path


def _xlsx_value(value: str) -> str | int | None:
    if not value:
        return None
    return int(value) if value.isdigit() else value


def write_docx(path: Path) -> Path:
    """The example as a Word document: a title paragraph and one table."""
    import docx

    document = docx.Document()
    document.add_paragraph(EXAMPLE_TITLE)
    table = document.add_table(rows=1 + len(EXAMPLE_ROWS), cols=len(EXAMPLE_HEADER))
    for c, text in enumerate(EXAMPLE_HEADER):
        table.cell(0, c).text = text
    for r, row in enumerate(EXAMPLE_ROWS, start=1):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    for r0, c0, r1, c1 in EXAMPLE_MERGES:
        table.cell(r0 + 1, c0).merge(table.cell(r1 + 1, c1))
    document.add_paragraph("注：加分项最多加5分。")
    document.save(str(path))
    return path


def write_text(path: Path, encoding: str = "utf-8", newline: str = "\n", full_width_digits: bool = False) -> Path:
    """The example as a tab/blank-line text export (merged cells empty)."""
    lines = [EXAMPLE_TITLE, "", ""]
    for number, row in enumerate([EXAMPLE_HEADER, *EXAMPLE_ROWS]):
        if number:
            lines.append("")
        lines.extend("\t" + text for text in row)
    text = "\n".join(lines) + "\n"
    if full_width_digits:
        text = text.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789%"})
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path
