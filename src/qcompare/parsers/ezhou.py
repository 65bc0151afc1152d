"""Ezhou: 2013年度鄂州市质量工作考核评分细则 (100-point scoring rules).

One seven-column table: 考核内容 | 序号 | 考核指标 | 考核要点 | 分值 |
评分标准 | 考核部门.  Two categories (质量目标（40分）, 质量措施（60分）)
hold six numbered 考核指标 groups with declared points; each group holds
scored 考核要点.  The last row is the veto (否决项), exported with five
cells because its middle cells were merged across columns.

The export repeats the text of some merged cells inside the cell
(``质量措施（60分）`` four times, ``4`` twice); the parser collapses the
copies and reports them.

Node ids: categories ``ezhou:targets`` (质量目标), ``ezhou:measures``
(质量措施) and ``ezhou:veto`` (否决项); groups ``ezhou:1`` … ``ezhou:7`` by
their printed 序号; checkpoints ``ezhou:<group>.<k>`` by their order in the
group (the document does not number them).
"""

from __future__ import annotations

from qcompare.model import DocumentResult, SchemeBuilder
from qcompare.parsers.common import (
    ParseError,
    add_departments,
    cell_points,
    check_declared_totals,
    collapse_repeats,
    derive_parent_points,
    report_private_use,
    report_unparsed,
    split_declared_points,
    split_table,
)
from qcompare.reader import Cell, Row, read_blocks
from qcompare.text import clean_text

__all__ = ["parse_ezhou"]

FILE = "ezhou.txt"
_CATEGORY_IDS = {"质量目标": "targets", "质量措施": "measures", "否决项": "veto"}


def _collapsed(b: SchemeBuilder, cell: Cell, what: str, node_id: str | None = None) -> str:
    text, copies = collapse_repeats(cell.text)
    if copies > 1:
        b.add_issue(
            "repeated_header",
            f"the merged {what} cell repeats its text {copies} times in the export; read once",
            b.ref(cell),
            node_id=node_id,
            severity="info",
            evidence=cell.text,
        )
    return text


def parse_ezhou(text: str, file: str = FILE) -> DocumentResult:
    """Parse the Ezhou document into one scheme."""
    blocks = read_blocks(text)
    b = SchemeBuilder("ezhou", file)
    rows, free, columns = split_table(blocks, file, text[:40])
    header = rows[0]
    if columns[:2] != ["考核内容", "序号"] or len(columns) != 7:
        raise ParseError(file, header.first_line, "the seven-column header 考核内容 | 序号 | …", " | ".join(columns))
    title_line = next((f for f in free if "评分细则" in f.text), None)
    if title_line is None:
        raise ParseError(file, 1, "a title line naming the 评分细则", free[0].text if free else "")

    category: str | None = None
    group: str | None = None
    group_count = 0
    for row in rows[1:]:
        if len(row) == 5 and clean_text(row.cells[0].text) == "否决项":
            _add_veto(b, row, columns)
            continue
        if len(row) != 7:
            raise ParseError(file, row.first_line, "a seven-cell row", " | ".join(row.texts()))
        c_cat, c_num, c_group, c_point, c_score, c_rule, c_dept = row.cells
        if not c_cat.is_empty:
            title, points = split_declared_points(_collapsed(b, c_cat, "考核内容"))
            if title not in _CATEGORY_IDS or points is None:
                raise ParseError(file, c_cat.first_line, "a category 质量目标 or 质量措施 with its points", c_cat.text)
            category = b.add_node(
                _CATEGORY_IDS[title],
                parent_id=None,
                level=1,
                level_label=columns[0],
                code="",
                title=title,
                text=clean_text(c_cat.text.split("\n\n")[0]),
                text_raw=c_cat.text,
                ref=b.ref(c_cat),
                points=points,
                points_status="declared",
            )
        if not c_num.is_empty:
            number = _collapsed(b, c_num, "序号")
            if c_group.is_empty:
                raise ParseError(file, c_group.first_line, "a 考核指标 beside 序号 " + number, "")
            title, points = split_declared_points(_collapsed(b, c_group, "考核指标"))
            assert category is not None
            group = b.add_node(
                number,
                parent_id=category,
                level=2,
                level_label=columns[2],
                code=number,
                title=title,
                text=title,
                text_raw=c_group.text,
                ref=b.ref(c_num, c_group),
                points=points,
                points_status="declared",
            )
            group_count = 0
        elif not c_group.is_empty:
            b.add_issue(
                "unparsed_text",
                "考核指标 cell in a row without a 序号; not read as a new indicator",
                b.ref(c_group),
                node_id=group,
                evidence=c_group.text,
            )
        if group is None:
            raise ParseError(file, row.first_line, "a 序号 before the first 考核要点", " | ".join(row.texts()))
        group_count += 1
        if c_score.is_empty:
            raise ParseError(file, c_score.first_line, "a 分值 beside every 考核要点", c_point.text)
        point_text = clean_text(c_point.text).replace("\n", "")
        leaf = b.add_node(
            f"{group.split(':')[1]}.{group_count}",
            parent_id=group,
            level=3,
            level_label=columns[3],
            code="",
            title=point_text,
            text=point_text,
            text_raw=c_point.text,
            ref=b.ref(c_point, c_score),
            points=cell_points(c_score, file),
            points_status="declared",
        )
        if not c_rule.is_empty:
            b.add_rule(leaf, clean_text(c_rule.text), b.ref(c_rule))
        add_departments(b, leaf, c_dept, "assessor")

    derive_parent_points(b)
    check_declared_totals(b)
    leaves = [n for n in b.nodes if n["level"] == 3]
    categories = [n for n in b.nodes if n["level"] == 1 and not n["is_veto"]]
    declared_total = sum(n["points"] for n in categories)
    leaf_total = sum(n["points"] for n in leaves)
    if leaf_total != declared_total:
        parts = " + ".join(f"{n['title']} {n['points']:g}" for n in categories)
        b.add_issue(
            "total_mismatch",
            f"the scheme states no overall total; its categories declare {parts} = {declared_total:g}, "
            f"but its scored 考核要点 sum to {leaf_total:g}",
            b.ref_lines(header.first_line, rows[-1].last_line),
            severity="warning",
            evidence=f"{len(leaves)} 考核要点",
        )
    stray = [f for f in free if f is not title_line]
    report_unparsed(b, stray, "page furniture outside the table (page number)")
    report_private_use(b, text, 1, len(text.split("\n")))
    b.scheme = {
        "scheme_id": "ezhou",
        "document_id": "ezhou",
        "city": "鄂州市",
        "district": None,
        "admin_level": "prefecture",
        "year": 2013,
        "title": clean_text(title_line.text),
        "kind": "annual_assessment",
        "assessee": "district_governments",
        "department_role": "assessor",
        "total_points": declared_total,
        "total_points_status": "derived_sum",
        "bonus_cap": None,
        "has_bonus": False,
        "has_veto": True,
        "level_labels": " | ".join([columns[0], columns[2], columns[3]]),
        "source_columns": " | ".join(columns),
        "notes": None,
        "raw_ref": b.ref_lines(1, max(rows[-1].last_line, free[-1].line)),
    }
    return DocumentResult("ezhou", [b])


def _add_veto(b: SchemeBuilder, row: Row, columns: list[str]) -> None:
    """The 否决项 row: 考核内容 | 序号 | clause | definition | 考核部门."""
    c_cat, c_num, c_clause, c_definition, c_dept = row.cells
    category = b.add_node(
        "veto",
        parent_id=None,
        level=1,
        level_label=columns[0],
        code="",
        title="否决项",
        text="否决项",
        text_raw=c_cat.text,
        ref=b.ref(c_cat),
        is_veto=True,
    )
    number = clean_text(c_num.text)
    clause = clean_text(c_clause.text)
    node_id = b.add_node(
        number,
        parent_id=category,
        level=2,
        level_label=columns[2],
        code=number,
        title="否决项",
        text=clause,
        text_raw=c_clause.text,
        ref=b.ref(c_num, c_definition),
        is_veto=True,
    )
    b.add_rule(node_id, clause + "\n" + clean_text(c_definition.text), b.ref(c_clause, c_definition), rule_type="veto")
    add_departments(b, node_id, c_dept, "assessor")
    b.add_issue(
        "merged_cells",
        "the veto row has 5 cells for 7 columns: the clause spans 考核指标–考核要点 and its "
        "definition spans 分值–评分标准 (read by content; the export does not mark merges)",
        b.ref(*row.cells),
        node_id=node_id,
        severity="info",
    )
