"""A damaged document never crashes a parser: it parses, or it raises one
ParseError that names the file and line."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcompare.parsers import PARSERS, ParseError
from qcompare.paths import raw_dir


def _damage(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(lines) - 1), label="line")
        edit = data.draw(st.sampled_from(["delete", "duplicate", "blank", "untab", "tab"]), label="edit")
        if edit == "delete":
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, lines[at])
        elif edit == "blank":
            lines.insert(at, "")
        elif edit == "untab":
            lines[at] = lines[at].lstrip("\t")
        else:
            lines[at] = "\t" + lines[at]
    return "\n".join(lines)


@pytest.mark.parametrize("document_id", sorted(PARSERS))
# QCOMPARE_FUZZ_EXAMPLES=2000 for a longer hunt; CI uses the default
@settings(
    max_examples=int(os.environ.get("QCOMPARE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_damaged_document_parses_or_raises_parse_error(document_id, data):
    text = (raw_dir() / f"{document_id}.txt").read_text(encoding="utf-8")
    damaged = _damage(text, data)
    try:
        PARSERS[document_id](damaged, f"{document_id}.txt")
    except ParseError as err:
        assert str(err).startswith(f"{document_id}.txt, line ")
