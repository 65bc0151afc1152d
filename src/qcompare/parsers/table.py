"""The parser of imported schemes: any table whose columns a mapping names.

``qcompare import`` turns a user's Word, Excel or text table into a text
file in the seeds' own format (``data/raw/<id>.txt``) and an import record
(``data/raw/<id>.import.json``, an :class:`ImportSpec`): the role of every
column, the header row, the merged ranges of the original and where each
line came from.  :func:`parse_table` reads the two into the data model, so
``qcompare build`` rebuilds an imported scheme exactly like the five.

How rows become nodes:

* every hierarchy column (一级指标, 二级指标, …, 考核内容) is one level,
  left to right.  A non-empty cell opens a node under the deepest open node
  to its left; an empty cell, or a cell a vertical merge covers, continues
  the node above; in a column that is not the last hierarchy column, a
  cell repeating the node above (Excel sheets often fill down) continues
  it too.  A cell covered by a horizontal merge has no node of its own;
* a row's points, scoring rule and 验收方式 belong to the deepest node the
  row opens; when the cell is merged down over exactly the rows of one
  node (a 分值 cell spanning a 一级指标's rows), they belong to that node;
* departments, deadlines and targets belong to every row they cover: a
  牵头单位 merged over three tasks names the lead of all three (the two
  covered rows are marked ``inherited``);
* points written into a title (``质量目标（40分）``) are used when the
  points column says nothing; parents without points get their children's
  sum, and declared totals that differ from it are reported;
* a cell in a column mapped to ``note`` or ``ignore``, or mapped to
  nothing, is kept as an ``unparsed_text`` data issue; a points cell that is
  not a number is kept as an ``unexpected_value`` issue.  Nothing is lost.

>>> spec = ImportSpec(original="x.txt", original_sha256="0" * 64, source_format="text", source_table="text table",
...                   header_row=0, columns=["level1", "content", "points"])
>>> text = "\\t一级指标\\n\\t考核内容\\n\\t分值\\n\\n\\t质量目标\\n\\t产品合格率达到95%\\n\\t6\\n\\n"
>>> text += "\\t\\n\\t建立质量档案\\n\\t4\\n"
>>> result = parse_table(text, "x.txt", "demo", spec)
>>> [(n["node_id"], n["level"], n["points"], n["points_status"]) for n in result.schemes[0].nodes]
[('demo:1', 1, 10.0, 'derived_sum'), ('demo:1.1', 2, 6.0, 'declared'), ('demo:1.2', 2, 4.0, 'declared')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from qcompare.mapping import HIERARCHY_ROLES, SchemeInfo
from qcompare.model import DocumentResult, ParseError, SchemeBuilder, parse_raw_ref
from qcompare.parsers.common import (
    add_departments,
    check_declared_totals,
    derive_parent_points,
    format_points,
    report_private_use,
    split_declared_points,
)
from qcompare.reader import Cell, FreeLine, Row, iter_free_lines, iter_rows, read_blocks
from qcompare.text import clean_text

__all__ = ["ImportSpec", "parse_table"]

_DEPARTMENT_ROLES = {"lead": "lead", "responsible": "responsible", "support": "support", "assessor": "assessor"}
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*分?$")
_CODE = re.compile(
    r"^\s*(\d{1,2}(?:\.\d{1,2})*[.、]?|[（(][一二三四五六七八九十\d]{1,3}[）)]|[一二三四五六七八九十]{1,3}[、.])\s*"
)
_VETO = re.compile(r"一票否决|否决项")
_BONUS = re.compile(r"^加分|加分项|加分指标")
_YEAR = re.compile(r"(20\d\d|19\d\d)\s*年")


class ImportSpec(BaseModel):
    """The import record of one imported scheme (``data/raw/<id>.import.json``)."""

    model_config = ConfigDict(extra="forbid")

    original: str
    original_sha256: str
    source_format: str
    source_table: str
    encoding: str | None = None
    header_row: int = 0
    columns: list[str | None]
    merges: list[tuple[int, int, int, int]] = []
    cells: list[tuple[int, str]] = []
    scheme: SchemeInfo = SchemeInfo()


@dataclass
class _Open:
    """A node opened while walking the rows, with the rows it spans."""

    node_id: str
    column: int
    text: str
    first_row: int
    last_row: int
    children: int = 0


@dataclass
class _Walk:
    builder: SchemeBuilder
    spec: ImportSpec
    rows: list[Row]
    headers: list[str]
    covered: dict[tuple[int, int], tuple[int, int]]
    #: merge anchor → the last row its merge covers
    last_row_of: dict[tuple[int, int], int]
    hierarchy: list[int]
    open_nodes: dict[int, _Open] = field(default_factory=dict)
    opened_in_row: dict[int, list[_Open]] = field(default_factory=dict)
    all_nodes: list[_Open] = field(default_factory=list)
    top_count: int = 0

    def cell(self, r: int, c: int) -> Cell | None:
        row = self.rows[r]
        return row.cells[c] if c < len(row.cells) else None

    def vertical(self, r: int, c: int) -> bool:
        anchor = self.covered.get((r, c))
        return anchor is not None and anchor[0] < r

    def horizontal(self, r: int, c: int) -> bool:
        anchor = self.covered.get((r, c))
        return anchor is not None and anchor[0] == r


def parse_table(text: str, file: str, scheme_id: str, spec: ImportSpec) -> DocumentResult:
    """Parse an imported scheme's text with its import record."""
    blocks = read_blocks(text)
    rows = list(iter_rows(blocks))
    if len(rows) <= spec.header_row:
        raise ParseError(file, 1, f"a header row at table row {spec.header_row + 1}", f"{len(rows)} table row(s)")
    header = rows[spec.header_row]
    if len(header.cells) > len(spec.columns):
        raise ParseError(
            file, header.first_line, f"{len(spec.columns)} header cells (the import record)", " | ".join(header.texts())
        )
    builder = SchemeBuilder(scheme_id, file)
    headers = _level_headers([clean_text(c.text) for c in header.cells], spec)
    covered: dict[tuple[int, int], tuple[int, int]] = {}
    for r0, c0, r1, c1 in spec.merges:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    covered[(r, c)] = (r0, c0)
    hierarchy = [c for c, role in enumerate(spec.columns) if role in HIERARCHY_ROLES]
    if not hierarchy:
        raise ParseError(file, header.first_line, "at least one hierarchy column (一级指标, 考核内容 …)", "none mapped")
    last_row_of = {(r0, c0): r1 for r0, c0, r1, _ in spec.merges}
    walk = _Walk(builder, spec, rows, headers, covered, last_row_of, hierarchy)
    for r in range(spec.header_row + 1, len(rows)):
        _walk_row(walk, r)
    if not builder.nodes:
        raise ParseError(file, header.last_line, "at least one row with an indicator below the header", "none")
    for r in range(spec.header_row + 1, len(rows)):
        _row_values(walk, r)
    _inherit_flags(builder)
    derive_parent_points(builder)
    check_declared_totals(builder)
    report_private_use(builder, text, 1, len(text.split("\n")))
    _scheme_record(builder, spec, blocks, rows, headers, hierarchy)
    return DocumentResult(scheme_id, [builder])


def _walk_row(walk: _Walk, r: int) -> None:
    """Open or continue the hierarchy nodes of one row."""
    opened: list[_Open] = []
    changed = False
    for depth, c in enumerate(walk.hierarchy):
        cell = walk.cell(r, c)
        raw = cell.text if cell is not None else ""
        cleaned = clean_text(raw)
        current = walk.open_nodes.get(c)
        is_leaf = depth == len(walk.hierarchy) - 1
        if walk.horizontal(r, c):
            walk.open_nodes.pop(c, None)
            continue
        if walk.vertical(r, c) or not cleaned:
            if changed:
                walk.open_nodes.pop(c, None)
            elif current is not None:
                current.last_row = r
            continue
        if current is not None and not changed and not is_leaf and cleaned == current.text:
            current.last_row = r
            assert cell is not None
            walk.builder.add_issue(
                "filled_down",
                f"repeats the {walk.headers[c]} of the row above; read as the same indicator",
                walk.builder.ref(cell),
                node_id=current.node_id,
                severity="info",
                evidence=cell.text,
            )
            continue
        assert cell is not None
        node = _open_node(walk, r, c, cell, cleaned)
        opened.append(node)
        changed = True
    walk.opened_in_row[r] = opened
    if opened:
        return
    # a row that opens nothing: its values go to the deepest open node
    for c in reversed(walk.hierarchy):
        if c in walk.open_nodes:
            walk.open_nodes[c].last_row = r
            break


def _inherit_flags(builder: SchemeBuilder) -> None:
    """The items under a bonus (加分项) or veto (一票否决) heading are bonus or veto items too."""
    for node in builder.nodes:
        parent = builder.node(node["parent_id"]) if node["parent_id"] else None
        if parent is not None:
            node["is_bonus"] = node["is_bonus"] or parent["is_bonus"]
            node["is_veto"] = node["is_veto"] or parent["is_veto"]


def _open_node(walk: _Walk, r: int, c: int, cell: Cell, cleaned: str) -> _Open:
    b = walk.builder
    parent = None
    for left in reversed([h for h in walk.hierarchy if h < c]):
        if left in walk.open_nodes:
            parent = walk.open_nodes[left]
            break
    if parent is None:
        walk.top_count += 1
        local = str(walk.top_count)
        level = 1
    else:
        parent.children += 1
        parent.last_row = max(parent.last_row, r)
        local = f"{parent.node_id.split(':', 1)[1]}.{parent.children}"
        level = b.node(parent.node_id)["level"] + 1
    match = _CODE.match(cleaned)
    code = match.group(1).strip() if match else local
    body = cleaned[match.end() :] if match and cleaned[match.end() :].strip() else cleaned
    title, declared = split_declared_points(body)
    first_line = title.split("\n", 1)[0]
    if len(first_line) > 60:
        first_line = re.split(r"[。；;]", first_line, maxsplit=1)[0][:60]
    node_id = b.add_node(
        local,
        parent_id=parent.node_id if parent else None,
        level=level,
        level_label=walk.headers[c],
        code=code,
        title=first_line,
        text=cleaned,
        text_raw=cell.text,
        ref=b.ref(cell),
        points=declared,
        points_status="declared" if declared is not None else "none",
        is_bonus=bool(_BONUS.search(cleaned)),
        is_veto=bool(_VETO.search(cleaned)),
    )
    node = _Open(node_id, c, cleaned, r, r)
    walk.open_nodes[c] = node
    for deeper in [h for h in walk.hierarchy if h > c]:
        walk.open_nodes.pop(deeper, None)
    walk.all_nodes.append(node)
    return node


def _row_owner(walk: _Walk, r: int) -> _Open | None:
    """The deepest node the row opened, or else the deepest node it continues."""
    opened = walk.opened_in_row.get(r, [])
    if opened:
        return opened[-1]
    spanning = [n for n in walk.all_nodes if n.first_row <= r <= n.last_row]
    return max(spanning, key=lambda n: (walk.builder.node(n.node_id)["level"], n.first_row), default=None)


def _merged_owner(walk: _Walk, r: int, c: int) -> tuple[_Open | None, bool]:
    """Who owns a group value (points, rule, verification) anchored at (r, c).

    A cell merged down over rows r..s belongs to the node opened in row r
    that spans exactly r..s; otherwise to the row's owner (second value
    False when a merge did not line up with any node)."""
    last = walk.last_row_of.get((r, c), r)
    if last == r:
        return _row_owner(walk, r), True
    for node in reversed(walk.opened_in_row.get(r, [])):
        if node.first_row == r and node.last_row == last:
            return node, True
    return _row_owner(walk, r), False


def _row_values(walk: _Walk, r: int) -> None:
    """Attach the non-hierarchy cells of one row to their node."""
    b = walk.builder
    width = max(len(walk.spec.columns), len(walk.rows[r].cells))
    for c in range(width):
        role = walk.spec.columns[c] if c < len(walk.spec.columns) else None
        if role in HIERARCHY_ROLES:
            continue
        cell = walk.cell(r, c)
        if walk.vertical(r, c) and role in _DEPARTMENT_ROLES | {"deadline": 1, "target": 1}:
            anchor_r, anchor_c = walk.covered[(r, c)]
            anchor = walk.cell(anchor_r, anchor_c)
            owner = _row_owner(walk, r)
            if anchor is not None and owner is not None and clean_text(anchor.text):
                _attach(walk, role, owner, anchor, walk.headers[c], inherited=True)
            continue
        if cell is None or not clean_text(cell.text) or walk.covered.get((r, c)):
            continue
        header = walk.headers[c] if c < len(walk.headers) else f"column {c + 1}"
        if role in ("points", "rule", "verification"):
            owner, lined_up = _merged_owner(walk, r, c)
            if not lined_up and owner is not None:
                b.add_issue(
                    "merged_cells",
                    f"the {header} cell is merged over rows that are not one indicator; "
                    f"it is attached to {owner.node_id}",
                    b.ref(cell),
                    node_id=owner.node_id,
                    evidence=cell.text,
                )
        else:
            owner = _row_owner(walk, r)
        if owner is None:
            b.add_issue(
                "unparsed_text",
                f"a {header} cell above the first indicator; kept here",
                b.ref(cell),
                severity="warning",
                evidence=cell.text,
            )
            continue
        _attach(walk, role, owner, cell, header, inherited=False)


def _attach(walk: _Walk, role: str | None, owner: _Open, cell: Cell, column: str, *, inherited: bool) -> None:
    b = walk.builder
    node = b.node(owner.node_id)
    cleaned = clean_text(cell.text)
    if role in ("points", "verification", "deadline", "code"):
        _, first, last = parse_raw_ref(node["raw_ref"])
        node["raw_ref"] = b.ref_lines(min(first, cell.first_line), max(last, cell.last_line))
    if role == "points":
        match = _NUMBER.match(cleaned.replace(" ", ""))
        if match is None:
            b.add_issue(
                "unexpected_value",
                f"the points cell {cleaned!r} is not a number; points left empty",
                b.ref(cell),
                node_id=owner.node_id,
                evidence=cell.text,
            )
            return
        value = float(match.group(1))
        if node["points"] is not None and node["points_status"] == "declared" and node["points"] != value:
            b.add_issue(
                "total_mismatch",
                f"the title declares {format_points(node['points'])} points, the points column {format_points(value)}; "
                "the points column is used",
                b.ref(cell),
                node_id=owner.node_id,
                evidence=cell.text,
            )
        node["points"], node["points_status"] = value, "declared"
    elif role == "rule":
        b.add_rule(owner.node_id, cleaned, b.ref(cell))
    elif role == "verification":
        node["verification"] = _join(node["verification"], cleaned)
    elif role == "deadline":
        node["deadline"] = _join(node["deadline"], cleaned)
    elif role == "target":
        b.add_target(owner.node_id, cleaned, b.ref(cell))
    elif role in _DEPARTMENT_ROLES:
        add_departments(b, owner.node_id, cell, _DEPARTMENT_ROLES[role], inherited=inherited, lead_when_marked=True)
    elif role == "code":
        node["code"] = cleaned
    else:
        why = f"column '{column}' is mapped to {role}" if role else f"column '{column}' is not mapped to the data model"
        b.add_issue("unparsed_text", why, b.ref(cell), node_id=owner.node_id, severity="info", evidence=cell.text)


def _level_headers(headers: list[str], spec: ImportSpec) -> list[str]:
    """The header of every column; a column under a header merged across it
    (考核指标 over two hierarchy columns) gets that header with its number.

    >>> spec = ImportSpec(original="x", original_sha256="", source_format="docx", source_table="table 1",
    ...                   columns=["level1", "level1", "points"])
    >>> _level_headers(["考核指标", "", "分值"], spec)
    ['考核指标', '考核指标 (2)', '分值']
    """
    out: list[str] = []
    for c, header in enumerate(headers):
        if header:
            out.append(header)
            continue
        left = next((out[k] for k in range(c - 1, -1, -1) if headers[k]), None)
        out.append(f"{left} ({c - headers.index(left) + 1})" if left and left in headers else f"column {c + 1}")
    return out + [f"column {c + 1}" for c in range(len(headers), len(spec.columns))]


def _join(old: str | None, new: str) -> str:
    return new if not old else f"{old}；{new}"


def _scheme_record(
    b: SchemeBuilder,
    spec: ImportSpec,
    blocks: list[Row | FreeLine],
    rows: list[Row],
    headers: list[str],
    hierarchy: list[int],
) -> None:
    """The scheme row: what the file says, what the import record adds."""
    header = rows[spec.header_row]
    free_before = [f for f in iter_free_lines(blocks) if f.line < header.first_line]
    free_after = [f for f in iter_free_lines(blocks) if f.line > header.last_line]
    preamble_rows = rows[: spec.header_row]
    info = spec.scheme
    title = info.title or (clean_text(free_before[0].text) if free_before else None)
    if not title:
        for row in preamble_rows:
            texts = [clean_text(t) for t in row.texts() if clean_text(t)]
            if texts:
                title = texts[0]
                break
    title = title or spec.original.rsplit("/", 1)[-1]
    notes = [clean_text(f.text) for f in free_before]
    notes += [" ".join(clean_text(t) for t in row.texts() if clean_text(t)) for row in preamble_rows]
    notes.append(f"imported from {spec.original} ({spec.source_format}, {spec.source_table})")
    for line in free_after:
        b.add_issue("unparsed_text", "text after the table", b.ref(line), severity="info", evidence=line.text)
    year = info.year
    if year is None:
        found = _YEAR.search(title)
        year = int(found.group(1)) if found else None
    first_line = min([f.line for f in free_before] + [r.first_line for r in preamble_rows] + [header.first_line])
    ref = b.ref_lines(first_line, header.last_line)
    if year is None:
        b.add_issue(
            "year_not_stated",
            "neither the title nor the import mapping names the year; set scheme.year in a mapping file",
            ref,
            severity="info",
        )
    roles = set(spec.columns)
    owner_roles = roles & {"lead", "responsible", "support"}
    department_role = info.department_role or ("owner" if owner_roles else "assessor" if "assessor" in roles else None)
    tops = [n for n in b.nodes if n["level"] == 1]
    scored = [n for n in tops if not n["is_bonus"] and not n["is_veto"]]
    total = sum(n["points"] for n in scored) if scored and all(n["points"] is not None for n in scored) else None
    bonus = [n["points"] for n in b.nodes if n["is_bonus"] and n["points"] is not None]
    statuses = {n["points_status"] for n in scored}
    b.scheme = {
        "scheme_id": b.scheme_id,
        "document_id": b.scheme_id,
        "city": info.city or "未注明",
        "district": info.district,
        "admin_level": info.admin_level,
        "year": year,
        "title": title,
        "kind": info.kind or ("annual_assessment" if total is not None else "task_breakdown"),
        "assessee": info.assessee or ("departments" if department_role == "owner" else "county_governments"),
        "department_role": department_role,
        "total_points": total,
        "total_points_status": ("declared" if statuses == {"declared"} else "derived_sum")
        if total is not None
        else "none",
        "bonus_cap": max(bonus) if bonus else None,
        "has_bonus": any(n["is_bonus"] for n in b.nodes),
        "has_veto": any(n["is_veto"] for n in b.nodes),
        "level_labels": " | ".join(headers[c] for c in hierarchy),
        "source_columns": " | ".join(headers),
        "notes": "\n".join(n for n in notes if n),
        "raw_ref": ref,
    }
