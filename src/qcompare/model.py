"""The normalized tables as Python records, and the builder parsers fill.

Each parser creates one :class:`SchemeBuilder` per scheme and calls
``add_node``, ``add_rule``, ``add_target``, ``add_assignment`` and
``add_issue``.  The builder keeps document order (``position``), formats
``raw_ref`` the same way everywhere, and hands its records to
:func:`qcompare.build.build_tables`, which turns them into DataFrames.

``raw_ref`` has the form ``<file>:L<first>-L<last>`` (or ``:L<n>`` for one
line), naming a file in ``data/raw``.

>>> raw_ref("nantong.txt", 14, 20), raw_ref("nantong.txt", 7, 7)
('nantong.txt:L14-L20', 'nantong.txt:L7')
>>> parse_raw_ref("nantong.txt:L14-L20")
('nantong.txt', 14, 20)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qcompare.errors import InputError
from qcompare.reader import Cell, FreeLine

__all__ = [
    "TABLES",
    "DocumentResult",
    "ParseError",
    "SchemeBuilder",
    "parse_raw_ref",
    "raw_ref",
    "span",
]

#: The tables of the data model, in the order they are written.
TABLES = ("schemes", "nodes", "rules", "targets", "assignments", "data_issues")

_REF = re.compile(r"^(?P<file>[^:]+):L(?P<a>\d+)(?:-L(?P<b>\d+))?$")


def raw_ref(file: str, first: int, last: int) -> str:
    """Format a reference to a line range of a raw file."""
    if first == last:
        return f"{file}:L{first}"
    return f"{file}:L{first}-L{last}"


def parse_raw_ref(ref: str) -> tuple[str, int, int]:
    """Split a ``raw_ref`` into file, first line and last line."""
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"not a raw_ref: {ref!r} (expected 'file.txt:L12' or 'file.txt:L12-L20')")
    first = int(match["a"])
    last = int(match["b"]) if match["b"] else first
    return match["file"], first, last


class ParseError(InputError):
    """A raw document does not have the shape its parser expects.

    The message names the file, the line and what was expected, so the
    person who supplied the file can fix it.

    >>> print(ParseError("x.txt", 7, "a number of points", "二十"))
    x.txt, line 7: expected a number of points, found '二十'
    """

    def __init__(self, file: str, line: int, expected: str, found: str, fix: str | None = None) -> None:
        self.line, self.expected, self.found = line, expected, found
        shown = found if len(found) <= 60 else found[:57] + "..."
        super().__init__(file, f"line {line}", f"expected {expected}, found {shown!r}", fix)


Located = Cell | FreeLine


def span(*pieces: Located | None) -> tuple[int, int]:
    """The first and last source line covered by some cells or free lines.

    >>> span(FreeLine("a", 3), Cell("b", 5, 7), None)
    (3, 7)
    """
    firsts, lasts = [], []
    for piece in pieces:
        if piece is None:
            continue
        if isinstance(piece, FreeLine):
            firsts.append(piece.line)
            lasts.append(piece.line)
        else:
            firsts.append(piece.first_line)
            lasts.append(piece.last_line)
    if not firsts:
        raise ValueError("span() needs at least one cell or free line")
    return min(firsts), max(lasts)


@dataclass
class SchemeBuilder:
    """Collects the records of one scheme while a parser reads it."""

    scheme_id: str
    file: str
    scheme: dict[str, Any] = field(default_factory=dict)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    data_issues: list[dict[str, Any]] = field(default_factory=list)
    _node_index: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ref(self, *pieces: Located | None) -> str:
        if not any(piece is not None for piece in pieces):
            raise ParseError(self.file, 1, "a source line for this value", "nothing")
        first, last = span(*pieces)
        return raw_ref(self.file, first, last)

    def ref_lines(self, first: int, last: int) -> str:
        return raw_ref(self.file, first, last)

    def node_id(self, local_id: str) -> str:
        return f"{self.scheme_id}:{local_id}"

    def has_node(self, node_id: str) -> bool:
        return node_id in self._node_index

    def node(self, node_id: str) -> dict[str, Any]:
        return self._node_index[node_id]

    def add_node(
        self,
        local_id: str,
        *,
        parent_id: str | None,
        level: int,
        level_label: str,
        code: str,
        title: str,
        text: str,
        text_raw: str,
        ref: str,
        points: float | None = None,
        points_status: str = "none",
        is_bonus: bool = False,
        is_veto: bool = False,
        verification: str | None = None,
        deadline: str | None = None,
    ) -> str:
        node_id = self.node_id(local_id)
        if node_id in self._node_index:
            _, first, _ = parse_raw_ref(ref)
            raise ParseError(self.file, first, f"a number not used before in this scheme (it repeats {node_id})", title)
        record = {
            "scheme_id": self.scheme_id,
            "node_id": node_id,
            "parent_id": parent_id,
            "position": len(self.nodes) + 1,
            "level": level,
            "level_label": level_label,
            "code": code,
            "title": title,
            "text": text,
            "text_raw": text_raw,
            "points": points,
            "points_status": points_status if points is not None else "none",
            "is_bonus": is_bonus,
            "is_veto": is_veto,
            "verification": verification or None,
            "deadline": deadline or None,
            "raw_ref": ref,
        }
        self.nodes.append(record)
        self._node_index[node_id] = record
        return node_id

    def add_rule(self, node_id: str, rule_text: str, ref: str, *, rule_type: str | None = None) -> None:
        self.rules.append(
            {
                "scheme_id": self.scheme_id,
                "node_id": node_id,
                "position": len(self.rules) + 1,
                "rule_text": rule_text,
                "rule_type": rule_type,
                "max_points": None,
                "machine": None,
                "raw_ref": ref,
            }
        )

    def add_target(
        self,
        node_id: str,
        raw: str,
        ref: str,
        *,
        metric: str | None = None,
        comparator: str | None = None,
        value: float | None = None,
        unit: str | None = None,
    ) -> None:
        self.targets.append(
            {
                "scheme_id": self.scheme_id,
                "node_id": node_id,
                "position": len(self.targets) + 1,
                "metric": metric,
                "comparator": comparator,
                "value": value,
                "unit": unit,
                "raw": raw,
                "source": "target list" if value is not None else "goal text",
                "raw_ref": ref,
            }
        )

    def add_assignment(
        self,
        node_id: str,
        department_raw: str,
        role: str,
        ref: str,
        *,
        qualifier: str | None = None,
        inherited: bool = False,
    ) -> None:
        self.assignments.append(
            {
                "scheme_id": self.scheme_id,
                "node_id": node_id,
                "position": sum(1 for a in self.assignments if a["node_id"] == node_id) + 1,
                "department_raw": department_raw,
                "department_name": None,
                "department_id": None,
                "role": role,
                "qualifier": qualifier or None,
                "inherited": inherited,
                "raw_ref": ref,
            }
        )

    def add_issue(
        self,
        kind: str,
        message: str,
        ref: str,
        *,
        node_id: str | None = None,
        severity: str = "warning",
        evidence: str | None = None,
    ) -> None:
        self.data_issues.append(
            {
                "scheme_id": self.scheme_id,
                "node_id": node_id,
                "kind": kind,
                "severity": severity,
                "message": message,
                "evidence": evidence,
                "raw_ref": ref,
            }
        )


@dataclass
class DocumentResult:
    """Everything parsed from one raw document: one or more schemes."""

    document_id: str
    schemes: list[SchemeBuilder]

    def records(self, table: str) -> list[dict[str, Any]]:
        if table == "schemes":
            return [b.scheme for b in self.schemes]
        out: list[dict[str, Any]] = []
        for builder in self.schemes:
            out.extend(getattr(builder, table))
        return out
