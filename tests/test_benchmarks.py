"""The scaling benchmark runs end to end on a tiny corpus (a smoke run, not a timing)."""

from __future__ import annotations

import subprocess
import sys

from qcompare.paths import project_root


def test_scale_benchmark_smoke_run_reports_every_stage():
    script = project_root() / "benchmarks" / "bench_scale.py"
    done = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True, text=True, check=True)
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 3 |")]
    assert [row.split("|")[2].strip() for row in rows] == [
        "generate",
        "parse",
        "tables",
        "departments",
        "rules",
        "ontology",
        "crosswalk",
        "graph",
    ]
    assert "units; F1" in rows[6]
