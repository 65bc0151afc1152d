"""The normalized tables as Parquet, for large corpora and columnar engines.

The CSV files in ``data/normalized`` are what researchers read and cite.
For a corpus of thousands of schemes, :func:`write_parquet` writes the same
tables as Parquet (``<table>.parquet``, one file per table), which DuckDB,
pandas, Polars, Dask and Spark read directly, with types:

====================  ==========================  ======================
schema dtype          Arrow / Parquet type         DuckDB type
====================  ==========================  ======================
``string[python]``    ``string`` (UTF-8)           ``VARCHAR``
``int64``, ``Int64``  ``int64``                    ``BIGINT``
``float64``           ``double``                   ``DOUBLE``
``bool``              ``bool``                     ``BOOLEAN``
====================  ==========================  ======================

A column that the schema does not allow to be empty is a ``required``
Parquet column.  The files are validated against the schemas first and
written the same way every time: fixed compression (zstd, level 3),
fixed row-group size, statistics on, no index column, no timestamps; two
writes of the same tables with the same library versions give identical
bytes.  (The writer's version is recorded in each file, so a different
pyarrow may write different bytes for the same data.)

The files are not partitioned by ``scheme_id``: rows are already sorted by
scheme, so the row groups' min/max statistics let a reader skip the other
schemes, and a Hive-style directory per scheme would turn 3,000 schemes
into tens of thousands of tiny files.  A partitioned copy is one DuckDB
statement: ``COPY (FROM 'nodes.parquet') TO 'nodes' (FORMAT parquet, PARTITION_BY scheme_id)``.

pyarrow is needed here only (``pip install 'qcompare[parquet]'``); the
rest of qcompare, and the tables it produces, do not depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from qcompare.errors import InputError
from qcompare.schema import SCHEMAS, pin_string_storage, validated
from qcompare.tables import staged_files

if TYPE_CHECKING:
    import pyarrow

__all__ = ["PARQUET_NAMES", "WRITE_OPTIONS", "arrow_schema", "read_parquet", "write_parquet"]

#: File name of each table's Parquet file.
PARQUET_NAMES = {name: f"{name}.parquet" for name in SCHEMAS}

#: Options of ``pyarrow.parquet.write_table``: fixed, so the bytes are the same run to run.
WRITE_OPTIONS: dict[str, Any] = {
    "version": "2.6",
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 65_536,
    "data_page_size": 1 << 20,
    "store_schema": True,
    "write_page_index": False,
}


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as err:
        raise InputError(
            "--parquet",
            None,
            "writing or reading Parquet needs pyarrow, which is not installed",
            "pip install 'qcompare[parquet]' (or 'make install')",
        ) from err
    return pyarrow


def arrow_schema(name: str) -> pyarrow.Schema:
    """The Arrow schema of one table, from its pandera schema.

    >>> schema = arrow_schema("schemes")
    >>> schema.field("year").type, schema.field("year").nullable, schema.field("scheme_id").nullable
    (DataType(int64), True, False)
    """
    pa = _pyarrow()
    types = {"int64": pa.int64(), "Int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    fields = []
    for column, spec in SCHEMAS[name].columns.items():
        dtype = str(spec.dtype)
        arrow_type = pa.string() if dtype.startswith("str") else types[dtype]
        fields.append(pa.field(column, arrow_type, nullable=bool(spec.nullable)))
    return pa.schema(fields)


def write_parquet(tables: Mapping[str, pd.DataFrame], directory: Path) -> list[Path]:
    """Validate the tables, then write each as ``<name>.parquet`` in ``directory``.

    Tables that :func:`~qcompare.schema.validate_tables` returned
    (:class:`~qcompare.schema.ValidatedTables`) are not validated again: to
    write CSV and Parquet, validate once and pass the result to both writers.
    Every file is written to a temporary name first and moved into place
    only once all of them are written, so a failure leaves the old files.
    Returns the paths written.

    >>> import tempfile, pandas as pd
    >>> from qcompare.tables import load_tables
    >>> tables = load_tables()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_parquet(tables, Path(tmp))
    ...     nodes = pd.read_parquet(Path(tmp) / "nodes.parquet")
    >>> [p.name for p in written][:3]
    ['schemes.parquet', 'nodes.parquet', 'rules.parquet']
    >>> len(nodes) == len(tables["nodes"]), str(nodes["points"].dtype)
    (True, 'float64')

    CSV and Parquet from one validation:

    >>> from qcompare.schema import validate_tables
    >>> from qcompare.tables import write_tables
    >>> checked = validate_tables(tables)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     csv_files = write_tables(checked, Path(tmp) / "csv")
    ...     parquet_files = write_parquet(checked, Path(tmp) / "parquet")
    >>> len(csv_files), len(parquet_files)
    (11, 10)
    """
    pa = _pyarrow()
    checked = validated(tables)
    directory.mkdir(parents=True, exist_ok=True)
    with staged_files(directory) as stage:
        for name, filename in PARQUET_NAMES.items():
            # one thread: converting Python strings holds the GIL, so more threads only contend for it
            frame = checked[name]
            table = pa.Table.from_pandas(frame, schema=arrow_schema(name), preserve_index=False, nthreads=1)
            pa.parquet.write_table(table, str(stage(filename)), **WRITE_OPTIONS)
    return [directory / filename for filename in PARQUET_NAMES.values()]


def read_parquet(directory: Path) -> dict[str, pd.DataFrame]:
    """Read the tables written by :func:`write_parquet`, typed as :func:`~qcompare.tables.load_tables` types them.

    pandas alone (``pd.read_parquet``) gives the same values and dtypes,
    except that its text columns use pandas' default string storage
    (pyarrow's, as pyarrow is installed); this pins them to the package's.

    >>> import tempfile
    >>> from qcompare.tables import load_tables
    >>> tables = load_tables()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_parquet(tables, Path(tmp))
    ...     again = read_parquet(Path(tmp))
    >>> all(again[name].equals(tables[name]) for name in tables)
    True
    """
    pa = _pyarrow()
    tables = {}
    for name, filename in PARQUET_NAMES.items():
        table = pa.parquet.read_table(directory / filename)
        tables[name] = table.to_pandas()
    return pin_string_storage(tables)
