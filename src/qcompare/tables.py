"""Turn parser records into typed tables, and read and write them as CSV.

The CSV files are the product researchers cite, so they are written the
same way every time: UTF-8, ``\\n`` line ends, rows in a fixed order,
numbers without a trailing ``.0``, empty fields for missing values.  All
files are validated before the first one is written, and each is written
to a temporary file; they are moved into place once all are written, so a
failed build leaves the old files untouched.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from qcompare.errors import InputError
from qcompare.model import TABLES, DocumentResult
from qcompare.paths import normalized_dir
from qcompare.schema import SCHEMAS, STRING, schema_document, validated

__all__ = [
    "FILE_NAMES",
    "format_cell",
    "load_tables",
    "records",
    "records_to_tables",
    "select_schemes",
    "sort_tables",
    "staged_files",
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


#: Rows formatted and written at a time (bounds the memory a large table takes to write).
_CHUNK_ROWS = 65_536


def _write_csv(frame: pd.DataFrame, out: TextIO, sep: str = ",") -> None:
    """Write a table as CSV: the header, then every row's :func:`format_cell` text.

    The bytes are those of ``DataFrame.to_csv(index=False, lineterminator="\\n")``
    of that text, which is Python's :mod:`csv` writer with minimal quoting
    fed row by row.  That writer changes a row only if a field holds the
    separator, a quote, ``\\r`` or ``\\n``, or is a row's only field and
    empty; a block of rows without such a field is its fields joined by the
    separator, one row a line, and is written so (faster than the writer).
    Any other block goes through the writer.
    """
    writer = csv.writer(out, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([str(column) for column in frame.columns])
    for start in range(0, len(frame), _CHUNK_ROWS):
        chunk = frame.iloc[start : start + _CHUNK_ROWS]
        columns = [_cells(chunk[column]) for column in chunk.columns]
        if len(columns) > 1 and all(_plain(cells, sep) for cells in columns):
            out.write("\n".join(map(sep.join, zip(*columns, strict=True))))
            out.write("\n")
        else:
            writer.writerows(zip(*columns, strict=True))


def _plain(cells: list[str], sep: str) -> bool:
    """Whether no cell holds a character the CSV writer would quote."""
    text = "".join(cells)
    return sep not in text and '"' not in text and "\n" not in text and "\r" not in text


def _cells(column: pd.Series) -> list[str]:
    """:func:`format_cell` of every value of a column, computed for the whole
    column by its dtype (per-cell calls dominated writing large corpora).

    >>> import numpy as np
    >>> _cells(pd.Series([20.0, 2.5, np.nan, -0.0, 1e20, float("inf"), 0.1 + 0.2]))
    ['20', '2.5', '', '0', '100000000000000000000', 'inf', '0.30000000000000004']
    >>> _cells(pd.Series([3, None], dtype="Int64")), _cells(pd.Series([True, False]))
    (['3', ''], ['True', 'False'])
    """
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        return column.to_numpy(dtype=object, na_value="").tolist()
    if dtype == "float64":
        values = column.to_numpy()
        whole = np.isfinite(values) & (values == np.trunc(values))  # float.is_integer()
        other = ~whole & ~np.isnan(values)
        cells = np.full(len(values), "", dtype=object)
        cells[whole] = [str(int(v)) for v in values[whole].tolist()]
        cells[other] = [repr(v) for v in values[other].tolist()]
        return cells.tolist()
    if dtype in ("int64", "bool"):
        return [str(v) for v in column.to_numpy().tolist()]
    if dtype == "Int64":
        missing = column.isna().to_numpy()
        numbers = column.to_numpy(dtype="int64", na_value=0).tolist()
        return ["" if m else str(v) for v, m in zip(numbers, missing.tolist(), strict=True)]
    values = column.to_numpy(dtype=object)
    return ["" if m else format_cell(v) for v, m in zip(values, pd.isna(values), strict=True)]


def _separator(filename: str) -> str:
    return "\t" if filename.endswith(".tsv") else ","


def write_tables(tables: Mapping[str, pd.DataFrame], directory: Path | None = None) -> list[Path]:
    """Validate, then write every table and ``schema.json`` atomically.

    Tables that :func:`~qcompare.schema.validate_tables` returned
    (:class:`~qcompare.schema.ValidatedTables`) are not validated again, so
    the same tables can be written here and as Parquet
    (:func:`qcompare.columnar.write_parquet`) with one validation.  Each file
    is written to a temporary name, and all are moved into place only once
    every one is written: a failure leaves the old files.
    """
    directory = directory or normalized_dir()
    checked = validated(tables)
    directory.mkdir(parents=True, exist_ok=True)
    names = [*((name, FILE_NAMES[name]) for name in SCHEMAS), (None, "schema.json")]
    with staged_files(directory) as stage:
        for name, filename in names:
            with stage(filename).open("w", encoding="utf-8", newline="") as out:
                if name is None:
                    out.write(schema_document())
                else:
                    _write_csv(checked[name], out, _separator(filename))
    return [directory / filename for _, filename in names]


@contextmanager
def staged_files(directory: Path) -> Iterator[Callable[[str], Path]]:
    """Write several files in ``directory`` all or nothing.

    ``stage(filename)`` gives a temporary path beside the file to write.
    When the block ends, every staged file is moved into place; if it
    raises, none is, and the temporary files are removed, so the old files
    stay as they were.

    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with staged_files(Path(tmp)) as stage:
    ...         _ = stage("a.csv").write_text("x")
    ...         before = sorted(p.name for p in Path(tmp).iterdir() if not p.name.startswith("."))
    ...     after = sorted(p.name for p in Path(tmp).iterdir())
    >>> before, after
    ([], ['a.csv'])
    """
    staged: list[tuple[Path, Path]] = []

    def stage(filename: str) -> Path:
        handle, tmp = tempfile.mkstemp(prefix=f".{filename}.", dir=directory)
        os.close(handle)
        staged.append((Path(tmp), directory / filename))
        return Path(tmp)

    try:
        yield stage
        for tmp_path, target in staged:
            tmp_path.chmod(0o644)
            tmp_path.replace(target)
    finally:
        for tmp_path, _ in staged:
            tmp_path.unlink(missing_ok=True)


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
