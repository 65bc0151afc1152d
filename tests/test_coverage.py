"""Coverage matrices, unique and shared concepts, overlap, the national template."""

from __future__ import annotations

import pytest

from qcompare import coverage as cv


def test_lever_counts_cover_every_unit(committed):
    table = cv.coverage_matrix(committed, "lever")
    units = cv.unit_table(committed)
    assert table.sum(axis=1).to_dict() == units.groupby("scheme_id").size().to_dict()


def test_point_shares_sum_to_one_for_scored_schemes(committed):
    table = cv.coverage_matrix(committed, "domain", "points")
    assert set(table.index) == {"changzhou", "ezhou", "nantong", "xinbei_departments", "xinbei_towns"}
    assert table.sum(axis=1).to_numpy() == pytest.approx(1.0)


def test_overlap_is_symmetric_jaccard(committed):
    overlap = cv.overlap_matrix(committed)
    assert (overlap.to_numpy() == overlap.to_numpy().T).all()
    assert overlap.loc["changzhou", "changzhou"] == 1.0
    # the two breakdowns of the national template overlap most
    assert overlap.loc["changzhou"].drop("changzhou").idxmax() == "quzhou_tasks"


def test_unique_and_shared_concepts_partition_the_concepts(committed):
    unique = cv.unique_concepts(committed)
    shared = cv.shared_concepts(committed)
    membership = cv.concept_membership(committed)
    assert len(set(unique["concept_id"])) + len(shared) == len(membership)


def test_template_view_covers_all_50_criteria(committed):
    view = cv.template_view(committed)
    criteria = view[view["criterion"] != ""]
    assert len(criteria) == 50
    assert set(view["status"]) <= {"kept", "split", "dropped", "added"}
    # Quzhou moved the engineering acceptance rates (changzhou.txt:L1046, L1058) to its target list (quzhou.txt:L74-L85)
    row = view[view["changzhou_node"] == "changzhou:32"].iloc[0]
    assert "quzhou_targets:9" in row["quzhou_targets_nodes"]
