"""Effective points of leaves: the nearest scored level, split equally."""

from __future__ import annotations

import pytest

from qcompare.weights import effective_points


@pytest.mark.parametrize(
    ("scheme_id", "total"), [("nantong", 100), ("changzhou", 1060), ("ezhou", 102), ("xinbei_towns", 100)]
)
def test_effective_points_add_up_to_the_schemes_leaves(tables, scheme_id, total):
    nodes = tables["nodes"]
    points = effective_points(nodes[nodes["scheme_id"] == scheme_id])
    assert points.sum() == pytest.approx(total)


def test_nantong_checkpoints_split_their_indicators_points(tables):
    nodes = tables["nodes"]
    points = effective_points(nodes[nodes["scheme_id"] == "nantong"])
    # 1．质量发展规划制定与实施 carries 4 points over checkpoints (1)–(4) (nantong.txt:L17-L43)
    assert [points[f"nantong:1.1.1.({k})"] for k in range(1, 5)] == [1.0, 1.0, 1.0, 1.0]


def test_changzhou_tasks_split_their_items_points(tables):
    nodes = tables["nodes"]
    points = effective_points(nodes[nodes["scheme_id"] == "changzhou"])
    # item 2 (30 points, changzhou.txt:L28) has tasks 2.1–2.3
    assert [points[f"changzhou:2.{k}"] for k in (1, 2, 3)] == [10.0, 10.0, 10.0]


def test_unscored_schemes_have_no_points(tables):
    nodes = tables["nodes"]
    assert effective_points(nodes[nodes["scheme_id"] == "quzhou_tasks"]).isna().all()
