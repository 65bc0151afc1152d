"""The scaling benchmark runs end to end on a tiny corpus (a smoke run, not a timing)."""

from __future__ import annotations

import subprocess
import sys

from qcompare.paths import project_root


def test_scale_benchmark_smoke_run_reports_every_stage_and_the_blocked_crosswalk():
    script = project_root() / "benchmarks" / "bench_scale.py"
    done = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True, text=True, check=True)
    rows = {line.split("|")[2].strip(): line for line in done.stdout.splitlines() if line.startswith("| 3 |")}
    assert list(rows) == [
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
        "total",
    ]
    # --smoke forces the blocked path, so CI runs LSH candidates, the sparse matcher and grouping
    assert "blocked" in rows["crosswalk"]
    assert "; F1 " in rows["crosswalk"]
