"""The build: deterministic, validated before writing, committed data current."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from qcompare.build import build, build_tables
from qcompare.parsers import ParseError
from qcompare.paths import normalized_dir, raw_dir
from qcompare.schema import TableValidationError, validate_tables
from qcompare.tables import load_tables, write_tables


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.suffix in (".csv", ".json")}


def test_two_builds_are_byte_identical(tmp_path: Path):
    build(out=tmp_path / "a")
    build(out=tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_committed_normalized_data_is_current(tmp_path: Path):
    build(out=tmp_path)
    fresh, committed = _files(tmp_path), _files(normalized_dir())
    stale = sorted(name for name in fresh if fresh[name] != committed.get(name))
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
