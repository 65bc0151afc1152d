"""Parquet output: round trips through pandas and DuckDB, identical bytes, the schema's types."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qcompare.columnar import PARQUET_NAMES, arrow_schema, read_parquet, write_parquet
from qcompare.schema import (
    SCHEMAS,
    STRING,
    TableValidationError,
    pin_string_storage,
    schema_document,
    validate_tables,
)

pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def parquet_dir(committed, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("parquet")
    write_parquet(committed, directory)
    return directory


def test_one_file_per_table(parquet_dir: Path):
    assert sorted(p.name for p in parquet_dir.iterdir()) == sorted(PARQUET_NAMES.values())


def test_every_table_round_trips_through_parquet_with_pandas(committed, parquet_dir: Path):
    again = read_parquet(parquet_dir)
    for name, frame in committed.items():
        pd.testing.assert_frame_equal(again[name], frame, check_dtype=True, obj=name)
        # pandas alone: the same values and dtypes, text in pandas' default string storage
        plain = pd.read_parquet(parquet_dir / PARQUET_NAMES[name])
        assert isinstance(plain.index, pd.RangeIndex), name
        assert list(plain.dtypes.astype(str)) == list(frame.dtypes.astype(str)), name
        pd.testing.assert_frame_equal(pin_string_storage({name: plain})[name], frame, check_dtype=True, obj=name)


def _python_value(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def test_every_table_reads_in_duckdb(committed, parquet_dir: Path):
    con = duckdb.connect()
    duck_types = {"int64": "BIGINT", "Int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN"}
    for name, frame in committed.items():
        path = str(parquet_dir / PARQUET_NAMES[name])
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
        expected_types = [
            "VARCHAR" if str(spec.dtype).startswith("str") else duck_types[str(spec.dtype)]
            for spec in SCHEMAS[name].columns.values()
        ]
        assert [row[0] for row in described] == list(frame.columns), name
        assert [row[1] for row in described] == expected_types, name
        rows = con.execute("SELECT * FROM read_parquet(?)", [path]).fetchall()
        expected = [tuple(_python_value(v) for v in row) for row in frame.itertuples(index=False)]
        assert rows == expected, name


def test_duckdb_answers_a_query_as_pandas_does(committed, parquet_dir: Path):
    path = str(parquet_dir / "nodes.parquet")
    duck = duckdb.connect().execute(
        "SELECT scheme_id, count(*) AS n FROM read_parquet(?) WHERE level = 1 GROUP BY scheme_id ORDER BY scheme_id",
        [path],
    )
    nodes = committed["nodes"]
    by_pandas = nodes[nodes["level"] == 1].groupby("scheme_id").size().sort_index()
    assert duck.fetchall() == list(by_pandas.items())


def test_two_writes_give_identical_bytes(committed, parquet_dir: Path, tmp_path: Path):
    write_parquet(committed, tmp_path)
    for filename in PARQUET_NAMES.values():
        assert (tmp_path / filename).read_bytes() == (parquet_dir / filename).read_bytes(), filename


def test_validated_tables_are_written_as_the_plain_ones_are(committed, parquet_dir: Path, tmp_path: Path):
    write_parquet(validate_tables(committed), tmp_path)
    for filename in PARQUET_NAMES.values():
        assert (tmp_path / filename).read_bytes() == (parquet_dir / filename).read_bytes(), filename


def test_parquet_types_follow_the_schema(parquet_dir: Path):
    for name in SCHEMAS:
        stored = pq.read_schema(parquet_dir / PARQUET_NAMES[name])
        assert stored.remove_metadata() == arrow_schema(name), name
        assert all(field.nullable == SCHEMAS[name].columns[field.name].nullable for field in stored), name
    metadata = pq.read_metadata(parquet_dir / "nodes.parquet")
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert metadata.row_group(0).column(0).statistics.has_min_max  # readers skip other schemes


def test_invalid_tables_are_refused_and_nothing_is_written(committed, tmp_path: Path):
    broken = {name: frame.copy() for name, frame in committed.items()}
    broken["assignments"].loc[0, "role"] = "boss"
    with pytest.raises(TableValidationError, match=r"assignments: column role, check isin"):
        write_parquet(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


_WITHOUT_PYARROW = """
import sys, tempfile
from pathlib import Path
sys.modules["pyarrow"] = None  # import pyarrow now fails: pandas falls back to Python string storage
import pandas as pd
from qcompare.schema import schema_document
from qcompare.tables import load_tables, write_tables
assert pd.Series(["x"]).dtype.storage == "python"
tables = load_tables()
print(sorted({str(f[c].dtype.storage) for f in tables.values() for c in f if isinstance(f[c].dtype, pd.StringDtype)}))
write_tables(tables, Path(sys.argv[1]))
"""


def test_tables_and_files_do_not_depend_on_pyarrow_being_installed(committed, tmp_path: Path):
    """pyarrow is installed here, which makes pandas 3 default to pyarrow string storage; the package's
    tables pin theirs, so a process without pyarrow writes the same bytes and the same schema.json."""
    assert pd.Series(["x"]).dtype.storage == "pyarrow"
    assert all(frame[c].dtype == STRING for frame in committed.values() for c in frame if frame[c].dtype == "str")
    assert "pyarrow" not in schema_document()
    with_pyarrow, without = tmp_path / "with", tmp_path / "without"
    from qcompare.tables import write_tables

    write_tables(committed, with_pyarrow)
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PYARROW, str(without)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['python']"
    for path in sorted(with_pyarrow.iterdir()):
        assert (without / path.name).read_bytes() == path.read_bytes(), path.name
