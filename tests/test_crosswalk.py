"""The crosswalk: every unit decided, known pairs found, measured on the gold set."""

from __future__ import annotations

import pytest

from qcompare.crosswalk import cross_validate, load_gold, unit_nodes


def test_every_assessed_node_has_a_crosswalk_decision(committed):
    nodes = committed["nodes"]
    parents = set(nodes["parent_id"].dropna())
    assessed = set(nodes[~nodes["node_id"].isin(parents) | nodes["points"].notna()]["node_id"])
    decided = set(committed["crosswalk"]["node_id"])
    # scored nodes above the matching grain (a Nantong 一级指标) are summaries, not criteria
    units = unit_nodes(nodes)
    above = set(units.loc[units["unit_id"].isna(), "node_id"])
    assert assessed - above <= decided
    assert set(committed["crosswalk"]["method"]) == {"matched", "unique", "via_parent"}


def test_units_are_each_schemes_criteria(committed):
    units = unit_nodes(committed["nodes"])
    counts = units[units["is_unit"]].groupby("scheme_id").size().to_dict()
    # 30 三级指标 + 加分项 + 否决项; 50 考核内容; 24 考核要点 + 否决项; 35 指标; 50 创建内容
    assert counts["nantong"] == 32
    assert counts["changzhou"] == 50
    assert counts["ezhou"] == 25
    assert counts["quzhou_targets"] == 35
    assert counts["quzhou_tasks"] == 50


def test_a_concept_holds_at_most_one_unit_per_scheme(committed):
    crosswalk = committed["crosswalk"]
    units = crosswalk[crosswalk["method"] != "via_parent"]
    assert not units.duplicated(["concept_id", "scheme_id"]).any()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("changzhou:16", "quzhou_tasks:17"),  # 组织召开创建“全国质量强市示范城市”动员大会 (L638; quzhou L594)
        ("changzhou:30", "quzhou_tasks:30"),  # 进出口商品质量安全水平稳步提升 (L966; quzhou L813)
        ("nantong:1.1.1", "ezhou:4.1"),  # 质量发展规划制定与实施 (nantong L17; ezhou L81)
        ("nantong:2.4.8", "ezhou:5.3"),  # 质量诚信制度建设 / 质量诚信建设 (nantong L213; ezhou L186)
        ("changzhou:18", "quzhou_tasks:19"),  # item 18 lost its title; 设立并实施政府质量奖 (L662, L665; quzhou L608)
    ],
)
def test_same_criterion_in_two_schemes_share_a_concept(committed, a, b):
    concept = committed["crosswalk"].set_index("node_id")["concept_id"]
    assert concept[a] == concept[b]


def test_mappings_are_an_sssom_style_set(committed):
    mappings = committed["mappings"]
    assert set(mappings["predicate_id"]) <= {"skos:exactMatch", "skos:closeMatch", "skos:relatedMatch"}
    assert (mappings["subject_source"] != mappings["object_source"]).all()


def test_gold_set_has_at_least_40_true_pairs_across_schemes():
    gold = load_gold()
    true = gold[gold["predicate"].isin(["exact", "close"])]
    assert len(true) >= 40
    assert (true["subject_id"].str.split(":").str[0] != true["object_id"].str.split(":").str[0]).all()
    assert set(gold["source"]) == {"annotator 1", "adjudicated (annotator 2)"}


@pytest.fixture(scope="module")
def validation(committed):
    return cross_validate(committed)


def test_cross_validated_f1_on_the_gold_set(validation):
    pooled, folds = validation
    assert pooled["f1"] >= 0.85
    assert len(folds) == 6


def test_docs_report_the_measured_crosswalk_scores(validation, root):
    pooled, _ = validation
    text = (root / "docs" / "ontology_and_crosswalk.md").read_text(encoding="utf-8")
    assert (
        f"| adjudicated gold (299 rows) | {pooled['precision']:.3f} | {pooled['recall']:.3f} | {pooled['f1']:.3f} |"
        in text
    )
