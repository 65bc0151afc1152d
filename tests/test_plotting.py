"""Chinese labels render: the font is there and has every glyph we draw."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from qcompare.plotting import cjk_font_path, missing_glyphs, plot_hierarchies, plot_hierarchy, use_cjk_font


def test_the_cjk_font_ships_with_the_install():
    assert cjk_font_path().name == "NotoSansCJKsc-Regular.otf"
    assert use_cjk_font() == "Noto Sans CJK SC"
    assert matplotlib.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"


def test_the_font_has_every_character_of_every_label(committed):
    """Titles, level labels and codes are what figures draw; none may fall back."""
    nodes = committed["nodes"]
    text = "".join(str(v) for col in ("title", "level_label", "code") for v in nodes[col].dropna())
    text += "".join(committed["schemes"]["title"]) + "叶节点（按原文顺序）分(标题缺失)…"
    assert missing_glyphs(text) == []


def test_missing_glyphs_does_notice_a_character_the_font_lacks():
    # a private-use code point has no glyph in Noto Sans CJK: the check can fail
    assert missing_glyphs("质量\ue000") == ["\ue000"]


def test_rendering_every_hierarchy_raises_no_missing_glyph_warning(committed):
    scheme_ids = sorted(committed["schemes"]["scheme_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_hierarchies(committed["nodes"], scheme_ids)
        fig.canvas.draw()
    plt.close(fig)


def test_default_font_would_have_failed():
    """Without the CJK font matplotlib warns about missing glyphs: the test above
    guards against a real failure, not an imaginary one."""
    fig, ax = plt.subplots()
    ax.set_title("质量", fontfamily="DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        fig.canvas.draw()
    plt.close(fig)


def test_icicle_boxes_span_their_leaves():
    nodes = pd.DataFrame(
        {
            "scheme_id": ["s"] * 4,
            "node_id": ["s:1", "s:1.1", "s:1.2", "s:2"],
            "parent_id": [None, "s:1", "s:1", None],
            "position": [1, 2, 3, 4],
            "level": [1, 2, 2, 1],
            "level_label": ["一级", "二级", "二级", "一级"],
            "code": ["一", "1", "2", "二"],
            "title": ["甲", "乙", "丙", "丁"],
            "points": [float("nan")] * 4,
        }
    )
    fig, ax = plt.subplots()
    plot_hierarchy(nodes, "s", ax)
    widths = sorted((round(p.get_x()), round(p.get_width())) for p in ax.patches)
    assert widths == [(0, 1), (0, 2), (1, 1), (2, 1)]
    plt.close(fig)
