"""Xinbei: 2011年新北区质量振兴工作实施意见, a plan with three annexes.

Four schemes come from this document:

``xinbei_goals``
    The plan's own prose: 一、指导思想, 二、主要目标 (（一）… （五）, with
    numbered goals under （一）), 三、工作要求.  Unscored; every goal
    paragraph is kept as a target text.
``xinbei_tasks``
    Annex 1, 目标任务责任分解表: 序号 | 工作内容 | 工作目标 | 牵头部门 |
    配合部门, where 工作目标 spans a short label and the target text, so
    data rows carry six cells.  Groups 2 and 3 share one title.
``xinbei_towns``
    Annex 2, the scoring rules for towns and streets: 序号 | 考核内容 |
    评分方法 | 标准分 | 实得分.
``xinbei_departments``
    Annex 3, the scoring rules for district departments, introduced by four
    general rules (``考核总分为100分``, ``加分项上不封顶``): 序号 | 考核内容 |
    考核方法 | 分值 | 扣分原因 | 实得分 | 备注.

The issuing notice above the plan is not part of any scheme; its lines are
kept in ``data_issues`` as ``unparsed_text``.
"""

from __future__ import annotations

import re

from qcompare.model import DocumentResult, SchemeBuilder
from qcompare.parsers.common import (
    ParseError,
    add_departments,
    cell_points,
    check_declared_totals,
    chinese_numeral,
    format_points,
    report_private_use,
    report_unparsed,
)
from qcompare.reader import Block, Cell, FreeLine, Row, iter_free_lines, iter_rows, read_blocks
from qcompare.text import clean_text, remove_private_use

__all__ = ["parse_xinbei"]

FILE = "xinbei.txt"
_ANNEX = re.compile(r"^附件(\d)[:：]$")
_PLAN_TITLE = re.compile(r"^\d{4}年.*实施意见$")
_LEVEL1 = re.compile(r"^([一二三四五六七八九十]+)、(.+)$")
_LEVEL2 = re.compile(r"^[(（]([一二三四五六七八九十]+)[)）](.+)$")
_ITEM = re.compile(r"^(\d+)\s*[.．]\s*(.+)$", re.S)
_YEAR = 2011


def parse_xinbei(text: str, file: str = FILE) -> DocumentResult:
    """Parse the Xinbei document into its four schemes."""
    blocks = read_blocks(text)
    starts = [i for i, blk in enumerate(blocks) if isinstance(blk, FreeLine) and _ANNEX.match(clean_text(blk.text))]
    if len(starts) != 3:
        raise ParseError(file, 1, "three annex markers '附件1：' … '附件3：'", f"{len(starts)} found")
    plan, annex1, annex2, annex3 = (
        blocks[: starts[0]],
        blocks[starts[0] : starts[1]],
        blocks[starts[1] : starts[2]],
        blocks[starts[2] :],
    )
    goals = _parse_goals(plan, file)
    tasks = _parse_tasks(annex1, file)
    towns = _parse_scored_annex(annex2, file, "xinbei_towns", "towns_streets")
    departments = _parse_scored_annex(annex3, file, "xinbei_departments", "departments")
    report_private_use(goals, text, 1, len(text.split("\n")))
    return DocumentResult("xinbei", [goals, tasks, towns, departments])


def _scheme(
    scheme_id: str,
    title: str,
    kind: str,
    assessee: str,
    department_role: str | None,
    ref: str,
    **extra: object,
) -> dict[str, object]:
    record: dict[str, object] = {
        "scheme_id": scheme_id,
        "document_id": "xinbei",
        "city": "常州市",
        "district": "新北区",
        "admin_level": "district",
        "year": _YEAR,
        "title": title,
        "kind": kind,
        "assessee": assessee,
        "department_role": department_role,
        "total_points": None,
        "total_points_status": "none",
        "bonus_cap": None,
        "has_bonus": False,
        "has_veto": False,
        "level_labels": None,
        "source_columns": None,
        "notes": None,
        "raw_ref": ref,
    }
    record.update(extra)
    return record


def _first_sentence(text: str) -> str:
    return re.split(r"[。;；]", text, maxsplit=1)[0]


def _parse_goals(blocks: list[Block], file: str) -> SchemeBuilder:
    b = SchemeBuilder("xinbei_goals", file)
    lines = [line for line in iter_free_lines(blocks) if clean_text(line.text)]
    rows = list(iter_rows(blocks))
    report_unparsed(b, rows, "table row inside the plan's prose")
    title_at = next((i for i, f in enumerate(lines) if _PLAN_TITLE.match(clean_text(f.text))), None)
    if title_at is None:
        raise ParseError(file, 1, "the plan's title line '…年…实施意见'", lines[0].text if lines else "")
    title = lines[title_at]
    for line in lines[:title_at]:
        b.add_issue(
            "unparsed_text",
            "issuing notice above the plan (letterhead, document number, addressees, date); not a scheme",
            b.ref(line),
            severity="info",
            evidence=line.text,
        )
    notes: list[FreeLine] = []
    level1: str | None = None
    level2: str | None = None
    current: str | None = None
    in_annex_list = False
    for line in lines[title_at + 1 :]:
        cleaned = clean_text(line.text)
        if cleaned.startswith("附件:") or in_annex_list:
            in_annex_list = True
            notes.append(line)
            continue
        m1 = _LEVEL1.match(cleaned)
        m2 = _LEVEL2.match(cleaned)
        m3 = _ITEM.match(cleaned)
        if m1 and len(cleaned) <= 12:
            level1 = b.add_node(
                str(chinese_numeral(m1.group(1))),
                parent_id=None,
                level=1,
                level_label="部分",
                code=m1.group(1),
                title=m1.group(2),
                text="",
                text_raw=line.text,
                ref=b.ref(line),
            )
            level2, current = None, level1
        elif m2 and len(cleaned) <= 12 and level1 is not None:
            level2 = b.add_node(
                f"{level1.split(':')[1]}.{chinese_numeral(m2.group(1))}",
                parent_id=level1,
                level=2,
                level_label="目标类别",
                code=remove_private_use(line.text).strip()[: len(m2.group(1)) + 2],
                title=m2.group(2),
                text="",
                text_raw=line.text,
                ref=b.ref(line),
            )
            current = level2
        elif m3 and level1 is not None:
            parent = level2 or level1
            item = b.add_node(
                f"{parent.split(':')[1]}.{int(m3.group(1))}",
                parent_id=parent,
                level=b.node(parent)["level"] + 1,
                level_label="目标" if level2 else "要求",
                code=m3.group(1),
                title=_first_sentence(m3.group(2)),
                text=m3.group(2),
                text_raw=line.text,
                ref=b.ref(line),
            )
            if level2:
                b.add_target(item, m3.group(2), b.ref(line))
            current = item
        elif current is not None:
            node = b.node(current)
            node["text"] = (node["text"] + "\n" + cleaned).strip()
            node["text_raw"] = node["text_raw"] + "\n" + line.text
            first = int(node["raw_ref"].split(":L")[1].split("-")[0])
            node["raw_ref"] = b.ref_lines(first, line.line)
            if node["level"] == 2 and level1 is not None and b.node(level1)["title"] == "主要目标":
                b.add_target(current, cleaned, b.ref(line))
        else:
            notes.append(line)
    for node in b.nodes:
        if not node["text"]:
            node["text"] = node["title"]
    b.scheme = _scheme(
        "xinbei_goals",
        clean_text(title.text),
        "implementation_plan",
        "the_city_itself",
        None,
        b.ref_lines(title.line, lines[-1].line),
        level_labels="部分 | 目标类别 | 目标",
        notes="\n".join(clean_text(n.text) for n in notes) or None,
    )
    return b


def _annex_title(b: SchemeBuilder, blocks: list[Block], file: str) -> tuple[FreeLine, list[FreeLine], list[Row]]:
    free = [line for line in iter_free_lines(blocks) if clean_text(line.text)]
    rows = list(iter_rows(blocks))
    if len(free) < 2 or not rows:
        raise ParseError(file, free[0].line if free else 1, "an annex marker, a title and a table", "")
    marker, title = free[0], free[1]
    b.add_issue("unparsed_text", "annex marker above the title", b.ref(marker), severity="info", evidence=marker.text)
    return title, free[2:], rows


def _parse_tasks(blocks: list[Block], file: str) -> SchemeBuilder:
    b = SchemeBuilder("xinbei_tasks", file)
    title, rest, rows = _annex_title(b, blocks, file)
    report_unparsed(b, rest, "line outside the task table")
    header = rows[0]
    columns = [clean_text(c.text) for c in header.cells]
    if columns[:2] != ["序号", "工作内容"] or len(columns) != 5:
        raise ParseError(
            file, header.first_line, "the header 序号 | 工作内容 | 工作目标 | 牵头部门 | 配合部门", " | ".join(columns)
        )
    group: str | None = None
    group_titles: dict[str, str] = {}
    label_cell: Cell | None = None
    count = 0
    for row in rows[1:]:
        if len(row) != 6:
            raise ParseError(file, row.first_line, "a six-cell task row", " | ".join(row.texts()))
        c_num, c_work, c_label, c_text, c_lead, c_support = row.cells
        if not c_num.is_empty:
            number = clean_text(c_num.text)
            name = clean_text(c_work.text)
            group = b.add_node(
                number,
                parent_id=None,
                level=1,
                level_label="工作内容",
                code=number,
                title=name,
                text=name,
                text_raw=c_work.text,
                ref=b.ref(c_num, c_work),
            )
            for other, other_name in group_titles.items():
                if other_name == name:
                    b.add_issue(
                        "duplicate_title",
                        f"groups {b.node(other)['code']} and {number} share the title '{name}'",
                        b.ref(c_work),
                        node_id=group,
                        severity="info",
                    )
            group_titles[group] = name
            count, label_cell = 0, None
        elif not c_work.is_empty:
            b.add_issue(
                "unparsed_text",
                "工作内容 cell in a row without a 序号; not read as a new group",
                b.ref(c_work),
                node_id=group,
                evidence=c_work.text,
            )
        if group is None:
            raise ParseError(file, row.first_line, "a 序号 on the first task row", " | ".join(row.texts()))
        count += 1
        filled = c_label.is_empty
        if not filled:
            label_cell = c_label
        if label_cell is None:
            raise ParseError(file, c_label.first_line, "a 工作目标 label", "")
        label = clean_text(label_cell.text)
        target = clean_text(c_text.text)
        task = b.add_node(
            f"{group.split(':')[1]}.{count}",
            parent_id=group,
            level=2,
            level_label="工作目标",
            code="",
            title=label,
            text=target,
            text_raw=c_text.text,
            ref=b.ref(c_label, c_text, c_lead, c_support),
        )
        if filled:
            b.add_issue(
                "filled_down",
                f"the 工作目标 label is empty; filled down from '{label}' above (a merged cell)",
                b.ref(c_label),
                node_id=task,
                severity="info",
            )
        b.add_target(task, target, b.ref(c_text))
        add_departments(b, task, c_lead, "lead")
        if not c_support.is_empty:
            add_departments(b, task, c_support, "support")
    b.scheme = _scheme(
        "xinbei_tasks",
        clean_text(title.text),
        "task_breakdown",
        "the_city_itself",
        "owner",
        b.ref_lines(title.line, rows[-1].last_line),
        level_labels="工作内容 | 工作目标",
        source_columns=" | ".join(columns),
    )
    return b


def _parse_scored_annex(blocks: list[Block], file: str, scheme_id: str, assessee: str) -> SchemeBuilder:
    """Annexes 2 and 3: one row per scored item, no departments named."""
    b = SchemeBuilder(scheme_id, file)
    title, rest, rows = _annex_title(b, blocks, file)
    header = rows[0]
    columns = [clean_text(c.text) for c in header.cells]
    if columns[0] != "序号" or len(columns) not in (5, 7):
        raise ParseError(file, header.first_line, "a header starting with 序号 (5 or 7 columns)", " | ".join(columns))
    rules_before = [f for f in rest if f.line < header.first_line]
    after = [f for f in rest if f.line > rows[-1].last_line]
    points_at = 3
    declared_total = None
    bonus_uncapped = False
    for line in rules_before:
        cleaned = clean_text(line.text)
        total = re.search(r"总分为(\d+)分", cleaned)
        if total:
            declared_total = float(total.group(1))
        if "上不封顶" in cleaned:
            bonus_uncapped = True
    for row in rows[1:]:
        if len(row) != len(columns):
            raise ParseError(file, row.first_line, f"a {len(columns)}-cell row", " | ".join(row.texts()))
        c_num, c_content, c_method = row.cells[:3]
        c_points = row.cells[points_at]
        for form_cell in row.cells[points_at + 1 :]:
            if not form_cell.is_empty:
                b.add_issue(
                    "unparsed_text", "a blank-form column holds text", b.ref(form_cell), evidence=form_cell.text
                )
        number = clean_text(c_num.text)
        content = clean_text(c_content.text)
        method = clean_text(c_method.text)
        is_bonus = "加分" in content
        node = b.add_node(
            number,
            parent_id=None,
            level=1,
            level_label=columns[1],
            code=number,
            title=_first_sentence(content),
            text=content,
            text_raw=c_content.text,
            ref=b.ref(c_num, c_content, c_points),
            points=cell_points(c_points, file),
            points_status="declared",
            is_bonus=is_bonus,
        )
        b.add_rule(node, method, b.ref(c_method), rule_type="bonus" if is_bonus else None)
    items = [n for n in b.nodes if n["points"] is not None]
    total = sum(n["points"] for n in items)
    base = sum(n["points"] for n in items if not n["is_bonus"])
    if declared_total is not None:
        if abs(total - declared_total) > 1e-9:
            b.add_issue(
                "total_mismatch",
                f"the rules declare a total of {format_points(declared_total)} "
                f"but the items sum to {format_points(total)}",
                b.ref(*rules_before),
                severity="warning",
            )
        bonus_items = [n for n in items if n["is_bonus"]]
        if bonus_items and abs(base - declared_total) > 1e-9:
            names = ", ".join(f"item {n['code']} ({format_points(n['points'])})" for n in bonus_items)
            b.add_issue(
                "bonus_in_total",
                f"the declared {format_points(declared_total)} points include the bonus {names}; "
                f"the other items sum to {format_points(base)}",
                b.ref(*rules_before),
                severity="info",
            )
    check_declared_totals(b)
    report_unparsed(
        b,
        after,
        "form footer below the table (blank fields for the assessed body and its score)",
    )
    b.scheme = _scheme(
        scheme_id,
        clean_text(title.text),
        "annual_assessment",
        assessee,
        None,
        b.ref_lines(title.line, max([rows[-1].last_line, *(f.line for f in after)])),
        total_points=declared_total if declared_total is not None else total,
        total_points_status="declared" if declared_total is not None else "derived_sum",
        has_bonus=bonus_uncapped
        or any(n["is_bonus"] for n in b.nodes)
        or any(re.search(r"加\d+分", r["rule_text"]) for r in b.rules),
        level_labels=columns[1],
        source_columns=" | ".join(columns),
        notes="\n".join(clean_text(f.text) for f in rules_before) or None,
    )
    return b
