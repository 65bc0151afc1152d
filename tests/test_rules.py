"""Scoring rules: parsed from every text, and run on attainments worked out by
hand from the source wording (the comment on each case gives the line and the
arithmetic)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare.rules import parse_rule, points_kept, points_kept_many


@pytest.fixture(scope="module")
def machine(tables):
    return {r.node_id: json.loads(r.machine) for r in tables["rules"].itertuples()}


def test_every_rule_text_is_parsed_or_reported(tables):
    rules = tables["rules"]
    assert rules["rule_type"].notna().all() and rules["machine"].notna().all()
    unparsed = tables["data_issues"].query("kind == 'unparsed_rule'")
    parsed_share = 1 - unparsed["node_id"].nunique() / len(rules)
    assert parsed_share >= 0.95
    assert set(rules["rule_type"]) >= {
        "additive",
        "tiered",
        "band_deduction",
        "linear_deduction",
        "rank_based",
        "all_or_nothing",
        "judgment",
        "bonus",
        "veto",
    }


CASES = [
    # ezhou.txt:L18 — 10 points; shortfall in percentage points below the target:
    # ≤1 → −1, 1–3 → −2, 3–10 → −5, 10–20 → −6…9 (midpoint 7.5), >20 → 0
    ("ezhou:1.1", {"shortfall_pp": 0}, 10),
    ("ezhou:1.1", {"shortfall_pp": 1}, 9),  # 含1个百分点
    ("ezhou:1.1", {"shortfall_pp": 3}, 8),
    ("ezhou:1.1", {"shortfall_pp": 5}, 5),
    ("ezhou:1.1", {"shortfall_pp": 15}, 2.5),
    ("ezhou:1.1", {"shortfall_pp": 21}, 0),
    # ezhou.txt:L26-L27 — 5 points; completion 90–100% → −2 (含90%), 80–90% → −3, 70–80% → −4, <70% → 0
    ("ezhou:1.2", {"completion": 0.9}, 3),
    ("ezhou:1.2", {"completion": 0.85}, 2),
    ("ezhou:1.2", {"completion": 0.75}, 1),
    ("ezhou:1.2", {"completion": 0.69}, 0),
    # ezhou.txt:L45-L46 — 10 points; 90–100% → −2.5, 80–90% → −5
    ("ezhou:2.1", {"completion": 0.95}, 7.5),
    ("ezhou:2.1", {"completion": 0.8}, 5),
    # changzhou.txt:L1051 — 20 points at 100%, −1 per 0.5 point below, down to 0
    ("changzhou:32", {"shortfall_pp": 1}, 18),
    ("changzhou:32", {"shortfall_pp": 5}, 10),
    ("changzhou:32", {"shortfall_pp": 12}, 0),
    # changzhou.txt:L1181 — top 10 → 20; ranks 10–20 lose 1 per place; beyond 20 → 0
    ("changzhou:40", {"rank": 10}, 20),
    ("changzhou:40", {"rank": 15}, 15),
    ("changzhou:40", {"rank": 21}, 0),
    # changzhou.txt:L629 — 市长 20 / 副市长 16 / not a city leader 12 / none 0
    ("changzhou:15", {"tier": 1}, 16),
    ("changzhou:15", {"tier": 2}, 12),
    # changzhou.txt:L70 — funding ≥1‰ 30, ≥0.6‰ 20, ≥0.3‰ 10, none 0
    ("changzhou:3", {"tier": 1}, 20),
    # changzhou.txt:L762-L768 — 已经推行 10 or 正在研究 5: alternatives, not 10 + 5
    ("changzhou:21", {"tier": 1}, 5),
    # xinbei.txt:L405-L409 — 4 + 6; the 6 lose 1 per 5% short (扣完为止); an accident −2, late report −1
    ("xinbei_towns:9", {"shortfall_pp": 10, "incidents": [1, 0]}, 6),
    ("xinbei_towns:9", {"shortfall_pp": 40}, 4),
    # xinbei.txt:L415-L417 — 2 + 3; −1 per missing report, at most −3
    ("xinbei_towns:10", {"incidents": 5}, 2),
    # xinbei.txt:L329 — 15 points plus 2 per new provincial and 1 per new city brand
    ("xinbei_towns:2", {"bonus_units": 1}, 18),
    # xinbei.txt:L450 — 20 points, −5 per missed meeting
    ("xinbei_departments:2", {"incidents": 2}, 10),
    # xinbei.txt:L466 — 25 points, −3 per task not done, −5 per missed meeting; all tasks undone → 0
    ("xinbei_departments:4", {"incidents": [2, 0]}, 19),
    ("xinbei_departments:4", {"zero": True}, 0),
    # nantong.txt:L814 — bonus points capped at 10
    ("nantong:bonus", {"bonus_points": 14}, 10),
]


@pytest.mark.parametrize(("node_id", "attainment", "expected"), CASES)
def test_points_kept_matches_a_hand_calculation(machine, node_id, attainment, expected):
    assert points_kept(machine[node_id], attainment) == pytest.approx(expected)


def test_a_veto_keeps_nothing(machine):
    assert machine["ezhou:7"]["type"] == "veto"
    assert points_kept(machine["ezhou:7"]) == 0


def test_unknown_attainment_field_is_named():
    with pytest.raises(ValueError, match="unknown attainment field 'score'"):
        points_kept({"type": "judgment", "max": 3}, {"score": 1})


def test_vectorised_form_agrees_with_the_scalar_one(machine):
    rules = [machine["changzhou:32"], machine["ezhou:1.1"]]
    grid = points_kept_many(rules, "shortfall_pp", [0, 1, 5])
    assert grid.tolist() == [[20, 18, 10], [10, 9, 5]]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="得扣加分0123456789.%-;,。达到以上不每下降少名前排", max_size=60), st.floats(0, 100))
def test_parsing_any_text_never_fails_and_stays_within_bounds(text, points):
    rule = parse_rule(text, points)
    kept = points_kept(rule)
    assert kept >= 0
    if rule["type"] not in ("bonus",) and "bonus" not in rule:
        assert kept <= points + 1e-9


def test_parse_report_gives_a_share_per_scheme(tables):
    from qcompare.rules import parse_report

    report = parse_report(tables)
    assert set(report.index) == {"changzhou", "ezhou", "nantong", "xinbei_departments", "xinbei_towns"}
    assert report["texts"].sum() == len(tables["rules"]) == 93
    assert (report["share_parsed"] >= 0.95).all()


def test_the_schema_accepts_exactly_the_rule_types_the_parser_produces():
    # two lists by design (schema order is the data model's; the parser's is precedence): keep them one set
    from qcompare.rules import RULE_TYPES_BY_PRECEDENCE
    from qcompare.schema import RULE_TYPES

    assert sorted(RULE_TYPES) == sorted(RULE_TYPES_BY_PRECEDENCE)
    assert len(set(RULE_TYPES_BY_PRECEDENCE)) == len(RULE_TYPES_BY_PRECEDENCE)
