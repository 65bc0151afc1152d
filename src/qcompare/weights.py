"""How many points each node of a scheme carries.

Schemes put points at different depths: Nantong on its 三级指标 (the 考核要点
below them carry none), Changzhou on its 考核内容 (the tasks below carry
none), Ezhou on every 考核要点.  :func:`effective_points` gives every leaf
the points it stands for, by one documented rule: a leaf takes the points of
the nearest node above it (or itself) that carries points, divided equally
among that node's leaves.  Leaves under no scored node get none (NaN).

>>> nodes = pd.DataFrame({
...     "scheme_id": ["s"] * 4,
...     "node_id": ["s:1", "s:1.1", "s:1.2", "s:2"],
...     "parent_id": [None, "s:1", "s:1", None],
...     "points": [6.0, None, None, None],
... })
>>> effective_points(nodes).to_dict()
{'s:1.1': 3.0, 's:1.2': 3.0, 's:2': nan}
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["area_shares", "effective_points", "leaf_weights", "leaves", "scored_anchors"]


def leaves(nodes: pd.DataFrame) -> pd.Series:
    """True for nodes that have no children."""
    parents = set(nodes["parent_id"].dropna().tolist())
    return ~nodes["node_id"].isin(parents)


def scored_anchors(nodes: pd.DataFrame) -> dict[str, str | None]:
    """For every leaf, the nearest node at or above it that carries points
    (``None`` where nothing above it does): the node that scores the leaf."""
    ids = nodes["node_id"].tolist()  # plain lists: iterating string columns value by value is slow
    parent = dict(zip(ids, nodes["parent_id"].tolist(), strict=True))
    scored = set(nodes.loc[nodes["points"].notna(), "node_id"].tolist())

    def scored_ancestor(node_id: str) -> str | None:
        current: str | None = node_id
        while current is not None:
            if current in scored:
                return current
            above = parent[current]
            current = above if isinstance(above, str) else None
        return None

    return {leaf: scored_ancestor(leaf) for leaf in nodes.loc[leaves(nodes), "node_id"].tolist()}


def effective_points(nodes: pd.DataFrame) -> pd.Series:
    """Points per leaf (indexed by node_id), by the equal-split rule above."""
    points = dict(zip(nodes["node_id"].tolist(), nodes["points"].tolist(), strict=True))
    owner = scored_anchors(nodes)
    counts: dict[str, int] = {}
    for anchor in owner.values():
        if anchor is not None:
            counts[anchor] = counts.get(anchor, 0) + 1
    values = {
        leaf: (float(points[anchor]) / counts[anchor] if anchor is not None else float("nan"))
        for leaf, anchor in owner.items()
    }
    return pd.Series(values, dtype=float, name="effective_points")


def _base_total(nodes: pd.DataFrame) -> pd.Series:
    top = nodes[(nodes["level"] == 1) & ~nodes["is_bonus"] & ~nodes["is_veto"]]
    return top.groupby("scheme_id")["points"].sum(min_count=1)


def area_shares(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each scored scheme's top-level areas as shares of its base points,
    with the bonus available and whether a veto exists as separate columns.

    Long format: scheme_id, area (code and title), points, share.
    """
    nodes = tables["nodes"]
    schemes = tables["schemes"].set_index("scheme_id")
    top = nodes[(nodes["level"] == 1) & nodes["points"].notna() & ~nodes["is_bonus"] & ~nodes["is_veto"]]
    total = top.groupby("scheme_id")["points"].transform("sum")
    out = pd.DataFrame(
        {
            "scheme_id": top["scheme_id"],
            "area": [
                (f"{c} {t}" if isinstance(c, str) else str(t))[:16]
                for c, t in zip(top["code"], top["title"], strict=True)
            ],
            "points": top["points"],
            "share": top["points"] / total,
            "bonus_available": top["scheme_id"].map(schemes["bonus_cap"]),
            "has_veto": top["scheme_id"].map(schemes["has_veto"]),
        }
    )
    return out.reset_index(drop=True)


def leaf_weights(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Effective weight of every scored leaf: its effective points as a share
    of its scheme's base points (bonus leaves carry their points but no base
    weight)."""
    nodes = tables["nodes"]
    frames = []
    for scheme_id, group in nodes.groupby("scheme_id", sort=True):
        points = effective_points(group).dropna()
        if points.empty:
            continue
        info = group.set_index("node_id").loc[points.index]
        base = points[~info["is_bonus"].astype(bool)].sum()
        frames.append(
            pd.DataFrame(
                {
                    "scheme_id": scheme_id,
                    "node_id": points.index,
                    "title": info["title"].to_numpy(),
                    "effective_points": points.to_numpy(),
                    "weight": np.where(info["is_bonus"].astype(bool), 0.0, points.to_numpy() / base),
                    "is_bonus": info["is_bonus"].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
