"""The build: deterministic, validated before writing, committed data current."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from qcompare import schema
from qcompare import tables as tables_module
from qcompare.build import build, build_tables
from qcompare.parsers import ParseError
from qcompare.paths import normalized_dir, raw_dir
from qcompare.raw import RawFileError
from qcompare.schema import TableValidationError, validate_tables
from qcompare.tables import load_tables, write_tables

build_module = importlib.import_module("qcompare.build")  # the package's name 'build' is the function


def _files(directory: Path) -> dict[str, bytes]:
    """The data files a build writes (every table, mappings.sssom.tsv included, and schema.json)."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.suffix in (".csv", ".tsv", ".json")}


def _all_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_two_builds_are_byte_identical(tmp_path: Path):
    build(out=tmp_path / "a")
    build(out=tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_committed_normalized_data_is_current(tmp_path: Path):
    build(out=tmp_path)
    fresh, committed = _files(tmp_path), _files(normalized_dir())
    stale = sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    assert not stale, f"data/normalized is stale ({stale}): run 'make build' and commit the result"


def test_tables_round_trip_through_csv(tables, tmp_path: Path):
    write_tables(tables, tmp_path)
    again = load_tables(tmp_path)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(again[name], frame, check_dtype=True, obj=name)


def test_schema_rejects_a_bad_value_and_nothing_is_written(tables, tmp_path: Path):
    broken = {name: frame.copy() for name, frame in tables.items()}
    broken["assignments"].loc[0, "role"] = "boss"
    with pytest.raises(TableValidationError, match=r"assignments: column role, check isin"):
        write_tables(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _count_validations(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = schema.validate_tables

    def counted(tables):
        calls.append(1)
        return real(tables)

    monkeypatch.setattr(schema, "validate_tables", counted)  # what the writers call on plain tables
    monkeypatch.setattr(build_module, "validate_tables", counted)
    return calls


def test_build_validates_once_for_csv_and_parquet(tables, tmp_path: Path, monkeypatch):
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(build_module, "build_tables", lambda raw, progress: tables)
    calls = _count_validations(monkeypatch)
    build(out=tmp_path / "csv", parquet=tmp_path / "parquet")
    assert calls == [1]
    assert _all_files(tmp_path / "csv") == {
        name: data for name, data in _all_files(normalized_dir()).items() if name != "README.md"
    }
    assert len(list((tmp_path / "parquet").glob("*.parquet"))) == 10


def test_build_writes_neither_format_of_tables_that_fail_their_schema(tables, tmp_path: Path, monkeypatch):
    broken = {name: frame.copy() for name, frame in tables.items()}
    broken["assignments"].loc[0, "role"] = "boss"
    monkeypatch.setattr(build_module, "build_tables", lambda raw, progress: broken)
    with pytest.raises(TableValidationError, match=r"assignments: column role, check isin"):
        build(out=tmp_path / "csv", parquet=tmp_path / "parquet")
    assert not (tmp_path / "csv").exists()
    assert not (tmp_path / "parquet").exists()


def test_each_writer_validates_plain_tables_but_not_validated_ones(tables, tmp_path: Path, monkeypatch):
    calls = _count_validations(monkeypatch)
    write_tables(tables, tmp_path / "plain")
    assert calls == [1]
    checked = schema.validate_tables(tables)
    assert calls == [1, 1]
    write_tables(checked, tmp_path / "validated")
    assert calls == [1, 1]  # not validated again
    assert _all_files(tmp_path / "plain") == _all_files(tmp_path / "validated")


def test_a_failed_write_leaves_the_old_files(tables, tmp_path: Path, monkeypatch):
    write_tables(tables, tmp_path)
    before = _all_files(tmp_path)
    checked = validate_tables(tables)

    def broken_writer(frame, out, sep=","):
        if "crosswalk_id" in frame.columns or "concept_id" in frame.columns:  # the crosswalk, late in the list
            raise OSError("disk full")
        out.write("garbage\n")

    monkeypatch.setattr(tables_module, "_write_csv", broken_writer)
    with pytest.raises(OSError, match="disk full"):
        write_tables(checked, tmp_path)
    assert _all_files(tmp_path) == before  # the old files, and no temporary ones


def test_schema_rejects_a_dangling_node_reference(tables):
    broken = {name: frame.copy() for name, frame in tables.items()}
    broken["rules"].loc[0, "node_id"] = "nantong:no-such-node"
    with pytest.raises(TableValidationError, match="rules: node_id not in nodes"):
        validate_tables(broken)


def test_a_garbled_raw_file_gives_one_clear_error(tmp_path: Path):
    shutil.copytree(raw_dir(), tmp_path / "raw")
    target = tmp_path / "raw" / "nantong.txt"
    text = target.read_text(encoding="utf-8").replace("\t（3）制定年度", "\t3)制定年度")
    target.chmod(0o644)
    target.write_text(text, encoding="utf-8")
    manifest = tmp_path / "raw" / "MANIFEST.csv"
    import hashlib

    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    rows = manifest.read_text(encoding="utf-8").splitlines()
    rows = [
        ",".join([*r.split(",")[:7], digest, str(target.stat().st_size)]) if r.startswith("nantong.txt") else r
        for r in rows
    ]
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ParseError) as err:
        build_tables(tmp_path / "raw")
    assert str(err.value).startswith("nantong.txt, line 32: expected a 考核要点 such as '（1）…'")


def test_parsing_the_documents_in_processes_gives_the_serial_results_and_progress(results):
    serial: list[str] = []
    assert build_module.parse_documents(progress=serial.append) == list(results.values())
    messages: list[str] = []
    assert build_module.parse_documents(progress=messages.append, workers=2) == list(results.values())
    assert serial[0] == "[1/5] parsing nantong.txt (南通市质量工作考核指标体系)"  # the seeds: too small for processes
    assert messages[0] == "parsing 5 documents (0.1 MB) in 2 processes"
    assert messages[1:] == [m.replace("] parsing ", "] parsed ", 1) for m in serial]


def test_a_changed_raw_file_gives_the_same_error_from_a_worker(tmp_path: Path):
    shutil.copytree(raw_dir(), tmp_path / "raw")
    target = tmp_path / "raw" / "changzhou.txt"  # the second document: the first is parsed in vain
    text = target.read_text(encoding="utf-8")
    target.chmod(0o644)
    target.write_text(text.replace("\t", "", 1), encoding="utf-8")
    errors = []
    for workers in (1, 2):
        with pytest.raises(RawFileError) as err:
            build_module.parse_documents(tmp_path / "raw", workers=workers)
        errors.append((type(err.value), str(err.value)))
    assert errors[0] == errors[1]
    assert errors[0][1].startswith(f"{tmp_path / 'raw' / 'changzhou.txt'}: SHA-256 is ")
