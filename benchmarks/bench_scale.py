"""How the pipeline scales with the number of schemes (issue 8's baseline).

For each N, a fresh Python process generates N synthetic schemes
(:mod:`qcompare.synthetic`, seed 0), then times each stage on them and
records the process's peak resident memory after it:

``generate``  the synthetic corpus (text + import record per scheme)
``parse``     every document through the imported-scheme parser (and the five
              real documents, whose labels train the ontology model and the
              crosswalk matcher)
``tables``    records → typed tables, each validated against its schema
``departments``  department names resolved against the registry
``rules``     scoring texts parsed into runnable rules
``ontology``  every node labelled on the three facets
``crosswalk`` the supervised matcher over all unit pairs, and concepts;
              skipped (and said so) above ``--max-crosswalk-units``, where
              today's dense all-pairs features would not fit in memory
``graph``     department load and the responsibility graph

It prints one Markdown row per N and stage, and the crosswalk's F1 against
the generator's truth (two synthetic units from the same source node are a
true pair).  ``--plot FILE`` draws time against N on log-log axes.

    .venv/bin/python benchmarks/bench_scale.py --sizes 5 20 50 100 --plot docs/scale.png

These are measurements for the docs, not timed tests.  ``--smoke`` runs
N = 3 with every stage, quickly, to prove the script works (the test suite
runs it).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

STAGES = ["generate", "parse", "tables", "departments", "rules", "ontology", "crosswalk", "graph"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    out = set()
    for members in groups.values():
        for a, b in combinations(sorted(members), 2):
            if a.split(":")[0] != b.split(":")[0]:
                out.add((a, b))
    return out


def crosswalk_f1(crosswalk: Any, truth: Any) -> dict[str, float]:
    """Precision, recall and F1 of same-concept pairs against same-source pairs,
    over the crosswalk units the generator can trace."""
    units = crosswalk[crosswalk["node_id"] == crosswalk["unit_id"]]
    source = dict(zip(truth["node_id"], truth["source_node_id"], strict=True))
    traced = units[units["node_id"].isin(source)]
    predicted = _pairs(traced.groupby("concept_id")["node_id"].agg(list).to_dict())
    by_source: dict[str, list[str]] = {}
    for node_id in traced["node_id"]:
        by_source.setdefault(source[node_id], []).append(node_id)
    true = _pairs(by_source)
    hits = len(predicted & true)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": len(true)}


def run_one(n: int, max_crosswalk_units: int) -> list[dict[str, Any]]:
    """Every stage on N schemes, in this process."""
    import pandas as pd

    from qcompare.build import _typed_frame, parse_documents
    from qcompare.crosswalk import build_crosswalk, unit_nodes
    from qcompare.departments import resolve_assignments
    from qcompare.graph import department_load, responsibility_graph
    from qcompare.model import TABLES
    from qcompare.ontology import label_nodes, load_evaluation_set
    from qcompare.rules import parse_rules_table
    from qcompare.schema import SCHEMAS
    from qcompare.synthetic import generate_corpus, parse_corpus
    from qcompare.tables import load_tables, records_to_tables, typed_table

    rows: list[dict[str, Any]] = []
    state: dict[str, Any] = {"source": load_tables()}

    def stage(name: str, func: Callable[[], Any]) -> None:
        started = time.perf_counter()
        note = func() or ""
        rows.append(
            {"n": n, "stage": name, "seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "note": note}
        )

    def generate() -> str:
        state["corpus"] = generate_corpus(n, seed=0, tables=state["source"])
        return f"{sum(len(d.text.encode()) for d in state['corpus'].documents) / 1e3:.0f} kB of text"

    def parse() -> None:
        # the real documents come along: the matcher and the ontology model learn from their labels
        state["results"] = parse_corpus(state["corpus"])
        state["real"] = parse_documents()

    def tables() -> str:
        state["tables"] = records_to_tables(state["real"] + state["results"])
        for name in TABLES:  # the schema checks a build runs before writing
            SCHEMAS[name].validate(state["tables"][name], lazy=True)
        return f"{len(state['tables']['nodes'])} nodes, {len(state['tables']['assignments'])} assignments"

    def departments() -> None:
        state["tables"] = resolve_assignments(state["tables"])

    def rules() -> None:
        t = state["tables"]
        t["rules"], issues = parse_rules_table(t)
        if issues:
            t["data_issues"] = pd.concat([t["data_issues"], typed_table("data_issues", issues)], ignore_index=True)

    def ontology() -> None:
        labels = label_nodes(state["tables"], manual=load_evaluation_set())
        state["tables"]["categories"] = _typed_frame("categories", labels)

    def crosswalk() -> str:
        units = int(unit_nodes(state["tables"]["nodes"])["unit_id"].notna().sum())
        if units > max_crosswalk_units:
            return f"skipped: {units} units, about {units * units / 2 / 1e6:.0f} M pairs"
        walk, _ = build_crosswalk(state["tables"])
        state["tables"]["crosswalk"] = _typed_frame("crosswalk", walk)
        score = crosswalk_f1(walk, state["corpus"].truth(state["results"]))
        return f"{units} units; F1 {score['f1']:.3f} (P {score['precision']:.3f}, R {score['recall']:.3f})"

    def graph() -> str:
        load = department_load(state["tables"])
        G = responsibility_graph(state["tables"])
        return f"{len(load)} load rows, {G.number_of_edges()} edges"

    for name, func in zip(
        STAGES, [generate, parse, tables, departments, rules, ontology, crosswalk, graph], strict=True
    ):
        stage(name, func)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 20, 50, 100])
    parser.add_argument("--max-crosswalk-units", type=int, default=6000)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--smoke", action="store_true", help="N = 3, every stage; for the test suite")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.max_crosswalk_units), ensure_ascii=False))
        return
    sizes = [3] if args.smoke else args.sizes
    rows: list[dict[str, Any]] = []
    for n in sizes:
        print(f"N = {n} ...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--one", str(n), "--max-crosswalk-units", str(args.max_crosswalk_units)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.extend(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or platform.system()}\n")
    print("| N | stage | seconds | peak MB | note |")
    print("|---:|---|---:|---:|---|")
    for row in rows:
        print(f"| {row['n']} | {row['stage']} | {row['seconds']:.2f} | {row['peak_mb']:.0f} | {row['note']} |")
    if args.plot:
        _plot(rows, args.plot)


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for name in STAGES:
        points = [(r["n"], r["seconds"]) for r in rows if r["stage"] == name and not str(r["note"]).startswith("skip")]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="schemes (N)", ylabel="seconds", title="time per stage against N")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
