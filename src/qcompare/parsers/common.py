"""Helpers shared by the scheme parsers: numbering, points, repeated cells,
department cells and the checks every scheme gets.

>>> chinese_numeral("十六"), chinese_numeral("三"), chinese_numeral("二十")
(16, 3, 20)
>>> parse_points("4"), parse_points(" 2.5 "), parse_points("")
(4.0, 2.5, None)
>>> split_declared_points("质量目标（40分）")
('质量目标', 40.0)
>>> collapse_repeats("质量措施（60分）\\n\\n质量措施（60分）")
('质量措施(60分)', 2)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from qcompare.departments import split_departments
from qcompare.model import ParseError, SchemeBuilder
from qcompare.reader import Block, Cell, FreeLine, Row, iter_free_lines, iter_rows
from qcompare.text import PRIVATE_USE, clean_text

__all__ = [
    "ParseError",
    "add_departments",
    "cell_points",
    "check_declared_totals",
    "chinese_numeral",
    "collapse_repeats",
    "derive_parent_points",
    "format_points",
    "max_points_from_scoring",
    "parse_points",
    "report_private_use",
    "report_unparsed",
    "split_declared_points",
    "split_table",
]

_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def chinese_numeral(text: str) -> int:
    """Convert a Chinese numeral up to 99 (``十``, ``十六``, ``二十三``)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        value = (_DIGITS[tens] if tens else 1) * 10
        return value + (_DIGITS[units] if units else 0)
    if len(text) == 1 and text in _DIGITS:
        return _DIGITS[text]
    raise ValueError(f"not a Chinese numeral: {text!r}")


def parse_points(raw: str) -> float | None:
    """The number in a points cell, or None when the cell is empty."""
    text = clean_text(raw)
    if not text:
        return None
    if not re.fullmatch(r"\d+(?:\.\d+)?", text):
        raise ValueError(f"not a points value: {raw!r}")
    return float(text)


def cell_points(cell: Cell | None, file: str) -> float | None:
    """The points in a cell; a cell that holds something else is a ParseError.

    >>> cell_points(Cell("20", 7, 7), "x.txt"), cell_points(None, "x.txt")
    (20.0, None)
    >>> cell_points(Cell("二十", 7, 7), "x.txt")
    Traceback (most recent call last):
    ...
    qcompare.model.ParseError: x.txt, line 7: expected a number of points, found '二十'
    """
    if cell is None:
        return None
    try:
        return parse_points(cell.text)
    except ValueError:
        raise ParseError(file, cell.first_line, "a number of points", cell.text) from None


def split_declared_points(text: str) -> tuple[str, float | None]:
    """Split ``标题（40分）`` into the title and the declared points."""
    cleaned = clean_text(text).replace("\n", "")
    match = re.search(r"[(（](?:[^()（）]*?[,，])?(\d+(?:\.\d+)?)分[)）]\s*$", cleaned)
    if not match:
        return cleaned, None
    return cleaned[: match.start()].strip(), float(match.group(1))


def collapse_repeats(raw: str) -> tuple[str, int]:
    """Collapse a merged cell the export repeated (``X\\n\\nX`` → ``X``).

    The repeat must start at a line boundary, so a real ``11`` on one line
    is never collapsed.  Returns the cleaned text and the number of copies.

    >>> collapse_repeats("4\\n\\n4")
    ('4', 2)
    >>> collapse_repeats("11")
    ('11', 1)
    """
    lines = [clean_text(line) for line in raw.split("\n") if clean_text(line)]
    joined = "".join(lines)
    boundaries, total = set(), 0
    for line in lines:
        total += len(line)
        boundaries.add(total)
    for size in sorted(boundaries):
        if size == len(joined):
            break
        if len(joined) % size == 0 and joined[:size] * (len(joined) // size) == joined:
            return clean_text(raw_first_copy(raw, size)), len(joined) // size
    return clean_text(raw), 1


def raw_first_copy(raw: str, size: int) -> str:
    """The raw lines that make up the first ``size`` cleaned characters."""
    kept, total = [], 0
    for line in raw.split("\n"):
        piece = clean_text(line)
        if not piece:
            continue
        kept.append(line)
        total += len(piece)
        if total >= size:
            break
    return "\n".join(kept)


_PAREN_POINTS = re.compile(r"[(（](\d+(?:\.\d+)?)分[)）]")
_TIER_POINTS = re.compile(r"(?:得|是|为)?(\d+(?:\.\d+)?)分")


def max_points_from_scoring(text: str) -> tuple[float, str] | None:
    """The most points a scoring text can award, with how it was read.

    Parenthesised parts ``…（10分）；…（5分）`` are read as additive and
    summed; otherwise the highest tier ``得20分 / 得10分 / 得0分`` wins.

    >>> max_points_from_scoring("建立制度（10分）；召开会议（10分）")
    (20.0, 'sum of parenthesised parts 10+10')
    >>> max_points_from_scoring("出台的得20分；正在制定的得10分；未制定的得0分。")
    (20.0, 'highest tier among 20, 10, 0')
    >>> max_points_from_scoring("酌情打分") is None
    True
    """
    cleaned = clean_text(text)
    parts = [float(p) for p in _PAREN_POINTS.findall(cleaned)]
    if parts:
        return sum(parts), "sum of parenthesised parts " + "+".join(format_points(p) for p in parts)
    tiers = [float(p) for p in _TIER_POINTS.findall(cleaned)]
    if tiers:
        return max(tiers), "highest tier among " + ", ".join(format_points(p) for p in tiers)
    return None


def format_points(value: float | None) -> str:
    """Print points without a trailing ``.0``.

    >>> format_points(20.0), format_points(2.5), format_points(None)
    ('20', '2.5', '')
    """
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def add_departments(
    builder: SchemeBuilder,
    node_id: str,
    cell: Cell,
    role: str,
    *,
    inherited: bool = False,
    lead_when_marked: bool = False,
) -> int:
    """Add one assignment per department named in a cell; return how many.

    ``role`` applies to named bodies; collective placeholders get the role
    ``collective``.  With ``lead_when_marked`` a mention carrying ``牵头``
    becomes ``lead`` whatever ``role`` says.
    """
    count = 0
    for mention in split_departments(cell.text):
        mention_role = role
        if mention.is_collective:
            mention_role = "collective"
        elif lead_when_marked and mention.qualifier and "牵头" in mention.qualifier:
            mention_role = "lead"
        builder.add_assignment(
            node_id,
            mention.raw,
            mention_role,
            builder.ref(cell),
            qualifier=mention.qualifier,
            inherited=inherited,
        )
        count += 1
    return count


def derive_parent_points(builder: SchemeBuilder) -> None:
    """Fill the points of nodes that declare none with the sum of their
    children (``derived_sum``), bottom-up.  Declared points are never touched."""
    children: dict[str, list[dict[str, Any]]] = {}
    for node in builder.nodes:
        if node["parent_id"]:
            children.setdefault(node["parent_id"], []).append(node)
    for node in sorted(builder.nodes, key=lambda n: -n["level"]):
        if node["points"] is not None:
            continue
        kids = children.get(node["node_id"], [])
        values = [k["points"] for k in kids if k["points"] is not None and not k["is_veto"]]
        if kids and values and len(values) == len([k for k in kids if not k["is_veto"]]):
            node["points"] = float(sum(values))
            node["points_status"] = "derived_sum"


def check_declared_totals(builder: SchemeBuilder) -> None:
    """Report every node whose declared points differ from its children's sum.

    Only children that carry points count; a node whose children carry none
    is not checked.  The declared figure is never changed.
    """
    children: dict[str, list[dict[str, Any]]] = {}
    for node in builder.nodes:
        if node["parent_id"]:
            children.setdefault(node["parent_id"], []).append(node)
    for node in builder.nodes:
        if node["points_status"] != "declared":
            continue
        kids = [k for k in children.get(node["node_id"], []) if k["points"] is not None]
        if not kids:
            continue
        total = sum(k["points"] for k in kids)
        if abs(total - node["points"]) > 1e-9:
            parts = " + ".join(f"{k['code'] or k['node_id']} {format_points(k['points'])}" for k in kids)
            builder.add_issue(
                "total_mismatch",
                f"{node['title']} declares {format_points(node['points'])} points, "
                f"but its parts sum to {format_points(total)}",
                node["raw_ref"],
                node_id=node["node_id"],
                evidence=parts,
            )


def report_private_use(builder: SchemeBuilder, text: str, first: int, last: int) -> None:
    """Record the private-use glyphs removed from lines first..last."""
    lines = text.split("\n")
    hits = [n for n in range(first, last + 1) if n - 1 < len(lines) and PRIVATE_USE.search(lines[n - 1])]
    if hits:
        count = sum(len(PRIVATE_USE.findall(lines[n - 1])) for n in hits)
        builder.add_issue(
            "private_use_removed",
            f"removed {count} private-use glyph(s) (symbol-font residue) from {len(hits)} line(s); "
            "the raw text keeps them",
            builder.ref_lines(hits[0], hits[-1]),
            severity="info",
            evidence="lines " + ", ".join(str(n) for n in hits),
        )


def report_unparsed(builder: SchemeBuilder, blocks: Iterable[Block], why: str) -> None:
    """Record every non-empty cell or line of some blocks as unparsed text."""
    for block in blocks:
        pieces: list[Cell | FreeLine] = list(block.cells) if isinstance(block, Row) else [block]
        for piece in pieces:
            raw = piece.text
            if clean_text(raw):
                builder.add_issue("unparsed_text", why, builder.ref(piece), severity="info", evidence=raw)


def split_table(blocks: Iterable[Block], file: str, found: str = "") -> tuple[list[Row], list[FreeLine], list[str]]:
    """The rows, the free lines and the header row's cleaned texts of a block
    list; a ``ParseError`` at line 1 (showing ``found``) when there is no table.

    >>> from qcompare.reader import read_blocks
    >>> rows, free, columns = split_table(read_blocks("标题\\n\\t一级指标\\n\\t分值\\n"), "x.txt")
    >>> len(rows), free[0].text, columns
    (1, '标题', ['一级指标', '分值'])
    """
    blocks = list(blocks)
    rows, free = list(iter_rows(blocks)), list(iter_free_lines(blocks))
    if not rows:
        raise ParseError(file, 1, "a tab-separated table", found)
    return rows, free, [clean_text(c.text) for c in rows[0].cells]
