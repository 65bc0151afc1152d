"""How the pipeline scales with the number of schemes (issue 8).

For each N, a fresh Python process generates N synthetic schemes
(:mod:`qcompare.synthetic`, seed 0), then runs the build's own pipeline on
them together with the five real documents (whose labels train the ontology
model and the crosswalk matcher), and records each stage's wall time and
this process's peak resident memory after it (``ru_maxrss``, MiB).  Parsing
runs in worker processes above about 90 schemes (:mod:`qcompare.parallel`);
the ``parse`` row's note gives the largest worker's peak, taken as the
parse ends (``RUSAGE_CHILDREN``; a forked worker's figure also counts pages
it shares with this process).  The workers are gone before the later stages,
so the most memory in use at once is the larger of the process's final peak
and its peak at parse plus one worker's peak per core.

The stages:

``generate``     the synthetic corpus (text + import record per scheme); not
                 part of the pipeline a study runs, so not in the total
``parse``        every synthetic document through the imported-scheme parser,
                 and the five real ones through theirs
``tables`` … ``crosswalk``
                 :func:`qcompare.build.tables_from_results`, timed by its own
                 progress messages: typed tables, department resolution,
                 scoring rules and targets, ontology labels, the crosswalk
                 (every pair up to 3,000 units; blocked candidates above)
``write``        schema validation (once, ``validate_tables``), then the CSVs
                 (``write_tables``) and the Parquet files (``write_parquet``)
                 of the validated tables, into a temporary folder
``graph``        department load and the responsibility graph
``strictness``   every rule at 21 attainment levels for every scheme
                 (``simulate``) and losses at shortfalls

It prints one Markdown row per N and stage, a total per N, the crosswalk's
F1 against the generator's truth (two synthetic units from the same source
node are a true pair; ``lenient`` also ignores pairs of copies of two sources
the committed mappings already call the same criterion), and each stage's
exponent ``b`` in ``time ≈ a·N^b`` fitted over the sizes given.
``--plot FILE`` draws time against N on log-log axes.

    .venv/bin/python benchmarks/bench_scale.py --sizes 5 100 1000 3000 --plot docs/scale.png

These are measurements for the docs, not timed tests.  ``--smoke`` runs
N = 3 with the crosswalk forced onto its blocked path, quickly, to prove the
script and that path work (the test suite runs it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STAGES = [
    "generate",
    "parse",
    "tables",
    "departments",
    "rules",
    "ontology",
    "crosswalk",
    "write",
    "graph",
    "strictness",
]
#: The build's progress messages, by the stage they start.
_MESSAGES = {
    "collecting": "tables",
    "resolving": "departments",
    "parsing scoring": "rules",
    "labelling": "ontology",
    "matching": "crosswalk",
}


def _peak_mb() -> float:
    """This process's peak resident memory, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_peak_mb() -> float:
    """The largest peak resident memory of any child process waited for so far, MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_one(n: int, exact_limit: int | None) -> list[dict[str, Any]]:
    """Every stage on N schemes, in this process."""
    import pandas as pd

    from qcompare import crosswalk as crosswalk_module
    from qcompare.build import parse_documents, tables_from_results
    from qcompare.columnar import write_parquet
    from qcompare.crosswalk import unit_nodes
    from qcompare.graph import department_load, responsibility_graph
    from qcompare.schema import validate_tables
    from qcompare.strictness import shortfall_losses, simulate
    from qcompare.synthetic import generate_corpus, parse_corpus, score_crosswalk
    from qcompare.tables import load_tables, write_tables

    if exact_limit is not None:  # the build reads the module's default
        crosswalk_module.BLOCKING = crosswalk_module.Blocking(exact_limit=exact_limit)
    rows: list[dict[str, Any]] = []
    source = load_tables()
    clock = {"stage": "", "started": 0.0}

    def start(stage: str) -> None:
        now = time.perf_counter()
        if clock["stage"]:
            rows.append(
                {
                    "n": n,
                    "stage": clock["stage"],
                    "seconds": now - clock["started"],
                    "peak_mb": _peak_mb(),
                    "note": "",
                }
            )
        clock.update(stage=stage, started=now)

    def progress(message: str) -> None:
        for prefix, stage in _MESSAGES.items():
            if message.startswith(prefix):
                start(stage)

    def note(stage: str, text: str) -> None:
        next(r for r in rows if r["stage"] == stage)["note"] = text

    start("generate")
    corpus = generate_corpus(n, seed=0, tables=source)
    start("parse")
    results = parse_corpus(corpus)
    real = parse_documents()
    workers = _child_peak_mb()  # before anything else starts a child (scikit-learn's lscpu)
    tables = tables_from_results(real + results, progress)
    start("write")
    with tempfile.TemporaryDirectory() as folder:
        checked = validate_tables(tables)
        write_tables(checked, Path(folder) / "csv")
        write_parquet(checked, Path(folder) / "parquet")
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    start("graph")
    load = department_load(tables)
    G = responsibility_graph(tables)
    start("strictness")
    simulated = simulate(tables)
    shortfall_losses(tables)
    start("")

    units = int(unit_nodes(tables["nodes"])["is_unit"].sum())
    truth = corpus.truth(results)
    mappings = source["mappings"]
    equivalent = mappings[mappings["predicate_id"].isin(["skos:exactMatch", "skos:closeMatch"])]
    strict = score_crosswalk(tables["crosswalk"], truth)
    lenient = score_crosswalk(tables["crosswalk"], truth, equivalent)
    path = "blocked" if units > crosswalk_module.BLOCKING.exact_limit else "every pair"
    note("generate", f"{sum(len(d.text.encode()) for d in corpus.documents) / 1e3:.0f} kB of text")
    note("parse", f"largest worker's peak {workers:.0f} MB" if workers else "in this process")
    note("tables", f"{len(tables['nodes'])} nodes, {len(tables['assignments'])} assignments")
    note(
        "crosswalk",
        f"{units} units, {path}, {len(tables['mappings'])} mappings; F1 {strict['f1']:.3f} "
        f"(P {strict['precision']:.3f}, R {strict['recall']:.3f}), lenient {lenient['f1']:.3f} "
        f"(P {lenient['precision']:.3f})",
    )
    note("write", f"{size / 1e6:.1f} MB of CSV + Parquet")
    note("graph", f"{len(load)} load rows, {G.number_of_edges()} edges")
    note("strictness", f"{len(simulated)} scheme × level rows")
    rows.append(
        {
            "n": n,
            "stage": "total",
            "seconds": sum(r["seconds"] for r in rows if r["stage"] != "generate"),
            "peak_mb": _peak_mb(),
            "note": f"{len(pd.unique(tables['nodes']['scheme_id']))} schemes, parse to strictness",
        }
    )
    return rows


def exponents(rows: list[dict[str, Any]]) -> dict[str, list[tuple[int, int, float]]]:
    """Per stage, the local exponent ``b`` of ``time ∝ N^b`` between each pair
    of consecutive sizes (a fit over all sizes would mix fixed costs, which
    dominate small N, with growth).

    >>> exponents([{"n": 10, "stage": "x", "seconds": 1.0}, {"n": 100, "stage": "x", "seconds": 100.0}])
    {'x': [(10, 100, 2.0)]}
    """
    out: dict[str, list[tuple[int, int, float]]] = {}
    for stage in dict.fromkeys(r["stage"] for r in rows):
        points = sorted((r["n"], r["seconds"]) for r in rows if r["stage"] == stage and r["seconds"] > 0)
        out[stage] = [
            (n0, n1, round(math.log(t1 / t0) / math.log(n1 / n0), 2))
            for (n0, t0), (n1, t1) in itertools.pairwise(points)
        ]
    return {stage: slopes for stage, slopes in out.items() if slopes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 100, 1000, 3000])
    parser.add_argument("--exact-limit", type=int, help="units up to which the crosswalk scores every pair")
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--smoke", action="store_true", help="N = 3, blocked crosswalk; for the test suite")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.exact_limit), ensure_ascii=False))
        return
    sizes, exact_limit = ([3], 0) if args.smoke else (args.sizes, args.exact_limit)
    rows: list[dict[str, Any]] = []
    for n in sizes:
        print(f"N = {n} ...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--one", str(n)]
        if exact_limit is not None:
            command += ["--exact-limit", str(exact_limit)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"N = {n} failed:\n{done.stderr[-3000:]}")
        rows.extend(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or platform.system()}\n")
    print("| N | stage | seconds | peak MB | note |")
    print("|---:|---|---:|---:|---|")
    for row in rows:
        print(f"| {row['n']} | {row['stage']} | {row['seconds']:.2f} | {row['peak_mb']:.0f} | {row['note']} |")
    if len(sizes) > 1:
        print("\nlocal exponent b in time ∝ N^b between consecutive sizes (N·log N is about 1.1):\n")
        slopes = exponents(rows)
        spans = [f"{n0}→{n1}" for n0, n1, _ in next(iter(slopes.values()))]
        print("| stage | " + " | ".join(spans) + " |")
        print("|---|" + "---:|" * len(spans))
        for stage, values in slopes.items():
            print(f"| {stage} | " + " | ".join(f"{b:.2f}" for _, _, b in values) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.plot:
        _plot(rows, args.plot)


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    sizes = sorted({r["n"] for r in rows})
    for name in [*STAGES[1:], "total"]:
        points = [(r["n"], r["seconds"]) for r in rows if r["stage"] == name]
        if points:
            style = {"color": "black", "linewidth": 2.5} if name == "total" else {}
            ax.plot(*zip(*points, strict=True), marker="o", label=name, **style)
    total = {r["n"]: r["seconds"] for r in rows if r["stage"] == "total"}
    if len(sizes) > 1 and sizes[-1] in total:  # reference slopes through the largest total
        n0, t0 = sizes[-1], total[sizes[-1]]
        grid = [sizes[0], n0]
        ax.plot(grid, [t0 * n / n0 for n in grid], ":", color="grey", label="∝ N")
        ax.plot(grid, [t0 * n * math.log(n) / (n0 * math.log(n0)) for n in grid], "--", color="grey", label="∝ N·log N")
    ax.axhline(60, color="red", linewidth=0.8)
    ax.text(sizes[0], 62, "60 s", color="red", fontsize=8)
    ax.axhline(240, color="red", linewidth=0.8)
    ax.text(sizes[0], 250, "4 min", color="red", fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel="schemes (N)", ylabel="seconds", title="time per stage against N")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
