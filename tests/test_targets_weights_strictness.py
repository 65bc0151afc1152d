"""Targets under one metric name, weights, and strictness measures."""

from __future__ import annotations

import pytest

from qcompare import strictness, targets, weights


def test_same_metric_is_named_alike_across_schemes(committed):
    thresholds = targets.metric_thresholds(committed)
    table = targets.threshold_table(thresholds)
    # changzhou.txt:L895 达到94%以上; quzhou.txt:L14-L22 ≥90% (国家) and ≥94% (生产企业); xinbei.txt:L28 ≥92%
    row = table.loc["manufacturing_spot_check_pass_rate"]
    assert row["changzhou"] == "≥94%"
    assert row["quzhou_targets"] == "≥90% / ≥94%"
    assert row["xinbei_goals"] == "≥92%"
    # other works: Changzhou 98% (L1063), Ezhou 98% (ezhou.txt:L238), Quzhou 100% (quzhou.txt:L85)
    other = table.loc["other_project_first_acceptance_rate"]
    assert (other["changzhou"], other["ezhou"], other["quzhou_targets"]) == ("≥98%", "=98%", "=100%")


def test_area_shares_sum_to_one(committed):
    areas = weights.area_shares(committed)
    assert areas.groupby("scheme_id")["share"].sum().to_numpy() == pytest.approx(1.0)
    nantong = areas[areas["scheme_id"] == "nantong"].set_index("area")["share"]
    assert nantong["四 质量结果"] == pytest.approx(0.42)  # 3+6+3+3+2+3+3+8+3+2+3+3 = 42 of 100


def test_leaf_weights_sum_to_one_per_scheme(committed):
    leaf = weights.leaf_weights(committed)
    assert leaf.groupby("scheme_id")["weight"].sum().to_numpy() == pytest.approx(1.0)


def test_all_or_nothing_share_of_xinbei_departments(committed):
    """xinbei.txt:L466, L474: items 4 and 5 (25 + 25 points) are lost whole by one
    failure (tasks undone; a major accident); the base is 95 (item 6 is a bonus)."""
    table = strictness.all_or_nothing_share(committed)
    assert table.loc["xinbei_departments", "all_or_nothing_share"] == pytest.approx(50 / 95)


def test_shortfall_losses_match_the_rules(committed):
    losses = strictness.shortfall_losses(committed).set_index("node_id")
    assert losses.loc["changzhou:32", "lost_at_1pp"] == 2  # 1 point per 0.5 (changzhou.txt:L1051)
    assert losses.loc["ezhou:1.1", "lost_at_2pp"] == 2  # 1–3 points below: −2 (ezhou.txt:L18)


def test_vetoes_and_verification(committed):
    vetoes = strictness.veto_scope(committed)
    assert set(vetoes["scheme_id"]) == {"ezhou", "nantong"}
    shares = strictness.verification_shares(committed)
    assert shares.loc["changzhou"].sum() == pytest.approx(1.0)
    assert shares.loc["changzhou", "reports_files"] > shares.loc["changzhou", "on_site"]


def test_simulated_city_scores_full_at_full_attainment_and_falls(committed):
    simulation = strictness.simulate(committed, levels=[1.0, 0.5, 0.0])
    full = simulation[simulation["level"] == 1.0]
    assert full["score_share"].to_numpy() == pytest.approx(1.0)
    for _, group in simulation.groupby("scheme_id"):
        scores = group.sort_values("level")["score_share"].to_numpy()
        assert (scores[:-1] <= scores[1:] + 1e-9).all()
