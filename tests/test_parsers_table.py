"""The parser of imported tables, on the example scheme and tiny tables.

The example (qcompare.examples) was written by hand so every number here
can be checked by eye: 质量目标 declares 40 = 产品质量 20 (one 分值 cell
merged over two tasks) + 工程质量 10 + 服务质量 10; 质量工作 declares
60 = 10 + 20 + 30; a bonus capped at 5; one veto.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcompare import examples
from qcompare.accounting import unaccounted_in_text
from qcompare.errors import InputError
from qcompare.importing import plan_import
from qcompare.parsers.table import ImportSpec, parse_table
from qcompare.tables import records_to_tables


@pytest.fixture(scope="module", params=["docx", "xlsx"])
def merged_plan(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    writer = examples.write_docx if request.param == "docx" else examples.write_xlsx
    return plan_import(writer(folder / f"scheme.{request.param}"), "demo")


def _nodes(plan):
    return {n["node_id"]: n for n in plan.document.schemes[0].nodes}


def test_hierarchy_and_levels(merged_plan):
    nodes = _nodes(merged_plan)
    assert len(nodes) == 20
    assert [sum(1 for n in nodes.values() if n["level"] == level) for level in (1, 2, 3)] == [4, 8, 8]
    assert [n["title"] for n in nodes.values() if n["level"] == 1] == ["质量目标", "质量工作", "加分项", "一票否决"]
    assert nodes["demo:1.1.2"]["parent_id"] == "demo:1.1"  # 产品质量, merged down over two tasks
    assert nodes["demo:1.1"]["level_label"] == "二级指标"


def test_merged_points_belong_to_the_node_they_span(merged_plan):
    nodes = _nodes(merged_plan)
    assert (nodes["demo:1.1"]["points"], nodes["demo:1.1"]["points_status"]) == (20.0, "declared")
    assert nodes["demo:1.1.1"]["points"] is None and nodes["demo:1.1.2"]["points"] is None
    assert (nodes["demo:1"]["points"], nodes["demo:1"]["points_status"]) == (40.0, "declared")  # from 质量目标（40分）
    assert (nodes["demo:2.1"]["points"], nodes["demo:2.1"]["points_status"]) == (10.0, "derived_sum")
    rules = merged_plan.document.schemes[0].rules
    assert [r["node_id"] for r in rules][:2] == ["demo:1.1", "demo:1.2.1"]  # the merged rule goes with its points
    assert not [i for i in merged_plan.document.schemes[0].data_issues if i["kind"] == "total_mismatch"]


def test_merged_lead_is_inherited_by_every_row_it_covers(merged_plan):
    assignments = merged_plan.document.schemes[0].assignments
    leads = [(a["node_id"], a["department_raw"], a["inherited"]) for a in assignments if a["role"] == "lead"][:2]
    assert leads == [("demo:1.1.1", "县市场监管局", False), ("demo:1.1.2", "县市场监管局", True)]
    supports = [a["department_raw"] for a in assignments if a["node_id"] == "demo:2.2.1" and a["role"] == "support"]
    assert supports == ["县科技局", "县财政局"]


def test_scheme_row_bonus_and_veto(merged_plan):
    nodes = _nodes(merged_plan)
    scheme = merged_plan.document.schemes[0].scheme
    assert (scheme["total_points"], scheme["total_points_status"], scheme["bonus_cap"]) == (100.0, "declared", 5.0)
    assert scheme["has_bonus"] and scheme["has_veto"]
    assert nodes["demo:3.1.1"]["is_bonus"] and nodes["demo:4.1"]["is_veto"]
    assert scheme["title"] == examples.EXAMPLE_TITLE and scheme["year"] == 2024
    assert scheme["level_labels"] == "一级指标 | 二级指标 | 考核内容"
    assert scheme["department_role"] == "owner"


def test_every_line_of_the_text_is_accounted_for(merged_plan):
    tables = records_to_tables([merged_plan.document])
    assert unaccounted_in_text(tables, "demo.txt", merged_plan.text) == []


def test_gbk_text_export_loses_the_merges_and_says_so(tmp_path: Path):
    """The tab-text export keeps no merge marks: the 20 points land on the first
    task, its lead on the first task only, and the 40 no longer adds up — which
    the data reports instead of hiding."""
    path = examples.write_text(tmp_path / "scheme.txt", encoding="gbk", newline="\r\n", full_width_digits=True)
    plan = plan_import(path, "demo")
    nodes = _nodes(plan)
    assert plan.spec.encoding == "gb18030" and plan.spec.merges == []
    assert nodes["demo:1.1.1"]["points"] == 20.0  # "２０" folded to 20
    assert nodes["demo:1.1"]["points"] is None
    issues = [i["message"] for i in plan.document.schemes[0].data_issues if i["kind"] == "total_mismatch"]
    assert issues == ["质量目标 declares 40 points, but its parts sum to 20"]
    assert plan.document.schemes[0].scheme["total_points"] == 100.0


def _spec(columns, merges=()):
    return ImportSpec(
        original="t.txt",
        original_sha256="",
        source_format="text",
        source_table="t",
        columns=columns,
        merges=list(merges),
    )


def _text(*rows):
    return "\n\n".join("\n".join("\t" + cell for cell in row) for row in rows) + "\n"


def test_filled_down_values_repeat_one_node_but_leaves_never_merge():
    text = _text(["一级指标", "考核内容", "分值"], ["质量目标", "合格率", "5"], ["质量目标", "合格率", "5"])
    nodes = parse_table(text, "t.txt", "t", _spec(["level1", "content", "points"])).schemes[0].nodes
    assert [(n["node_id"], n["points"]) for n in nodes] == [("t:1", 10.0), ("t:1.1", 5.0), ("t:1.2", 5.0)]


def test_unmapped_cells_and_bad_points_are_kept_as_issues():
    text = _text(["考核内容", "分值", "说明"], ["建立档案", "五分", "见附件"])
    builder = parse_table(text, "t.txt", "t", _spec(["content", "points", None])).schemes[0]
    kinds = {(i["kind"], i["evidence"]) for i in builder.data_issues}
    assert ("unexpected_value", "五分") in kinds and ("unparsed_text", "见附件") in kinds
    assert builder.nodes[0]["points"] is None


def test_a_header_only_table_is_a_parse_error():
    with pytest.raises(InputError, match=r"t\.txt, line 2: expected at least one row with an indicator"):
        parse_table(_text(["考核内容", "分值"]), "t.txt", "t", _spec(["content", "points"]))


ROLES = st.sampled_from(["level1", "level2", "content", "points", "rule", "lead", "support", "deadline", None])
CELL = st.text(alphabet=st.sampled_from(list("质量目标考核5１0分、，（）县局 \u3000\n")), max_size=8)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.lists(ROLES, min_size=1, max_size=5).filter(
        lambda c: any(r in ("level1", "level2", "content") for r in c)
    ),
    data=st.data(),
)
def test_any_table_parses_without_loss_or_raises_input_error(columns, data):
    width = len(columns)
    rows = data.draw(st.lists(st.lists(CELL, min_size=width, max_size=width), min_size=0, max_size=6))
    lines = [["H" + str(c) for c in range(width)]]
    lines += [[" ".join(cell.split()) or "" for cell in row] for row in rows]  # one line per cell
    text = _text(*lines)
    try:
        result = parse_table(text, "t.txt", "t", _spec(columns))
    except InputError as err:
        assert str(err).startswith("t.txt, line ")
        return
    assert unaccounted_in_text(records_to_tables([result]), "t.txt", text) == []
