"""Department cells split into one mention per department (examples from the seeds)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare.accounting import squash
from qcompare.departments import split_departments


def mentions(cell: str) -> list[tuple[str, str | None, bool]]:
    return [(m.raw, m.qualifier, m.is_collective) for m in split_departments(cell)]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # changzhou.txt:L155
        ("市经信委、建设局、发改委", [("市经信委", None, False), ("建设局", None, False), ("发改委", None, False)]),
        # changzhou.txt:L340
        ("市发改委等相关成员单位", [("市发改委", "等", False), ("相关成员单位", None, True)]),
        # changzhou.txt:L1221
        (
            "市发改委、旅游局及相关成员单位，各辖市、区政府",
            [
                ("市发改委", None, False),
                ("旅游局", None, False),
                ("相关成员单位", None, True),
                ("各辖市、区政府", None, True),
            ],
        ),
        # quzhou.txt:L520
        (
            "市市场监管局、市农业局、市水利局、市林业局分工负责",
            [
                ("市市场监管局", None, False),
                ("市农业局", None, False),
                ("市水利局", None, False),
                ("市林业局", "分工负责", False),
            ],
        ),
        # quzhou.txt:L749 — the bracketed list stays one collective
        (
            "衢州绿色产业集聚区、市西区管委会、各县（市、区）",
            [("衢州绿色产业集聚区", None, False), ("市西区管委会", None, False), ("各县（市、区）", None, True)],
        ),
        # xinbei.txt:L282-L283
        ("区各部门、\n各镇、街道", [("区各部门", None, True), ("各镇、街道", None, True)]),
        # xinbei.txt:L269-L271
        (
            "质监分局、\n药监分局、\n安监局",
            [("质监分局", None, False), ("药监分局", None, False), ("安监局", None, False)],
        ),
        # changzhou.txt:L516-L517 — a name broken over two lines
        ("人行中心\n支行", [("人行中心支行", None, False)]),
        # changzhou.txt:L483-L485 — two names on two lines
        ("市食药监局\n\n市质监局", [("市食药监局", None, False), ("市质监局", None, False)]),
        # quzhou.txt:L293
        ("市创强办牵头", [("市创强办", "牵头", False)]),
    ],
)
def test_department_cells_from_the_seeds(cell, expected):
    assert mentions(cell) == expected


_piece = st.sampled_from(["市质监局", "建设局", "领导小组相关成员单位", "各镇、街道", "市创强办牵头", "市商务局等"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_piece, min_size=1, max_size=6), st.sampled_from(["、", "，", "\n", "、\n"]))
def test_splitting_loses_no_character(pieces, separator):
    cell = separator.join(pieces)
    rebuilt = "".join(m.raw + (m.qualifier or "") for m in split_departments(cell))
    assert squash(rebuilt) == squash(cell)


# --- resolution to canonical departments (every string is real, from the seeds) ---


def _ids(tables, scheme_id: str, raw: str) -> set[str]:
    a = tables["assignments"]
    rows = a[(a["scheme_id"] == scheme_id) & (a["department_raw"] == raw)]
    assert len(rows), f"{raw} not printed in {scheme_id}"
    return set(rows["department_id"])


SAME_DEPARTMENT = [
    # (scheme, printed name) pairs a reader calls the same body
    ("quality_supervision", [("nantong", "市质监局"), ("ezhou", "质监局"), ("xinbei_tasks", "质监分局")]),
    (
        "construction",
        [
            ("changzhou", "市建设局"),
            ("changzhou", "建设局"),
            ("ezhou", "市住建委"),
            ("ezhou", "住建委"),
            ("quzhou_tasks", "市住建局"),
            ("xinbei_tasks", "城建局"),
        ],
    ),
    (
        "entry_exit_inspection",
        [
            ("nantong", "南通检验检疫局"),
            ("changzhou", "常州国检局"),
            ("ezhou", "鄂州出入境检验检疫局"),
            ("quzhou_tasks", "市检验检疫局"),
            ("nantong", "检验检疫局"),
        ],
    ),
    (
        "transport",
        [("nantong", "市交运局"), ("changzhou", "市交通局"), ("quzhou_tasks", "市交通运输局"), ("ezhou", "交通局")],
    ),
    ("health", [("nantong", "市卫计委"), ("quzhou_tasks", "市卫生计生委"), ("ezhou", "卫生局")]),
    (
        "food_drug",
        [
            ("nantong", "市食药局"),
            ("changzhou", "市食药监局"),
            ("ezhou", "市食品药品监管局"),
            ("xinbei_tasks", "药监分局"),
        ],
    ),
    ("human_resources", [("nantong", "市人社局"), ("quzhou_tasks", "市人力社保局")]),
    ("tourism", [("nantong", "市旅游局"), ("quzhou_tasks", "市旅委"), ("quzhou_tasks", "市旅游")]),
    ("establishment_office", [("quzhou_tasks", "市编办"), ("quzhou_tasks", "市编委办")]),
    ("pboc_branch", [("nantong", "人行南通支行"), ("changzhou", "人行中心支行"), ("quzhou_tasks", "市人行")]),
    ("agriculture", [("nantong", "市农委"), ("quzhou_tasks", "市农业局"), ("xinbei_tasks", "农业局")]),
    ("government_office", [("nantong", "市政府办"), ("quzhou_tasks", "市政府办公室")]),
    ("quality_city_office", [("ezhou", "市质兴办"), ("quzhou_tasks", "市创强办")]),
    ("economy_it", [("nantong", "市经信委"), ("quzhou_tasks", "市经信")]),
]


@pytest.mark.parametrize(("department_id", "spellings"), SAME_DEPARTMENT, ids=[d for d, _ in SAME_DEPARTMENT])
def test_spellings_of_one_department_resolve_to_one_id(tables, department_id, spellings):
    for scheme_id, raw in spellings:
        assert _ids(tables, scheme_id, raw) == {department_id}, raw


SIDE_BY_SIDE = [
    # bodies printed in the same scheme (often the same cell) that must stay distinct
    ("quzhou_tasks", ["市质监局", "市市场监管局"]),  # quzhou.txt:L381
    ("nantong", ["市质监局", "市工商局", "市食药局"]),  # nantong.txt:L263
    ("xinbei_tasks", ["国税局", "地税四分局"]),  # xinbei.txt:L200
    ("nantong", ["市农委", "市海洋与渔业局", "市粮食局"]),  # nantong.txt:L305
    ("changzhou", ["市建设局", "市房管局"]),  # changzhou.txt:L1099
    ("quzhou_tasks", ["市政府办公室", "市委办公室"]),  # quzhou.txt:L294
    ("ezhou", ["质监局", "质兴办"]),  # ezhou.txt:L106, L123
    ("quzhou_tasks", ["市农业局", "市林业局", "市水利局"]),  # quzhou.txt:L783
    ("xinbei_tasks", ["西夏墅镇", "孟河镇"]),  # xinbei.txt:L260-L261
]


@pytest.mark.parametrize(("scheme_id", "names"), SIDE_BY_SIDE)
def test_departments_side_by_side_keep_separate_ids(tables, scheme_id, names):
    ids = [_ids(tables, scheme_id, raw) for raw in names]
    assert all(len(i) == 1 for i in ids)
    assert len(set().union(*ids)) == len(names)


@pytest.mark.parametrize(
    "placeholder",
    [
        "领导小组相关成员单位",
        "领导小组成员单位",
        "各镇、街道",
        "各辖市、区政府",
        "区各部门",
        "相关部门",
        "各县（市、区）",
        "相关成员单位",
    ],
)
def test_collective_placeholders_never_count_as_departments(tables, placeholder):
    a = tables["assignments"]
    rows = a[a["department_raw"] == placeholder]
    assert len(rows)
    assert (rows["role"] == "collective").all()
    assert rows["department_id"].isna().all()


def test_every_printed_name_resolves(tables):
    a = tables["assignments"]
    named = a[a["role"] != "collective"]
    assert named["department_id"].notna().all()
    assert tables["data_issues"].query("kind == 'unknown_department'").empty


def test_a_name_the_registry_lacks_is_reported(tables):
    from qcompare.departments import load_registry, resolve_assignments

    registry = load_registry()
    registry = registry[registry["department_id"] != "grain"]  # 市粮食局, Nantong only
    resolved = resolve_assignments({k: v for k, v in tables.items() if k != "departments"}, registry)
    unknown = resolved["data_issues"].query("kind == 'unknown_department'")
    assert set(unknown["evidence"]) == {"市粮食局"}
    assert len(unknown) == 10  # 市粮食局 is named ten times in nantong.txt
    assert set(unknown["scheme_id"]) == {"nantong"}


def test_list_prefix_is_carried(tables):
    a = tables["assignments"]
    cell = a[(a["node_id"] == "changzhou:6.1") & (a["role"] == "support")]  # changzhou.txt:L155
    assert cell["department_name"].tolist() == ["市经信委", "市建设局", "市发改委"]


def test_registry_aliases_are_unique_and_successors_named():
    from qcompare.departments import load_registry

    registry = load_registry()
    assert registry["department_id"].is_unique
    assert (registry["successor_2018"] != "").all() and (registry["successor_id"] != "").all()
    succ = registry.set_index("department_id")["successor_2018"]
    # the 2018 reform as the issue states it
    assert succ["quality_supervision"] == succ["industry_commerce"] == succ["food_drug"] == "市场监督管理局"
    assert succ["entry_exit_inspection"] == "海关"
    assert succ["agriculture"] == "农业农村局"
    assert succ["environment"] == "生态环境局"
    assert succ["health"] == "卫生健康委员会"
    assert succ["work_safety"] == "应急管理局"
    assert succ["tourism"] == "文化和旅游局"
    assert succ["state_tax"] == succ["local_tax"] == "税务局"
