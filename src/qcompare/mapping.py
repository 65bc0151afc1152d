"""Which column of a user's table means what: header detection and mapping files.

A scheme table names its columns in a handful of ways (一级指标, 考核内容,
分值/标准分, 评分标准, 牵头单位 …).  :func:`header_role` maps one header
to a *role* of the data model; :func:`detect_header` finds the header row
of a grid (the first row, among the first 20, that names the most roles,
at least one of them a level of the hierarchy).

Where detection is not enough, a small mapping file (TOML or YAML) says
which table, which row and which columns; :func:`load_mapping` reads and
validates it (pydantic), naming the key that is wrong::

    table = "sheet 考核表"      # or "table 2" for a Word file
    header_row = 3             # 1-based row of the header in that table
    [columns]                  # header text, or column letter / number → role
    "考核项目" = "level1"
    "E" = "ignore"
    [scheme]
    city = "某市"
    admin_level = "county"     # prefecture, district, county, province
    year = 2016

Roles: the hierarchy (``level1``, ``level2``, ``level3``, ``indicator``,
``content``, ``point``: each mapped column is one level, left to right),
``points``, ``rule``, ``verification``, ``lead``, ``responsible``,
``support``, ``assessor``, ``deadline``, ``target``, ``code``, ``note``
and ``ignore`` (the column's cells are still kept, as data issues).

>>> header_role("分 值（分）"), header_role("牵头单位"), header_role("考核评分方法"), header_role("说明")
('points', 'lead', 'rule', None)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qcompare.errors import InputError
from qcompare.sources import SourceCell, SourceTable
from qcompare.text import clean_text

__all__ = [
    "HIERARCHY_ROLES",
    "ROLES",
    "Mapping",
    "SchemeInfo",
    "column_index",
    "detect_header",
    "header_role",
    "header_roles",
    "load_mapping",
]

#: What a column can be: the hierarchy levels first (in their usual order), then the rest.
Role = Literal[
    "level1",
    "level2",
    "level3",
    "indicator",
    "content",
    "point",
    "points",
    "rule",
    "verification",
    "lead",
    "responsible",
    "support",
    "assessor",
    "deadline",
    "target",
    "code",
    "note",
    "ignore",
]
#: Every role a column can play (the values of :data:`Role`).
ROLES: tuple[str, ...] = get_args(Role)
#: Roles that make a level of the indicator hierarchy.
HIERARCHY_ROLES = ROLES[:6]
#: Roles at most one column may play.
SINGLE_ROLES = ("points", "code", "deadline", "verification")

_EXACT = {
    "一级指标": "level1",
    "一级": "level1",
    "考核项目": "level1",
    "考核类别": "level1",
    "类别": "level1",
    "二级指标": "level2",
    "二级": "level2",
    "三级指标": "level3",
    "三级": "level3",
    "考核指标": "indicator",
    "指标名称": "indicator",
    "指标": "indicator",
    "考核内容": "content",
    "工作内容": "content",
    "内容": "content",
    "工作任务": "content",
    "主要任务": "content",
    "目标任务": "content",
    "任务": "content",
    "考核要点": "point",
    "工作要点": "point",
    "要点": "point",
    "分值": "points",
    "标准分": "points",
    "标准分值": "points",
    "分数": "points",
    "赋分": "points",
    "权重": "points",
    "评分标准": "rule",
    "考核评分方法": "rule",
    "评分方法": "rule",
    "评分细则": "rule",
    "评分办法": "rule",
    "考核标准": "rule",
    "计分方法": "rule",
    "扣分标准": "rule",
    "验收方式": "verification",
    "考核方式": "verification",
    "考核方法": "verification",
    "验收标准": "verification",
    "牵头单位": "lead",
    "牵头部门": "lead",
    "责任单位": "responsible",
    "责任部门": "responsible",
    "配合单位": "support",
    "配合部门": "support",
    "协办单位": "support",
    "参与单位": "support",
    "考核部门": "assessor",
    "考核单位": "assessor",
    "评分部门": "assessor",
    "完成时间": "deadline",
    "完成时限": "deadline",
    "时间进度": "deadline",
    "时限": "deadline",
    "目标值": "target",
    "指标值": "target",
    "目标": "target",
    "序号": "code",
    "编号": "code",
    "备注": "note",
}
# Fallbacks for headers that only contain a known word (e.g. "2015年目标值").
_CONTAINS = (
    ("一级", "level1"),
    ("二级", "level2"),
    ("三级", "level3"),
    ("评分", "rule"),
    ("计分", "rule"),
    ("分值", "points"),
    ("牵头", "lead"),
    ("配合", "support"),
    ("协办", "support"),
    ("考核部门", "assessor"),
    ("考核单位", "assessor"),
    ("责任", "responsible"),
    ("验收", "verification"),
    ("完成时", "deadline"),
    ("目标值", "target"),
    ("考核内容", "content"),
    ("考核要点", "point"),
    ("考核指标", "indicator"),
)


def _squash_header(text: str) -> str:
    cleaned = re.sub(r"\s+", "", clean_text(text))
    return re.sub(r"[(（][^()（）]*[)）]$", "", cleaned)


def header_role(text: str) -> str | None:
    """The role a column header names, or None when it is not a known header."""
    header = _squash_header(text)
    if not header or len(header) > 12:
        return None
    if header in _EXACT:
        return _EXACT[header]
    for word, role in _CONTAINS:
        if word in header:
            return role
    return None


def header_roles(row: list[SourceCell], width: int | None = None) -> list[str | None]:
    """The role each cell of a header row names (None for unknown or merged cells),
    padded to ``width``."""
    roles = [header_role(cell.text) if cell.merged_into is None else None for cell in row]
    return roles + [None] * ((width or len(roles)) - len(roles))


def detect_header(table: SourceTable, search_rows: int = 20) -> tuple[int, list[str | None]] | None:
    """The header row (0-based) and the role of each column, or None.

    >>> from qcompare.sources import SourceCell as C
    >>> rows = [[C("某县质量工作考核表", "r1")], [C("一级指标", "a"), C("分值", "b")]]
    >>> rows.append([C("质量目标", "c"), C("40", "d")])
    >>> detect_header(SourceTable("x.xlsx", "sheet 1", rows))
    (1, ['level1', 'points'])
    """
    best: tuple[int, int] | None = None
    for index, row in enumerate(table.rows[:search_rows]):
        found = {r for r in header_roles(row) if r is not None}
        if len(found) < 2 or not found & set(HIERARCHY_ROLES):
            continue
        if best is None or len(found) > best[1]:
            best = (index, len(found))
    if best is None:
        return None
    return best[0], header_roles(table.rows[best[0]], table.width)


def column_index(key: str, headers: list[str]) -> int | None:
    """The 0-based column a mapping key names: a header text, a letter, or a number.

    >>> column_index("B", ["一级指标", "分值"]), column_index("2", ["a", "b"])
    (1, 1)
    >>> column_index("分 值", ["一级指标", "分值"])
    1
    """
    wanted = _squash_header(key)
    for index, header in enumerate(headers):
        if _squash_header(header) == wanted:
            return index
    if re.fullmatch(r"[A-Za-z]{1,2}", key.strip()):
        from openpyxl.utils import column_index_from_string

        return column_index_from_string(key.strip().upper()) - 1
    if key.strip().isdigit() and int(key.strip()) >= 1:
        return int(key.strip()) - 1
    return None


class SchemeInfo(BaseModel):
    """What the file itself may not say about the scheme."""

    model_config = ConfigDict(extra="forbid")

    city: str | None = None
    district: str | None = None
    admin_level: Literal["prefecture", "district", "county", "province"] = "county"
    year: int | None = Field(default=None, ge=1978, le=2100)
    title: str | None = None
    kind: (
        Literal["annual_assessment", "demonstration_city", "task_breakdown", "target_list", "implementation_plan"]
        | None
    ) = None
    assessee: (
        Literal["county_governments", "district_governments", "towns_streets", "departments", "the_city_itself"] | None
    ) = None
    department_role: Literal["owner", "assessor"] | None = None


class Mapping(BaseModel):
    """A mapping file: which table, which header row, which column is what."""

    model_config = ConfigDict(extra="forbid")

    table: str | None = Field(default=None, description='"table 2" (Word) or "sheet 考核表" / "考核表" (Excel)')
    header_row: int | None = Field(default=None, ge=1, description="1-based row of the header within the table")
    columns: dict[str, Role] = Field(default_factory=dict)
    scheme: SchemeInfo = Field(default_factory=SchemeInfo)


def load_mapping(path: Path) -> Mapping:
    """Read and validate a TOML (``.toml``) or YAML (``.yaml``/``.yml``) mapping file."""
    file = str(path)
    if not path.is_file():
        raise InputError(file, None, "no such mapping file", "check the path given to --mapping")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(file, f"byte {err.start}", "a mapping file must be UTF-8", "save it as UTF-8") from err
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise InputError(file, None, f"unknown mapping format {suffix!r}", "name it .toml, .yaml or .yml")
    except tomllib.TOMLDecodeError as err:
        raise InputError(file, None, f"not valid TOML ({err})", "see the example in the qcompare.mapping docs") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(
            file, where, f"not valid YAML ({getattr(err, 'problem', err)})", "fix the YAML syntax"
        ) from err
    if not isinstance(data, dict):
        raise InputError(
            file, None, "a mapping file must be a table of keys", "see the example in the qcompare.mapping docs"
        )
    try:
        return Mapping.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        allowed = f"; roles are {', '.join(ROLES)}" if key.startswith("columns") else ""
        raise InputError(file, f"key {key}", f"{first['msg']}{allowed}", "correct or remove that key") from err
