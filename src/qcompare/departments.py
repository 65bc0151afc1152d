"""Split department cells into one mention per department.

A department cell names one or more bodies: ``市经信委、建设局、发改委``,
``市创强办牵头``, ``市发改委等相关成员单位``, or a list broken over lines
(``质监分局`` / ``药监分局``).  :func:`split_departments` returns each
mention as printed, with the qualifiers that were attached to it
(``牵头`` lead mark, ``等`` open list, ``分工负责`` shared duty) and whether
it is a collective placeholder (``领导小组相关成员单位``, ``各镇、街道``)
rather than one body.

Canonical ids for the mentions come from the department registry (a later
stage); this module only splits.

Examples
--------
>>> [m.raw for m in split_departments("市经信委、建设局、发改委")]
['市经信委', '建设局', '发改委']
>>> m = split_departments("市创强办牵头")[0]
>>> m.raw, m.qualifier
('市创强办', '牵头')
>>> [(m.raw, m.qualifier, m.is_collective) for m in split_departments("市发改委等相关成员单位")]
[('市发改委', '等', False), ('相关成员单位', None, True)]
>>> [m.raw for m in split_departments("质监分局\\n\\n药监分局")]
['质监分局', '药监分局']
>>> [m.raw for m in split_departments("领导小组相\\n\\n关成员单位")]
['领导小组相关成员单位']
>>> [m.raw for m in split_departments("人行中心\\n支行")]
['人行中心支行']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qcompare.text import fold_width, remove_private_use

__all__ = [
    "COLLECTIVE_PATTERNS",
    "QUALIFIERS",
    "SEPARATORS",
    "DepartmentMention",
    "join_department_lines",
    "split_departments",
]

#: Characters that separate names in a list.
SEPARATORS = "、，,；;"

#: Suffixes attached to a mention, longest first.  ``牵头`` marks the lead.
QUALIFIERS = ("分工负责", "牵头", "等")

#: Placeholders that stand for a group of bodies, not one department.
COLLECTIVE_PATTERNS = (
    r"(?:领导小组)?(?:相关)?成员单位",
    r"相关部门",
    r"区各部门",
    r"各镇[、,，]?街道",
    r"各辖市[、,，]?区政府",
    r"各县[（(]市[、,，]区[）)]",
)

_COLLECTIVE = re.compile("|".join(f"(?:{p})" for p in COLLECTIVE_PATTERNS))
_NAME_END = re.compile(r"(局|委|办|部|会|室|行|府|司|院|所|队|站|心|团|社|厅|处|科|镇|街道|公司)$")
_LOCAL_PREFIX = re.compile(r"^(市|区|县)")


@dataclass(frozen=True)
class DepartmentMention:
    """One department (or collective placeholder) named in a cell."""

    raw: str
    qualifier: str | None
    is_collective: bool


def join_department_lines(raw: str) -> str:
    """Join the lines of a department cell, inserting ``、`` where a line
    break separates two names.

    A break separates names when the line before ends like a name (局, 委,
    办 …) and the next line is a name of its own (three characters or
    more, or starting with 市/区/县); otherwise the break fell inside a
    name and the lines are joined.

    >>> join_department_lines("市文广新局\\n\\n市教育局")
    '市文广新局、市教育局'
    >>> join_department_lines("市经信委、\\n发改委")
    '市经信委、发改委'
    """
    lines = [line.strip() for line in remove_private_use(raw).split("\n") if line.strip()]
    out = ""
    for line in lines:
        if not out:
            out = line
        elif out[-1] in SEPARATORS:
            out += line
        elif _NAME_END.search(out) and (len(line) >= 3 or _LOCAL_PREFIX.match(line)):
            out += "、" + line
        else:
            out += line
    return out


def _split_outside_brackets(text: str) -> list[str]:
    pieces, depth, current = [], 0, ""
    for ch in text:
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        if ch in SEPARATORS and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += ch
    pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def split_departments(raw: str) -> list[DepartmentMention]:
    """Split one department cell into mentions, in printed order."""
    text = join_department_lines(raw)
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return f"\x00{len(protected) - 1}\x00"

    # A collective joined to the name before it by 及/等 is its own mention.
    text = _COLLECTIVE.sub(protect, text)
    text = re.sub(r"及(?=\x00)", "、", text)
    text = re.sub(r"等(?=\x00)", "等、", text)

    mentions: list[DepartmentMention] = []
    for piece in _split_outside_brackets(text):
        qualifier_parts: list[str] = []
        changed = True
        while changed:
            changed = False
            for suffix in QUALIFIERS:
                if piece.endswith(suffix) and len(piece) > len(suffix):
                    piece = piece[: -len(suffix)]
                    qualifier_parts.insert(0, suffix)
                    changed = True
        qualifier = "".join(qualifier_parts) or None
        holes = re.fullmatch(r"\x00(\d+)\x00", piece)
        if holes:
            mentions.append(DepartmentMention(protected[int(holes.group(1))], qualifier, True))
            continue
        restored = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], piece)
        is_collective = bool(_COLLECTIVE.fullmatch(fold_width(restored)))
        mentions.append(DepartmentMention(restored, qualifier, is_collective))
    return mentions
