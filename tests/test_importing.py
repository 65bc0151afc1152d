"""``qcompare import``: a scheme file joins the data, all or nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qcompare import examples
from qcompare.accounting import unaccounted_lines
from qcompare.build import build
from qcompare.cli import app
from qcompare.errors import InputError
from qcompare.importing import import_scheme, plan_import
from qcompare.paths import normalized_dir, raw_dir
from qcompare.raw import read_manifest
from qcompare.tables import load_tables


def _project(base: Path) -> Path:
    """A scratch project root holding a copy of the committed data."""
    root = base / "project"
    (root / "data").mkdir(parents=True)
    shutil.copytree(raw_dir(), raw_dir(root))
    shutil.copytree(normalized_dir(), normalized_dir(root))
    return root


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file under data/ (and no stray staging folders) with its hash."""
    data = root / "data"
    return {
        str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(data.rglob("*"))
        if p.is_file()
    } | {"folders": ",".join(sorted(p.name for p in data.iterdir()))}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """One project with the example imported from Word and from Excel."""
    base = tmp_path_factory.mktemp("import")
    root = _project(base)
    import_scheme(examples.write_docx(base / "示范县.docx"), "demo_docx", root=root)
    result = import_scheme(examples.write_xlsx(base / "示范县.xlsx"), "demo_xlsx", root=root)
    return root, result


def test_imported_schemes_are_in_every_table(imported):
    root, result = imported
    tables = load_tables(normalized_dir(root))
    for scheme_id in ("demo_docx", "demo_xlsx"):
        for name in ("schemes", "nodes", "rules", "assignments", "categories", "crosswalk"):
            assert scheme_id in set(tables[name]["scheme_id"]), (scheme_id, name)
    nodes = tables["nodes"].set_index("node_id")
    assert nodes.loc["demo_docx:1.1", "points"] == 20.0 and nodes.loc["demo_xlsx:1.1", "points"] == 20.0
    schemes = tables["schemes"].set_index("scheme_id")
    assert schemes.loc["demo_xlsx", "total_points"] == 100.0 and schemes.loc["demo_xlsx", "city"] == "未注明"
    resolved = tables["assignments"].query("scheme_id == 'demo_docx' and department_raw == '县市场监管局'")
    assert set(resolved["department_id"]) == {"market_regulation"}
    assert result.summary().iloc[0].to_dict() == {"level": 1, "level_label": "一级指标", "nodes": 4, "points": 105.0}


def test_import_writes_the_text_the_record_and_the_original(imported):
    root, _ = imported
    raw = raw_dir(root)
    entries = {e.document_id: e for e in read_manifest(raw / "MANIFEST.csv")}
    assert entries["demo_docx"].parser == "table" and entries["demo_docx"].seed_name == "示范县.docx"
    assert entries["nantong"].parser == "nantong"
    assert (raw / "demo_docx.txt").read_text(encoding="utf-8").startswith(examples.EXAMPLE_TITLE)
    assert (raw / "originals" / "demo_xlsx.xlsx").is_file()
    record = (raw / "demo_xlsx.import.json").read_text(encoding="utf-8")
    assert '"sheet 考核评分表, cell C3"' in record  # provenance back to the original cell


def test_qcompare_build_reproduces_an_import_byte_for_byte(imported, tmp_path):
    root, _ = imported
    build(raw_dir(root), tmp_path)
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (normalized_dir(root) / path.name).read_bytes(), path.name
    assert unaccounted_lines(load_tables(tmp_path), raw_dir(root)).empty


def _hostile_inputs(base: Path) -> list[tuple[str, Path, dict]]:
    prose = base / "prose.txt"
    prose.write_text("没有表格的说明。\n", encoding="utf-8")
    binary = base / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02" * 50)
    cut = base / "cut.docx"
    cut.write_bytes(examples.write_docx(base / "whole.docx").read_bytes()[:900])
    good = examples.write_xlsx(base / "good.xlsx")
    return [
        ("no table", prose, {"scheme_id": "prose"}),
        ("binary", binary, {"scheme_id": "binary"}),
        ("truncated docx", cut, {"scheme_id": "cut"}),
        ("id escapes the folder", good, {"scheme_id": "../../escape"}),
        ("id with a slash", good, {"scheme_id": "a/b"}),
        ("id taken by a seed", good, {"scheme_id": "nantong"}),
        ("replace a seed", good, {"scheme_id": "nantong", "replace": True}),
    ]


def test_a_failed_import_leaves_the_data_byte_identical(tmp_path):
    root = _project(tmp_path)
    before = _fingerprint(root)
    for label, path, options in _hostile_inputs(tmp_path):
        with pytest.raises(InputError):
            import_scheme(path, root=root, **options)
        assert _fingerprint(root) == before, label


@pytest.mark.parametrize("failing", ["write", "second swap"])
def test_a_failure_while_writing_or_swapping_rolls_back(tmp_path, monkeypatch, failing):
    root = _project(tmp_path)
    before = _fingerprint(root)
    source = examples.write_xlsx(tmp_path / "scheme.xlsx")
    if failing == "write":
        import qcompare.importing as importing

        def broken_write(tables, out):
            (out / "nodes.csv").write_text("half a file", encoding="utf-8")
            raise OSError("disk full")

        monkeypatch.setattr(importing, "write_tables", broken_write)
    else:
        real_rename = os.rename
        calls = {"n": 0}

        def flaky_rename(src, dst):
            calls["n"] += 1
            if calls["n"] == 4:  # raw swapped (2 renames), normalized moved aside (3), new one in (4)
                raise OSError("device busy")
            return real_rename(src, dst)

        monkeypatch.setattr(os, "rename", flaky_rename)
    with pytest.raises(OSError):
        import_scheme(source, "demo", root=root)
    assert _fingerprint(root) == before


def test_replace_reimports_an_imported_scheme(tmp_path):
    root = _project(tmp_path)
    import_scheme(examples.write_xlsx(tmp_path / "a.xlsx"), "demo", root=root)
    with pytest.raises(InputError, match="already in the data"):
        import_scheme(examples.write_xlsx(tmp_path / "a.xlsx"), "demo", root=root)
    import_scheme(examples.write_docx(tmp_path / "b.docx"), "demo", root=root, replace=True)
    entries = [e for e in read_manifest(raw_dir(root) / "MANIFEST.csv") if e.document_id == "demo"]
    assert [e.seed_name for e in entries] == ["b.docx"]
    assert sorted(p.name for p in (raw_dir(root) / "originals").iterdir()) == ["demo.docx"]


def test_mapping_file_sets_columns_and_scheme_facts(tmp_path):
    source = examples.write_xlsx(tmp_path / "scheme.xlsx")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'table = "考核评分表"\nheader_row = 2\n[columns]\n"配合单位" = "ignore"\n'
        '[scheme]\ncity = "示范市"\nadmin_level = "county"\nassessee = "towns_streets"\n',
        encoding="utf-8",
    )
    plan = plan_import(source, "demo", mapping)
    assert plan.spec.columns[-1] is None
    scheme = plan.document.schemes[0]
    assert (scheme.scheme["city"], scheme.scheme["assessee"]) == ("示范市", "towns_streets")
    assert not [a for a in scheme.assignments if a["role"] == "support"]
    assert ("unparsed_text", "县工信局") in {(i["kind"], i["evidence"]) for i in scheme.data_issues}


def test_cli_import_errors_are_one_message_without_traceback(tmp_path):
    runner = CliRunner()
    prose = tmp_path / "prose.txt"
    prose.write_text("没有表格。\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(prose), "--id", "prose", "--dry-run"])
    assert result.exit_code == 2
    assert "prose.txt: no table found" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["import", str(prose), "--id", "../x", "--dry-run"])
    assert result.exit_code == 2 and "a scheme id is 2-40 lower-case letters" in result.output


def test_cli_dry_run_shows_the_scheme_and_writes_nothing(tmp_path):
    source = examples.write_docx(tmp_path / "scheme.docx")
    before = _fingerprint(raw_dir().parent.parent)
    result = CliRunner().invoke(app, ["import", str(source), "--id", "demo", "--dry-run", "--city", "示范市"])
    assert result.exit_code == 0, result.output
    assert "一级指标" in result.output and "dry run: nothing written" in result.output
    assert _fingerprint(raw_dir().parent.parent) == before


def test_unknown_names_of_an_import_count_as_bodies_of_their_own(imported):
    from qcompare.graph import COLLECTIVE, department_load

    root, _ = imported
    load = department_load(load_tables(normalized_dir(root)))
    mine = load[load["scheme_id"] == "demo_docx"].set_index("department_id")
    assert mine.loc["unresolved:县工信局", "name_zh"] == "县工信局"
    assert mine.loc["unresolved:县应急管理局", "lead_nodes"] == 2  # 质量安全 and the veto row
    assert COLLECTIVE not in mine.index
    assert mine["name_zh"].iloc[0] == "市场监督管理局"  # the heaviest body, as in the five
    from qcompare.graph import responsibility_graph

    G = responsibility_graph(load_tables(normalized_dir(root)))
    assert G.nodes["unresolved:县工信局"]["name_zh"] == "县工信局"
    assert G.nodes["unresolved:县工信局"]["family"] == "unresolved"


def test_formula_text_in_an_imported_sheet_stays_text_and_is_neutralised_on_export(tmp_path):
    from openpyxl import Workbook, load_workbook

    from qcompare.draft import export_xlsx, scheme_as_draft

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["考核内容", "分值", "牵头单位"])
    sheet.append(["建立质量档案", 60, "县市场监管局"])
    sheet.append(["开展质量宣传", 40, "县市场监管局"])
    sheet["A3"].value, sheet["A3"].data_type = '=HYPERLINK("http://example.invalid","点击")', "s"  # text, not a formula
    workbook.save(tmp_path / "hostile.xlsx")
    root = _project(tmp_path)
    import_scheme(tmp_path / "hostile.xlsx", "hostile", root=root)
    tables = load_tables(normalized_dir(root))
    texts = tables["nodes"].query("scheme_id == 'hostile'")["text"].tolist()
    assert texts[1] == '=HYPERLINK("http://example.invalid","点击")'  # the data keeps what the cell says
    path = export_xlsx(scheme_as_draft(tables, "hostile"), tmp_path / "draft.xlsx")
    cells = [c for row in load_workbook(path)["考核指标"].iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and not str(c.value).startswith("=") for c in cells)
    assert any(str(c.value).startswith("'=HYPERLINK") for c in cells)  # the title cell, escaped


def test_mapping_header_row_overrides_detection_and_keeps_that_rows_headers(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["一级指标", "分值", "评分标准", "牵头单位"])  # looks more like a header than the real one
    sheet.append(["考核内容", "分值"])
    sheet.append(["建立质量档案", 5])
    workbook.save(tmp_path / "two_headers.xlsx")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("header_row: 2\n", encoding="utf-8")
    plan = plan_import(tmp_path / "two_headers.xlsx", "demo", mapping)
    assert plan.spec.columns == ["content", "points"]
    nodes = plan.document.schemes[0].nodes
    assert [(n["title"], n["points"]) for n in nodes] == [("建立质量档案", 5.0)]
    assert plan.document.schemes[0].scheme["title"] == "一级指标|分值|评分标准|牵头单位"  # the row above, cleaned


def test_cli_names_a_bad_option_value_and_its_choices(tmp_path):
    source = examples.write_xlsx(tmp_path / "scheme.xlsx")
    result = CliRunner().invoke(app, ["import", str(source), "--id", "demo", "--admin-level", "town", "--dry-run"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--admin-level, 'town': Input should be 'prefecture', 'district', 'county' or 'province'" in result.output
