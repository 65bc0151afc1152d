"""Split department cells into one mention per department.

A department cell names one or more bodies: ``市经信委、建设局、发改委``,
``市创强办牵头``, ``市发改委等相关成员单位``, or a list broken over lines
(``质监分局`` / ``药监分局``).  :func:`split_departments` returns each
mention as printed, with the qualifiers that were attached to it
(``牵头`` lead mark, ``等`` open list, ``分工负责`` shared duty) and whether
it is a collective placeholder (``领导小组相关成员单位``, ``各镇、街道``)
rather than one body.

:func:`resolve_assignments` then gives each mention its canonical
``department_id`` from the curated registry ``data/reference/departments.csv``:
the name is looked up as printed, without its 市/区/县 prefix, and without its
city's name (``南通检验检疫局`` → ``检验检疫局``), against the registry's aliases.
A list's prefix carries to the names after it (``市经信委、建设局`` → 市建设局).

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
from pathlib import Path

import pandas as pd

from qcompare.paths import project_root
from qcompare.tables import sort_tables, typed_table
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


# --- canonical names -------------------------------------------------------

_LEVEL_PREFIX = re.compile(r"^[市区县]")
_DEPARTMENT_LIKE = re.compile(r"(局|委|办|部|室|中心|会)$")


def registry_path() -> Path:
    """The curated registry: ``data/reference/departments.csv``."""
    return project_root() / "data" / "reference" / "departments.csv"


def load_registry(path: Path | None = None) -> pd.DataFrame:
    """The department registry, one row per canonical department.

    Raises ``ValueError`` when an alias is listed for two departments, so a
    name can never resolve two ways.
    """
    registry = pd.read_csv(path or registry_path(), dtype=str, keep_default_na=False)
    seen: dict[str, str] = {}
    for department_id, aliases in zip(registry["department_id"], registry["aliases"], strict=True):
        for alias in aliases.split("|"):
            if alias in seen:
                raise ValueError(f"registry alias {alias!r} is listed for both {seen[alias]} and {department_id}")
            seen[alias] = department_id
    return registry


def alias_index(registry: pd.DataFrame) -> dict[str, str]:
    """alias → department_id."""
    return {
        alias: department_id
        for department_id, aliases in zip(registry["department_id"], registry["aliases"], strict=True)
        for alias in aliases.split("|")
    }


def name_candidates(name: str, places: tuple[str, ...] = ()) -> list[str]:
    """The forms of a printed name to look up, most specific first: the name,
    without its 市/区/县 prefix, and without a place name (``南通``, ``常州市``).

    >>> name_candidates("市质监局")
    ['市质监局', '质监局']
    >>> name_candidates("南通检验检疫局", ("南通市", "南通"))
    ['南通检验检疫局', '检验检疫局']
    >>> name_candidates("市西区管委会")
    ['市西区管委会', '西区管委会']
    """
    text = fold_width(name).strip()
    out = [text]
    stripped = _LEVEL_PREFIX.sub("", text)
    if stripped and stripped not in out:
        out.append(stripped)
    for place in sorted(places, key=len, reverse=True):
        for form in list(out):
            if form.startswith(place) and len(form) > len(place):
                rest = form[len(place) :]
                if rest not in out:
                    out.append(rest)
    return out


def resolve_department(name: str, index: dict[str, str], places: tuple[str, ...] = ()) -> str | None:
    """The department_id of a printed name, or None when no alias matches.

    >>> index = {"质监局": "quality_supervision", "检验检疫局": "entry_exit_inspection"}
    >>> resolve_department("市质监局", index), resolve_department("质监局", index)
    ('quality_supervision', 'quality_supervision')
    >>> resolve_department("南通检验检疫局", index, ("南通",))
    'entry_exit_inspection'
    >>> resolve_department("市工商局", index) is None
    True
    """
    for form in name_candidates(name, places):
        if form in index:
            return index[form]
    return None


def carry_prefix(names: list[str]) -> list[str]:
    """Carry a list's 市/区/县 prefix to the names after it that lack one.

    ``市经信委、建设局、发改委`` means 市建设局 and 市发改委.  Only names that
    end like a government body take the prefix (not ``移动`` or ``电信公司``).

    >>> carry_prefix(["市经信委", "建设局", "发改委"])
    ['市经信委', '市建设局', '市发改委']
    >>> carry_prefix(["市商务局", "移动", "电信公司"])
    ['市商务局', '移动', '电信公司']
    >>> carry_prefix(["质监分局", "药监分局"])
    ['质监分局', '药监分局']
    """
    out: list[str] = []
    prefix = ""
    for name in names:
        match = _LEVEL_PREFIX.match(name)
        if match and len(name) > 2:
            prefix = match.group(0)
            out.append(name)
        elif prefix and _DEPARTMENT_LIKE.search(name) and not name.startswith(("团", "各")):
            out.append(prefix + name)
        else:
            out.append(name)
    return out


def _places(schemes: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for scheme_id, city, district in zip(schemes["scheme_id"], schemes["city"], schemes["district"], strict=True):
        names = [city, city.removesuffix("市")]
        if isinstance(district, str):
            names += [district, district.removesuffix("区")]
        out[scheme_id] = tuple(n for n in names if n)
    return out


def resolve_assignments(
    tables: dict[str, pd.DataFrame], registry: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Give every assignment its canonical department, and build the
    ``departments`` table.

    Returns new tables: ``assignments`` with ``department_name`` and
    ``department_id`` filled, ``departments`` (the registry with the names
    seen in the sources and a mention count), and ``data_issues`` with one
    ``unknown_department`` row per name no alias matches.  Collective
    placeholders keep an empty ``department_id``: they are not departments.
    """
    registry = load_registry() if registry is None else registry
    index = alias_index(registry)
    places = _places(tables["schemes"])
    assignments = tables["assignments"].copy()
    names: list[str | None] = [None] * len(assignments)
    ids: list[str | None] = [None] * len(assignments)
    issues: list[dict[str, object]] = []
    # one pass over plain lists: cells in order of first appearance, and each
    # (name, places) resolved once however often it is printed
    cells: dict[tuple[str, str], list[int]] = {}
    for at, key in enumerate(zip(assignments["node_id"], assignments["raw_ref"], strict=True)):
        cells.setdefault(key, []).append(at)
    role, raw = assignments["role"].tolist(), assignments["department_raw"].tolist()
    position, scheme = assignments["position"].tolist(), assignments["scheme_id"].tolist()
    node, ref = assignments["node_id"].tolist(), assignments["raw_ref"].tolist()
    resolved: dict[tuple[str, tuple[str, ...]], str | None] = {}
    for members in cells.values():
        named = sorted((at for at in members if role[at] != "collective"), key=lambda at: position[at])
        carried = carry_prefix([str(raw[at]) for at in named])
        for at, full in zip(named, carried, strict=True):
            names[at] = full
            key = (full, places[scheme[at]])
            if key not in resolved:
                resolved[key] = resolve_department(full, index, key[1])
            ids[at] = resolved[key]
            if ids[at] is None:
                issues.append(
                    {
                        "scheme_id": scheme[at],
                        "node_id": node[at],
                        "kind": "unknown_department",
                        "severity": "warning",
                        "message": f"'{raw[at]}' matches no alias in data/reference/departments.csv",
                        "evidence": full,
                        "raw_ref": ref[at],
                    }
                )
    assignments["department_name"] = pd.Series(names, index=assignments.index, dtype="str")
    assignments["department_id"] = pd.Series(ids, index=assignments.index, dtype="str")

    seen = assignments.dropna(subset=["department_id"]).groupby("department_id")["department_raw"]
    departments = registry.drop(columns=["aliases"]).copy()
    departments["aliases"] = departments["department_id"].map(
        lambda d: "|".join(sorted(set(seen.get_group(d)))) if d in seen.groups else None
    )
    departments["mentions"] = departments["department_id"].map(
        lambda d: len(seen.get_group(d)) if d in seen.groups else 0
    )
    columns = ["department_id", "name_zh", "name_en", "family", "aliases", "successor_2018", "successor_id"]
    records: list[dict[str, object]] = [
        {str(k): v for k, v in record.items()}
        for record in departments[[*columns, "successor_note", "mentions"]].to_dict("records")
    ]
    departments = typed_table("departments", records)

    out = dict(tables)
    out["assignments"] = assignments
    out["departments"] = departments
    if issues:
        out["data_issues"] = pd.concat([tables["data_issues"], typed_table("data_issues", issues)], ignore_index=True)
    return sort_tables(out)
