"""One parser per source document; each returns a :class:`DocumentResult`.

To add a document: write ``parse_<name>(text, file) -> DocumentResult`` in
a module of its own, list it in :data:`PARSERS` under the document id used
in ``data/raw/MANIFEST.csv``, and pin what it reads in
``tests/test_parsers_<name>.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from qcompare.model import DocumentResult
from qcompare.parsers.changzhou import parse_changzhou
from qcompare.parsers.common import ParseError
from qcompare.parsers.ezhou import parse_ezhou
from qcompare.parsers.nantong import parse_nantong
from qcompare.parsers.quzhou import parse_quzhou
from qcompare.parsers.xinbei import parse_xinbei

__all__ = [
    "PARSERS",
    "ParseError",
    "parse_changzhou",
    "parse_ezhou",
    "parse_nantong",
    "parse_quzhou",
    "parse_xinbei",
]

#: document_id → parser
PARSERS: dict[str, Callable[[str, str], DocumentResult]] = {
    "nantong": parse_nantong,
    "changzhou": parse_changzhou,
    "ezhou": parse_ezhou,
    "quzhou": parse_quzhou,
    "xinbei": parse_xinbei,
}
