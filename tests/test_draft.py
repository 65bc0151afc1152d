"""The county draft: it passes its checks, each check can fail, and it
survives Excel and Word."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from qcompare.draft import (
    Draft,
    DraftParameters,
    build_draft,
    check_draft,
    check_schemes,
    export_docx,
    export_xlsx,
    read_xlsx,
    scheme_as_draft,
)


@pytest.fixture(scope="module")
def draft(committed) -> Draft:
    return build_draft(committed, DraftParameters(county="示范县"))


def _failed(d: Draft) -> dict[str, str]:
    return {c.name: c.message for c in check_draft(d) if not c.passed}


def test_default_draft_passes_every_check_and_its_load_cap_holds(draft):
    assert _failed(draft) == {}
    scored = draft.items[~draft.items["is_bonus"] & ~draft.items["is_veto"]]
    shares = scored.groupby("lead")["points"].sum() / scored["points"].sum()
    assert shares.max() <= draft.parameters.max_lead_share
    assert scored["points"].sum() == 100
    # 40 crosswalk concepts reach three of the nine schemes (notebook 06 says so), plus one veto and one bonus
    assert (len(scored), int(draft.items["is_veto"].sum()), int(draft.items["is_bonus"].sum())) == (40, 1, 1)


def test_the_word_table_has_a_row_per_item_and_merges_the_areas(draft, tmp_path: Path):
    from docx import Document

    table = Document(str(export_docx(draft, tmp_path / "draft.docx"))).tables[0]
    assert len(table.rows) == 1 + len(draft.items)
    assert [cell.text for cell in table.rows[0].cells][:3] == ["一级指标", "二级指标", "三级指标"]
    first, second = table.cell(1, 0), table.cell(2, 0)
    assert first.text == draft.items.loc[0, "level1"] and first._tc is second._tc  # one merged cell


def test_every_line_carries_provenance(draft):
    scored = draft.items[~draft.items["is_bonus"] & ~draft.items["is_veto"]]
    assert (scored["sources"].str.len() > 0).all()
    # each item appears in at least min_schemes schemes
    assert all(len({s.split(":")[0] for s in src.split(", ")}) >= 3 for src in scored["sources"])


def _broken(draft: Draft, **changes) -> Draft:
    return Draft(draft.parameters, draft.items.copy())


def test_points_that_do_not_add_up_fail(draft):
    broken = _broken(draft)
    broken.items.loc[0, "points"] += 3
    assert "points add up" in _failed(broken)
    assert "adjust 分值" in _failed(broken)["points add up"]


def test_an_area_whose_items_do_not_sum_to_its_label_fails(draft):
    broken = _broken(draft)
    first_area = broken.items.loc[0, "level1"]
    assert first_area.endswith("分)")
    broken.items.loc[broken.items["level1"] == first_area, "level1"] = "一、规划与政策(99分)"
    message = _failed(broken)["areas add up"]
    assert "一、规划与政策(99分) declares 99" in message and "make the label's (N分)" in message
    assert "points add up" not in _failed(broken)  # the items still sum to the total


def test_an_item_moved_between_areas_fails_both_areas(draft):
    broken = _broken(draft)
    areas = list(dict.fromkeys(broken.items["level1"]))
    moved = broken.items.index[broken.items["level1"] == areas[0]][0]
    broken.items.loc[moved, "level1"] = areas[1]
    message = _failed(broken)["areas add up"]
    assert areas[0] in message and areas[1] in message


def test_an_item_without_a_lead_fails(draft):
    broken = _broken(draft)
    broken.items.loc[1, "lead"] = ""
    assert "name a 牵头单位" in _failed(broken)["every item has a lead"]


def test_a_body_over_the_load_cap_fails(draft):
    broken = _broken(draft)
    scored = ~broken.items["is_bonus"] & ~broken.items["is_veto"]
    broken.items.loc[scored, "lead"] = "县市场监督管理局"
    assert "pass the lead" in _failed(broken)["load cap"]


def test_a_missing_veto_or_an_unbounded_bonus_fails(draft):
    broken = _broken(draft)
    broken.items = broken.items[~broken.items["is_veto"]].reset_index(drop=True)
    assert _failed(broken)["veto and bonus"] == "add a 否决项"
    broken = _broken(draft)
    index = broken.items.index[broken.items["is_bonus"]][0]
    broken.items.loc[index, "machine"] = json.dumps({"type": "bonus", "bonus_cap": 50})
    assert _failed(broken)["veto and bonus"] == "cap the 加分项 (不超过N分) at 10 points or less"


def test_an_uncovered_lever_fails(draft):
    broken = Draft(
        replace(draft.parameters, levers=[*sorted(set(draft.items["lever"]) - {""}), "funding_x"]), draft.items
    )
    assert "funding_x" in _failed(broken)["lever coverage"]


def test_a_rule_that_does_not_run_fails(draft):
    broken = _broken(draft)
    broken.items.loc[2, "machine"] = "{not json"
    assert "rules run" in _failed(broken)


def test_xlsx_round_trips(draft, tmp_path: Path):
    path = export_xlsx(draft, tmp_path / "draft.xlsx")
    again = read_xlsx(path)
    assert again.parameters == draft.parameters
    assert again.items.equals(draft.items)


def test_a_hand_edit_in_the_workbook_is_read_back_and_checked(draft, tmp_path: Path):
    from openpyxl import load_workbook

    path = export_xlsx(draft, tmp_path / "draft.xlsx")
    workbook = load_workbook(path)
    workbook["考核指标"]["E3"] = int(workbook["考核指标"]["E3"].value) + 1  # first item's 分值
    workbook.save(path)
    edited = read_xlsx(path)
    assert edited.items.loc[0, "points"] == draft.items.loc[0, "points"] + 1
    assert "points add up" in _failed(edited)


def test_a_rewritten_rule_in_the_workbook_is_parsed_again(draft, tmp_path: Path):
    from openpyxl import load_workbook

    path = export_xlsx(draft, tmp_path / "draft.xlsx")
    workbook = load_workbook(path)
    points = int(workbook["考核指标"]["E3"].value)
    workbook["考核指标"]["F3"] = f"按时出台规划的得{points + 1}分;未出台的得0分。"  # worth more than the item
    workbook.save(path)
    edited = read_xlsx(path)
    assert json.loads(edited.items.loc[0, "machine"])["tiers"] == [points + 1.0, 0.0]
    assert edited.items.loc[0, "level3"] in _failed(edited)["rules run"]


def test_a_non_numeric_score_in_the_workbook_names_its_row(draft, tmp_path: Path):
    from openpyxl import load_workbook

    path = export_xlsx(draft, tmp_path / "draft.xlsx")
    workbook = load_workbook(path)
    workbook["考核指标"]["E4"] = "五分"
    workbook.save(path)
    with pytest.raises(ValueError, match=r"sheet 考核指标, row 4: 分值 '五分' is not a number"):
        read_xlsx(path)


def test_formula_like_text_is_neutralised(draft, tmp_path: Path):
    from openpyxl import load_workbook

    sneaky = _broken(draft)
    sneaky.items.loc[0, "lead"] = "=HYPERLINK(1)"
    path = export_xlsx(sneaky, tmp_path / "sneaky.xlsx")
    assert load_workbook(path)["考核指标"]["G3"].value == "'=HYPERLINK(1)"
    assert read_xlsx(path).items.loc[0, "lead"] == "=HYPERLINK(1)"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed on this machine")
@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_libreoffice_converts_the_exports_without_error(draft, tmp_path: Path, suffix):
    path = tmp_path / f"draft{suffix}"
    (export_xlsx if suffix == ".xlsx" else export_docx)(draft, path)
    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pdf" / "draft.pdf").stat().st_size > 1000


# --- the checks on the source schemes -------------------------------------------------


def test_the_checks_find_ezhous_points_that_do_not_add_up(tables):
    # ezhou.txt: 质量目标 40 + 质量措施 60 = 100 declared; 质量宏观管理 declares （16分） (L74)
    # but its seven 考核要点 carry 3+3+2+2+2+3+3 = 18 (L82 … L137), so the scored points sum to 102.
    failed = _failed(scheme_as_draft(tables, "ezhou"))
    assert failed["points add up"].startswith("the items sum to 102, not 100")
    assert failed["areas add up"] == (
        "质量措施(60分) declares 60 but its items sum to 62; 质量宏观管理(16分) declares 16 but its items "
        "sum to 18: make the label's (N分) and its items' 分值 agree"
    )
    assert failed["veto and bonus"] == "add a 加分项"  # Ezhou has a veto (否决项) and no bonus
    assert "every item has a lead" not in failed  # every 考核要点 names its 考核部门


def test_the_checks_find_changzhous_load_on_the_quality_bureau(tables):
    failed = _failed(scheme_as_draft(tables, "changzhou"))
    assert failed["load cap"].startswith("市质监局 leads ")  # the only body over the cap
    assert failed["load cap"].count("leads") == 1
    assert failed["veto and bonus"] == "add a 否决项"
    assert "points add up" not in failed and "areas add up" not in failed  # 10 sections, 1000 points


def test_xinbei_counts_its_uncapped_bonus_inside_the_100_and_names_no_leads(tables):
    # xinbei.txt L425: "考核总分为100分 … 加分项上不封顶"; items 1-5 carry 20+20+5+25+25 = 95
    # (L443 … L475) and the bonus item 6 carries 5 (L483) inside the 100 (data issue bonus_in_total)
    failed = _failed(scheme_as_draft(tables, "xinbei_departments"))
    assert failed["points add up"].startswith("the items sum to 95, not 100")
    assert failed["veto and bonus"] == "add a 否决项; cap the 加分项 (不超过N分) at 10 points or less"
    assert failed["every item has a lead"].startswith("name a 牵头单位 for 1 ")
    assert "load cap" not in failed  # items without a lead are not one body's load


def test_a_scheme_without_points_cannot_be_checked(tables):
    with pytest.raises(ValueError, match="scheme 'quzhou_tasks' scores nothing"):
        scheme_as_draft(tables, "quzhou_tasks")
    with pytest.raises(ValueError, match="no scheme 'nowhere'; choose one of changzhou, ezhou"):
        scheme_as_draft(tables, "nowhere")


def test_check_schemes_runs_every_check_on_every_scored_scheme(committed):
    table = check_schemes(committed)
    assert sorted(set(table["scheme_id"])) == ["changzhou", "ezhou", "nantong", "xinbei_departments", "xinbei_towns"]
    assert len(table) == 5 * 7
    assert table.query("scheme_id == 'nantong'")["passed"].all()  # 100 points, one veto, bonus 不超过10分
