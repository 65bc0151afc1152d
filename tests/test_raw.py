"""data/raw is immutable evidence: every file matches its manifest and its seed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qcompare.paths import project_root, raw_dir
from qcompare.raw import RawFileError, read_manifest, read_raw, sha256_of, verify_raw

SEEDS = project_root().parent / "shared" / "seeds"


def test_manifest_lists_the_five_documents():
    entries = read_manifest()
    assert [e.document_id for e in entries] == ["nantong", "changzhou", "ezhou", "quzhou", "xinbei"]
    assert sorted(p.name for p in raw_dir().glob("*.txt")) == sorted(e.file for e in entries)


@pytest.mark.parametrize("entry", read_manifest(), ids=lambda e: e.file)
def test_checksum_and_size_hold(entry):
    path = verify_raw(entry)
    assert sha256_of(path) == entry.sha256
    assert path.stat().st_size == entry.bytes


@pytest.mark.parametrize("entry", read_manifest(), ids=lambda e: e.file)
def test_raw_file_is_byte_identical_to_its_seed(entry):
    seed = SEEDS / entry.seed_name
    if not SEEDS.exists():
        pytest.skip("../shared/seeds is not beside this checkout")
    assert sha256_of(seed) == entry.sha256


def test_a_changed_raw_file_is_refused(tmp_path: Path):
    entry = read_manifest()[0]
    shutil.copy(raw_dir() / entry.file, tmp_path / entry.file)
    with (tmp_path / entry.file).open("a", encoding="utf-8") as handle:
        handle.write("edited\n")
    with pytest.raises(RawFileError, match=r"nantong\.txt: SHA-256 is .* but MANIFEST\.csv records"):
        read_raw(entry, tmp_path)


def test_a_missing_raw_file_is_named(tmp_path: Path):
    entry = read_manifest()[1]
    with pytest.raises(RawFileError, match=r"changzhou\.txt: listed in MANIFEST\.csv but missing"):
        read_raw(entry, tmp_path)
