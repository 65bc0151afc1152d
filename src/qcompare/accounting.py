"""Prove that nothing in a raw document was dropped.

Every non-blank line of every raw file must land in some field of some
record whose ``raw_ref`` covers that line: a node's text, a rule, a
target, a department mention, a scheme's header or notes, or a data issue
(``unparsed_text`` and the others keep their evidence).  The comparison
ignores what normalization legitimately changes (spacing, full-width
forms, private-use glyphs, list separators), nothing else.

:func:`unaccounted_lines` returns the lines that no record accounts for;
an empty frame is the proof.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from qcompare.model import parse_raw_ref
from qcompare.paths import raw_dir
from qcompare.raw import read_manifest, read_raw
from qcompare.reader import source_lines
from qcompare.tables import format_cell
from qcompare.text import clean_text

__all__ = ["squash", "unaccounted_in_text", "unaccounted_lines"]

_IGNORED = re.compile(r"[\s、，,；;。.:：|及]")


def squash(text: str) -> str:
    """The comparison form of a text: normalized, without separators.

    >>> squash("市经信委、建设局、\\n发改委") == squash("市经信委建设局发改委")
    True
    """
    return _IGNORED.sub("", clean_text(text))


def _blobs(tables: Mapping[str, pd.DataFrame]) -> dict[str, list[tuple[int, int, str]]]:
    """For each raw file, the (first, last, text) of every record."""
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for frame in tables.values():
        if "raw_ref" not in frame.columns:
            continue
        text_columns = [c for c in frame.columns if c not in ("raw_ref", "scheme_id", "document_id")]
        for values, ref in zip(frame[text_columns].to_numpy().tolist(), frame["raw_ref"], strict=True):
            file, first, last = parse_raw_ref(str(ref))
            out[file].append((first, last, squash("".join(format_cell(v) for v in values))))
    assignments = tables["assignments"]
    for ref, group in assignments.groupby("raw_ref", sort=True):
        file, first, last = parse_raw_ref(str(ref))
        names = "".join(
            format_cell(r) + format_cell(q) for r, q in zip(group["department_raw"], group["qualifier"], strict=True)
        )
        out[file].append((first, last, squash(names)))
    return out


def unaccounted_lines(tables: Mapping[str, pd.DataFrame], directory: Path | None = None) -> pd.DataFrame:
    """The raw lines that no record of ``tables`` accounts for."""
    directory = directory or raw_dir()
    blobs = _blobs(tables)
    missing = []
    for entry in read_manifest(directory / "MANIFEST.csv"):
        for line_no, text in _missing_lines(blobs.get(entry.file, []), read_raw(entry, directory)):
            missing.append({"file": entry.file, "line": line_no, "text": text})
    return pd.DataFrame(missing, columns=["file", "line", "text"])


def unaccounted_in_text(tables: Mapping[str, pd.DataFrame], file: str, text: str) -> list[tuple[int, str]]:
    """The lines of one document's ``text`` (named ``file`` in the raw_refs)
    that no record accounts for; for text that is not in data/raw, such as
    a damaged copy of a seed in the fuzz tests.

    >>> from qcompare.tables import records_to_tables
    >>> from qcompare.parsers.table import ImportSpec, parse_table
    >>> spec = ImportSpec(original="x", original_sha256="", source_format="text", source_table="t", columns=["content"])
    >>> text = "\\t考核内容\\n\\n\\t建立质量档案\\n"
    >>> unaccounted_in_text(records_to_tables([parse_table(text, "x.txt", "x", spec)]), "x.txt", text)
    []
    """
    return list(_missing_lines(_blobs(tables).get(file, []), text))


def _missing_lines(records: list[tuple[int, int, str]], text: str) -> Iterator[tuple[int, str]]:
    for line_no, line in source_lines(text):
        wanted = squash(line)
        if wanted and not any(first <= line_no <= last and wanted in blob for first, last, blob in records):
            yield line_no, line
