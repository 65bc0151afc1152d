"""Changzhou (changzhou.txt). Numbers read off the source by hand, each
cross-checked by a second independent reading; comments give the lines."""

from __future__ import annotations

import pytest

from tests.conftest import issues_of, nodes_of

# (section, declared points, heading line)
SECTIONS = [
    ("s1", 80, 4),
    ("s2", 110, 77),
    ("s3", 120, 270),
    ("s4", 150, 608),
    ("s5", 140, 787),
    ("s6", 100, 873),
    ("s7", 100, 1032),
    ("s8", 100, 1138),
    ("s9", 100, 1234),
    ("s10", 60, 1300),
]

# items whose first cells the export lost, with the points their scoring text
# proves: item → (points, line of the surviving scoring text or row)
RECOVERED = {
    1: (20, 16),  # 得20分/10分/0分
    18: (20, 662),  # 得20分/10分/0分
    24: (30, 826),  # 得30分/15分/5分
    27: (20, 864),  # 分三个档次 20/10/5
    34: (10, 1074),  # （5分）+（5分）
    35: (20, 1095),  # （10分）+（10分）
    37: (20, 1131),  # 得20分/10分/0分
    39: (20, 1169),  # （10分）+（10分）
    41: (15, 1192),  # 得15分/10分/0分
    43: (10, 1225),  # （5分）+（5分）
    44: (15, 1248),  # 得15/10/5/0分
    45: (15, 1268),  # 得15/10/0分
    48: (20, 1318),  # （10分）+（10分）
    50: (20, 1360),  # （10分）+（10分）
}


@pytest.mark.parametrize(("section", "points", "line"), SECTIONS)
def test_changzhou_section_totals_as_declared(tables, section, points, line):
    node = nodes_of(tables, "changzhou").loc[f"changzhou:{section}"]
    assert node["points"] == points
    assert node["points_status"] == "declared"
    assert node["raw_ref"] == f"changzhou.txt:L{line}"


def test_changzhou_section_four_totals_150_points(tables):
    nodes = nodes_of(tables, "changzhou")
    items = nodes[nodes["parent_id"] == "changzhou:s4"]
    assert items["code"].tolist() == [str(n) for n in range(15, 23)]
    assert items["points"].sum() == 150  # 20+20+20+20(18, recovered)+20+20+10+20


def test_changzhou_has_50_items_and_108_tasks(tables):
    counts = nodes_of(tables, "changzhou").groupby("level").size().to_dict()
    assert counts == {1: 10, 2: 50, 3: 108}


def test_changzhou_section_ten_is_a_60_point_bonus(tables):
    nodes = nodes_of(tables, "changzhou")
    assert nodes.loc["changzhou:s10", "is_bonus"]
    assert nodes[nodes["parent_id"] == "changzhou:s10"]["is_bonus"].all()
    scheme = tables["schemes"].set_index("scheme_id").loc["changzhou"]
    assert (scheme["total_points"], scheme["bonus_cap"]) == (1000, 60)


def test_changzhou_recovers_every_item_that_lost_cells(tables):
    nodes = nodes_of(tables, "changzhou")
    items = nodes[nodes["level"] == 2]
    recovered = items[items["points_status"] == "recovered"]
    assert sorted(int(c) for c in recovered["code"]) == sorted(RECOVERED)
    for number, (points, line) in RECOVERED.items():
        node = nodes.loc[f"changzhou:{number}"]
        assert node["points"] == points, number
        assert pd_isna(node["title"]), number  # the title is lost and stays empty
        first, last = (int(x) for x in node["raw_ref"].split(":L")[1].replace("L", "").split("-"))
        assert first <= line <= last, number


def pd_isna(value) -> bool:
    return value is None or value != value


def test_changzhou_recovered_points_agree_with_every_section_total(tables):
    notes = issues_of(tables, "changzhou", "recovered_cell")
    checks = notes[notes["message"].str.contains("recovered from the scoring text")]
    assert len(checks) == len(RECOVERED)
    assert checks["message"].str.endswith("agrees").all()
    assert issues_of(tables, "changzhou", "total_mismatch").empty
    # each lost title is reported as lost, not invented
    assert len(issues_of(tables, "changzhou", "lost_cell")) == len(RECOVERED)


def test_changzhou_orphaned_scoring_text_becomes_the_items_rule(tables):
    rules = tables["rules"].set_index("node_id")
    assert rules.loc["changzhou:18", "rule_text"].startswith("设立并实施政府质量奖的得20分")  # L662
    assert rules.loc["changzhou:18", "raw_ref"] == "changzhou.txt:L662"
    nodes = nodes_of(tables, "changzhou")
    assert nodes.loc["changzhou:45", "verification"] == "听取汇报查阅资料与社会质量监督员交流"  # L1265


def test_changzhou_symbol_font_digits_are_removed_not_read(tables):
    # L676 prints 20 followed by a private-use glyph that looks like 0
    nodes = nodes_of(tables, "changzhou")
    assert nodes.loc["changzhou:19", "points"] == 20
    assert nodes.loc["changzhou:47", "points"] == 60  # L1289


def test_changzhou_tasks_name_lead_and_support_units(tables):
    a = tables["assignments"]
    task = a[a["node_id"] == "changzhou:6.1"]  # L154-L155
    assert task[["department_raw", "role"]].values.tolist() == [
        ["市质监局", "lead"],
        ["市经信委", "support"],
        ["建设局", "support"],
        ["发改委", "support"],
    ]
    # 领导小组相 / 关成员单位 (L22-L24) is one collective placeholder
    first = a[a["node_id"] == "changzhou:1.1"]
    assert first[["department_raw", "role"]].values.tolist() == [
        ["市质监局", "lead"],
        ["领导小组相关成员单位", "collective"],
    ]
