"""Quzhou: 争创全国质量强市示范城市, two annexes, two schemes.

Annex 1, 量化指标 (``quzhou_targets``): 分类 | 序号 | 指标 | 目标值, where
分类 and 指标 each span two columns, so data rows carry six cells
(分类, 子类, 序号, 指标, 子指标, 目标值) or five when the 指标 has no
sub-indicator.  An indicator with several target rows gets one child node
per row.

Annex 2, 工作责任分解表 (``quzhou_tasks``): 创建项目 | 创建内容 | 创建任务 |
责任单位, where 创建任务 spans number and text and 责任单位 spans a lead
cell (marked 牵头) and a support cell.  A row with one responsibility cell
names the responsible units without a lead/support split.  Sections 五–十
are printed without their numbers; they keep an empty ``code`` and get ids
by position, and each is reported.

Node ids: ``quzhou_targets:cat1`` (分类), ``quzhou_targets:sub1`` (子类,
numbered in order), ``quzhou_targets:17`` (序号), ``quzhou_targets:17.b``
(the second target row of indicator 17); ``quzhou_tasks:s1`` (section),
``quzhou_tasks:1`` (创建内容), ``quzhou_tasks:1.1`` (创建任务).
"""

from __future__ import annotations

import re
import string

from qcompare.model import DocumentResult, SchemeBuilder
from qcompare.parsers.common import (
    ParseError,
    add_departments,
    chinese_numeral,
    report_private_use,
    split_table,
)
from qcompare.reader import Block, Cell, FreeLine, Row, read_blocks
from qcompare.text import clean_text, remove_private_use

__all__ = ["parse_quzhou", "parse_target_value"]

FILE = "quzhou.txt"
_SECTION = re.compile(r"^([一二三四五六七八九十]+)、\s*(.*)$", re.S)
_CONTENT = re.compile(r"^(\d+)[.．]\s*(.*)$", re.S)
_TASK = re.compile(r"^(\d+)\.(\d+)$")
_VALUE = re.compile(r"^(?P<cmp>[≥≤<>=]?)\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>%|‰|个|家|次)?(?P<rest>.*)$")


def parse_target_value(raw: str) -> tuple[str | None, float | None, str | None]:
    """Read a 目标值 cell into comparator, value and unit.

    Only what the cell states plainly is read; anything else keeps its
    words as the comparator and no value.

    >>> parse_target_value("≥90%")
    ('≥', 90.0, '%')
    >>> parse_target_value("100%")
    ('=', 100.0, '%')
    >>> parse_target_value("1个以上")
    ('≥', 1.0, '个')
    >>> parse_target_value("前10位")
    ('top_n', 10.0, None)
    >>> parse_target_value("低于全国\\n\\n平均水平")
    ('below_national_average', None, None)
    >>> parse_target_value("达到1‰"), parse_target_value("至少50家")
    (('≥', 1.0, '‰'), ('≥', 50.0, '家'))
    >>> parse_target_value("不断提高")
    ('increasing', None, None)
    """
    text = clean_text(raw).replace("\n", "")
    words = {
        "低于全国平均水平": "below_national_average",
        "不断提高": "increasing",
        "连续增长": "increasing",
        "不断递减": "decreasing",
        "前列": "among_leaders",
    }
    if text in words:
        return words[text], None, None
    top = re.fullmatch(r"前(\d+)位", text)
    if top:
        return "top_n", float(top.group(1)), None
    prefix = re.match(r"^(达到|至少|不低于|不少于)", text)
    match = _VALUE.match(text[prefix.end() :] if prefix else text)
    if match is None:
        return text or None, None, None
    rest = match["rest"]
    comparator = match["cmp"] or "="
    if rest in ("以上", "以上(含)"):
        comparator = "≥"
    elif rest == "以下":
        comparator = "≤"
    elif rest:
        return text, None, None
    if prefix:
        comparator = "≥"
    return comparator, float(match["num"]), match["unit"]


def _split_annexes(blocks: list[Block], file: str) -> tuple[list[Block], list[Block]]:
    markers = [i for i, blk in enumerate(blocks) if isinstance(blk, FreeLine) and clean_text(blk.text) == "附件2"]
    if len(markers) != 1:
        raise ParseError(file, 1, "exactly one '附件2' line separating the two annexes", f"{len(markers)} found")
    return blocks[: markers[0]], blocks[markers[0] :]


def parse_quzhou(text: str, file: str = FILE) -> DocumentResult:
    """Parse the Quzhou document into its two schemes."""
    blocks = read_blocks(text)
    annex1, annex2 = _split_annexes(blocks, file)
    targets = _parse_targets(annex1, file)
    tasks = _parse_tasks(annex2, file)
    report_private_use(targets, text, 1, len(text.split("\n")))
    return DocumentResult("quzhou", [targets, tasks])


def _title_and_marker(b: SchemeBuilder, free: list[FreeLine], marker: str, file: str) -> FreeLine:
    lines = [f for f in free if clean_text(f.text)]
    titles = [f for f in lines if clean_text(f.text) != marker]
    if not titles:
        raise ParseError(file, lines[0].line if lines else 1, "an annex title", "")
    for f in lines:
        if clean_text(f.text) == marker:
            b.add_issue("unparsed_text", "annex marker above the title", b.ref(f), severity="info", evidence=f.text)
    for f in titles[1:]:
        why = "a further line above the table; the first is read as the title"
        b.add_issue("unparsed_text", why, b.ref(f), evidence=f.text)
    return titles[0]


def _parse_targets(blocks: list[Block], file: str) -> SchemeBuilder:
    b = SchemeBuilder("quzhou_targets", file)
    rows, free, columns = split_table(blocks, file)
    title = _title_and_marker(b, free, "附件1", file)
    header = rows[0]
    if columns != ["分类", "序号", "指标", "目标值"]:
        raise ParseError(file, header.first_line, "the header 分类 | 序号 | 指标 | 目标值", " | ".join(columns))

    category = subcategory = None
    indicator_cell: Cell | None = None
    groups: list[list[tuple[Row, Cell | None, Cell]]] = []
    indicators: list[tuple[str, str, Cell, Cell, bool]] = []
    n_cat = n_sub = 0
    for row in rows[1:]:
        if len(row) == 6:
            c_cat, c_sub, c_num, c_ind, c_subind, c_value = row.cells
            sub_ind: Cell | None = c_subind
        elif len(row) == 5:
            c_cat, c_sub, c_num, c_ind, c_value = row.cells
            sub_ind = None
        else:
            raise ParseError(file, row.first_line, "a five- or six-cell indicator row", " | ".join(row.texts()))
        if not c_cat.is_empty:
            n_cat += 1
            name = clean_text(c_cat.text)
            category = b.add_node(
                f"cat{n_cat}",
                parent_id=None,
                level=1,
                level_label="分类",
                code="",
                title=name,
                text=name,
                text_raw=c_cat.text,
                ref=b.ref(c_cat),
            )
        if not c_sub.is_empty:
            n_sub += 1
            name = clean_text(c_sub.text)
            subcategory = b.add_node(
                f"sub{n_sub}",
                parent_id=category,
                level=2,
                level_label="分类",
                code="",
                title=name,
                text=name,
                text_raw=c_sub.text,
                ref=b.ref(c_sub),
            )
        if not c_ind.is_empty:
            indicator_cell = c_ind
        if not c_num.is_empty:
            if indicator_cell is None or subcategory is None:
                raise ParseError(file, c_num.first_line, "an 指标 for 序号 " + c_num.text, "")
            groups.append([(row, sub_ind, c_value)])
            indicators.append((clean_text(c_num.text), subcategory, c_num, indicator_cell, c_ind.is_empty))
        else:
            if not groups:
                raise ParseError(file, row.first_line, "a 序号 on the first indicator row", "")
            groups[-1].append((row, sub_ind, c_value))
            if not c_ind.is_empty:
                b.add_issue(
                    "unparsed_text",
                    "指标 cell on a row without 序号; the row is read as one more target of the indicator above",
                    b.ref(c_ind),
                    evidence=c_ind.text,
                )

    for (number, parent, c_num, c_ind, inherited), group in zip(indicators, groups, strict=True):
        name = clean_text(c_ind.text).replace("\n", "")
        single = len(group) == 1
        sub = group[0][1] if single else None
        sub_name = clean_text(sub.text) if sub is not None and not sub.is_empty else ""
        text_ = f"{name}({sub_name})" if sub_name else name
        node_id = b.add_node(
            number,
            parent_id=parent,
            level=3,
            level_label="指标",
            code=number,
            title=name,
            text=text_,
            text_raw=c_ind.text if not inherited else "",
            ref=b.ref(c_num, *(group[0][0].cells)) if single else b.ref(c_num),
        )
        if inherited:
            b.add_issue(
                "filled_down",
                f"指标 {number} shares the merged 指标 cell of the row above ('{name}')",
                b.ref(c_num),
                node_id=node_id,
                severity="info",
                evidence=c_ind.text,
            )
        if single:
            _add_target(b, node_id, text_, group[0][2])
            continue
        for letter, (row, sub_cell, value_cell) in zip(string.ascii_lowercase, group, strict=False):
            sub_name = clean_text(sub_cell.text) if sub_cell is not None else ""
            child = b.add_node(
                f"{number}.{letter}",
                parent_id=node_id,
                level=4,
                level_label="目标值",
                code="",
                title=sub_name or name,
                text=f"{name}({sub_name})" if sub_name else name,
                text_raw=sub_cell.text if sub_cell is not None else "",
                ref=b.ref(*row.cells),
            )
            _add_target(b, child, f"{name}({sub_name})" if sub_name else name, value_cell)

    b.scheme = _scheme_record("quzhou_targets", title, "target_list", None, "分类 | 指标 | 目标值", columns, rows)
    return b


def _add_target(b: SchemeBuilder, node_id: str, metric_text: str, value_cell: Cell) -> None:
    comparator, value, unit = parse_target_value(value_cell.text)
    b.add_target(
        node_id,
        clean_text(value_cell.text).replace("\n", ""),
        b.ref(value_cell),
        comparator=comparator,
        value=value,
        unit=unit,
    )


def _parse_tasks(blocks: list[Block], file: str) -> SchemeBuilder:
    b = SchemeBuilder("quzhou_tasks", file)
    rows, free, columns = split_table(blocks, file)
    title = _title_and_marker(b, free, "附件2", file)
    header = rows[0]
    if columns != ["创建项目", "创建内容", "创建任务", "责任单位"]:
        raise ParseError(
            file, header.first_line, "the header 创建项目 | 创建内容 | 创建任务 | 责任单位", " | ".join(columns)
        )

    section = content = None
    n_section = 0
    content_number = 0
    for row in rows[1:]:
        if len(row) not in (5, 6):
            raise ParseError(file, row.first_line, "a five- or six-cell task row", " | ".join(row.texts()))
        c_section, c_content, c_task, c_text = row.cells[:4]
        responsibility = row.cells[4:]
        if not c_section.is_empty:
            n_section += 1
            raw = remove_private_use(c_section.text).strip()
            m = _SECTION.match(raw)
            code = m.group(1) if m else ""
            name = clean_text(m.group(2)) if m else clean_text(raw)
            if m and chinese_numeral(code) != n_section:
                raise ParseError(file, c_section.first_line, f"section {n_section}", raw)
            section = b.add_node(
                f"s{n_section}",
                parent_id=None,
                level=1,
                level_label="创建项目",
                code=code,
                title=name,
                text=name,
                text_raw=c_section.text,
                ref=b.ref(c_section),
            )
            if not m:
                b.add_issue(
                    "missing_numbering",
                    f"创建项目 '{name}' is printed without its number; it is the {n_section}th section by position",
                    b.ref(c_section),
                    node_id=section,
                    severity="info",
                    evidence=c_section.text,
                )
        if not c_content.is_empty:
            m = _CONTENT.match(remove_private_use(c_content.text).strip())
            if m is None:
                raise ParseError(file, c_content.first_line, "a 创建内容 such as '1.制定…'", c_content.text)
            content_number = int(m.group(1))
            name = clean_text(m.group(2))
            content = b.add_node(
                str(content_number),
                parent_id=section,
                level=2,
                level_label="创建内容",
                code=m.group(1),
                title=name,
                text=name,
                text_raw=c_content.text,
                ref=b.ref(c_content),
            )
        task_code = clean_text(c_task.text)
        tm = _TASK.match(task_code)
        if tm is None or content is None:
            raise ParseError(file, c_task.first_line, "a task number such as '1.1'", c_task.text)
        if int(tm.group(1)) != content_number:
            b.add_issue("numbering_mismatch", f"task {task_code} sits under 创建内容 {content_number}", b.ref(c_task))
        task_text = clean_text(c_text.text)
        task = b.add_node(
            task_code,
            parent_id=content,
            level=3,
            level_label="创建任务",
            code=task_code,
            title=task_text,
            text=task_text,
            text_raw=c_text.text,
            ref=b.ref(c_task, *responsibility),
        )
        if len(responsibility) == 2:
            first, second = responsibility
            add_departments(b, task, first, "responsible", lead_when_marked=True)
            if not second.is_empty:
                add_departments(b, task, second, "support")
        else:
            add_departments(b, task, responsibility[0], "responsible", lead_when_marked=True)

    b.scheme = _scheme_record(
        "quzhou_tasks", title, "task_breakdown", "owner", "创建项目 | 创建内容 | 创建任务", columns, rows
    )
    return b


def _scheme_record(
    scheme_id: str,
    title: FreeLine,
    kind: str,
    department_role: str | None,
    level_labels: str,
    columns: list[str],
    rows: list[Row],
) -> dict[str, object]:
    return {
        "scheme_id": scheme_id,
        "document_id": "quzhou",
        "city": "衢州市",
        "district": None,
        "admin_level": "prefecture",
        "year": None,
        "title": clean_text(title.text),
        "kind": kind,
        "assessee": "the_city_itself",
        "department_role": department_role,
        "total_points": None,
        "total_points_status": "none",
        "bonus_cap": None,
        "has_bonus": False,
        "has_veto": False,
        "level_labels": level_labels,
        "source_columns": " | ".join(columns),
        "notes": None,
        "raw_ref": f"{FILE}:L{title.line}-L{rows[-1].last_line}",
    }
