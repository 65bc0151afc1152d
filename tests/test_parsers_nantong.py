"""Nantong (nantong.txt). Every number here was read off the source by hand and
cross-checked by a second, independent reading; comments give the lines."""

from __future__ import annotations

from tests.conftest import issues_of, nodes_of


def test_nantong_has_4_areas_16_second_30_third_level_indicators_and_110_checkpoints(tables):
    # 一、… 四、 (L14, L178, L385, L467); （一）…（十六） (L16 … L793);
    # 1．… 30． (L17 … L794); （1）…（110） (L18 … L809)
    counts = nodes_of(tables, "nantong").groupby("level").size().to_dict()
    assert counts == {1: 4 + 2, 2: 16, 3: 30, 4: 110}  # level 1 also holds 加分项 and 否决项


def test_nantong_area_points_sum_to_100(tables):
    # 三级 分值: area 一 4+2+4+3+4+3 (L20 … L169), 二 3+3+3+3+4+4+3+3,
    # 三 4+2+3+3, 四 3+6+3+3+2+3+3+8+3+2+3+3
    nodes = nodes_of(tables, "nantong")
    areas = nodes[(nodes["level"] == 1) & ~nodes["is_bonus"] & ~nodes["is_veto"]]
    assert areas["points"].to_dict() == {"nantong:1": 20, "nantong:2": 26, "nantong:3": 12, "nantong:4": 42}
    assert (areas["points_status"] == "derived_sum").all()
    scheme = tables["schemes"].set_index("scheme_id").loc["nantong"]
    assert scheme["total_points"] == 100


def test_nantong_points_sit_on_third_level_indicators(tables):
    nodes = nodes_of(tables, "nantong")
    assert nodes.loc["nantong:4.13.26", "points"] == 8  # 26．质量奖励, 分值 8 (L654)
    assert nodes.loc["nantong:4.12.20", "points"] == 6  # 20．监督抽查合格率, 分值 6 (L496)
    assert nodes.loc["nantong:4.12.20.(66)", "title"] == "制造业产品国家监督抽查合格率"  # L494
    assert (nodes[nodes["level"] == 4]["points_status"] == "none").all()


def test_nantong_bonus_capped_at_10_and_veto_makes_result_incomplete(tables):
    nodes = nodes_of(tables, "nantong")
    assert "加分项合计总得分不超过10分" in nodes.loc["nantong:bonus", "text"]  # L814
    assert nodes.loc["nantong:veto", "text"].endswith("考核结果一律为未完成")  # L817
    scheme = tables["schemes"].set_index("scheme_id").loc["nantong"]
    assert scheme["bonus_cap"] == 10 and scheme["has_veto"]


def test_nantong_page_break_repeats_are_reported_not_added(tables):
    # 一、/（二） repeated at L121-L123, 二、/（四） at L254-L260, 四、/(十二) at L548-L552, 四、 at L768
    refs = sorted(issues_of(tables, "nantong", "repeated_header")["raw_ref"])
    assert refs == sorted(
        [
            "nantong.txt:L121-L122",
            "nantong.txt:L123",
            "nantong.txt:L254-L259",
            "nantong.txt:L260",
            "nantong.txt:L548-L551",
            "nantong.txt:L552",
            "nantong.txt:L768-L771",
        ]
    )
    # （二） and （四） share the title 制度机制建设 but stay two nodes
    nodes = nodes_of(tables, "nantong")
    assert nodes.loc["nantong:1.2", "title"] == nodes.loc["nantong:2.4", "title"] == "制度机制建设"


def test_nantong_empty_department_cells_inherit_from_the_row_above(tables):
    a = tables["assignments"]
    # （67） 制造业产品省级监督抽查合格率 (L501) has an empty cell under （66）'s 市质监局 (L495)
    row = a[a["node_id"] == "nantong:4.12.20.(67)"]
    assert row["department_raw"].tolist() == ["市质监局"]
    assert row["inherited"].tolist() == [True]
    assert row["raw_ref"].tolist() == ["nantong.txt:L495"]
    # 34 checkpoints have an empty department cell; all are filled from above
    inherited_nodes = a[(a["scheme_id"] == "nantong") & a["inherited"]]["node_id"].nunique()
    assert inherited_nodes == 34
    assert set(a[a["scheme_id"] == "nantong"]["role"]) == {"assessor"}


def test_nantong_department_list_is_split_per_department(tables):
    a = tables["assignments"]
    names = a[a["node_id"] == "nantong:1.1.1.(4)"]["department_raw"].tolist()  # L40
    assert names == ["市财政局", "市经信委", "市环保局", "市科技局", "市金融办", "市人社局", "市质监局"]


def test_a_damaged_indicator_is_reported_against_the_file_the_caller_named():
    # L14 holds the first 一级指标 "一、"; a researcher's copy under another name
    # must be named in the error, not nantong.txt.
    import pytest

    from qcompare.parsers import ParseError
    from qcompare.parsers.nantong import parse_nantong
    from qcompare.paths import raw_dir

    lines = (raw_dir() / "nantong.txt").read_text(encoding="utf-8").split("\n")
    assert lines[13] == "\t一、"
    lines[13] = "\tX、"
    with pytest.raises(ParseError, match=r"^mine\.txt, line 14: expected a 一级指标"):
        parse_nantong("\n".join(lines), file="mine.txt")
