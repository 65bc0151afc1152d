"""Choosing schemes for a notebook (select_schemes), and the bytes of the CSV writer."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from qcompare import tables as tables_module
from qcompare.errors import InputError
from qcompare.schema import STRING
from qcompare.tables import format_cell, select_schemes


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


def _pandas_csv(frame: pd.DataFrame, sep: str) -> str:
    """How the files were written before: pandas' to_csv of every cell's format_cell text."""
    text = pd.DataFrame({c: [format_cell(v) for v in frame[c].astype(object)] for c in frame.columns})
    return text.to_csv(index=False, lineterminator="\n", sep=sep)


def _written(frame: pd.DataFrame, sep: str) -> str:
    out = io.StringIO(newline="")
    tables_module._write_csv(frame, out, sep)
    return out.getvalue()


_AWKWARD = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "tab\there", "", None, " lead", "二〇二三；“引号”"]


@pytest.mark.parametrize("sep", [",", "\t"])
def test_csv_writer_gives_pandas_bytes_for_awkward_text_and_numbers(sep, monkeypatch):
    # small blocks, so that some hold only plain rows (joined) and some a cell the writer must quote
    monkeypatch.setattr(tables_module, "_CHUNK_ROWS", 3)
    n = 4 * len(_AWKWARD)
    text = pd.Series(["plain"] * n, dtype=STRING)
    text[::4] = pd.Series(_AWKWARD, dtype=STRING).to_numpy()
    frame = pd.DataFrame(
        {
            "text": text,
            "points": np.resize([20.0, 2.5, np.nan, -0.0, 1e20, 0.1 + 0.2, float("inf"), 1 / 3], n),
            "year": pd.array(np.resize([2023, None, 7], n).tolist(), dtype="Int64"),
            "position": np.arange(n, dtype="int64"),
            "is_bonus": np.resize([True, False, False], n),
            "other": pd.Series(np.resize(["x", None, 1.5, 3], n).tolist(), dtype=object),
        }
    )
    assert _written(frame, sep) == _pandas_csv(frame, sep)


def test_csv_writer_quotes_a_lone_empty_field_as_pandas_does():
    frame = pd.DataFrame({"note": pd.Series(["a", "", None, "b"], dtype=STRING)})
    assert _written(frame, ",") == _pandas_csv(frame, ",") == 'note\na\n""\n""\nb\n'


def test_csv_writer_of_an_empty_table_writes_the_header():
    frame = pd.DataFrame({"a": pd.Series([], dtype=STRING), "b": pd.Series([], dtype="float64")})
    assert _written(frame, ",") == _pandas_csv(frame, ",") == "a,b\n"
