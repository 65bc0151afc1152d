"""Changzhou: 常州市创建全国质量强市示范城市工作任务分解表.

Ten sections (一 … 十), each introduced by a prose paragraph that declares
its points (``一、城市质量发展战略规划明确清晰（80分）。…``; section 十 is a
60-point bonus), each followed by a nine-column table: 指标项 | 考核内容 |
分值 | 验收方式 | 考核评分方法 | 工作任务 | 完成时间 | 牵头单位 | 配合单位.
The 50 考核内容 items of the national demonstration-city criteria are
broken down into work tasks numbered ``<item>.<k>``.

The export lost the first cells of fourteen items.  Their rows keep only
the right-hand cells (task, deadline, lead, support, sometimes the scoring
rule and the verification); the lost scoring text or verification method
survives as a free-standing line just above the row.  The parser aligns a
short row to the right, takes the item's number from its first task id,
takes its points from the scoring text, checks them against the section's
declared total, and records every recovery in ``data_issues``.  The item's
title is lost for good and stays empty.

Node ids: sections ``changzhou:s1`` … ``changzhou:s10``, items
``changzhou:1`` … ``changzhou:50``, tasks ``changzhou:18.1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qcompare.model import DocumentResult, SchemeBuilder
from qcompare.parsers.common import (
    ParseError,
    add_departments,
    cell_points,
    check_declared_totals,
    chinese_numeral,
    format_points,
    max_points_from_scoring,
    report_private_use,
)
from qcompare.reader import Cell, FreeLine, Row, read_blocks
from qcompare.text import clean_text, remove_private_use

__all__ = ["parse_changzhou"]

FILE = "changzhou.txt"
WIDTH = 9
_SECTION = re.compile(r"^([一二三四五六七八九十]+)、(.+?)\((此部分为加分项,)?(\d+)分\)。(.*)$", re.S)
_ITEM = re.compile(r"^(\d+)[.．]\s*(.*)$", re.S)
_TASK = re.compile(r"^(\d+)[.．](\d+)\s*(.*)$", re.S)
_SCORING_HINT = re.compile(r"\d+分")


@dataclass
class _Item:
    node_id: str
    number: int
    section: str
    recovered: bool
    orphans: list[FreeLine] = field(default_factory=list)


def _strip_stop(text: str) -> str:
    return text[:-1] if text.endswith("。") else text


def parse_changzhou(text: str, file: str = FILE) -> DocumentResult:
    """Parse the Changzhou document into one scheme."""
    blocks = read_blocks(text, width=WIDTH)
    b = SchemeBuilder("changzhou", file)
    title_lines: list[FreeLine] = []
    header: list[str] | None = None
    header_variants: dict[str, str] = {}
    section: str | None = None
    section_titles: dict[str, str] = {}
    item: _Item | None = None
    items: list[_Item] = []
    orphans: list[FreeLine] = []
    deadlines: set[str] = set()

    for block in blocks:
        if isinstance(block, FreeLine):
            cleaned = clean_text(block.text)
            if not cleaned:
                continue
            m = _SECTION.match(cleaned)
            if m:
                number = chinese_numeral(m.group(1))
                is_bonus = bool(m.group(3))
                section = b.add_node(
                    f"s{number}",
                    parent_id=None,
                    level=1,
                    level_label="指标项",
                    code=m.group(1),
                    title=m.group(2),
                    text=cleaned,
                    text_raw=block.text,
                    ref=b.ref(block),
                    points=float(m.group(4)),
                    points_status="declared",
                    is_bonus=is_bonus,
                )
                section_titles[section] = m.group(2)
                item = None
                continue
            if section is None:
                title_lines.append(block)
            else:
                orphans.append(block)
            continue

        row: Row = block
        cells = [clean_text(c.text) for c in row.cells]
        if cells[0] == "指标项":
            joined = " | ".join(cells)
            if header is None:
                header = cells
            elif joined != " | ".join(header):
                header_variants.setdefault(joined, b.ref(*row.cells))
            if header is not cells:
                b.add_issue(
                    "repeated_header",
                    "table header repeated under the section heading; not data",
                    b.ref(*row.cells),
                    severity="info",
                    evidence=joined,
                )
            continue
        if section is None or header is None:
            raise ParseError(file, row.first_line, "a section heading and a table header before data", row.texts()[0])
        if len(row) > WIDTH:
            raise ParseError(file, row.first_line, f"at most {WIDTH} cells", " | ".join(cells))
        slots: list[Cell | None] = [None] * (WIDTH - len(row)) + list(row.cells)
        label, content, points_cell, verify_cell, rule_cell, task_cell, time_cell, lead_cell, support_cell = slots
        if task_cell is None or task_cell.is_empty:
            raise ParseError(file, row.first_line, "a work task such as '2.1…'", " | ".join(cells))
        task_match = _TASK.match(remove_private_use(task_cell.text).strip())
        if task_match is None:
            raise ParseError(file, task_cell.first_line, "a work task numbered '<item>.<k>'", task_cell.text)
        task_item = int(task_match.group(1))

        if label is not None and not label.is_empty:
            printed = clean_text(label.text)
            if printed == section_titles[section]:
                b.add_issue(
                    "repeated_header",
                    "指标项 cell repeats the section title (a merged cell printed on each page)",
                    b.ref(label),
                    node_id=section,
                    severity="info",
                    evidence=label.text,
                )
            else:
                b.add_issue(
                    "label_mismatch",
                    f"指标项 cell '{printed}' differs from its section title '{section_titles[section]}'",
                    b.ref(label),
                    node_id=section,
                    evidence=label.text,
                )

        if content is not None and not content.is_empty:
            m = _ITEM.match(remove_private_use(content.text).strip())
            if m is None:
                raise ParseError(file, content.first_line, "a 考核内容 such as '2. 为…'", content.text)
            number = int(m.group(1))
            if number != task_item:
                b.add_issue(
                    "numbering_mismatch",
                    f"item {number} starts with task {task_match.group(1)}.{task_match.group(2)}",
                    b.ref(content, task_cell),
                    severity="warning",
                )
            item_text = clean_text(m.group(2))
            item = _Item(b.node_id(str(number)), number, section, recovered=False)
            b.add_node(
                str(number),
                parent_id=section,
                level=2,
                level_label="考核内容",
                code=str(number),
                title=_strip_stop(item_text),
                text=item_text,
                text_raw=content.text,
                ref=b.ref(content, points_cell, verify_cell, rule_cell),
                points=cell_points(points_cell, file),
                points_status="declared",
                is_bonus=b.node(section)["is_bonus"],
                verification=clean_text(verify_cell.text) if verify_cell is not None else None,
            )
            if rule_cell is not None and not rule_cell.is_empty:
                b.add_rule(item.node_id, clean_text(rule_cell.text), b.ref(rule_cell))
            for orphan in orphans:
                b.add_issue(
                    "unparsed_text",
                    "free-standing line above a complete row",
                    b.ref(orphan),
                    severity="warning",
                    evidence=orphan.text,
                )
            items.append(item)
        elif item is None or task_item != item.number:
            item = _recover_item(b, section, task_item, task_match, orphans, verify_cell, rule_cell, row)
            items.append(item)
            _report_unattached(b, item, (points_cell,))
        else:
            for orphan in orphans:
                b.add_issue("unparsed_text", "free-standing line above a task row", b.ref(orphan), evidence=orphan.text)
            _report_unattached(b, item, (points_cell, verify_cell, rule_cell))
        orphans = []

        if task_item != item.number:
            b.add_issue(
                "numbering_mismatch",
                f"task {task_match.group(1)}.{task_match.group(2)} sits under item {item.number}",
                b.ref(task_cell),
            )
        deadline = clean_text(time_cell.text) if time_cell is not None else ""
        deadlines.add(deadline)
        task_text = clean_text(task_match.group(3))
        task_id = b.add_node(
            f"{task_match.group(1)}.{task_match.group(2)}",
            parent_id=item.node_id,
            level=3,
            level_label="工作任务",
            code=f"{task_match.group(1)}.{task_match.group(2)}",
            title=_strip_stop(task_text),
            text=task_text,
            text_raw=task_cell.text,
            ref=b.ref(task_cell, time_cell, lead_cell, support_cell),
            is_bonus=b.node(section)["is_bonus"],
            deadline=deadline,
        )
        for cell, role in ((lead_cell, "lead"), (support_cell, "support")):
            if cell is not None and not cell.is_empty:
                add_departments(b, task_id, cell, role)
            else:
                b.add_issue("lost_cell", f"task has no {role} unit", b.ref(task_cell), node_id=task_id)

    if header is None:
        raise ParseError(file, 1, "a table header starting with 指标项", "")
    if not title_lines:
        raise ParseError(file, 1, "the document title above the first section heading", "")
    for orphan in orphans:
        b.add_issue("unparsed_text", "free-standing line after the last table row", b.ref(orphan), evidence=orphan.text)
    for variant, variant_ref in sorted(header_variants.items()):
        b.add_issue(
            "header_variant",
            "a repeated header words a column differently from the first header",
            variant_ref,
            severity="info",
            evidence=variant,
        )
    _check_recovered_points(b, items)
    check_declared_totals(b)
    report_private_use(b, text, 1, len(text.split("\n")))
    b.add_issue(
        "year_not_stated",
        "the document names no year; its tasks are due " + ", ".join(sorted(d for d in deadlines if d)),
        b.ref(*title_lines),
        severity="info",
    )
    sections = [n for n in b.nodes if n["level"] == 1]
    b.scheme = {
        "scheme_id": "changzhou",
        "document_id": "changzhou",
        "city": "常州市",
        "district": None,
        "admin_level": "prefecture",
        "year": None,
        "title": "".join(clean_text(t.text) for t in title_lines),
        "kind": "demonstration_city",
        "assessee": "the_city_itself",
        "department_role": "owner",
        "total_points": sum(n["points"] for n in sections if not n["is_bonus"]),
        "total_points_status": "derived_sum",
        "bonus_cap": sum(n["points"] for n in sections if n["is_bonus"]) or None,
        "has_bonus": any(n["is_bonus"] for n in sections),
        "has_veto": False,
        "level_labels": "指标项 | 考核内容 | 工作任务",
        "source_columns": " | ".join(header),
        "notes": None,
        "raw_ref": b.ref_lines(1, blocks[-1].last_line if isinstance(blocks[-1], Row) else blocks[-1].line),
    }
    return DocumentResult("changzhou", [b])


def _report_unattached(b: SchemeBuilder, item: _Item, cells: tuple[Cell | None, ...]) -> None:
    """Keep item-level cells of a task row that continues an item (nothing there to attach them to)."""
    for cell in cells:
        if cell is not None and not cell.is_empty:
            b.add_issue(
                "unparsed_text",
                f"item-level cell in a task row of item {item.number}; not attached to the item",
                b.ref(cell),
                node_id=item.node_id,
                evidence=cell.text,
            )


def _recover_item(
    b: SchemeBuilder,
    section: str,
    number: int,
    task_match: re.Match[str],
    orphans: list[FreeLine],
    verify_cell: Cell | None,
    rule_cell: Cell | None,
    row: Row,
) -> _Item:
    """Rebuild an item whose first cells the export lost."""
    task_code = f"{task_match.group(1)}.{task_match.group(2)}"
    scoring = [o for o in orphans if _SCORING_HINT.search(clean_text(o.text))]
    verification = [o for o in orphans if o not in scoring]
    rule_text, rule_ref = None, None
    if rule_cell is not None and not rule_cell.is_empty:
        rule_text, rule_ref = clean_text(rule_cell.text), b.ref(rule_cell)
        for orphan in scoring:
            b.add_issue("unparsed_text", "second scoring text for one item", b.ref(orphan), evidence=orphan.text)
    elif scoring:
        rule_text = "".join(clean_text(o.text) for o in scoring)
        rule_ref = b.ref(*scoring)
    verify_text = None
    if verify_cell is not None and not verify_cell.is_empty:
        verify_text = clean_text(verify_cell.text)
    if verification:
        orphan_text = "".join(clean_text(o.text) for o in verification)
        verify_text = orphan_text if verify_text is None else verify_text + orphan_text
    recovered = max_points_from_scoring(rule_text) if rule_text else None
    node_id = b.add_node(
        str(number),
        parent_id=section,
        level=2,
        level_label="考核内容",
        code=str(number),
        title="",
        text="",
        text_raw="",
        ref=b.ref(*orphans, *row.cells),
        points=recovered[0] if recovered else None,
        points_status="recovered",
        is_bonus=b.node(section)["is_bonus"],
        verification=verify_text,
    )
    if rule_text is not None and rule_ref is not None:
        b.add_rule(node_id, rule_text, rule_ref)
    b.add_issue(
        "recovered_cell",
        f"item {number}: the export lost its 考核内容, 分值 and leading cells; "
        f"its number is taken from its first task {task_code}",
        b.ref(*orphans, *row.cells),
        node_id=node_id,
        severity="info",
        evidence=f"task id {task_code}",
    )
    if scoring and not (rule_cell is not None and not rule_cell.is_empty):
        b.add_issue(
            "recovered_cell",
            f"item {number}: its 考核评分方法 was exported as a free-standing line above the row",
            b.ref(*scoring),
            node_id=node_id,
            severity="info",
            evidence=rule_text,
        )
    if verification:
        b.add_issue(
            "recovered_cell",
            f"item {number}: its 验收方式 was exported as a free-standing line above the row",
            b.ref(*verification),
            node_id=node_id,
            severity="info",
            evidence=verify_text,
        )
    b.add_issue(
        "lost_cell",
        f"item {number}: the 考核内容 (title) is lost in the export and nothing in this document restores it",
        b.ref(*orphans, *row.cells),
        node_id=node_id,
    )
    if recovered is None:
        b.add_issue(
            "lost_cell",
            f"item {number}: no scoring text survives to recover its points",
            b.ref(*orphans, *row.cells),
            node_id=node_id,
        )
    return _Item(node_id, number, section, recovered=True, orphans=list(orphans))


def _check_recovered_points(b: SchemeBuilder, items: list[_Item]) -> None:
    """Add the scoring-text reading and the section-total check to each
    recovered item's evidence."""
    for item in items:
        if not item.recovered:
            continue
        node = b.node(item.node_id)
        section = b.node(item.section)
        siblings = [i for i in items if i.section == item.section]
        declared = sum(b.node(i.node_id)["points"] or 0 for i in siblings if not i.recovered)
        recovered = [i for i in siblings if i.recovered]
        room = section["points"] - declared
        rule_texts = [r["rule_text"] for r in b.rules if r["node_id"] == item.node_id]
        reading = max_points_from_scoring(rule_texts[0]) if rule_texts else None
        if reading is None:
            continue
        numbers = " + ".join(f"{i.number}: {format_points(b.node(i.node_id)['points'])}" for i in recovered)
        recovered_sum = sum(b.node(i.node_id)["points"] or 0 for i in recovered)
        agrees = abs(recovered_sum - room) < 1e-9
        if len(recovered) == 1:
            section_says = (
                f"section {section['code']} declares {format_points(section['points'])} and its other items "
                f"sum to {format_points(declared)}, leaving {format_points(room)}"
            )
        else:
            section_says = (
                f"section {section['code']} declares {format_points(section['points'])}, its printed items sum to "
                f"{format_points(declared)}, so its recovered items ({numbers}) must sum to {format_points(room)}"
            )
        b.add_issue(
            "recovered_cell",
            f"item {item.number}: points {format_points(node['points'])} recovered from the scoring text "
            f"({reading[1]}); {section_says}: " + ("agrees" if agrees else "DISAGREES"),
            node["raw_ref"],
            node_id=item.node_id,
            severity="info" if agrees else "warning",
            evidence=reading[1],
        )
