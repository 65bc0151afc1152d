"""The responsibility graph and the load table."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from qcompare.graph import (
    COLLECTIVE,
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
