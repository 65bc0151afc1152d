"""The crosswalk: every unit decided, known pairs found, measured on the gold set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from qcompare import crosswalk
from qcompare.crosswalk import (
    Blocking,
    UnitEvidence,
    UnscoredEstimate,
    _classifier,
    _gold_labels,
    _predict_distinct,
    _sparse_transitive,
    _tfidf_rows,
    _transitive,
    build_crosswalk,
    cross_validate,
    decide_pairs,
    decide_sparse_pairs,
    group_concepts,
    group_sparse_concepts,
    load_gold,
    unit_nodes,
)


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


# --- the blocked path (large corpora) ---------------------------------------


def _random_units(seed: int, per_scheme: int = 6, schemes: int = 4) -> tuple[UnitEvidence, np.ndarray]:
    """Units of a few schemes and a random symmetric match probability between schemes."""
    rng = np.random.default_rng(seed)
    scheme = np.repeat([f"s{k}" for k in range(schemes)], per_scheme)
    ids = [f"{s}:{k}" for k, s in enumerate(scheme)]
    n = len(ids)
    upper = np.triu(rng.random((n, n)) ** 3 * 0.3 + np.where(rng.random((n, n)) < 0.15, 0.7, 0.0), 1)
    probability = np.minimum(upper + upper.T, 1.0) * (scheme[:, None] != scheme[None, :])
    empty = [""] * n
    return UnitEvidence(ids, scheme, empty, empty, empty, [[] for _ in ids]), probability


def _every_pair(ev: UnitEvidence, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = np.triu_indices(len(ev.ids), k=1)
    cross = ev.scheme[a] != ev.scheme[b]
    return a[cross], b[cross], probability[a[cross], b[cross]]


def _partition(root: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for unit, representative in root.items():
        groups.setdefault(representative, set()).add(unit)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("seed", range(5))
def test_sparse_grades_and_concepts_equal_the_exact_ones_when_every_pair_is_scored(seed):
    ev, probability = _random_units(seed)
    a, b, p = _every_pair(ev, probability)
    exact = decide_pairs(ev, probability)
    sparse = decide_sparse_pairs(ev, a, b, p)
    pd.testing.assert_frame_equal(exact.reset_index(drop=True), sparse.reset_index(drop=True), check_dtype=False)
    assert len(exact) > 10
    grouped = _partition(group_concepts(exact, ev, probability))
    assert grouped == _partition(group_sparse_concepts(sparse, ev, a, b, p))
    assert max(len(g) for g in grouped) > 1


@pytest.mark.parametrize("seed", range(3))
def test_sparse_path_through_a_third_scheme_equals_the_dense_one(seed):
    ev, probability = _random_units(seed)
    a, b, p = _every_pair(ev, probability)
    dense = _transitive(probability, ev.scheme)
    assert np.allclose(_sparse_transitive(a, b, p, len(ev.ids), top=len(ev.ids)), dense[a, b])


def test_an_unscored_pair_counts_as_zero_when_groups_merge():
    # a:1–b:1 and a:1–c:1 match strongly; b:1–c:1 was never scored, so {a,b}+{c} averages (0.9+0)/2 < 0.5
    ev = UnitEvidence(["a:1", "b:1", "c:1"], np.array(["a", "b", "c"]), [""] * 3, [""] * 3, [""] * 3, [[], [], []])
    a, b, p = np.array([0, 0]), np.array([1, 2]), np.array([0.95, 0.9])
    pairs = decide_sparse_pairs(ev, a, b, p)
    assert pairs["predicate"].tolist() == ["exact", "exact"]
    assert _partition(group_sparse_concepts(pairs, ev, a, b, p)) == {frozenset({"a:1", "b:1"}), frozenset({"c:1"})}


def test_gold_labels_leave_pairs_outside_the_gold_schemes_unknown():
    gold = pd.DataFrame(
        {"anchor_id": ["a:1"], "subject_id": ["a:1"], "object_id": ["b:1"], "predicate": ["exact"], "justification": ""}
    )
    ids = ["a:1", "b:1", "b:2", "syn:1"]
    ev = UnitEvidence(ids, np.array(["a", "b", "b", "syn"]), [""] * 4, [""] * 4, [""] * 4, [[]] * 4)
    features = pd.DataFrame({"i": [0, 0, 0, 1], "j": [1, 2, 3, 0]})
    # the anchor's gold partner, another unit of a gold scheme, an imported or synthetic copy, a non-anchor
    assert _gold_labels(features, ev, gold).tolist() == [1, 0, -1, -1]


def test_blocked_path_scoring_every_pair_reproduces_the_committed_crosswalk(committed):
    # with candidates = every pair, only the algorithms differ (sparse features, heap-based grouping)
    walk, pairs = build_crosswalk(committed, blocking=Blocking(exact_limit=0, transitive_top=10**6))
    assert _partition(dict(zip(walk["node_id"], walk["concept_id"], strict=True))) == _partition(
        dict(zip(committed["crosswalk"]["node_id"], committed["crosswalk"]["concept_id"], strict=True))
    )
    mappings = committed["mappings"]
    assert sorted(zip(pairs["subject_id"], pairs["object_id"], pairs["similarity"], strict=True)) == sorted(
        zip(mappings["subject_id"], mappings["object_id"], mappings["confidence"], strict=True)
    )


def test_tfidf_of_distinct_texts_equals_the_vectorizer_on_every_copy():
    texts = ["质量强市示范城市", "质量强市示范城市", "品牌建设", "质量品牌", "标准化 计量", "品牌建设"]
    for options in ({"ngram_range": (2, 3)}, {"ngram_range": (2, 4), "max_df": 0.4}):
        rows, inverse = _tfidf_rows(texts, **options)
        expected = TfidfVectorizer(analyzer="char_wb", sublinear_tf=True, **options).fit_transform(texts)
        assert np.allclose((rows[inverse] @ rows[inverse].T).toarray(), (expected @ expected.T).toarray())


def test_unscored_pairs_are_estimated_from_their_evidence_when_groups_merge():
    # {a, b} and {c, d} are pairs of copies joined by one scored pair a–c; the other three pairs between them
    # were never scored.  Counted as 0 the groups stay apart ((0.9 + 0) / 4); estimated from their evidence
    # they merge when the copies read alike (cosine 1 → 0.93) and stay apart when they do not (cosine 0 → 0).
    ids = ["a:1", "b:1", "c:1", "d:1"]
    ev = UnitEvidence(ids, np.array(["a", "b", "c", "d"]), [""] * 4, [""] * 4, [""] * 4, [[]] * 4)
    a, b, p = np.array([0, 0, 2]), np.array([1, 2, 3]), np.array([0.95, 0.9, 0.95])
    pairs = decide_sparse_pairs(ev, a, b, p)
    calibration = (np.array([0.0, 1.0]), np.array([0.0, 0.93]))
    alike = UnscoredEstimate(np.ones((4, 1)), np.ones(3), calibration)
    two = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    apart = UnscoredEstimate(two, np.array([1.0, 0.0, 1.0]), calibration)
    separate = {frozenset(ids[:2]), frozenset(ids[2:])}
    assert _partition(group_sparse_concepts(pairs, ev, a, b, p)) == separate
    assert _partition(group_sparse_concepts(pairs, ev, a, b, p, unscored=alike)) == {frozenset(ids)}
    assert _partition(group_sparse_concepts(pairs, ev, a, b, p, unscored=apart)) == separate


def test_predicting_distinct_rows_once_gives_every_row_its_own_prediction(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(200, 4)).astype(float)  # 81 possible rows: many repeats
    model = _classifier().fit(X, (X.sum(axis=1) > 4).astype(int))
    expected = model.predict_proba(X)[:, 1]
    assert np.array_equal(_predict_distinct(model, X), expected)
    # a grouping that does not hold (as after a hash collision) falls back to predicting every row
    monkeypatch.setattr(crosswalk, "distinct_keys", lambda key: (np.array([0]), np.zeros(len(key), dtype=np.int64)))
    assert np.array_equal(_predict_distinct(model, X), expected)
