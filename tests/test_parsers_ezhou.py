"""Ezhou (ezhou.txt). Numbers read off the source by hand; comments give lines."""

from __future__ import annotations

from tests.conftest import issues_of, nodes_of

# 考核要点 分值 by 序号 group, with the line of each 分值 cell
CHECKPOINTS = {
    "1": [(10, 17), (5, 25), (5, 34)],
    "2": [(10, 44)],
    "3": [(10, 53)],
    "4": [(3, 82), (3, 92), (2, 102), (2, 112), (2, 121), (3, 129), (3, 137)],
    "5": [(2, 163), (4, 175), (2, 189), (2, 199), (2, 209), (6, 221), (6, 234), (6, 247)],
    "6": [(6, 264), (3, 276), (3, 285), (2, 293)],
}
# declared group points: （20分） L15, （10分） L42, （10分） L51, （16分） L74, （30分） L155, （14分） L260
DECLARED = {"1": 20, "2": 10, "3": 10, "4": 16, "5": 30, "6": 14}


def test_ezhou_has_24_scored_checkpoints_in_six_groups(tables):
    nodes = nodes_of(tables, "ezhou")
    leaves = nodes[nodes["level"] == 3]
    assert len(leaves) == sum(len(v) for v in CHECKPOINTS.values()) == 24
    for group, expected in CHECKPOINTS.items():
        mine = leaves[leaves["parent_id"] == f"ezhou:{group}"]
        assert mine["points"].tolist() == [p for p, _ in expected], group
        # each node's raw_ref ends at its 分值 cell
        last_lines = [int(r.rsplit("L", 1)[1]) for r in mine["raw_ref"]]
        assert last_lines == [line for _, line in expected], group


def test_ezhou_group_points_as_declared(tables):
    nodes = nodes_of(tables, "ezhou")
    assert {g: nodes.loc[f"ezhou:{g}", "points"] for g in DECLARED} == DECLARED
    assert nodes.loc["ezhou:targets", "points"] == 40  # 质量目标（40分） L13
    assert nodes.loc["ezhou:measures", "points"] == 60  # 质量措施（60分） L58


def test_ezhou_macro_management_declares_16_but_its_parts_sum_to_18(tables):
    mismatches = issues_of(tables, "ezhou", "total_mismatch")
    group = mismatches[mismatches["node_id"] == "ezhou:4"]
    assert group["message"].tolist() == ["质量宏观管理 declares 16 points, but its parts sum to 18"]
    scheme_level = mismatches[mismatches["node_id"].isna()]
    assert scheme_level["message"].str.contains("= 100, but its scored 考核要点 sum to 102").all()
    assert len(mismatches) == 2
    # the declared figure is kept
    assert nodes_of(tables, "ezhou").loc["ezhou:4", "points"] == 16


def test_ezhou_veto_row_is_a_veto_node_with_its_rule(tables):
    nodes = nodes_of(tables, "ezhou")
    veto = nodes.loc["ezhou:7"]
    assert veto["is_veto"] and veto["text"] == "发生区域性、系统性产品质量安全事件的,考核结果一律为D级。"  # L305
    rules = tables["rules"].set_index("node_id")
    assert rules.loc["ezhou:7", "rule_type"] == "veto"
    assert "一票否决" in rules.loc["ezhou:7", "rule_text"]  # L320


def test_ezhou_repeated_merged_text_is_read_once(tables):
    repeats = issues_of(tables, "ezhou", "repeated_header")
    assert "repeats its text 4 times" in repeats.set_index("raw_ref").loc["ezhou.txt:L58-L64", "message"]
    assert nodes_of(tables, "ezhou").loc["ezhou:measures", "title"] == "质量措施"


def test_ezhou_departments_are_assessors(tables):
    a = tables["assignments"]
    mine = a[a["node_id"] == "ezhou:3.1"]  # 市质兴办、相关部门 L56
    assert mine[["department_raw", "role"]].values.tolist() == [["市质兴办", "assessor"], ["相关部门", "collective"]]
