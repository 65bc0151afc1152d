"""Who carries the load: the responsibility graph and load metrics.

**What "load" means.** Each node that names departments spreads one unit of
*task load*, and its *points at stake*, over the bodies it names, in
proportion to their role weights (:data:`ROLE_WEIGHTS`: a lead counts 2, a
supporting, responsible or assessing body 1, a collective placeholder 1).
A node's points are its effective points (:mod:`qcompare.weights`: the
points of the nearest scored node above it, split equally among that node's
leaves); bonus and veto nodes put no points at stake.  Collective
placeholders (领导小组相关成员单位, 各镇、街道 …) take their share but are
not departments: they appear as one ``collective_placeholder`` row and are
left out of every concentration measure.  A name the department registry
does not know (an imported scheme's 县工信局, say) counts as a body of its
own, ``unresolved:<name as printed>``, until the registry learns it.

**Two meanings kept apart.** In ``owner`` schemes (Changzhou, Quzhou's and
Xinbei's task tables) the departments carry the work out; in ``assessor``
schemes (Nantong, Ezhou) they set and score an indicator for the governments
being assessed.  Every table here carries ``department_role``, and the
overall rows add up owner schemes and assessor schemes separately.

Functions: :func:`assignment_shares` (one row per assignment, with its
shares), :func:`department_load` (per scheme and overall, by department or by
its 2018 successor), :func:`concentration` (HHI, Gini, top-1 share),
:func:`responsibility_graph` (bipartite departments × nodes),
:func:`co_assignment_graph` (its department projection), :func:`export_graph`
(GraphML and GEXF for Gephi).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from networkx.algorithms import bipartite

from qcompare.weights import effective_points

__all__ = [
    "COLLECTIVE",
    "ROLE_WEIGHTS",
    "UNRESOLVED",
    "assignment_shares",
    "co_assignment_graph",
    "concentration",
    "department_load",
    "export_graph",
    "gini",
    "herfindahl",
    "lorenz_curve",
    "responsibility_graph",
]

#: Weight of each role when a node's load is shared among the bodies it names.
ROLE_WEIGHTS: dict[str, float] = {"lead": 2.0, "support": 1.0, "responsible": 1.0, "assessor": 1.0, "collective": 1.0}

#: The key under which collective placeholders are reported.
COLLECTIVE = "collective_placeholder"
#: Prefix of the id a name the registry does not know gets (``unresolved:县工信局``): it is
#: counted as a body of its own, under its printed name, never lumped with the placeholders.
UNRESOLVED = "unresolved:"

_ROLE_RANK = {"lead": 0, "responsible": 1, "assessor": 2, "support": 3, "collective": 4}


def assignment_shares(tables: Mapping[str, pd.DataFrame], weights: Mapping[str, float] = ROLE_WEIGHTS) -> pd.DataFrame:
    """One row per assignment with its share of its node's task load and points.

    Columns: scheme_id, department_role, node_id, department_id (or
    ``collective_placeholder``), successor_id, role, weight, task_share,
    points_share (NaN where the scheme has no points), raw_ref.
    """
    nodes = tables["nodes"]
    schemes = tables["schemes"].set_index("scheme_id")
    departments = tables["departments"].set_index("department_id")
    a = tables["assignments"].copy()
    unresolved = a["department_id"].isna() & (a["role"] != "collective")
    a.loc[unresolved, "department_id"] = UNRESOLVED + a.loc[unresolved, "department_raw"]
    a["department_id"] = a["department_id"].fillna(COLLECTIVE)
    a.loc[a["role"] == "collective", "department_id"] = COLLECTIVE
    a["successor_id"] = a["department_id"].map(departments["successor_id"]).fillna(COLLECTIVE)
    a.loc[unresolved, "successor_id"] = a.loc[unresolved, "department_id"]
    a["department_role"] = a["scheme_id"].map(schemes["department_role"])
    a["weight"] = a["role"].map(weights).astype(float)
    a["task_share"] = a["weight"] / a.groupby("node_id")["weight"].transform("sum")

    points = effective_points(nodes)  # node by node, so all schemes in one pass (node_ids are unique across schemes)
    flags = nodes.set_index("node_id")[["is_bonus", "is_veto"]]
    node_points = a["node_id"].map(points)
    excluded = a["node_id"].map(flags["is_bonus"] | flags["is_veto"]).fillna(False).astype(bool)
    scored = a["scheme_id"].map(schemes["total_points"].notna())
    node_points = node_points.where(~excluded, 0.0).where(scored)
    a["points_share"] = a["task_share"] * node_points.fillna(0.0)
    a.loc[~scored, "points_share"] = np.nan
    columns = [
        "scheme_id",
        "department_role",
        "node_id",
        "department_id",
        "successor_id",
        "role",
        "weight",
        "task_share",
        "points_share",
        "raw_ref",
    ]
    return a[columns].reset_index(drop=True)


def _load_rows(shares: pd.DataFrame, key: str) -> pd.DataFrame:
    grouped = shares.groupby(["scheme_id", "department_role", key], sort=True)
    load = pd.DataFrame(
        {
            "nodes": grouped["node_id"].nunique(),
            "lead_nodes": shares[shares["role"] == "lead"]
            .groupby(["scheme_id", "department_role", key], sort=True)["node_id"]
            .nunique(),
            "task_load": grouped["task_share"].sum(),
            "points_at_stake": grouped["points_share"].sum(min_count=1),
        }
    ).reset_index()
    load["lead_nodes"] = load["lead_nodes"].fillna(0).astype(int)
    totals = load.groupby(["scheme_id", "department_role"])[["task_load", "points_at_stake"]].transform("sum")
    load["share_of_tasks"] = load["task_load"] / totals["task_load"]
    load["share_of_points"] = load["points_at_stake"] / totals["points_at_stake"]
    return load


def department_load(
    tables: Mapping[str, pd.DataFrame],
    by: str = "department",
    weights: Mapping[str, float] = ROLE_WEIGHTS,
) -> pd.DataFrame:
    """Load per scheme and department, plus overall rows per department_role.

    ``by="department"`` groups by ``department_id``; ``by="successor"`` maps
    each department to the body that holds its function after the 2018
    reform (``successor_id``), so 质监局, 工商局 and 食药监局 add up under
    ``market_regulation_2018``.  Overall rows have ``scheme_id`` ``ALL``.
    Betweenness is each department's betweenness centrality in its scheme's
    co-assignment projection (NaN for the overall rows and placeholders).
    """
    if by not in ("department", "successor"):
        raise ValueError(f"by must be 'department' or 'successor', not {by!r}")
    key = "department_id" if by == "department" else "successor_id"
    shares = assignment_shares(tables, weights)
    per_scheme = _load_rows(shares, key)
    overall = _load_rows(shares.dropna(subset=["department_role"]).assign(scheme_id="ALL"), key)
    load = pd.concat([per_scheme, overall], ignore_index=True)

    betweenness = _scheme_betweenness(shares, key)
    pairs = pd.MultiIndex.from_arrays([load["scheme_id"], load[key]])
    load["betweenness"] = betweenness.reindex(pairs).to_numpy(dtype=float)

    departments = tables["departments"]
    if by == "department":
        names = departments.set_index("department_id")["name_zh"]
    else:
        names = departments.drop_duplicates("successor_id").set_index("successor_id")["successor_2018"]
    unresolved_names = load[key].str.removeprefix(UNRESOLVED).where(load[key].str.startswith(UNRESOLVED))
    load.insert(3, "name_zh", load[key].map(names).fillna(unresolved_names).fillna("(集体占位：领导小组成员单位等)"))
    order = {"ALL": "~"}
    load["_scheme"] = load["scheme_id"].map(lambda s: order.get(s, s))
    load = load.sort_values(["_scheme", "department_role", "task_load", key], ascending=[True, True, False, True])
    return load.drop(columns="_scheme").reset_index(drop=True)


def herfindahl(shares: pd.Series) -> float:
    """Herfindahl–Hirschman index of shares that sum to 1 (1 = one body holds all).

    >>> herfindahl(pd.Series([0.5, 0.5])), herfindahl(pd.Series([1.0]))
    (0.5, 1.0)
    """
    values = shares.to_numpy(dtype=float)
    values = values / values.sum()
    return float((values**2).sum())


def gini(values: pd.Series) -> float:
    """Gini coefficient of non-negative loads (0 = equal, →1 = concentrated).

    >>> gini(pd.Series([1, 1, 1, 1])), round(gini(pd.Series([0, 0, 0, 4])), 3)
    (0.0, 0.75)
    """
    x = np.sort(values.to_numpy(dtype=float))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum()) / (n * x.sum()) - (n + 1) / n)


def lorenz_curve(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of departments (x) against cumulative share of load (y).

    >>> x, y = lorenz_curve(pd.Series([1.0, 3.0]))
    >>> x.tolist(), y.tolist()
    ([0.0, 0.5, 1.0], [0.0, 0.25, 1.0])
    """
    v = np.sort(values.to_numpy(dtype=float))
    y = np.concatenate([[0.0], np.cumsum(v) / v.sum()])
    x = np.linspace(0.0, 1.0, len(v) + 1)
    return x, y


def concentration(load: pd.DataFrame, measure: str = "task_load") -> pd.DataFrame:
    """Concentration of one load measure among named departments, per scheme.

    Placeholders are left out and the remaining loads renormalized; the
    top-1 share is against the scheme's whole load (placeholders included).
    """
    key = "department_id" if "department_id" in load.columns else "successor_id"
    rows = []
    for (scheme_id, role), group in load.groupby(["scheme_id", "department_role"], sort=True):
        named = group[group[key] != COLLECTIVE].dropna(subset=[measure])
        named = named[named[measure] > 0]
        if named.empty:
            continue
        top = named.sort_values([measure, key], ascending=[False, True]).iloc[0]
        rows.append(
            {
                "scheme_id": scheme_id,
                "department_role": role,
                "measure": measure,
                "departments": len(named),
                "herfindahl": herfindahl(named[measure]),
                "gini": gini(named[measure]),
                "top1": top[key],
                "top1_name": top["name_zh"],
                "top1_share": float(top[measure] / group[measure].sum()),
            }
        )
    return pd.DataFrame(rows)


def _brandes(adjacency: np.ndarray) -> np.ndarray:
    """Betweenness (before rescaling: summed over ordered source-target pairs)
    of every vertex of a stack of unweighted undirected graphs at once.

    ``adjacency`` is ``(graphs, n, n)`` with 0/1 entries, symmetric, zero
    diagonal; vertices beyond a graph's own size are isolated padding.  This
    is Brandes' algorithm run from every source together: a breadth-first
    search level by level counts the shortest paths (``sigma``, whole numbers,
    exact in floating point), then the dependencies are accumulated from the
    deepest level back.  Results agree with ``nx.betweenness_centrality`` up
    to the order floating-point sums are taken in.

    >>> path = np.array([[[0, 1, 0], [1, 0, 1], [0, 1, 0]]], dtype=float)
    >>> _brandes(path).tolist()  # the middle vertex is on 0→2 and on 2→0
    [[0.0, 2.0, 0.0]]
    """
    source = np.broadcast_to(np.eye(adjacency.shape[1], dtype=bool), adjacency.shape)
    sigma = source.astype(float)  # sigma[g, s, v]: shortest paths from s to v
    seen = source.copy()
    levels = [source]
    while True:
        paths = (sigma * levels[-1]) @ adjacency
        new = (paths > 0) & ~seen
        if not new.any():
            break
        sigma = np.where(new, paths, sigma)
        seen |= new
        levels.append(new)
    reached = np.where(seen, sigma, 1.0)
    delta = np.zeros_like(sigma)
    for depth in range(len(levels) - 2, 0, -1):  # the source's own dependency (depth 0) is not counted
        coeff = np.where(levels[depth + 1], (1.0 + delta) / reached, 0.0)
        delta = np.where(levels[depth], sigma * (coeff @ adjacency), delta)
    return delta.sum(axis=1)


def _scheme_betweenness(shares: pd.DataFrame, key: str, cells: int = 2_000_000) -> pd.Series:
    """Normalized betweenness of every body in its scheme's co-assignment
    projection (:func:`co_assignment_graph` of the scheme's bipartite graph),
    indexed by (scheme_id, body).

    Schemes are taken in batches of similar size, each batch as one stack of
    dense adjacency matrices of at most ``cells`` entries, so the work is
    linear in the number of schemes.
    """
    named = shares.loc[shares[key] != COLLECTIVE, ["scheme_id", key, "node_id"]]
    body = named.groupby(["scheme_id", key], sort=True).ngroup().to_numpy()
    bodies = named.assign(_body=body).drop_duplicates("_body").sort_values("_body")
    scheme = pd.factorize(bodies["scheme_id"])[0]  # bodies are sorted by scheme
    sizes = np.bincount(scheme)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.arange(len(bodies)) - first[scheme]

    incidence = named.assign(_body=body)[["scheme_id", "node_id", "_body"]].drop_duplicates()
    pairs = incidence.merge(incidence, on=["scheme_id", "node_id"])
    pairs = pairs[pairs["_body_x"] != pairs["_body_y"]]
    u, v = pairs["_body_x"].to_numpy(), pairs["_body_y"].to_numpy()

    values = np.zeros(len(bodies))
    order = np.argsort(sizes, kind="stable")
    batch_of = np.empty(len(sizes), dtype=int)
    slot_of = np.empty(len(sizes), dtype=int)
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and (stop - start + 1) * int(sizes[order[stop]]) ** 2 <= cells:
            stop += 1
        members = order[start:stop]
        batch_of[members] = len(batches)
        slot_of[members] = np.arange(len(members))
        batches.append(members)
        start = stop
    edge_batch = batch_of[scheme[u]]
    for batch, members in enumerate(batches):
        width = int(sizes[members].max())
        adjacency = np.zeros((len(members), width, width))
        mine = edge_batch == batch
        adjacency[slot_of[scheme[u[mine]]], local[u[mine]], local[v[mine]]] = 1.0
        raw = _brandes(adjacency)
        rows = np.flatnonzero(np.isin(scheme, members))
        values[rows] = raw[slot_of[scheme[rows]], local[rows]]
    n_bodies = sizes[scheme].astype(float)  # as nx: divided by the (n - 1)(n - 2) ordered pairs of other bodies
    scale = np.where(n_bodies > 2, 1.0 / np.maximum((n_bodies - 1) * (n_bodies - 2), 1.0), 1.0)
    pairs_index = pd.MultiIndex.from_arrays([bodies["scheme_id"].to_numpy(), bodies[key].to_numpy()])
    return pd.Series(values * scale, index=pairs_index, dtype=float, name="betweenness")


def _group_sums(values: pd.Series, codes: np.ndarray, sizes: np.ndarray) -> list[float]:
    """Sum ``values`` per group (``codes`` numbers the groups 0, 1, … in row order,
    each group's rows contiguous), exactly as ``Series.sum`` adds each group.

    One or two values add up the same whichever way they are summed; longer
    groups (rare: a body named three times on one node) are summed one by one
    with ``Series.sum``, whose pairwise order a grouped sum does not keep.
    """
    sums = np.bincount(codes, weights=values.to_numpy(dtype=float), minlength=len(sizes))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for group in np.flatnonzero(sizes > 2):
        sums[group] = values.iloc[starts[group] : starts[group] + sizes[group]].sum()
    return [float(x) for x in sums]


def responsibility_graph(tables: Mapping[str, pd.DataFrame], weights: Mapping[str, float] = ROLE_WEIGHTS) -> nx.Graph:
    """Bipartite graph: departments (``bipartite=0``, keyed by department_id)
    and nodes (``bipartite=1``, keyed by node_id).

    Edge attributes: ``role`` (the strongest role if a body is named twice on
    a node), ``scheme_id``, ``department_role``, ``task_share``,
    ``points_at_stake`` (0 where the scheme has no points), ``weight``
    (= task_share).  Collective placeholders are not departments and are left
    out.  Department attributes: name_zh, name_en, family, successor_id,
    task_load.  Node attributes: scheme_id, title, level, points.
    """
    shares = assignment_shares(tables, weights)
    shares = shares[shares["department_id"] != COLLECTIVE]
    G = nx.Graph()

    load = shares.groupby("department_id")["task_share"].sum()
    ids = [str(department_id) for department_id in load.index]
    unresolved = [key.startswith(UNRESOLVED) for key in ids]  # printed names the registry does not know yet
    columns = ["name_zh", "name_en", "family", "successor_id"]
    registry = tables["departments"].set_index("department_id")
    known = registry.loc[[key for key, u in zip(ids, unresolved, strict=True) if not u], columns]
    rows = iter(known.itertuples(index=False, name=None))
    for department_id, key, is_unresolved, task_load in zip(load.index, ids, unresolved, load.tolist(), strict=True):
        if is_unresolved:
            name = key.removeprefix(UNRESOLVED)
            info: tuple[Any, ...] = (name, "", "unresolved", key)
        else:
            info = next(rows)
        G.add_node(
            department_id,
            bipartite=0,
            kind="department",
            name_zh=info[0],
            name_en=info[1],
            family=info[2],
            successor_id=info[3],
            task_load=float(task_load),
        )

    node_ids = sorted(set(shares["node_id"].tolist()))
    nodes = tables["nodes"].set_index("node_id").loc[node_ids]
    G.add_nodes_from(
        (
            node_id,
            {
                "bipartite": 1,
                "kind": "node",
                "scheme_id": scheme_id,
                "title": title if isinstance(title, str) else "",
                "level": int(level),
                "points": points,
            },
        )
        for node_id, scheme_id, title, level, points in zip(
            node_ids,
            nodes["scheme_id"].tolist(),
            nodes["title"].tolist(),
            nodes["level"].tolist(),
            nodes["points"].fillna(0.0).tolist(),
            strict=True,
        )
    )

    # One edge per (node, department), in sorted order; its role, scheme and
    # department_role are those of its strongest-role assignment.
    ordered = shares.assign(_rank=shares["role"].map(_ROLE_RANK)).sort_values(["node_id", "department_id", "_rank"])
    pair = ordered[["node_id", "department_id"]]
    starts = ~pair.duplicated(keep="first").to_numpy()
    codes = np.cumsum(starts) - 1
    sizes = np.bincount(codes)
    first = ordered[starts]
    task_shares = _group_sums(ordered["task_share"], codes, sizes)
    points = _group_sums(ordered["points_share"].fillna(0.0), codes, sizes)
    G.add_edges_from(
        (
            department_id,
            node_id,
            {
                "role": role,
                "scheme_id": scheme_id,
                "department_role": department_role if isinstance(department_role, str) else "",
                "task_share": task_share,
                "points_at_stake": points_at_stake,
                "weight": task_share,
            },
        )
        for department_id, node_id, role, scheme_id, department_role, task_share, points_at_stake in zip(
            first["department_id"].tolist(),
            first["node_id"].tolist(),
            first["role"].tolist(),
            first["scheme_id"].tolist(),
            first["department_role"].tolist(),
            task_shares,
            points,
            strict=True,
        )
    )
    return G


def co_assignment_graph(G: nx.Graph) -> nx.Graph:
    """Departments linked when named on the same node; ``weight`` counts the
    nodes they share."""
    departments = {n for n, d in G.nodes(data=True) if d.get("bipartite") == 0}
    return bipartite.weighted_projected_graph(G, departments)


def export_graph(G: nx.Graph, stem: Path) -> list[Path]:
    """Write ``<stem>.graphml`` and ``<stem>.gexf`` (for Gephi)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".graphml"), stem.with_suffix(".gexf")]
    nx.write_graphml(G, paths[0])
    nx.write_gexf(G, paths[1])
    return paths
