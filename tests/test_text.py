"""Cell text normalization keeps what the text says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare.text import clean_text, fold_width, remove_private_use


def test_full_width_ascii_and_spaces_fold():
    assert fold_width("（１２）％\u3000\xa0") == "(12)%  "


def test_private_use_symbol_digits_are_dropped():
    # changzhou.txt:L889 prints 25 between two private-use glyphs that look like 2 and 5
    assert clean_text("\uf03225\uf035") == "25"


def test_lines_of_a_chinese_cell_join_without_spaces():
    assert clean_text("城市质\n量基础\n保障有\n力") == "城市质量基础保障有力"


def test_numbered_lines_stay_on_their_own_lines():
    assert (
        clean_text("1.将质量发展目标纳入规划。\n2.根据纲要制定方案。")
        == "1.将质量发展目标纳入规划。\n2.根据纲要制定方案。"
    )


def test_circled_numbers_are_not_rewritten():
    # full NFKC would turn ① into 1; the safe fold keeps it
    assert clean_text("①达标") == "①达标"


_alphabet = st.sampled_from(list("质量目标考核，。、（）()12 ab\n\u3000\uf020．.:：①"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_alphabet, max_size=40))
def test_clean_text_is_idempotent_and_drops_no_characters(raw):
    once = clean_text(raw)
    assert clean_text(once) == once
    kept = [c for c in fold_width(remove_private_use(raw)) if not c.isspace()]
    assert [c for c in once if not c.isspace()] == kept
