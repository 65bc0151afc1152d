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

import pandas as pd

__all__ = ["effective_points", "leaves"]


def leaves(nodes: pd.DataFrame) -> pd.Series:
    """True for nodes that have no children."""
    parents = set(nodes["parent_id"].dropna())
    return ~nodes["node_id"].isin(parents)


def effective_points(nodes: pd.DataFrame) -> pd.Series:
    """Points per leaf (indexed by node_id), by the equal-split rule above."""
    parent = dict(zip(nodes["node_id"], nodes["parent_id"], strict=True))
    points = dict(zip(nodes["node_id"], nodes["points"], strict=True))
    leaf_ids = nodes.loc[leaves(nodes), "node_id"].tolist()

    def scored_ancestor(node_id: str) -> str | None:
        current: str | None = node_id
        while current is not None:
            if not pd.isna(points[current]):
                return current
            above = parent[current]
            current = above if isinstance(above, str) else None
        return None

    owner = {leaf: scored_ancestor(leaf) for leaf in leaf_ids}
    counts: dict[str, int] = {}
    for anchor in owner.values():
        if anchor is not None:
            counts[anchor] = counts.get(anchor, 0) + 1
    values = {
        leaf: (float(points[anchor]) / counts[anchor] if anchor is not None else float("nan"))
        for leaf, anchor in owner.items()
    }
    return pd.Series(values, dtype=float, name="effective_points")
