"""Figures with Chinese labels that render on any machine.

Matplotlib's default font has no Chinese glyphs: labels would print as
empty boxes.  The project depends on ``mplfonts``, a PyPI package that
ships Noto Sans CJK SC, so the font arrives with ``pip install`` and no
system package is needed.  :func:`use_cjk_font` registers it and makes it
the default; :func:`missing_glyphs` tells which characters of a text the
font cannot draw (the tests use it to fail rather than print boxes).

>>> name = use_cjk_font()
>>> name
'Noto Sans CJK SC'
>>> missing_glyphs("质量强市示范城市")
[]
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

__all__ = [
    "cjk_font_path",
    "fit_label",
    "missing_glyphs",
    "plot_co_assignment",
    "plot_heatmap",
    "plot_hierarchies",
    "plot_hierarchy",
    "plot_load_bars",
    "plot_lorenz",
    "plot_score_curves",
    "plot_share_comparison",
    "plot_stacked_shares",
    "plot_upset",
    "use_cjk_font",
]

_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_LABEL_POINTS = 7


def cjk_font_path() -> Path:
    """The Noto Sans CJK SC font file shipped by ``mplfonts``."""
    path = Path(str(resources.files("mplfonts") / "fonts" / _FONT_FILE))
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; reinstall the project ('make install') to get mplfonts")
    return path


@cache
def use_cjk_font() -> str:
    """Register Noto Sans CJK SC and make it matplotlib's default font."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["svg.hashsalt"] = "qcompare"
    return name


def missing_glyphs(text: str, font_path: Path | None = None) -> list[str]:
    """The distinct characters of ``text`` that the CJK font cannot draw."""
    font = FT2Font(str(font_path or cjk_font_path()))
    return sorted({ch for ch in text if not ch.isspace() and font.get_char_index(ord(ch)) == 0})


def fit_label(text: str, room: int) -> str:
    """Cut ``text`` to ``room`` characters, ending with … when cut.

    Chinese has no spaces to break at, so this counts characters.

    >>> fit_label("质量宏观管理", 4), fit_label("质量", 4), fit_label("质量宏观管理", 0)
    ('质量宏…', '质量', '')
    """
    if room <= 0:
        return ""
    return text if len(text) <= room else text[: room - 1] + "…"


def _leaf_spans(nodes: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """For each node, the range of leaf positions below it (document order)."""
    children: dict[str, list[str]] = {}
    for node_id, parent in zip(nodes["node_id"], nodes["parent_id"], strict=True):
        if isinstance(parent, str):
            children.setdefault(parent, []).append(node_id)
    spans: dict[str, tuple[int, int]] = {}
    counter = 0

    def visit(node_id: str) -> tuple[int, int]:
        nonlocal counter
        kids = children.get(node_id, [])
        if not kids:
            spans[node_id] = (counter, counter + 1)
            counter += 1
            return spans[node_id]
        ranges = [visit(k) for k in kids]
        spans[node_id] = (ranges[0][0], ranges[-1][1])
        return spans[node_id]

    for node_id in nodes.loc[nodes["parent_id"].isna(), "node_id"]:
        visit(node_id)
    return spans


def plot_hierarchy(nodes: pd.DataFrame, scheme_id: str, ax: Axes, label_levels: int = 2) -> Axes:
    """Draw one scheme's hierarchy as an icicle chart.

    Each row of boxes is a level (level 1 at the top); each box spans the
    leaves below it, in document order, so a wide box is a part of the
    scheme with many items.  Boxes of the first ``label_levels`` levels are
    labelled with their code and title; points are printed where declared.
    """
    use_cjk_font()
    frame = nodes[nodes["scheme_id"] == scheme_id].sort_values("position")
    spans = _leaf_spans(frame)
    depth = int(frame["level"].max())
    palette = plt.get_cmap("tab20")
    top_index = {node_id: i for i, node_id in enumerate(frame.loc[frame["level"] == 1, "node_id"])}
    top_of: dict[str, str] = {}
    for node_id, parent in zip(frame["node_id"], frame["parent_id"], strict=True):
        top_of[node_id] = top_of.get(parent, node_id) if isinstance(parent, str) else node_id
    n_leaves = max(end for _, end in spans.values())
    figure = ax.get_figure()
    figure_inches = figure.get_figwidth() if isinstance(figure, Figure) else 12.0
    axis_inches = figure_inches * ax.get_position().width
    chars_per_leaf = axis_inches * 72 / _LABEL_POINTS / n_leaves
    records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    for row in records:
        start, end = spans[row["node_id"]]
        colour = palette(top_index[top_of[row["node_id"]]] % 20)
        ax.barh(
            y=depth - row["level"],
            width=end - start,
            left=start,
            height=0.9,
            color=colour,
            edgecolor="white",
            linewidth=0.5,
            alpha=1.0 - 0.15 * (row["level"] - 1),
        )
        if row["level"] > label_levels:
            continue
        room = int((end - start) * chars_per_leaf) - 1
        title = row["title"] if isinstance(row["title"], str) else "(标题缺失)"
        code = row["code"] if isinstance(row["code"], str) else ""
        points = "" if pd.isna(row["points"]) else f" {row['points']:g}分"
        label = fit_label(f"{code} {title}".strip(), room - len(points)) + points
        if room >= 2 and len(label) <= room + 1:
            ax.text((start + end) / 2, depth - row["level"], label, ha="center", va="center", fontsize=_LABEL_POINTS)
    labels = frame.groupby("level")["level_label"].first()
    ax.set_yticks([depth - level for level in labels.index], [f"{lv} {lab}" for lv, lab in labels.items()])
    ax.set_xlim(0, max(end for _, end in spans.values()))
    ax.set_xlabel("叶节点（按原文顺序）")
    ax.set_title(scheme_id)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def plot_hierarchies(nodes: pd.DataFrame, scheme_ids: list[str], width: float = 12.0) -> Figure:
    """One icicle chart per scheme, stacked."""
    use_cjk_font()
    fig, axes = plt.subplots(len(scheme_ids), 1, figsize=(width, 2.2 * len(scheme_ids)), squeeze=False)
    for ax, scheme_id in zip(axes[:, 0], scheme_ids, strict=True):
        plot_hierarchy(nodes, scheme_id, ax)
    fig.tight_layout()
    return fig


# --- responsibility figures ------------------------------------------------


def plot_co_assignment(
    tables: Mapping[str, pd.DataFrame],
    department_role: str,
    ax: Axes,
    label_top: int = 60,
) -> Axes:
    """Departments linked when named on the same node, for one kind of scheme.

    Departments sit on a circle grouped by family (market regulation
    together, construction together …), so labels never overlap; circle
    area follows task load summed over the schemes of that
    ``department_role``; line width and darkness follow the number of shared
    nodes.  The ``label_top`` heaviest departments are labelled.
    """
    import math

    import networkx as nx

    from qcompare.graph import co_assignment_graph, responsibility_graph

    use_cjk_font()
    roles = tables["schemes"].set_index("scheme_id")["department_role"]
    keep = set(roles[roles == department_role].index)
    subset = dict(tables)
    subset["assignments"] = tables["assignments"][tables["assignments"]["scheme_id"].isin(keep)]
    G = responsibility_graph(subset)
    P = co_assignment_graph(G)
    load = nx.get_node_attributes(G, "task_load")
    names = nx.get_node_attributes(G, "name_zh")
    family = nx.get_node_attributes(G, "family")
    order = sorted(P.nodes, key=lambda n: (family[n], -load[n], n))
    angle = {n: 2 * math.pi * i / len(order) for i, n in enumerate(order)}
    pos = {n: (math.cos(a), math.sin(a)) for n, a in angle.items()}
    heaviest = max((d["weight"] for _, _, d in P.edges(data=True)), default=1)
    for u, v, d in sorted(P.edges(data=True), key=lambda e: e[2]["weight"]):
        strength = d["weight"] / heaviest
        ax.plot(
            [pos[u][0], pos[v][0]],
            [pos[u][1], pos[v][1]],
            color="#34495e",
            alpha=0.05 + 0.6 * strength,
            linewidth=0.3 + 3 * strength,
            zorder=1,
        )
    ax.scatter(
        [pos[n][0] for n in order],
        [pos[n][1] for n in order],
        s=[20 + 40 * load[n] for n in order],
        color=["#d95f02" if family[n] == "market_regulation" else "#1b9e77" for n in order],
        alpha=0.85,
        zorder=2,
        linewidths=0,
    )
    labelled = set(sorted(order, key=lambda n: (-load[n], n))[:label_top])
    for n in order:
        if n not in labelled:
            continue
        a = angle[n]
        degrees = math.degrees(a)
        flip = 90 < degrees < 270
        ax.text(
            1.08 * math.cos(a),
            1.08 * math.sin(a),
            names[n],
            rotation=degrees + 180 if flip else degrees,
            rotation_mode="anchor",
            ha="right" if flip else "left",
            va="center",
            fontsize=7,
        )
    ax.set_title(f"{department_role} schemes: {len(order)} departments, {P.number_of_edges()} links")
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def plot_load_bars(load: pd.DataFrame, scheme_ids: list[str], measure: str = "share_of_tasks", top: int = 10) -> Figure:
    """Horizontal bars of the ``top`` departments' share of load, one panel per scheme."""
    use_cjk_font()
    fig, axes = plt.subplots(1, len(scheme_ids), figsize=(3.2 * len(scheme_ids), 4.2), squeeze=False)
    for ax, scheme_id in zip(axes[0], scheme_ids, strict=True):
        rows = load[(load["scheme_id"] == scheme_id)].dropna(subset=[measure])
        rows = rows.sort_values([measure, "name_zh"], ascending=[False, True]).head(top).iloc[::-1]
        colours = ["#d95f02" if "质量技术监督" in n else "#7f8c8d" for n in rows["name_zh"]]
        ax.barh(rows["name_zh"], rows[measure], color=colours)
        ax.set_title(scheme_id, fontsize=10)
        ax.set_xlabel(measure)
        ax.tick_params(axis="y", labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def plot_lorenz(load: pd.DataFrame, scheme_ids: list[str], ax: Axes, measure: str = "task_load") -> Axes:
    """Lorenz curves of load among named departments, one line per scheme."""
    from qcompare.graph import COLLECTIVE, gini, lorenz_curve

    use_cjk_font()
    key = "department_id" if "department_id" in load.columns else "successor_id"
    for scheme_id in scheme_ids:
        values = load[(load["scheme_id"] == scheme_id) & (load[key] != COLLECTIVE)][measure].dropna()
        values = values[values > 0]
        if values.empty:
            continue
        x, y = lorenz_curve(values)
        ax.plot(x, y, label=f"{scheme_id} (Gini {gini(values):.2f})")
    ax.plot([0, 1], [0, 1], color="black", linewidth=0.8, linestyle="--", label="equal load")
    ax.set_xlabel("累计部门占比 (share of departments, lightest first)")
    ax.set_ylabel("累计负荷占比 (share of load)")
    ax.legend(fontsize=8, loc="upper left")
    return ax


def plot_share_comparison(shares: pd.DataFrame, ax: Axes) -> Axes:
    """Grouped bars: one group per scheme, one bar per column of ``shares``."""
    use_cjk_font()
    shares.plot.bar(ax=ax, rot=0, width=0.8)
    ax.set_ylabel("share of the scheme's load")
    ax.set_ylim(0, 1)
    for container in ax.containers:
        if isinstance(container, BarContainer):
            ax.bar_label(container, fmt="%.2f", fontsize=7)
    ax.legend(fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


# --- coverage figures --------------------------------------------------------


def plot_heatmap(matrix: pd.DataFrame, ax: Axes, fmt: str = "d", title: str = "", cmap: str = "Blues") -> Axes:
    """A labelled heatmap (seaborn) of a scheme × category table."""
    import seaborn as sns

    use_cjk_font()
    sns.heatmap(matrix, annot=True, fmt=fmt, cmap=cmap, cbar=False, linewidths=0.5, ax=ax, annot_kws={"fontsize": 8})
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    ax.tick_params(axis="y", rotation=0, labelsize=8)
    return ax


def plot_upset(membership: pd.DataFrame, top: int = 15) -> Figure:
    """UpSet-style figure: how many concepts each combination of schemes shares.

    Bars count the concepts found in exactly that combination of schemes
    (the dots below each bar); the ``top`` most frequent combinations are shown.
    """
    use_cjk_font()
    present = membership > 0
    combos = present.apply(lambda row: tuple(row.index[row]), axis=1)
    counts = combos.value_counts()
    counts = counts.sort_values(ascending=False, kind="stable").head(top)
    schemes = list(membership.columns)
    fig, (bars, dots) = plt.subplots(
        2, 1, figsize=(max(8.0, 0.55 * len(counts) + 3), 6.5), gridspec_kw={"height_ratios": [2, 1.4]}, sharex=True
    )
    x = range(len(counts))
    bars.bar(x, counts.to_numpy(), color="#34495e")
    for xi, value in zip(x, counts.to_numpy(), strict=True):
        bars.text(xi, value, str(value), ha="center", va="bottom", fontsize=8)
    bars.set_ylabel("concepts")
    bars.spines[["top", "right"]].set_visible(False)
    for xi, combo in zip(x, counts.index, strict=True):
        ys = [schemes.index(s) for s in combo]
        dots.scatter([xi] * len(schemes), range(len(schemes)), color="#d0d3d4", s=30)
        dots.scatter([xi] * len(ys), ys, color="#34495e", s=40)
        if len(ys) > 1:
            dots.plot([xi, xi], [min(ys), max(ys)], color="#34495e", linewidth=1.5)
    dots.set_yticks(range(len(schemes)), schemes, fontsize=8)
    dots.set_xticks([])
    dots.invert_yaxis()
    dots.spines[["top", "right", "bottom"]].set_visible(False)
    fig.tight_layout()
    return fig


# --- weights and strictness figures -------------------------------------------


def plot_stacked_shares(shares: pd.DataFrame, ax: Axes, title: str = "") -> Axes:
    """Horizontal stacked bars: one bar per scheme (rows), one segment per
    category (columns), each segment labelled when it is wide enough."""
    use_cjk_font()
    palette = plt.get_cmap("tab20")
    left = np.zeros(len(shares))
    for k, column in enumerate(shares.columns):
        values = shares[column].fillna(0).to_numpy(dtype=float)
        ax.barh(shares.index, values, left=left, color=palette(k % 20), label=str(column), edgecolor="white")
        for y, (start, width) in enumerate(zip(left, values, strict=True)):
            if width >= 0.06:
                ax.text(start + width / 2, y, f"{width:.0%}", ha="center", va="center", fontsize=7)
        left += values
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=1, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_score_curves(simulation: pd.DataFrame, ax: Axes) -> Axes:
    """Score (share of base points) against attainment level, one line per scheme."""
    use_cjk_font()
    for scheme_id, group in simulation.groupby("scheme_id", sort=True):
        group = group.sort_values("level")
        ax.plot(group["level"], group["score_share"], marker="o", markersize=3, label=scheme_id)
    ax.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=0.8, label="score = attainment")
    ax.set_xlabel("attainment level (1 = everything attained)")
    ax.set_ylabel("score, share of base points")
    ax.set_xlim(1.02, -0.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
