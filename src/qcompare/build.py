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
from pydantic import ValidationError

from qcompare.columnar import write_parquet
from qcompare.crosswalk import build_crosswalk, sssom_table
from qcompare.departments import resolve_assignments
from qcompare.model import DocumentResult
from qcompare.ontology import label_nodes, load_evaluation_set
from qcompare.parallel import named_call, ordered_map, worker_count
from qcompare.parsers import PARSERS
from qcompare.parsers.table import ImportSpec, parse_table
from qcompare.paths import normalized_dir, raw_dir
from qcompare.raw import ManifestEntry, RawFileError, read_manifest, read_raw
from qcompare.rules import parse_rules_table
from qcompare.schema import pin_string_storage, validate_tables
from qcompare.tables import records_to_tables, sort_tables, typed_table, write_tables
from qcompare.targets import normalize_targets

__all__ = ["build", "build_tables", "import_record_name", "parse_documents", "parse_imported", "tables_from_results"]

Progress = Callable[[str], None]


def parse_documents(
    directory: Path | None = None, progress: Progress | None = None, workers: int | None = None
) -> list[DocumentResult]:
    """Parse every document listed in the manifest, in manifest order.

    ``workers`` processes share the documents (:mod:`qcompare.parallel`):
    ``None`` chooses from their total size (the manifest's ``bytes``) and
    the CPUs, so the five seeds (0.1 MB) are parsed here; ``1`` always
    parses here.  The results, and the first error, are the same either way.
    ``progress`` hears ``[i/n] parsing <file> (<title>)`` before each
    document here; with processes, one line for the pool, then
    ``[i/n] parsed <file> (<title>)`` as each result arrives, in order.
    """
    directory = directory or raw_dir()
    entries = read_manifest(directory / "MANIFEST.csv")
    count = worker_count(workers, sum(entry.bytes for entry in entries), len(entries))
    if count == 1:
        results = []
        for index, entry in enumerate(entries, start=1):
            if progress:
                progress(f"[{index}/{len(entries)}] parsing {entry.file} ({entry.title})")
            results.append(named_call(_parse_entry, (entry, directory), entry.file))
        return results
    if progress:
        size = sum(entry.bytes for entry in entries) / 1e6
        progress(f"parsing {len(entries)} documents ({size:.1f} MB) in {count} processes")
    calls = [(entry, directory) for entry in entries]
    names, sizes = [entry.file for entry in entries], [entry.bytes for entry in entries]
    parsed = ordered_map(_parse_entry, calls, names=names, sizes=sizes, workers=count)
    results = []
    for index, (entry, result) in enumerate(zip(entries, parsed, strict=True), start=1):
        if progress:
            progress(f"[{index}/{len(entries)}] parsed {entry.file} ({entry.title})")
        results.append(result)
    return results


def _parse_entry(entry: ManifestEntry, directory: Path) -> DocumentResult:
    """Parse one document of the manifest with its parser."""
    if entry.parser == "table":
        return parse_imported(entry, directory)
    parser = PARSERS.get(entry.parser)
    if parser is None:
        raise RawFileError(
            entry.file,
            f"no parser '{entry.parser}' for document_id '{entry.document_id}'",
            location="MANIFEST.csv",
            fix=f"use one of {', '.join(sorted(PARSERS))}, or add the document with 'qcompare import'",
        )
    return parser(read_raw(entry, directory), entry.file)


def parse_imported(entry: ManifestEntry, directory: Path) -> DocumentResult:
    """Parse an imported scheme: its text and its import record beside it."""
    record = directory / import_record_name(entry.file)
    if not record.is_file():
        raise RawFileError(
            record,
            "the import record of this imported scheme is missing",
            fix="restore it from git, or import the original again with "
            f"'qcompare import --replace --id {entry.document_id}'",
        )
    try:
        spec = ImportSpec.model_validate_json(record.read_text(encoding="utf-8"))
    except ValidationError as err:
        raise RawFileError(
            record, f"not a valid import record ({err.errors()[0]['msg']})", fix="restore it from git"
        ) from err
    return parse_table(read_raw(entry, directory), entry.file, entry.document_id, spec)


def import_record_name(file: str) -> str:
    """The import record's file name beside an imported scheme's text.

    >>> import_record_name("suzhou.txt")
    'suzhou.import.json'
    """
    return f"{Path(file).stem}.import.json"


def build_tables(directory: Path | None = None, progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Parse the raw documents into the normalized tables (not yet written)."""
    return tables_from_results(parse_documents(directory, progress), progress)


def tables_from_results(results: list[DocumentResult], progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Every stage after parsing: collect the parsed records into typed
    tables, resolve department names against the registry, parse scoring
    rules and targets, label the ontology, match the crosswalk.  ``progress``
    is told as each stage starts (the scaling benchmark times the stages by it)."""
    if progress:
        progress("collecting the parsed records into typed tables")
    tables = records_to_tables(results)
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
    return sort_tables(pin_string_storage(tables))


def _typed_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    return typed_table(name, frame)


def build(
    raw: Path | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    parquet: Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Rebuild ``data/normalized`` from ``data/raw``; return the tables.

    With ``parquet``, also write every table as Parquet into that folder
    (:func:`qcompare.columnar.write_parquet`; needs pyarrow).  The tables are
    validated once, before either is written.
    """
    tables = build_tables(raw, progress)
    target = out or normalized_dir()
    checked = validate_tables(tables)
    written = write_tables(checked, target)
    if progress:
        sizes = ", ".join(f"{name} {len(frame)}" for name, frame in tables.items())
        progress(f"wrote {len(written)} files to {target} ({sizes} rows)")
    if parquet is not None:
        columnar = write_parquet(checked, parquet)
        if progress:
            progress(f"wrote {len(columnar)} Parquet files to {parquet}")
    return tables
