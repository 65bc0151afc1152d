"""Nantong: 南通市质量工作考核指标体系 (annual assessment of county governments).

One six-column table: 一级指标 | 二级指标 | 三级指标 | 考核要点 |
指标设置、考核的主要负责部门 | 分值, then a bonus row (加分项) and a veto row
(否决项), then notes.  Points sit on the first 考核要点 row of each 三级指标
(the cell is merged over the group); department cells left empty are
merged with the row above and are filled down within the 三级指标.  The
一级/二级 labels repeat at page breaks; a repeat is reported, not added.

Node ids follow the printed numbering as a path:
``nantong:1`` (一), ``nantong:1.1`` (（一）), ``nantong:1.1.1`` (1．),
``nantong:1.1.1.(1)`` (（1）).  The numbers are the document's own, which
are global for every level (（十一） is the eleventh 二级指标).
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
    derive_parent_points,
    report_private_use,
    split_table,
)
from qcompare.reader import Cell, read_blocks
from qcompare.text import clean_text, remove_private_use

__all__ = ["parse_nantong"]

FILE = "nantong.txt"
_LEVEL1 = re.compile(r"^([一二三四五六七八九十]+)、\s*(.*)$", re.S)
_LEVEL2 = re.compile(r"^[(（]([一二三四五六七八九十]+)[)）]\s*(.*)$", re.S)
_LEVEL3 = re.compile(r"^(\d+)[.．]\s*(.*)$", re.S)
_CHECKPOINT = re.compile(r"^[(（](\d+)[)）]\s*(.*)$", re.S)


def _match(pattern: re.Pattern[str], cell: Cell, expected: str, file: str) -> re.Match[str]:
    match = pattern.match(remove_private_use(cell.text).strip())
    if match is None:
        raise ParseError(file, cell.first_line, expected, cell.text)
    return match


def parse_nantong(text: str, file: str = FILE) -> DocumentResult:
    """Parse the Nantong document into one scheme."""
    blocks = read_blocks(text)
    b = SchemeBuilder("nantong", file)
    rows, free, columns = split_table(blocks, file, text[:40])
    header = rows[0]
    if len(columns) != 6 or columns[0] != "一级指标" or columns[-1] != "分值":
        raise ParseError(file, header.first_line, "the six-column header 一级指标 … 分值", " | ".join(columns))

    title_line = next((f for f in free if "指标体系" in f.text), None)
    if title_line is None:
        raise ParseError(file, 1, "a title line naming the 指标体系", free[0].text if free else "")
    notes = [f for f in free if f.line > rows[-1].last_line]
    preamble = [f for f in free if f.line < header.first_line and f is not title_line]

    level1: str | None = None
    level2: str | None = None
    level3: str | None = None
    level3_first_row = False
    last_departments: Cell | None = None
    l1_key = l2_key = ""

    for row in rows[1:]:
        first = clean_text(row.cells[0].text)
        if len(row) == 2 and first in ("加分项", "否决项"):
            is_bonus = first == "加分项"
            local = "bonus" if is_bonus else "veto"
            body = clean_text(row.cells[1].text)
            node_id = b.add_node(
                local,
                parent_id=None,
                level=1,
                level_label=first,
                code="",
                title=first,
                text=body,
                text_raw=row.cells[1].text,
                ref=b.ref(*row.cells),
                is_bonus=is_bonus,
                is_veto=not is_bonus,
            )
            b.add_rule(node_id, body, b.ref(row.cells[1]), rule_type="bonus" if is_bonus else "veto")
            continue
        if len(row) != 6:
            raise ParseError(file, row.first_line, "a six-cell row", " | ".join(row.texts()))
        c1, c2, c3, c4, c5, c6 = row.cells

        if not c1.is_empty:
            m = _match(_LEVEL1, c1, "a 一级指标 such as '一、质量宏观管理'", file)
            key = f"{m.group(1)}|{clean_text(m.group(2))}"
            if key == l1_key:
                b.add_issue(
                    "repeated_header",
                    f"一级指标 '{clean_text(c1.text)}' repeated at a page break; not a new node",
                    b.ref(c1),
                    node_id=level1,
                    severity="info",
                    evidence=c1.text,
                )
            else:
                l1_key = key
                number = chinese_numeral(m.group(1))
                level1 = b.add_node(
                    str(number),
                    parent_id=None,
                    level=1,
                    level_label=columns[0],
                    code=m.group(1),
                    title=clean_text(m.group(2)),
                    text=clean_text(m.group(2)),
                    text_raw=c1.text,
                    ref=b.ref(c1),
                )
                l2_key = ""
        if not c2.is_empty:
            m = _match(_LEVEL2, c2, "a 二级指标 such as '（一）规划战略制定'", file)
            key = f"{m.group(1)}|{clean_text(m.group(2))}"
            if key == l2_key:
                b.add_issue(
                    "repeated_header",
                    f"二级指标 '{clean_text(c2.text)}' repeated at a page break; not a new node",
                    b.ref(c2),
                    node_id=level2,
                    severity="info",
                    evidence=c2.text,
                )
            else:
                l2_key = key
                assert level1 is not None
                level2 = b.add_node(
                    f"{level1.split(':')[1]}.{chinese_numeral(m.group(1))}",
                    parent_id=level1,
                    level=2,
                    level_label=columns[1],
                    code=m.string[: m.start(2)].strip(),
                    title=clean_text(m.group(2)),
                    text=clean_text(m.group(2)),
                    text_raw=c2.text,
                    ref=b.ref(c2),
                )
        if not c3.is_empty:
            m = _match(_LEVEL3, c3, "a 三级指标 such as '1．质量发展规划制定与实施'", file)
            assert level2 is not None
            points = cell_points(c6, file)
            level3 = b.add_node(
                f"{level2.split(':')[1]}.{int(m.group(1))}",
                parent_id=level2,
                level=3,
                level_label=columns[2],
                code=m.group(1),
                title=clean_text(m.group(2)),
                text=clean_text(m.group(2)),
                text_raw=c3.text,
                ref=b.ref(c3, c6),
                points=points,
                points_status="declared",
            )
            level3_first_row = True
            last_departments = None
            if points is None:
                b.add_issue(
                    "lost_cell",
                    f"三级指标 {m.group(1)} has no 分值 on its first row; nothing in the document restores it",
                    b.ref(c3),
                    node_id=level3,
                )
        elif not c6.is_empty:
            b.add_issue(
                "unexpected_value",
                "a 分值 appears on a row that does not start a 三级指标",
                b.ref(c6),
                node_id=level3,
                evidence=c6.text,
            )
        m = _match(_CHECKPOINT, c4, "a 考核要点 such as '（1）…'", file)
        assert level3 is not None
        text_ = clean_text(m.group(2))
        leaf = b.add_node(
            f"{level3.split(':')[1]}.({int(m.group(1))})",
            parent_id=level3,
            level=4,
            level_label=columns[3],
            code=m.string[: m.start(2)].strip(),
            title=text_,
            text=text_,
            text_raw=c4.text,
            ref=b.ref(c4),
        )
        if not c5.is_empty:
            add_departments(b, leaf, c5, "assessor")
            last_departments = c5
        elif last_departments is not None and not level3_first_row:
            add_departments(b, leaf, last_departments, "assessor", inherited=True)
        else:
            b.add_issue(
                "lost_cell", "考核要点 has no department and none above it in its 三级指标", b.ref(c5), node_id=leaf
            )
        level3_first_row = False

    derive_parent_points(b)
    check_declared_totals(b)
    for line in preamble:
        b.add_issue("unparsed_text", "annex marker above the title", b.ref(line), severity="info", evidence=line.text)
    total = sum(n["points"] for n in b.nodes if n["level"] == 1 and n["points"] is not None and not n["is_bonus"])
    bonus = next((n for n in b.nodes if n["is_bonus"]), None)
    cap = re.search(r"不超过(\d+)分", bonus["text"]) if bonus is not None else None
    b.add_issue(
        "year_not_stated",
        "the document does not say which year it applies to; year left empty",
        b.ref(title_line),
        severity="info",
    )
    report_private_use(b, text, 1, len(text.split("\n")))
    b.scheme = {
        "scheme_id": "nantong",
        "document_id": "nantong",
        "city": "南通市",
        "district": None,
        "admin_level": "prefecture",
        "year": None,
        "title": clean_text(title_line.text),
        "kind": "annual_assessment",
        "assessee": "county_governments",
        "department_role": "assessor",
        "total_points": total,
        "total_points_status": "derived_sum",
        "bonus_cap": float(cap.group(1)) if cap else None,
        "has_bonus": bonus is not None,
        "has_veto": any(n["is_veto"] for n in b.nodes),
        "level_labels": " | ".join(columns[:4]),
        "source_columns": " | ".join(columns),
        "notes": "\n".join(clean_text(f.text) for f in notes) or None,
        "raw_ref": b.ref_lines(1, rows[-1].last_line if not notes else notes[-1].line),
    }
    return DocumentResult("nantong", [b])
