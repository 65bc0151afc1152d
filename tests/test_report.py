"""Report tables and the notebook pipeline."""

from __future__ import annotations

from pathlib import Path

import nbformat

from qcompare.report import quality_findings, run_notebooks, scheme_overview


def test_overview_has_one_row_per_scheme(committed):
    overview = scheme_overview(committed)
    assert len(overview) == 9
    assert overview.loc["nantong", "nodes per level"] == "6 / 16 / 30 / 110"
    assert overview.loc["changzhou", "points"] == "1000"
    assert overview.loc["ezhou", "veto"] == "yes"


def test_findings_list_the_source_problems_first_by_kind(committed):
    findings = quality_findings(committed)
    ezhou = findings[findings["scheme_id"] == "ezhou"]
    assert ezhou["kind"].tolist()[:2] == ["total_mismatch", "total_mismatch"]
    assert set(findings["kind"]) >= {"total_mismatch", "recovered_cell", "lost_cell", "bonus_in_total"}


def test_run_notebooks_executes_with_parameters_and_writes_html(tmp_path: Path):
    source = tmp_path / "nb"
    source.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("answer = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(answer * 2)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source / "t.ipynb")
    lines: list[str] = []
    written = run_notebooks(source, tmp_path / "out", parameters={"answer": 21}, progress=lines.append)
    assert [p.name for p in written] == ["t.ipynb", "t.html"]
    executed = nbformat.read(tmp_path / "out" / "t.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "42\n"
    assert lines[0] == "[1/1] executing t.ipynb ..."
    assert "42" in (tmp_path / "out" / "t.html").read_text(encoding="utf-8")


def test_every_notebook_shows_an_imported_scheme_passed_as_a_parameter(tmp_path: Path):
    """The issue's promise: import a scheme, pass its id, and every report includes it."""
    import json
    import shutil

    from qcompare import examples
    from qcompare.importing import import_scheme, scratch_project
    from qcompare.paths import normalized_dir, notebooks_dir
    from qcompare.tables import load_tables

    project = scratch_project(tmp_path / "project")
    import_scheme(examples.write_docx(tmp_path / "county.docx"), "mycounty", root=project)
    scheme_ids = sorted(load_tables(normalized_dir(project))["schemes"]["scheme_id"])
    source = tmp_path / "notebooks"
    source.mkdir()
    for notebook in sorted(notebooks_dir().glob("0[1-6]_*.ipynb")):
        shutil.copy(notebook, source / notebook.name)
    parameters = {"data_dir": str(normalized_dir(project)), "schemes": scheme_ids}
    written = [p for p in run_notebooks(source, tmp_path / "out", parameters=parameters) if p.suffix == ".ipynb"]
    assert len(written) == 6
    for path in written:
        outputs = json.dumps([cell.get("outputs", []) for cell in nbformat.read(path, as_version=4).cells])
        assert "mycounty" in outputs, path.name
