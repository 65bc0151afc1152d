"""The build pipeline: raw documents → validated normalized tables.

``build()`` is what ``qcompare build`` runs: verify every raw file against
its manifest checksum, parse each document with its parser, collect the
records into typed tables, validate them, and write ``data/normalized``.
Each step is a plain function, so tests and notebooks can run any part.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from qcompare.crosswalk import build_crosswalk, sssom_table
from qcompare.departments import resolve_assignments
from qcompare.model import DocumentResult
from qcompare.ontology import label_nodes, load_evaluation_set
from qcompare.parsers import PARSERS
from qcompare.paths import normalized_dir, raw_dir
from qcompare.raw import RawFileError, read_manifest, read_raw
from qcompare.rules import parse_rules_table
from qcompare.tables import records_to_tables, sort_tables, typed_table, write_tables
from qcompare.targets import normalize_targets

__all__ = ["build", "build_tables", "parse_documents"]

Progress = Callable[[str], None]


def parse_documents(directory: Path | None = None, progress: Progress | None = None) -> list[DocumentResult]:
    """Parse every document listed in the manifest, in manifest order."""
    directory = directory or raw_dir()
    results = []
    entries = read_manifest(directory / "MANIFEST.csv")
    for index, entry in enumerate(entries, start=1):
        parser = PARSERS.get(entry.document_id)
        if parser is None:
            raise RawFileError(
                f"{entry.file}: no parser for document_id '{entry.document_id}'; "
                f"known ids are {', '.join(sorted(PARSERS))}"
            )
        if progress:
            progress(f"[{index}/{len(entries)}] parsing {entry.file} ({entry.title})")
        results.append(parser(read_raw(entry, directory), entry.file))
    return results


def build_tables(directory: Path | None = None, progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Parse the raw documents into the normalized tables (not yet written):
    parse, collect, then resolve department names against the registry."""
    tables = records_to_tables(parse_documents(directory, progress))
    if progress:
        progress("resolving department names against data/reference/departments.csv")
    tables = resolve_assignments(tables)
    if progress:
        progress("parsing scoring rules into their machine form")
    tables["rules"], rule_issues = parse_rules_table(tables)
    if rule_issues:
        tables["data_issues"] = pd.concat(
            [tables["data_issues"], typed_table("data_issues", rule_issues)], ignore_index=True
        )
    tables["targets"] = _typed_frame("targets", normalize_targets(tables))
    if progress:
        progress("labelling nodes on the ontology's three facets")
    tables["categories"] = _typed_frame("categories", label_nodes(tables, manual=load_evaluation_set()))
    if progress:
        progress("matching criteria across schemes (crosswalk)")
    crosswalk, pairs = build_crosswalk(tables)
    tables["crosswalk"] = _typed_frame("crosswalk", crosswalk)
    tables["mappings"] = _typed_frame("mappings", sssom_table(pairs, tables["nodes"]))
    return sort_tables(tables)


def _typed_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    return typed_table(name, [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")])


def build(
    raw: Path | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, pd.DataFrame]:
    """Rebuild ``data/normalized`` from ``data/raw``; return the tables."""
    tables = build_tables(raw, progress)
    target = out or normalized_dir()
    written = write_tables(tables, target)
    if progress:
        sizes = ", ".join(f"{name} {len(frame)}" for name, frame in tables.items())
        progress(f"wrote {len(written)} files to {target} ({sizes} rows)")
    return tables
