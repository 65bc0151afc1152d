"""The responsibility graph and the load table."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from qcompare.graph import (
    COLLECTIVE,
    _brandes,
    _group_sums,
    assignment_shares,
    co_assignment_graph,
    concentration,
    department_load,
    export_graph,
    responsibility_graph,
)


def test_ezhou_quality_supervision_load_matches_a_hand_count(committed):
    """Counted by hand from ezhou.txt: 质监局 is named (always as an assessor)
    on 15 scored checkpoints and the veto row (L321). Its points at stake,
    each checkpoint's points divided by the number of bodies in its cell:
    1.1 10/1 (L19), 4.4 2/5 (L115), 4.5 2/5 (L123), 4.6 3/6 (L131),
    4.7 3/5 (L143), 5.1 2/6 (L169), 5.2 4/5 (L181), 5.3 2/6 (L193),
    5.4 2/6 (L203), 5.5 2/3 (L213), 5.6 6/4 (L226), 5.8 6/4 (L252),
    6.1 6/3 (L270), 6.2 3/4 (L279), 6.4 2/3 (L297) = 20.7833;
    its task load, 1/n per cell including the veto row's 1/8, = 4.3417."""
    load = department_load(committed)
    row = load[(load["scheme_id"] == "ezhou") & (load["department_id"] == "quality_supervision")].iloc[0]
    assert row["nodes"] == 16
    assert row["lead_nodes"] == 0
    assert row["points_at_stake"] == pytest.approx(20 + 47 / 60)
    assert row["task_load"] == pytest.approx(4 + 41 / 120)
    assert row["share_of_points"] == pytest.approx((20 + 47 / 60) / 102)


def test_shares_of_every_node_add_up_to_one(committed):
    shares = assignment_shares(committed)
    assert shares.groupby("node_id")["task_share"].sum().to_numpy() == pytest.approx(1.0)


def test_points_at_stake_add_up_to_the_scored_base_points(committed):
    shares = assignment_shares(committed)
    by_scheme = shares.groupby("scheme_id")["points_share"].sum(min_count=1)
    assert by_scheme["changzhou"] == pytest.approx(1000)  # the 60 bonus points put nothing at stake
    assert by_scheme["ezhou"] == pytest.approx(102)  # every scored checkpoint names a body
    assert by_scheme["nantong"] == pytest.approx(100)
    assert pd.isna(by_scheme["quzhou_tasks"])


def test_lead_counts_in_changzhou(committed):
    """changzhou.txt: the lead column names 市质监局 on 60 of the 108 tasks."""
    load = department_load(committed)
    row = load[(load["scheme_id"] == "changzhou") & (load["department_id"] == "quality_supervision")].iloc[0]
    assert row["lead_nodes"] == 60


def test_owner_and_assessor_are_never_mixed(committed):
    load = department_load(committed)
    overall = load[load["scheme_id"] == "ALL"]
    assert set(overall["department_role"]) == {"owner", "assessor"}
    sums = overall.groupby("department_role")["share_of_tasks"].sum()
    assert sums.to_numpy() == pytest.approx([1.0, 1.0])


def test_successor_view_adds_the_merged_bodies(committed):
    by_department = department_load(committed)
    by_successor = department_load(committed, by="successor")
    quzhou = by_department[by_department["scheme_id"] == "quzhou_tasks"].set_index("department_id")
    merged = by_successor[
        (by_successor["scheme_id"] == "quzhou_tasks") & (by_successor["successor_id"] == "market_regulation_2018")
    ]
    parts = ["quality_supervision", "market_regulation", "quality_city_office"]
    assert merged["task_load"].iloc[0] == pytest.approx(quzhou.loc[parts, "task_load"].sum())


def test_concentration_leaves_out_placeholders(committed):
    table = concentration(department_load(committed))
    assert COLLECTIVE not in set(table["top1"])
    row = table[(table["scheme_id"] == "changzhou")].iloc[0]
    assert row["top1"] == "quality_supervision"
    assert 0 < row["herfindahl"] < 1 and 0 < row["gini"] < 1


def test_graph_is_bipartite_with_documented_attributes(committed):
    G = responsibility_graph(committed)
    assert nx.is_bipartite(G)
    departments = {n for n, d in G.nodes(data=True) if d["bipartite"] == 0}
    assert "quality_supervision" in departments and COLLECTIVE not in departments
    edge = G.edges["quality_supervision", "changzhou:6.1"]
    assert edge["role"] == "lead" and edge["department_role"] == "owner"
    assert edge["task_share"] == pytest.approx(2 / 5)  # lead 2 + three supports (changzhou.txt:L154-L155)
    P = co_assignment_graph(G)
    assert P.has_edge("quality_supervision", "economy_it")
    assert set(P.nodes) == departments


def test_graph_exports_for_gephi(committed, tmp_path: Path):
    G = responsibility_graph(committed)
    graphml, gexf = export_graph(G, tmp_path / "g")
    again = nx.read_graphml(graphml)
    assert again.number_of_edges() == G.number_of_edges()
    assert nx.read_gexf(gexf).number_of_nodes() == G.number_of_nodes()


def _reference_betweenness(tables, key: str = "department_id") -> dict[tuple[str, str], float]:
    """Betweenness the slow, obvious way: networkx on each scheme's projection."""
    shares = assignment_shares(tables)
    shares = shares[shares[key] != COLLECTIVE]
    values: dict[tuple[str, str], float] = {}
    for scheme_id, group in shares.groupby("scheme_id"):
        G = nx.Graph()
        G.add_nodes_from(group[key], bipartite=0)
        G.add_nodes_from(group["node_id"], bipartite=1)
        G.add_edges_from(zip(group[key], group["node_id"], strict=True))
        for body, value in nx.betweenness_centrality(co_assignment_graph(G), normalized=True).items():
            values[(str(scheme_id), str(body))] = value
    return values


@pytest.mark.parametrize("by", ["department", "successor"])
def test_betweenness_matches_networkx_per_scheme(committed, by):
    key = "department_id" if by == "department" else "successor_id"
    load = department_load(committed, by=by)
    expected = _reference_betweenness(committed, key)
    got = load.set_index(["scheme_id", key])["betweenness"]
    named = got[got.index.get_level_values(0) != "ALL"].drop(COLLECTIVE, level=1, errors="ignore")
    assert set(named.index) <= set(expected)
    assert named.to_numpy() == pytest.approx([expected[pair] for pair in named.index], rel=1e-12, abs=1e-15)
    assert got[got.index.get_level_values(0) == "ALL"].isna().all()


@pytest.mark.parametrize("seed", range(6))
def test_brandes_matches_networkx_on_random_graphs(seed):
    """Dense and sparse, connected or not, padded with isolated vertices."""
    rng = np.random.default_rng(seed)
    graphs = [
        nx.gnp_random_graph(int(rng.integers(1, 30)), float(rng.uniform(0.02, 0.6)), seed=seed + i) for i in range(5)
    ]
    n = max(len(G) for G in graphs)
    stack = np.zeros((len(graphs), n, n))
    for i, G in enumerate(graphs):
        stack[i, : len(G), : len(G)] = nx.to_numpy_array(G, nodelist=range(len(G)))
    raw = _brandes(stack)
    for i, G in enumerate(graphs):
        expected = nx.betweenness_centrality(G, normalized=False)  # unordered pairs: half of _brandes
        assert raw[i, : len(G)] / 2 == pytest.approx([expected[v] for v in range(len(G))], rel=1e-12, abs=1e-12)
        assert (raw[i, len(G) :] == 0).all()


def test_group_sums_add_as_series_sum_does():
    values = pd.Series([0.1, 0.2, 0.3, 1 / 3, 1 / 7, 1 / 11, 0.7, 0.05, 0.3, 0.6])
    sizes = np.array([1, 2, 3, 4])
    codes = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    expected = [float(values.iloc[a : a + n].sum()) for a, n in zip(starts, sizes, strict=True)]
    assert _group_sums(values, codes, sizes) == expected  # exactly, not approximately
