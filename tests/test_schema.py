"""Validated tables: made only by validation, read-only, taken by the writers without a second validation."""

from __future__ import annotations

import pytest

from qcompare import schema
from qcompare.schema import SCHEMAS, TableValidationError, ValidatedTables, validate_tables, validated


def test_validation_returns_every_table_of_the_schemas_read_only(committed):
    checked = validate_tables(committed)
    assert isinstance(checked, ValidatedTables)
    assert list(checked) == list(SCHEMAS)
    for name in SCHEMAS:
        assert checked[name].equals(committed[name]), name
    before = checked["assignments"].loc[0, "role"]
    changed = checked["assignments"]
    changed.loc[0, "role"] = "boss"  # a change to the frame looked up ...
    assert checked["assignments"].loc[0, "role"] == before  # ... is not a change to the validated table
    committed_copy = {name: frame.copy() for name, frame in committed.items()}
    checked = validate_tables(committed_copy)
    committed_copy["assignments"].loc[0, "role"] = "boss"  # nor is a change to the frame that was validated
    assert checked["assignments"].loc[0, "role"] == before


def test_only_validation_makes_validated_tables(committed):
    with pytest.raises(TypeError, match="only validate_tables"):
        ValidatedTables(committed)


def test_validated_checks_plain_tables_and_passes_validated_ones(committed, monkeypatch):
    calls = []
    real = schema.validate_tables
    monkeypatch.setattr(schema, "validate_tables", lambda tables: calls.append(1) or real(tables))
    checked = validated(committed)
    assert calls == [1]
    assert validated(checked) is checked
    assert calls == [1]
    broken = {name: frame.copy() for name, frame in committed.items()}
    broken["nodes"].loc[0, "level"] = 9
    with pytest.raises(TableValidationError, match=r"nodes: column level, check in_range"):
        validated(broken)
