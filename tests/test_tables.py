"""Choosing schemes for a notebook: select_schemes."""

from __future__ import annotations

import pytest

from qcompare.errors import InputError
from qcompare.tables import select_schemes


def test_select_schemes_filters_every_scheme_table_and_keeps_the_registry(committed):
    chosen = select_schemes(committed, ["nantong", "ezhou"])
    for name, frame in chosen.items():
        if "scheme_id" in frame.columns:
            assert set(frame["scheme_id"]) <= {"nantong", "ezhou"}, name
    assert set(chosen["schemes"]["scheme_id"]) == {"nantong", "ezhou"}
    assert chosen["departments"].equals(committed["departments"])
    ends = set(chosen["mappings"]["subject_id"].str.split(":").str[0]) | set(
        chosen["mappings"]["object_id"].str.split(":").str[0]
    )
    assert ends == {"nantong", "ezhou"}
    assert len(chosen["nodes"]) == 162 + 34  # Nantong 6/16/30/110, Ezhou 3/7/24
    assert select_schemes(committed, None)["nodes"].equals(committed["nodes"])


def test_select_schemes_names_an_unknown_id_and_the_fix(committed):
    with pytest.raises(InputError, match=r"schemes, 'mycounty': no such scheme in the data") as caught:
        select_schemes(committed, ["nantong", "mycounty"])
    assert "qcompare import" in (caught.value.fix or "")
