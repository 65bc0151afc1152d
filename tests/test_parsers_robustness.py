"""A damaged document never crashes a parser, and never loses text silently.

Hypothesis mutates the five seeds the way copies of real documents get
damaged — lines cut, duplicated, shuffled, blanked, (un)tabbed, junk
inserted, the file cut short, the whole file re-encoded as GB18030 with
CRLF line ends — and each parser must either parse the result or raise the
documented :class:`~qcompare.errors.InputError` (a ``ParseError`` naming
the file and line).  When it parses, every non-blank line of the damaged
text must land in some record (the same raw-line accounting the build
proves for the real seeds), so a parser cannot drop a cell it did not
understand.

``QCOMPARE_FUZZ_EXAMPLES=2000`` runs a longer hunt; CI uses the default.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcompare.accounting import unaccounted_in_text
from qcompare.errors import InputError
from qcompare.parsers import PARSERS
from qcompare.paths import raw_dir
from qcompare.sources import decode_bytes
from qcompare.tables import records_to_tables

EXAMPLES = int(os.environ.get("QCOMPARE_FUZZ_EXAMPLES", "40"))
JUNK = st.text(
    alphabet=st.sampled_from(list("质量考核指标分值牵头单位、，。；（）()0123456789１２％%\t \u3000\ue000abc")),
    max_size=30,
)


def _damage(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        if not lines:
            break
        at = data.draw(st.integers(0, len(lines) - 1), label="line")
        edit = data.draw(
            st.sampled_from(["delete", "duplicate", "shuffle", "blank", "untab", "tab", "junk", "cut"]), label="edit"
        )
        if edit == "delete":
            del lines[at]
        elif edit == "duplicate":
            size = data.draw(st.integers(1, 5), label="run")
            lines[at:at] = lines[at : at + size]
        elif edit == "shuffle":
            window = lines[at : at + 6]
            lines[at : at + 6] = data.draw(st.permutations(window), label="order")
        elif edit == "blank":
            lines.insert(at, "")
        elif edit == "untab":
            lines[at] = lines[at].lstrip("\t")
        elif edit == "tab":
            lines[at] = "\t" + lines[at]
        elif edit == "junk":
            lines.insert(at, data.draw(JUNK, label="junk"))
        else:  # the file ends early, possibly inside a line
            keep = data.draw(st.integers(0, len(lines[at])), label="chars")
            lines = [*lines[:at], lines[at][:keep]]
    return "\n".join(lines)


def _reencode(text: str, data: st.DataObject, file: str) -> str:
    """Optionally round-trip the text through GB18030 + CRLF, as a user's copy might be."""
    if not data.draw(st.booleans(), label="re-encode"):
        return text
    decoded, encoding = decode_bytes(text.replace("\n", "\r\n").encode("gb18030"), file)
    assert encoding in ("utf-8", "gb18030")
    return decoded


@pytest.mark.parametrize("document_id", sorted(PARSERS))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_seed_parses_without_loss_or_raises_input_error(document_id, data):
    text = (raw_dir() / f"{document_id}.txt").read_text(encoding="utf-8")
    file = f"{document_id}.txt"
    try:
        damaged = _reencode(_damage(text, data), data, file)
        result = PARSERS[document_id](damaged, file)
    except InputError as err:  # a ParseError names the line; a decoding error the byte
        assert str(err).startswith((f"{file}, line ", f"{file}, byte ", f"{file}: "))
        return
    lost = unaccounted_in_text(records_to_tables([result]), file, damaged)
    assert lost == [], f"{len(lost)} line(s) parsed into no record, e.g. {lost[:3]}"


@pytest.mark.parametrize("document_id", sorted(PARSERS))
def test_undamaged_seed_loses_nothing(document_id):
    text = (raw_dir() / f"{document_id}.txt").read_text(encoding="utf-8")
    result = PARSERS[document_id](text, f"{document_id}.txt")
    assert unaccounted_in_text(records_to_tables([result]), f"{document_id}.txt", text) == []
