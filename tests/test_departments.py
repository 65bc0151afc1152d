"""Department cells split into one mention per department (examples from the seeds)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare.accounting import squash
from qcompare.departments import split_departments


def mentions(cell: str) -> list[tuple[str, str | None, bool]]:
    return [(m.raw, m.qualifier, m.is_collective) for m in split_departments(cell)]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # changzhou.txt:L155
        ("市经信委、建设局、发改委", [("市经信委", None, False), ("建设局", None, False), ("发改委", None, False)]),
        # changzhou.txt:L340
        ("市发改委等相关成员单位", [("市发改委", "等", False), ("相关成员单位", None, True)]),
        # changzhou.txt:L1221
        (
            "市发改委、旅游局及相关成员单位，各辖市、区政府",
            [
                ("市发改委", None, False),
                ("旅游局", None, False),
                ("相关成员单位", None, True),
                ("各辖市、区政府", None, True),
            ],
        ),
        # quzhou.txt:L520
        (
            "市市场监管局、市农业局、市水利局、市林业局分工负责",
            [
                ("市市场监管局", None, False),
                ("市农业局", None, False),
                ("市水利局", None, False),
                ("市林业局", "分工负责", False),
            ],
        ),
        # quzhou.txt:L749 — the bracketed list stays one collective
        (
            "衢州绿色产业集聚区、市西区管委会、各县（市、区）",
            [("衢州绿色产业集聚区", None, False), ("市西区管委会", None, False), ("各县（市、区）", None, True)],
        ),
        # xinbei.txt:L282-L283
        ("区各部门、\n各镇、街道", [("区各部门", None, True), ("各镇、街道", None, True)]),
        # xinbei.txt:L269-L271
        (
            "质监分局、\n药监分局、\n安监局",
            [("质监分局", None, False), ("药监分局", None, False), ("安监局", None, False)],
        ),
        # changzhou.txt:L516-L517 — a name broken over two lines
        ("人行中心\n支行", [("人行中心支行", None, False)]),
        # changzhou.txt:L483-L485 — two names on two lines
        ("市食药监局\n\n市质监局", [("市食药监局", None, False), ("市质监局", None, False)]),
        # quzhou.txt:L293
        ("市创强办牵头", [("市创强办", "牵头", False)]),
    ],
)
def test_department_cells_from_the_seeds(cell, expected):
    assert mentions(cell) == expected


_piece = st.sampled_from(["市质监局", "建设局", "领导小组相关成员单位", "各镇、街道", "市创强办牵头", "市商务局等"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_piece, min_size=1, max_size=6), st.sampled_from(["、", "，", "\n", "、\n"]))
def test_splitting_loses_no_character(pieces, separator):
    cell = separator.join(pieces)
    rebuilt = "".join(m.raw + (m.qualifier or "") for m in split_departments(cell))
    assert squash(rebuilt) == squash(cell)
