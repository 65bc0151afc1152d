"""Quantitative targets, one metric name across schemes.

Targets appear in three places: Quzhou's target list (目标值 cells), the
goal texts of Xinbei's plan and task table, and thresholds inside scoring
rules (``达到94%以上``, ``前10名``).  :func:`extract_thresholds` finds every
number with a comparator in a text and names its metric from the curated
patterns of ``data/reference/metrics.csv`` (the nearest metric phrase before
the number); :func:`normalize_targets` adds them to the targets table (the
build does this), :func:`metric_thresholds` reads them back, and
:func:`threshold_table` lays the same metric's threshold side by side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from qcompare.paths import project_root
from qcompare.tables import records
from qcompare.text import clean_text

__all__ = [
    "extract_thresholds",
    "load_metrics",
    "metric_thresholds",
    "name_metric",
    "normalize_targets",
    "threshold_table",
]

_VALUE = re.compile(
    r"(?P<pre>≥|≤|不低于|不超过|不少于|大于|低于|达到|达|为|前)?\s*(?P<num>\d+(?:\.\d+)?)\s*"
    r"(?P<unit>%|‰|个|家|只|件|次|批次|张|名)?(?P<post>以上|以下|以内)?"
)


def load_metrics(path: Path | None = None) -> pd.DataFrame:
    """metric_id, name_zh, pattern (a regular expression over normalized text)."""
    return pd.read_csv(path or project_root() / "data" / "reference" / "metrics.csv", dtype=str)


def name_metric(text: str, metrics: pd.DataFrame) -> str | None:
    """The metric a phrase names: the pattern matching nearest its end.

    >>> m = pd.DataFrame({"metric_id": ["food", "agri"], "pattern": ["食品.*合格率", "农产品.*合格率"]})
    >>> name_metric("地产农产品抽检合格率", m)
    'agri'
    """
    best: tuple[int, str] | None = None
    for metric_id, pattern in zip(metrics["metric_id"], metrics["pattern"], strict=True):
        for match in re.finditer(pattern, text):
            if best is None or match.end() > best[0]:
                best = (match.end(), metric_id)
    return best[1] if best else None


def _comparator(pre: str | None, post: str | None, unit: str | None) -> str:
    if pre == "前" or unit == "名":
        return "top_n"
    if pre in ("≥", "不低于", "不少于", "大于") or post == "以上" or pre in ("达到", "达"):
        return "≥"
    if pre in ("≤", "不超过") or post in ("以下", "以内"):
        return "≤"
    if pre == "低于":
        return "<"
    return "="


def extract_thresholds(text: str, metrics: pd.DataFrame) -> list[dict[str, Any]]:
    """Every metric threshold in a text.

    >>> m = load_metrics()
    >>> [(t["metric"], t["comparator"], t["value"], t["unit"]) for t in extract_thresholds(
    ...     "工业产品生产许可证产品抽检平均合格率≥92%,食品实物抽检平均合格率≥90%", m)]
    [('manufacturing_spot_check_pass_rate', '≥', 92.0, '%'), ('food_spot_check_pass_rate', '≥', 90.0, '%')]
    """
    cleaned = clean_text(text).replace("\n", "")
    out = []
    start = 0
    for match in _VALUE.finditer(cleaned):
        if not (match["unit"] or match["pre"] in ("≥", "≤", "前")):
            continue
        window = cleaned[start : match.start()]
        window = re.split(r"[;,;。]", window)[-1] if re.search(r"[;,;。]", window) else window
        metric = name_metric(window, metrics)
        start = match.end()
        if metric is None:
            continue
        out.append(
            {
                "metric": metric,
                "comparator": _comparator(match["pre"], match["post"], match["unit"]),
                "value": float(match["num"]),
                "unit": match["unit"] if match["unit"] not in ("名",) else None,
                "raw": cleaned[max(0, match.start() - 20) : match.end() + 2],
            }
        )
    return out


def normalize_targets(tables: Mapping[str, pd.DataFrame], metrics: pd.DataFrame | None = None) -> pd.DataFrame:
    """The targets table with metric names and every threshold found.

    Quzhou's 目标值 rows get their metric; every goal text keeps its raw row
    and gains one row per threshold it states; every scoring rule gains one
    row per threshold it states.  ``source`` says which.
    """
    metrics = load_metrics() if metrics is None else metrics
    nodes = tables["nodes"].set_index("node_id")
    rows: list[dict[str, Any]] = []
    for target in records(tables["targets"]):
        text = nodes.at[target["node_id"], "text"]
        phrase = text if isinstance(text, str) else ""
        if target["value"] is not None and not pd.isna(target["value"]):
            rows.append({**target, "metric": name_metric(phrase, metrics), "source": "target list"})
            continue
        rows.append({**target, "source": "goal text"})
        for found in extract_thresholds(str(target["raw"]), metrics):
            rows.append({**target, **found, "source": "goal text"})
    for rule in records(tables["rules"]):
        for found in extract_thresholds(str(rule["rule_text"]), metrics):
            rows.append(
                {
                    "scheme_id": rule["scheme_id"],
                    "node_id": rule["node_id"],
                    "raw_ref": rule["raw_ref"],
                    **found,
                    "source": "scoring rule",
                }
            )
    frame = pd.DataFrame(rows)
    frame = frame.drop_duplicates(["scheme_id", "node_id", "metric", "comparator", "value", "raw"])
    frame["position"] = frame.groupby("scheme_id").cumcount() + 1
    return frame


def metric_thresholds(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The targets that carry a metric name (one threshold per row)."""
    found = tables["targets"].dropna(subset=["metric", "value"])
    columns = ["scheme_id", "node_id", "metric", "comparator", "value", "unit", "raw", "source"]
    return found[columns].reset_index(drop=True)


def threshold_table(thresholds: pd.DataFrame, min_schemes: int = 2) -> pd.DataFrame:
    """Metric × scheme: the thresholds each scheme sets (``≥94%``), for the
    metrics that at least ``min_schemes`` schemes set."""
    shown = thresholds.assign(
        threshold=[
            f"前{v:g}" if c == "top_n" else f"{c}{v:g}{u if isinstance(u, str) else ''}"
            for c, v, u in zip(thresholds["comparator"], thresholds["value"], thresholds["unit"], strict=True)
        ]
    )
    table = shown.groupby(["metric", "scheme_id"])["threshold"].agg(lambda s: " / ".join(dict.fromkeys(s)))
    wide = table.unstack(fill_value="")
    keep = (wide != "").sum(axis=1) >= min_schemes
    return wide[keep].sort_index()
