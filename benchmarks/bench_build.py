"""Time each stage of the build, and the county draft, on the real seeds.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_build.py``).
Prints one Markdown table row per stage: the median and the spread of
``--repeat`` runs, in milliseconds.  Results, with the machine they ran on,
go into ``docs/benchmarks.md`` by hand; these are not timed tests.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import qcompare
from qcompare import examples
from qcompare.accounting import unaccounted_lines
from qcompare.build import build_tables, parse_documents
from qcompare.draft import build_draft, check_draft, export_docx, export_xlsx, read_xlsx
from qcompare.importing import import_scheme, plan_import, scratch_project
from qcompare.parsers import PARSERS
from qcompare.raw import read_manifest, read_raw
from qcompare.reader import read_blocks
from qcompare.sources import read_source
from qcompare.tables import records_to_tables, write_tables


def _time(func: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    entries = read_manifest()
    texts = {e.document_id: (read_raw(e), e.file) for e in entries}
    tables = build_tables()
    results = parse_documents()
    stages: list[tuple[str, Callable[[], object]]] = []
    for doc_id, (text, _) in texts.items():
        stages.append((f"read_blocks {doc_id} ({len(text.splitlines())} lines)", lambda t=text: read_blocks(t)))
    for doc_id, (text, file) in texts.items():
        stages.append((f"parse {doc_id}", lambda t=text, f=file, d=doc_id: PARSERS[d](t, f)))
    stages.append(("records_to_tables (all)", lambda: records_to_tables(results)))
    tmp = Path(tempfile.mkdtemp())
    stages.append(("validate + write_tables (all)", lambda: write_tables(tables, tmp)))
    stages.append(("unaccounted_lines (all five files)", lambda: unaccounted_lines(tables)))
    stages.append(("build_tables end to end", build_tables))
    draft = build_draft(tables)
    stages.append(("build_draft (defaults)", lambda: build_draft(tables)))
    stages.append(("check_draft", lambda: check_draft(draft)))
    stages.append(("export_xlsx", lambda: export_xlsx(draft, tmp / "draft.xlsx")))
    stages.append(("read_xlsx", lambda: read_xlsx(tmp / "draft.xlsx")))
    stages.append(("export_docx", lambda: export_docx(draft, tmp / "draft.docx")))
    docx_path, xlsx_path = examples.write_docx(tmp / "scheme.docx"), examples.write_xlsx(tmp / "scheme.xlsx")
    stages.append(("read_source example .docx (gridSpan/vMerge)", lambda: read_source(docx_path)))
    stages.append(("read_source example .xlsx (merged ranges)", lambda: read_source(xlsx_path)))
    stages.append(("plan_import example .docx (read, detect, parse)", lambda: plan_import(docx_path, "bench")))

    def one_import() -> None:
        with tempfile.TemporaryDirectory() as scratch:
            import_scheme(docx_path, "bench", root=scratch_project(Path(scratch)))

    stages.append(("import_scheme example .docx (scratch copy, whole pipeline, swap)", one_import))

    print(f"qcompare {qcompare.__version__}, python {platform.python_version()} on {platform.machine()}, ", end="")
    print(f"{args.repeat} runs each\n")
    print("| stage | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, func in stages:
        median, low, high = _time(func, args.repeat)
        print(f"| {name} | {median:.1f} | {low:.1f} | {high:.1f} |")


if __name__ == "__main__":
    main()
