"""How hard each scheme is to score well in, from its runnable rules.

* :func:`rule_summary` — one row per scored rule: type, points, whether it is
  all-or-nothing, whether it is quantitative, how it is verified.
* :func:`all_or_nothing_share` — share of a scheme's base points that a
  single failure loses entirely (two tiers, full and nothing; or a
  condition that costs every point).
* :func:`shortfall_losses` — points lost on quantitative items at a given
  shortfall (1, 2, 5 percentage points below target).  Rules written as a
  completion ratio are read at ``target_pct`` (the completion of a rate
  target of 95% missed by 2 points is 93/95).
* :func:`veto_scope` — what each veto covers and what it does.
* :func:`verification_shares` — share of points verified only by reports and
  files, by on-site checks, or by data.
* :func:`simulate` — a city at one attainment level scored under every
  scheme, and the curve as attainment falls.

Losses and the simulated city run every rule at every attainment at once
through :func:`qcompare.rules.points_kept_table` (:func:`points_at_levels`);
:func:`points_at_level` is the one-rule form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qcompare.rules import points_kept, points_kept_table
from qcompare.tables import records

__all__ = [
    "all_or_nothing_share",
    "attainment_profile",
    "points_at_level",
    "points_at_levels",
    "rule_summary",
    "shortfall_losses",
    "simulate",
    "verification_class",
    "verification_shares",
    "veto_scope",
]

_ON_SITE = re.compile(r"现场|随机抽查|群众走访|抽查")
_DATA = re.compile(r"数据|测评")
_FILES = re.compile(r"汇报|文件|资料|报告|记录|影像|纪要")


def verification_class(text: str | None) -> str:
    """``on_site``, ``data``, ``reports_files`` or ``unstated``.

    >>> [verification_class(t) for t in ("听取汇报查阅文件", "查阅文件现场检查", "调取权威机构数据", None)]
    ['reports_files', 'on_site', 'data', 'unstated']
    """
    if not isinstance(text, str) or not text:
        return "unstated"
    if _ON_SITE.search(text):
        return "on_site"
    if _DATA.search(text):
        return "data"
    if _FILES.search(text):
        return "reports_files"
    return "unstated"


def _is_all_or_nothing(machine: Mapping[str, Any]) -> bool:
    if machine["type"] == "all_or_nothing":
        return True
    tiers: list[float] = machine.get("tiers") or []
    return len(tiers) == 2 and tiers[-1] == 0


def rule_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per rule of a scored node (bonus and veto rules included)."""
    nodes = tables["nodes"].set_index("node_id")
    rows = []
    for rule in records(tables["rules"]):
        machine = json.loads(rule["machine"])
        node = nodes.loc[rule["node_id"]]
        verification = node["verification"]
        if not isinstance(verification, str) and re.match(r"查看相关文件和资料", rule["rule_text"]):
            verification = "查看相关文件和资料"
        rows.append(
            {
                "scheme_id": rule["scheme_id"],
                "node_id": rule["node_id"],
                "rule_type": machine["type"],
                "points": 0.0 if pd.isna(node["points"]) else float(node["points"]),
                "is_bonus": bool(node["is_bonus"]),
                "is_veto": bool(node["is_veto"]),
                "all_or_nothing": _is_all_or_nothing(machine),
                "quantitative": any(k in machine for k in ("bands", "linear", "rank")),
                "verification": verification_class(verification),
                "machine": machine,
            }
        )
    return pd.DataFrame(rows)


def _base(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[~summary["is_bonus"] & ~summary["is_veto"]]


def all_or_nothing_share(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scheme: base points under rules, and the share that is all-or-nothing."""
    base = _base(rule_summary(tables))
    base = base.assign(all_or_nothing_points=base["points"].where(base["all_or_nothing"], 0.0))
    grouped = base.groupby("scheme_id")
    out = pd.DataFrame(
        {
            "points_with_rules": grouped["points"].sum(),
            "all_or_nothing_points": grouped["all_or_nothing_points"].sum(),
        }
    )
    out["all_or_nothing_share"] = out["all_or_nothing_points"] / out["points_with_rules"]
    return out


def shortfall_losses(
    tables: Mapping[str, pd.DataFrame], shortfalls: Iterable[float] = (1, 2, 5), target_pct: float = 95.0
) -> pd.DataFrame:
    """Points lost on every quantitative rule at each shortfall, per rule."""
    base = _base(rule_summary(tables))
    quantitative = base[base["quantitative"]]
    shortfalls = list(shortfalls)
    if quantitative.empty:
        return pd.DataFrame([])
    attainment = {
        "shortfall_pp": shortfalls,
        "completion": [(target_pct - s) / target_pct for s in shortfalls],
    }
    kept = points_kept_table(quantitative["machine"].tolist(), attainment).to_numpy()
    points = quantitative["points"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "scheme_id": quantitative["scheme_id"].tolist(),
            "node_id": quantitative["node_id"].tolist(),
            "points": points,
        }
    )
    for j, s in enumerate(shortfalls):
        out[f"lost_at_{s:g}pp"] = points - kept[:, j]
    return out


def veto_scope(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every veto: its scheme, trigger and effect."""
    summary = rule_summary(tables)
    vetoes = summary[summary["rule_type"] == "veto"]
    rules = tables["rules"].set_index("node_id")["rule_text"]
    rows = []
    for row in records(vetoes):
        text = str(rules[row["node_id"]])
        effect = "D级 (lowest grade)" if "D级" in text else ("未完成 (not completed)" if "未完成" in text else "")
        rows.append(
            {
                "scheme_id": row["scheme_id"],
                "node_id": row["node_id"],
                "trigger": text.split("\n")[0][:60],
                "effect": effect,
                "scope": "the whole assessment result",
            }
        )
    return pd.DataFrame(rows)


def verification_shares(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scheme: share of base points by how they are verified."""
    base = _base(rule_summary(tables))
    table = base.pivot_table(index="scheme_id", columns="verification", values="points", aggfunc="sum", fill_value=0.0)
    return table.div(table.sum(axis=1), axis=0)


def attainment_profile(level: float, shortfall_at_zero: float = 20.0, rank_at_zero: float = 30.0) -> dict[str, Any]:
    """The attainment fields for one overall level (1 = everything attained,
    0 = nothing): requirements met ``level``; shortfall below target
    ``(1 − level) × shortfall_at_zero`` points; completion ``level``; rank
    ``1 + (1 − level) × rank_at_zero``; incidents ``round(3 × (1 − level))``.
    Tiers are handled in :func:`points_at_level`.

    >>> attainment_profile(1.0)["shortfall_pp"], attainment_profile(0.5)["rank"]
    (0.0, 16.0)
    """
    gap = 1.0 - level
    return {
        "met": level,
        "shortfall_pp": gap * shortfall_at_zero,
        "completion": level,
        "rank": 1.0 + gap * rank_at_zero,
        "incidents": round(3 * gap),
        "failed_deductions": gap,
    }


def points_at_level(
    machine: Mapping[str, Any], level: float, shortfall_at_zero: float = 20.0, rank_at_zero: float = 30.0
) -> float:
    """The points a rule keeps at one overall attainment level: the fields of
    :func:`attainment_profile`, and for tiered rules the tier nearest the
    level (level 1 → best tier, 0 → last).

    >>> points_at_level({"type": "tiered", "max": 20, "tiers": [20, 10, 0]}, 0.5)
    10.0
    """
    attainment = attainment_profile(level, shortfall_at_zero, rank_at_zero)
    if "tiers" in machine:
        attainment["tier"] = round((1 - level) * (len(machine["tiers"]) - 1))
    return points_kept(machine, attainment)


def points_at_levels(
    machines: Sequence[Mapping[str, Any] | str],
    levels: Iterable[float],
    shortfall_at_zero: float = 20.0,
    rank_at_zero: float = 30.0,
) -> np.ndarray:
    """:func:`points_at_level` for many rules (rows) at many levels (columns)
    at once, through :func:`qcompare.rules.points_kept_table`; the same numbers.

    >>> tiered = {"type": "tiered", "max": 20, "tiers": [20, 10, 0]}
    >>> judged = {"type": "judgment", "max": 4}
    >>> points_at_levels([tiered, judged], [1.0, 0.5, 0.0]).tolist()
    [[20.0, 10.0, 0.0], [4.0, 2.0, 0.0]]
    """
    levels = [float(level) for level in levels]
    rules = [json.loads(m) if isinstance(m, str) else m for m in machines]
    if not levels:
        return np.zeros((len(rules), 0))
    profiles = [attainment_profile(level, shortfall_at_zero, rank_at_zero) for level in levels]
    attainment: dict[str, Any] = {key: [p[key] for p in profiles] for key in profiles[0]}
    gap = 1 - np.array(levels)
    steps = np.array([len(r["tiers"]) - 1 if "tiers" in r else 0 for r in rules], dtype=float)
    attainment["tier"] = np.rint(steps[:, None] * gap[None, :])  # round() per rule and level, half to even
    return points_kept_table(rules, attainment).to_numpy()


def simulate(
    tables: Mapping[str, pd.DataFrame],
    levels: Iterable[float] = tuple(np.linspace(1.0, 0.0, 21)),
    shortfall_at_zero: float = 20.0,
    rank_at_zero: float = 30.0,
) -> pd.DataFrame:
    """Score a city at each attainment level under every scored scheme.

    Returns one row per scheme and level with the score as a share of the
    scheme's base points (bonus and veto left out).  Tiered rules reach the
    tier nearest the level (level 1 → best tier, 0 → last).  Every rule is
    run at every level at once (:func:`points_at_levels`); each scheme's
    points are then added rule by rule in table order with Python's ``sum``,
    as one rule at a time would.
    """
    base = _base(rule_summary(tables))
    levels = [float(level) for level in levels]
    kept = points_at_levels(base["machine"].tolist(), levels, shortfall_at_zero, rank_at_zero)
    schemes = []
    for scheme_id, positions in sorted(base.groupby("scheme_id", sort=True).indices.items()):
        total = base["points"].iloc[positions].sum()
        sums = [sum(column) for column in kept[positions].T.tolist()]
        schemes.append((scheme_id, total, sums))
    rows = [
        {"scheme_id": scheme_id, "level": round(level, 4), "score_share": sums[j] / total}
        for j, level in enumerate(levels)
        for scheme_id, total, sums in schemes
    ]
    return pd.DataFrame(rows)
