"""Header detection and mapping files."""

from __future__ import annotations

from pathlib import Path

import pytest

from qcompare.errors import InputError
from qcompare.mapping import detect_header, header_role, load_mapping
from qcompare.sources import SourceCell, SourceTable


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("一级指标", "level1"),
        ("二级指标", "level2"),
        ("三级指标", "level3"),
        ("考核内容", "content"),
        ("考核要点", "point"),
        ("考核指标", "indicator"),
        ("分值", "points"),
        ("标准分", "points"),
        ("分　值", "points"),
        ("分值（分）", "points"),
        ("评分标准", "rule"),
        ("考核评分方法", "rule"),
        ("验收方式", "verification"),
        ("牵头单位", "lead"),
        ("责任单位", "responsible"),
        ("配合单位", "support"),
        ("考核部门", "assessor"),
        ("完成时间", "deadline"),
        ("目标值", "target"),
        ("2015年目标值", "target"),
        ("序号", "code"),
        ("备注", "note"),
        ("这一格写的是一大段说明文字而不是表头", None),
        ("", None),
    ],
)
def test_header_role(header, role):
    assert header_role(header) == role


def _table(*rows: list[str]) -> SourceTable:
    return SourceTable(
        "x.xlsx", "sheet 1", [[SourceCell(t, f"r{r}c{c}") for c, t in enumerate(row)] for r, row in enumerate(rows)]
    )


def test_detect_header_skips_title_rows_and_needs_a_hierarchy_column():
    table = _table(
        ["某县质量工作考核表", "", ""],
        ["序号", "分值", "备注"],
        ["考核内容", "分值", "牵头单位"],
        ["建立档案", "5", "县市场监管局"],
    )
    assert detect_header(table) == (2, ["content", "points", "lead"])
    assert detect_header(_table(["分值", "评分标准"], ["5", "扣分"])) is None


def test_toml_and_yaml_mapping(tmp_path: Path):
    toml = tmp_path / "m.toml"
    toml.write_text(
        'table = "sheet 考核表"\nheader_row = 3\n[columns]\n"考核项目" = "level1"\nE = "ignore"\n'
        '[scheme]\ncity = "某市"\nyear = 2016\n',
        encoding="utf-8",
    )
    mapping = load_mapping(toml)
    assert mapping.table == "sheet 考核表" and mapping.header_row == 3
    assert mapping.columns == {"考核项目": "level1", "E": "ignore"}
    assert mapping.scheme.city == "某市" and mapping.scheme.admin_level == "county"
    yaml = tmp_path / "m.yaml"
    yaml.write_text("columns:\n  考核项目: level1\nscheme:\n  admin_level: district\n", encoding="utf-8")
    assert load_mapping(yaml).scheme.admin_level == "district"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad_role.toml", '[columns]\n"考核项目" = "level9"\n', r"key columns\.考核项目: .*roles are level1"),
        ("typo.toml", "header_rows = 3\n", r"key header_rows: Extra inputs are not permitted"),
        ("zero.toml", "header_row = 0\n", r"key header_row: Input should be greater than or equal to 1"),
        ("syntax.toml", "header_row = \n", r"not valid TOML"),
        ("syntax.yaml", "columns: [a\n", r"line \d+: not valid YAML"),
        ("list.yaml", "- a\n- b\n", r"must be a table of keys"),
        ("level.yaml", "scheme:\n  admin_level: town\n", r"key scheme\.admin_level"),
        ("m.json", "{}", r"unknown mapping format '\.json'"),
    ],
)
def test_bad_mapping_names_the_key_and_a_fix(tmp_path: Path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        load_mapping(path)
    assert caught.value.fix


def test_mapping_must_be_utf8_and_exist(tmp_path: Path):
    path = tmp_path / "gbk.toml"
    path.write_bytes('[scheme]\ncity = "苏州市"\n'.encode("gbk"))
    with pytest.raises(InputError, match="must be UTF-8"):
        load_mapping(path)
    with pytest.raises(InputError, match="no such mapping file"):
        load_mapping(tmp_path / "absent.toml")
