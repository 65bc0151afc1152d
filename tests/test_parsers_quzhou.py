"""Quzhou (quzhou.txt): Annex 1 targets and Annex 2 tasks. Numbers read off the
source by hand and cross-checked by a second reading; comments give lines."""

from __future__ import annotations

from tests.conftest import issues_of, nodes_of


def test_quzhou_targets_has_35_indicators_and_40_target_rows(tables):
    nodes = nodes_of(tables, "quzhou_targets")
    indicators = nodes[nodes["level"] == 3]
    assert indicators["code"].tolist() == [str(n) for n in range(1, 36)]
    targets = tables["targets"][tables["targets"]["scheme_id"] == "quzhou_targets"]
    assert len(targets) == 40


def test_quzhou_indicators_with_several_target_rows(tables):
    nodes = nodes_of(tables, "quzhou_targets")
    children = nodes[nodes["level"] == 4].groupby("parent_id").size().to_dict()
    # 1: L11-L22 (2 rows), 17: L127-L153 (4 rows), 18: L157-L170 (2 rows)
    assert children == {"quzhou_targets:1": 2, "quzhou_targets:17": 4, "quzhou_targets:18": 2}


def test_quzhou_target_values_are_read(tables):
    t = tables["targets"].set_index("node_id")
    assert tuple(t.loc["quzhou_targets:1.a", ["comparator", "value", "unit"]]) == ("≥", 90.0, "%")  # L15
    assert tuple(t.loc["quzhou_targets:10", ["comparator", "value", "unit"]]) == ("=", 100.0, "%")  # L85
    assert t.loc["quzhou_targets:5", "comparator"] == "top_n"  # 前10位 L47
    assert t.loc["quzhou_targets:7", "raw"] == "低于全国平均水平"  # L60-L62
    nodes = nodes_of(tables, "quzhou_targets")
    # 9, 10, 11 share one merged 指标 cell (L75-L76): 工程一次验收合格率
    assert nodes.loc["quzhou_targets:10", "text"] == "工程一次验收合格率(其他工程)"


def test_quzhou_tasks_has_10_sections_50_items_122_tasks(tables):
    counts = nodes_of(tables, "quzhou_tasks").groupby("level").size().to_dict()
    assert counts == {1: 10, 2: 50, 3: 122}


def test_quzhou_sections_five_to_ten_lack_numbers(tables):
    missing = issues_of(tables, "quzhou_tasks", "missing_numbering")
    # L696, L765, L848, L929, L1009, L1057
    assert missing["raw_ref"].tolist() == [f"quzhou.txt:L{n}" for n in (696, 765, 848, 929, 1009, 1057)]
    nodes = nodes_of(tables, "quzhou_tasks")
    assert nodes.loc["quzhou_tasks:s5", "title"] == "质量宏观管理成效明显"
    assert nodes.loc["quzhou_tasks:s5", "code"] != nodes.loc["quzhou_tasks:s5", "code"]  # empty (NaN)


def test_quzhou_lead_marks(tables):
    a = tables["assignments"]
    mine = a[a["scheme_id"] == "quzhou_tasks"]
    # 82 tasks carry a 牵头 mark, always in their first responsibility cell
    assert mine[mine["role"] == "lead"]["node_id"].nunique() == 82
    assert (mine[mine["role"] == "lead"]["qualifier"] == "牵头").all()
    task = mine[mine["node_id"] == "quzhou_tasks:11.2"]  # L452-L453
    assert task[["department_raw", "role"]].values.tolist() == [
        ["市农业局", "lead"],
        ["市水利局", "support"],
        ["市林业局", "support"],
        ["市质监局", "support"],
    ]
    # a single responsibility cell without a mark names responsible units
    single = mine[mine["node_id"] == "quzhou_tasks:19.1"]  # L611
    assert single["role"].tolist() == ["responsible", "responsible"]


def test_quzhou_shared_duty_suffix_and_collectives(tables):
    a = tables["assignments"]
    task = a[a["node_id"] == "quzhou_tasks:20.1"]  # L624
    assert task["department_raw"].iloc[-1] == "领导小组相关成员单位"
    assert task["role"].iloc[-1] == "collective"
    assert task["qualifier"].iloc[-1] == "分工负责"
    assert task["department_raw"].iloc[-2] == "市商务局" and task["qualifier"].iloc[-2] == "等"
