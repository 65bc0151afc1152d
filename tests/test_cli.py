"""The command line: clear messages and exit codes, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from qcompare.cli import app
from qcompare.paths import raw_dir
from qcompare.schema import SCHEMAS

runner = CliRunner()


def test_build_writes_the_tables_with_progress(tmp_path: Path):
    result = runner.invoke(app, ["build", "--out", str(tmp_path / "csv"), "--parquet", str(tmp_path / "parquet")])
    assert result.exit_code == 0, result.output
    assert "[1/5] parsing nantong.txt" in result.output
    assert f"wrote 10 Parquet files to {tmp_path / 'parquet'}" in result.output
    assert sorted(p.name for p in (tmp_path / "parquet").iterdir()) == sorted(f"{name}.parquet" for name in SCHEMAS)
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "assignments.csv",
        "categories.csv",
        "crosswalk.csv",
        "data_issues.csv",
        "departments.csv",
        "mappings.sssom.tsv",
        "nodes.csv",
        "rules.csv",
        "schema.json",
        "schemes.csv",
        "targets.csv",
    ]


def test_build_refuses_a_changed_raw_file_with_a_one_line_error(tmp_path: Path):
    shutil.copytree(raw_dir(), tmp_path / "raw")
    changed = tmp_path / "raw" / "ezhou.txt"
    changed.chmod(0o644)
    changed.write_text("tampered", encoding="utf-8")
    result = runner.invoke(app, ["build", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "ezhou.txt: SHA-256 is" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_check_passes_on_the_committed_data():
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("data/normalized is current")


def test_load_prints_the_table_for_one_scheme():
    result = runner.invoke(app, ["load", "--scheme", "ezhou", "--top", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 4 and "quality_supervision" in lines[1]


def test_load_rejects_an_unknown_scheme():
    result = runner.invoke(app, ["load", "--scheme", "nowhere"])
    assert result.exit_code == 2
    assert "no scheme 'nowhere'" in result.output


def test_graph_writes_graphml_and_gexf(tmp_path: Path):
    result = runner.invoke(app, ["graph", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "co_assignment.gexf",
        "co_assignment.graphml",
        "responsibility.gexf",
        "responsibility.graphml",
    ]


def test_draft_writes_the_workbook_and_document_and_reports_every_check(tmp_path: Path):
    out, docx = tmp_path / "draft.xlsx", tmp_path / "draft.docx"
    result = runner.invoke(app, ["draft", "--county", "示范县", "--out", str(out), "--docx", str(docx)])
    assert result.exit_code == 0, result.output
    assert out.exists() and docx.exists()
    assert result.output.count("ok  ") == 7 and "FAIL" not in result.output


def test_draft_rejects_an_unknown_strictness(tmp_path: Path):
    result = runner.invoke(app, ["draft", "--strictness", "harsh", "--out", str(tmp_path / "d.xlsx")])
    assert result.exit_code == 2
    assert "strictness must be lenient, median or strict, not 'harsh'" in result.output
    assert not (tmp_path / "d.xlsx").exists()


def test_check_draft_fails_a_hand_edited_workbook_and_says_what_to_change(tmp_path: Path):
    from openpyxl import load_workbook

    out = tmp_path / "draft.xlsx"
    assert runner.invoke(app, ["draft", "--out", str(out)]).exit_code == 0
    assert runner.invoke(app, ["check-draft", str(out)]).exit_code == 0
    workbook = load_workbook(out)
    workbook["考核指标"]["G3"] = None  # the designer clears a 牵头单位
    workbook.save(out)
    result = runner.invoke(app, ["check-draft", str(out)])
    assert result.exit_code == 1
    assert "FAIL every item has a lead: name a 牵头单位 for 1." in result.output


def test_check_draft_rejects_a_file_that_is_not_a_draft_workbook(tmp_path: Path):
    bogus = tmp_path / "notes.xlsx"
    bogus.write_text("not a workbook", encoding="utf-8")
    result = runner.invoke(app, ["check-draft", str(bogus)])
    assert result.exit_code == 2
    assert "cannot read it as a qcompare draft workbook" in result.output
