"""Turn parser records into typed tables, and read and write them as CSV.

The CSV files are the product researchers cite, so they are written the
same way every time: UTF-8, ``\\n`` line ends, rows in a fixed order,
numbers without a trailing ``.0``, empty fields for missing values.  All
files are validated before the first one is written, and each is written
to a temporary file and moved into place, so a failed build leaves the old
files untouched.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from qcompare.errors import InputError
from qcompare.model import TABLES, DocumentResult
from qcompare.paths import normalized_dir
from qcompare.schema import SCHEMAS, STRING, schema_document, validate_tables

__all__ = [
    "FILE_NAMES",
    "format_cell",
    "load_tables",
    "records",
    "records_to_tables",
    "select_schemes",
    "sort_tables",
    "typed_table",
    "write_tables",
]

_SORT_KEYS: dict[str, list[str]] = {
    "schemes": ["scheme_id"],
    "nodes": ["scheme_id", "position"],
    "rules": ["scheme_id", "position"],
    "targets": ["scheme_id", "position"],
    "assignments": ["scheme_id", "_node_position", "position"],
    "data_issues": ["scheme_id", "_first_line", "kind", "message"],
    "departments": ["department_id"],
    "categories": ["scheme_id", "_node_position", "facet", "category"],
    "crosswalk": ["scheme_id", "_node_position"],
    "mappings": ["subject_id", "object_id"],
}

#: File name of each table in data/normalized (the mappings follow SSSOM's TSV convention).
FILE_NAMES = {name: f"{name}.csv" for name in SCHEMAS} | {"mappings": "mappings.sssom.tsv"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "") or bool(pd.isna(value))


def _typed(name: str, records: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    schema = SCHEMAS[name]
    columns = list(schema.columns)
    if isinstance(records, pd.DataFrame):
        frame = records.reindex(columns=columns).reset_index(drop=True)
    else:
        frame = pd.DataFrame.from_records(records, columns=columns)
    for column, spec in schema.columns.items():
        dtype = str(spec.dtype)
        if dtype.startswith("str"):
            frame[column] = pd.Series(_texts(frame[column]), dtype=STRING, index=frame.index)
        elif dtype == "float64":
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
        elif dtype == "Int64":
            frame[column] = frame[column].astype("Int64")
        elif dtype == "int64":
            frame[column] = frame[column].astype("int64")
        elif dtype == "bool":
            frame[column] = frame[column].astype(bool)
    return frame


def _texts(column: pd.Series) -> list[str | None]:
    """A column's values as text, None where missing (None, NaN, NA or "");
    the missing mask is computed once for the column, not per value."""
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values) | (values == "")
    return [None if m else (v if isinstance(v, str) else str(v)) for v, m in zip(values, missing, strict=True)]


def records_to_tables(results: Iterable[DocumentResult]) -> dict[str, pd.DataFrame]:
    """Collect the records of every document into sorted, typed tables."""
    results = list(results)
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        records: list[dict[str, Any]] = []
        for result in results:
            records.extend(result.records(name))
        tables[name] = _typed(name, records)
    return sort_tables(tables)


def typed_table(name: str, records: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """A table of the data model built from records (or a frame with its
    columns), with its schema's types.

    >>> issues = typed_table("data_issues", pd.DataFrame({"scheme_id": ["a"], "kind": ["x"], "message": [""]}))
    >>> issues["message"].isna()[0]
    np.True_
    """
    return _typed(name, records)


def sort_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Put every table in its fixed row order (the order the CSV files use)."""
    out = dict(tables)
    node_position = dict(zip(out["nodes"]["node_id"], out["nodes"]["position"], strict=True))
    for name, keys in _SORT_KEYS.items():
        if name not in out:
            continue
        frame = out[name]
        helper = frame.assign(
            _node_position=frame["node_id"].map(node_position) if "node_id" in frame else 0,
            _first_line=frame["raw_ref"].str.extract(r":L(\d+)")[0].astype(int) if "raw_ref" in frame else 0,
        )
        out[name] = (
            helper.sort_values(keys, kind="stable")
            .drop(columns=["_node_position", "_first_line"])
            .reset_index(drop=True)
        )
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as dicts keyed by column name.

    >>> records(pd.DataFrame({"a": [1], "b": ["x"]}))
    [{'a': 1, 'b': 'x'}]
    """
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def format_cell(value: Any) -> str:
    """How one value is spelled in the CSV files.

    >>> [format_cell(v) for v in (20.0, 2.5, None, float("nan"), True, 7, "x")]
    ['20', '2.5', '', '', 'True', '7', 'x']
    """
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _to_csv_text(frame: pd.DataFrame, sep: str = ",") -> str:
    text_frame = pd.DataFrame({column: _cells(frame[column]) for column in frame.columns}, index=frame.index)
    return text_frame.to_csv(index=False, lineterminator="\n", sep=sep)


def _cells(column: pd.Series) -> list[str]:
    """:func:`format_cell` of every value of a column, the missing mask once
    per column (per-cell ``DataFrame.map`` dominated writing large corpora)."""
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if column.dtype == STRING:
        return ["" if m else v for v, m in zip(values, missing, strict=True)]
    return ["" if m else format_cell(v) for v, m in zip(values, missing, strict=True)]


def _separator(filename: str) -> str:
    return "\t" if filename.endswith(".tsv") else ","


def write_tables(tables: Mapping[str, pd.DataFrame], directory: Path | None = None) -> list[Path]:
    """Validate, then write every table and ``schema.json`` atomically."""
    directory = directory or normalized_dir()
    validated = validate_tables(dict(tables))
    payloads = {FILE_NAMES[name]: _to_csv_text(validated[name], _separator(FILE_NAMES[name])) for name in SCHEMAS}
    payloads["schema.json"] = schema_document()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, payload in payloads.items():
        target = directory / filename
        handle, tmp = tempfile.mkstemp(prefix=f".{filename}.", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(payload)
            Path(tmp).chmod(0o644)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def select_schemes(tables: Mapping[str, pd.DataFrame], scheme_ids: Iterable[str] | None) -> dict[str, pd.DataFrame]:
    """Keep only the rows of some schemes (``None`` keeps every scheme).

    This is what the notebooks' ``schemes`` parameter does: pass an imported
    scheme's id beside the ones to compare it with.  The department registry
    is kept whole; a mapping is kept when both its ends are kept.

    >>> tables = load_tables()
    >>> sorted(select_schemes(tables, ["ezhou", "nantong"])["schemes"]["scheme_id"])
    ['ezhou', 'nantong']
    >>> select_schemes(tables, ["suzhou"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qcompare.errors.InputError: schemes, 'suzhou': no such scheme in the data
      fix: choose from changzhou, ezhou, ...; add a scheme of your own with 'qcompare import'
    """
    if scheme_ids is None:
        return dict(tables)
    wanted = list(dict.fromkeys(scheme_ids))
    known = set(tables["schemes"]["scheme_id"])
    for scheme_id in wanted:
        if scheme_id not in known:
            raise InputError(
                "schemes",
                repr(scheme_id),
                "no such scheme in the data",
                f"choose from {', '.join(sorted(known))}; add a scheme of your own with 'qcompare import'",
            )
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        if "scheme_id" in frame.columns:
            keep = frame["scheme_id"].isin(wanted)
        elif {"subject_id", "object_id"} <= set(frame.columns):
            keep = frame["subject_id"].str.split(":").str[0].isin(wanted) & frame["object_id"].str.split(":").str[
                0
            ].isin(wanted)
        else:
            out[name] = frame
            continue
        out[name] = frame[keep].reset_index(drop=True)
    return out


def load_tables(directory: Path | None = None) -> dict[str, pd.DataFrame]:
    """Read the normalized CSV files back into typed tables.

    >>> tables = load_tables()
    >>> sorted(tables)[:4]
    ['assignments', 'categories', 'crosswalk', 'data_issues']
    """
    directory = directory or normalized_dir()
    tables = {}
    for name, schema in SCHEMAS.items():
        filename = FILE_NAMES[name]
        raw = pd.read_csv(directory / filename, dtype=str, keep_default_na=False, sep=_separator(filename))
        records: list[dict[str, Any]] = raw.to_dict("records")  # type: ignore[assignment]
        for record in records:
            for column, spec in schema.columns.items():
                value = record[column]
                dtype = str(spec.dtype)
                if value == "":
                    record[column] = None
                elif dtype == "float64":
                    record[column] = float(value)
                elif dtype in ("int64", "Int64"):
                    record[column] = int(value)
                elif dtype == "bool":
                    record[column] = value == "True"
        tables[name] = _typed(name, records)
    return tables
