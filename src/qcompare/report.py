"""Tables the notebooks show, and the pipeline that executes the notebooks.

The notebooks stay thin: they load the normalized tables, call the
functions here, and explain the result.  :func:`run_notebooks` executes
every notebook with papermill into ``reports/`` (an executed ``.ipynb``
and an HTML page each), printing one progress line per notebook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from qcompare.paths import notebooks_dir, reports_dir

__all__ = ["FINDING_KINDS", "level_counts", "quality_findings", "run_notebooks", "scheme_overview"]

#: The data-quality findings a reader checks against the source.
FINDING_KINDS = (
    "total_mismatch",
    "bonus_in_total",
    "recovered_cell",
    "lost_cell",
    "missing_numbering",
    "duplicate_title",
    "filled_down",
    "merged_cells",
)


def level_counts(nodes: pd.DataFrame) -> pd.DataFrame:
    """Number of nodes per scheme and level, levels as columns.

    >>> nodes = pd.DataFrame({"scheme_id": ["a", "a", "a"], "level": [1, 2, 2]})
    >>> level_counts(nodes).to_dict("index")
    {'a': {1: 1, 2: 2}}
    """
    table = nodes.groupby(["scheme_id", "level"]).size().unstack(fill_value=0)
    table.columns.name = None
    table.index.name = None
    return table.sort_index()


def scheme_overview(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per scheme: what it is, how deep, how many points, who is named."""
    schemes = tables["schemes"].set_index("scheme_id")
    nodes = tables["nodes"]
    assignments = tables["assignments"]
    counts = level_counts(nodes)
    named = assignments[assignments["role"] != "collective"]
    rows: list[dict[str, Any]] = []
    for key, scheme in schemes.sort_index().iterrows():
        scheme_id = str(key)
        per_level = [int(v) for v in counts.loc[scheme_id].to_numpy()] if scheme_id in counts.index else []
        levels = [str(v) for v in per_level if v > 0]
        mine = named[named["scheme_id"] == scheme_id]
        rows.append(
            {
                "scheme": scheme_id,
                "city": scheme["city"] + ("" if pd.isna(scheme["district"]) else scheme["district"]),
                "year": "" if pd.isna(scheme["year"]) else str(scheme["year"]),
                "kind": scheme["kind"],
                "assessee": scheme["assessee"],
                "department_role": "" if pd.isna(scheme["department_role"]) else scheme["department_role"],
                "levels": scheme["level_labels"] if isinstance(scheme["level_labels"], str) else "",
                "nodes per level": " / ".join(levels),
                "nodes": sum(per_level),
                "points": "" if pd.isna(scheme["total_points"]) else f"{scheme['total_points']:g}",
                "bonus cap": "" if pd.isna(scheme["bonus_cap"]) else f"{scheme['bonus_cap']:g}",
                "veto": "yes" if scheme["has_veto"] else "no",
                "department mentions": len(mine),
                "distinct names": mine["department_raw"].nunique(),
            }
        )
    return pd.DataFrame(rows).set_index("scheme")


def quality_findings(tables: Mapping[str, pd.DataFrame], kinds: tuple[str, ...] = FINDING_KINDS) -> pd.DataFrame:
    """The data issues a reader should check against the source, in source order."""
    issues = tables["data_issues"]
    chosen = issues[issues["kind"].isin(kinds)].copy()
    chosen["_line"] = chosen["raw_ref"].str.extract(r":L(\d+)")[0].astype(int)
    chosen["_kind"] = chosen["kind"].map({k: i for i, k in enumerate(kinds)})
    chosen = chosen.sort_values(["scheme_id", "_kind", "_line", "message"], kind="stable")
    return chosen[["scheme_id", "node_id", "kind", "message", "raw_ref"]].reset_index(drop=True)


Progress = Callable[[str], None]


def run_notebooks(
    source: Path | None = None,
    target: Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    progress: Progress | None = print,
    kernel_name: str = "python3",
) -> list[Path]:
    """Execute every notebook of ``source`` into ``target`` (ipynb + HTML)."""
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    source = source or notebooks_dir()
    target = target or reports_dir()
    target.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks in {source}")
    exporter = HTMLExporter()
    written: list[Path] = []
    for index, notebook in enumerate(notebooks, start=1):
        started = time.perf_counter()
        if progress:
            progress(f"[{index}/{len(notebooks)}] executing {notebook.name} ...")
        executed = target / notebook.name
        pm.execute_notebook(
            str(notebook),
            str(executed),
            parameters=dict(parameters or {}),
            kernel_name=kernel_name,
            progress_bar=False,
            cwd=str(source),
        )
        html, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
        page = executed.with_suffix(".html")
        page.write_text(html, encoding="utf-8")
        written.extend([executed, page])
        if progress:
            progress(
                f"[{index}/{len(notebooks)}] {notebook.name} done in {time.perf_counter() - started:.1f} s -> {page}"
            )
    return written
