"""Ontology labels: every node labelled on each facet, rules from data files,
and a cross-validated accuracy against the hand-labelled set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare.ontology import (
    FACETS,
    evaluate,
    label_nodes,
    load_evaluation_set,
    load_keywords,
    node_evidence_text,
)


def test_every_assessed_node_has_one_nature_one_lever_and_a_domain(committed):
    categories = committed["categories"]
    nodes = committed["nodes"]
    parents = set(nodes["parent_id"].dropna())
    assessed = nodes[~nodes["node_id"].isin(parents) | nodes["points"].notna()]["node_id"]
    for facet in FACETS:
        labelled = set(categories.loc[categories["facet"] == facet, "node_id"])
        assert set(assessed) <= labelled, facet
    single = categories[categories["facet"] != "domain"]
    assert not single.duplicated(["node_id", "facet"]).any()


def test_labels_carry_method_evidence_and_confidence(committed):
    categories = committed["categories"]
    assert set(categories["method"]) <= {"rule", "model", "manual"}
    row = categories[(categories["node_id"] == "nantong:4.12.20.(66)") & (categories["facet"] == "lever")].iloc[0]
    # 制造业产品国家监督抽查合格率 (nantong.txt:L494): outcome + supervision + product, as ONTOLOGY.md's own example
    assert (row["category"], row["method"]) == ("supervision", "rule")
    assert "监督抽查" in row["evidence"]
    nature = categories[(categories["node_id"] == "nantong:4.12.20.(66)") & (categories["facet"] == "nature")]
    assert nature["category"].tolist() == ["outcome"]
    domain = categories[(categories["node_id"] == "nantong:4.12.20.(66)") & (categories["facet"] == "domain")]
    assert domain["category"].tolist() == ["product"]


def test_model_decisions_name_their_nearest_labelled_neighbours(committed):
    model = committed["categories"].query("method == 'model'")
    assert len(model) > 0
    assert model["evidence"].str.startswith("nearest labelled:").all()


def test_keyword_dictionaries_use_only_ontology_codes():
    keywords = load_keywords()
    for facet, codes in FACETS.items():
        assert set(keywords.loc[keywords["facet"] == facet, "code"]) <= set(codes)


def test_overrides_win(tables):
    overrides = pd.DataFrame([{"node_id": "changzhou:9", "facet": "lever", "code": "organization", "note": "test"}])
    labels = label_nodes(tables, overrides=overrides)
    row = labels[(labels["node_id"] == "changzhou:9") & (labels["facet"] == "lever")].iloc[0]
    assert (row["category"], row["method"]) == ("organization", "manual")


def test_evaluation_set_has_at_least_80_nodes_across_all_five_documents():
    gold = load_evaluation_set()
    assert len(gold) >= 80 and gold["node_id"].is_unique
    documents = {node_id.split(":")[0].split("_")[0] for node_id in gold["node_id"]}
    assert documents == {"nantong", "changzhou", "ezhou", "quzhou", "xinbei"}


@pytest.fixture(scope="module")
def evaluation(committed):
    return evaluate(committed)


def test_cross_validated_lever_accuracy_is_at_least_085(evaluation):
    assert evaluation.accuracy["lever"] >= 0.85
    assert evaluation.accuracy["nature"] >= 0.85
    # every held-out node was predicted exactly once
    assert evaluation.predictions["node_id"].is_unique


def test_docs_report_the_measured_accuracy(evaluation, root):
    text = (root / "docs" / "ontology_and_crosswalk.md").read_text(encoding="utf-8")
    assert f"| lever | {evaluation.accuracy['lever']:.3f} |" in text
    assert f"| nature | {evaluation.accuracy['nature']:.3f} |" in text


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda width: st.lists(
            st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=width, max_size=width), min_size=1, max_size=5
        )
    )
)
def test_top3_is_a_stable_argsort_without_the_sort(rows):
    from qcompare.ontology import _top3

    matrix = np.array(rows)
    assert _top3(matrix) == [[int(i) for i in np.argsort(-row, kind="stable")[:3]] for row in matrix]


def test_the_default_reference_cap_does_not_bind_on_the_real_data(tables, committed):
    # the largest class (nature: process) has 332 distinct labelled texts; a cap there changes nothing
    capped = label_nodes(tables, manual=load_evaluation_set(), max_reference=332)
    columns = ["node_id", "facet", "category", "method", "evidence"]
    capped = capped.sort_values(columns[:3], ignore_index=True)
    expected = committed["categories"].sort_values(columns[:3], ignore_index=True)
    assert len(capped) == len(expected) == 2134
    assert capped[columns].values.tolist() == expected[columns].values.tolist()
    assert capped["confidence"].tolist() == expected["confidence"].tolist()


def test_a_tiny_reference_cap_bounds_the_nearest_labelled_evidence(tables):
    gold = load_evaluation_set()
    labels = label_nodes(tables, manual=gold, max_reference=1)
    model = labels[(labels["method"] == "model") & (labels["facet"] == "lever")]
    named = model["evidence"].str.removeprefix("nearest labelled: ").str.split(", ").explode()
    named = named.str.extract(r"^(?P<node_id>\S+) \((?P<code>\w+)\)$")
    texts = node_evidence_text(tables)
    per_class = named.assign(text=texts[named["node_id"]].to_numpy()).groupby("code")["text"].nunique()
    assert len(per_class) == 13 and (per_class == 1).all()  # one text per class: its nodes are the whole reference
    assert named["node_id"].nunique() == 17  # 13 texts, some of them shared by several nodes
    # hand labels come first: supervision's one text is that of the first hand-labelled supervision node
    first = gold.loc[gold["lever"] == "supervision", "node_id"].iloc[0]
    assert set(texts[named.loc[named["code"] == "supervision", "node_id"]]) == {texts[first]}
    # the cap changes the model's evidence, not which nodes the rules leave to it
    free = label_nodes(tables, manual=gold, max_reference=None)
    free_model = free[(free["method"] == "model") & (free["facet"] == "lever")]
    assert model["node_id"].tolist() == free_model["node_id"].tolist() and len(model) == 117
    assert (model["evidence"].to_numpy() != free_model["evidence"].to_numpy()).all()
