"""Xinbei (xinbei.txt): the plan's goals and its three annexes. Numbers read off
the source by hand and cross-checked by a second reading; comments give lines."""

from __future__ import annotations

from tests.conftest import issues_of, nodes_of


def test_xinbei_yields_four_schemes(tables):
    schemes = tables["schemes"]
    mine = schemes[schemes["document_id"] == "xinbei"]
    assert sorted(mine["scheme_id"]) == ["xinbei_departments", "xinbei_goals", "xinbei_tasks", "xinbei_towns"]
    assert (mine["year"] == 2011).all()


def test_xinbei_task_table_has_6_groups_and_20_tasks(tables):
    nodes = nodes_of(tables, "xinbei_tasks")
    groups = nodes[nodes["level"] == 1]
    sizes = nodes[nodes["level"] == 2].groupby("parent_id").size()
    assert sizes[groups.index].tolist() == [4, 2, 4, 3, 5, 2]  # L79 … L292


def test_xinbei_groups_two_and_three_share_a_title(tables):
    dup = issues_of(tables, "xinbei_tasks", "duplicate_title")
    assert dup["message"].tolist() == ["groups 2 and 3 share the title '夯实标准计量基础'"]  # L122-L128, L147-L153


def test_xinbei_empty_label_is_filled_down_and_reported(tables):
    nodes = nodes_of(tables, "xinbei_tasks")
    assert nodes.loc["xinbei_tasks:5.3", "title"] == "确保安全生产"  # L248 empty, L237-L241 above
    assert issues_of(tables, "xinbei_tasks", "filled_down")["raw_ref"].tolist() == ["xinbei.txt:L248"]


def test_xinbei_towns_ten_items_sum_to_100(tables):
    nodes = nodes_of(tables, "xinbei_towns")
    # 标准分 L316 … L418
    assert nodes["points"].tolist() == [10, 15, 10, 10, 10, 10, 10, 10, 10, 5]
    assert tables["schemes"].set_index("scheme_id").loc["xinbei_towns", "total_points"] == 100


def test_xinbei_departments_declare_100_with_a_bonus_item_inside(tables):
    nodes = nodes_of(tables, "xinbei_departments")
    assert nodes["points"].tolist() == [20, 20, 5, 25, 25, 5]  # L443 … L483
    assert nodes["is_bonus"].tolist() == [False] * 5 + [True]  # 给予适度加分 L481
    scheme = tables["schemes"].set_index("scheme_id").loc["xinbei_departments"]
    assert (scheme["total_points"], scheme["total_points_status"]) == (100, "declared")  # 考核总分为100分 L425
    note = issues_of(tables, "xinbei_departments", "bonus_in_total")
    assert note["message"].tolist() == [
        "the declared 100 points include the bonus item 6 (5); the other items sum to 95"
    ]


def test_xinbei_goals_keep_every_goal_as_a_target_text(tables):
    nodes = nodes_of(tables, "xinbei_goals")
    # （一）产品质量目标 L25 holds goals 1–8 (L26 … L40)
    assert nodes[nodes["parent_id"] == "xinbei_goals:2.1"]["code"].tolist() == [str(n) for n in range(1, 9)]
    targets = tables["targets"][tables["targets"]["scheme_id"] == "xinbei_goals"]
    printed = targets[targets["metric"].isna() & (targets["source"] == "goal text")]
    assert len(printed) == 8 + 4  # goals 1–8 and the paragraphs of （二）…（五）
    # the thresholds inside them are extracted as rows of their own: ≥92% and ≥90% (xinbei.txt:L28)
    goal_2 = targets[(targets["node_id"] == "xinbei_goals:2.1.2") & targets["metric"].notna()]
    assert sorted(goal_2["value"]) == [90.0, 92.0, 100.0]
    assert "万台设备事故率、死亡率不超过0.45" in nodes.loc["xinbei_goals:2.5", "text"]  # L53


def test_xinbei_task_departments(tables):
    a = tables["assignments"]
    task = a[a["node_id"] == "xinbei_tasks:1.1"]  # 质监分局 / 药监分局 L89-L91; L92
    assert task[["department_raw", "role"]].values.tolist()[:3] == [
        ["质监分局", "lead"],
        ["药监分局", "lead"],
        ["农业局", "support"],
    ]
    assert task["role"].iloc[-1] == "collective"  # 各镇、街道
