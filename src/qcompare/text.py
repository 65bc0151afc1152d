"""Normalize Chinese cell text without changing what it says.

The raw cell text is always kept beside the normalized text (``text_raw``
in the nodes table), so every change made here can be audited.

What :func:`clean_text` does, and nothing more:

* removes private-use glyphs (U+E000–U+F8FF: symbol-font bullets the Word
  export left behind);
* folds full-width ASCII (``（１）`` → ``(1)``, ``％`` → ``%``) and the
  ideographic and no-break spaces to their plain forms.  This is the part
  of NFKC that is safe for these documents; full NFKC would also rewrite
  ``①`` → ``1`` and ``²`` → ``2``, which changes meaning, so it is not used;
* joins the lines of a cell: no space where a line break falls between
  Chinese characters (the export breaks words mid-line), a single space
  between two Latin letters or digits, and a newline kept before a line
  that starts a numbered item (``2.``, ``（3）``) so lists stay lists;
* collapses runs of spaces, and drops spaces that touch a Chinese
  character or Chinese punctuation (``考 核 要 点`` → ``考核要点``).

Examples
--------
>>> clean_text("考 核 要 点")
'考核要点'
>>> clean_text("推动开展质量改\\n\\n进活动（10分）")
'推动开展质量改进活动(10分)'
>>> clean_text("1.达到目标值，得10分。   \\n2.未达到目标值")
'1.达到目标值,得10分。\\n2.未达到目标值'
>>> clean_text("GB/T\\n50362-2005")
'GB/T 50362-2005'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "PRIVATE_USE",
    "clean_text",
    "fold_width",
    "is_cjk",
    "remove_private_use",
]

PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_LIST_START = re.compile(r"^\s*(\d{1,2}\s*[.．、]|[（(]\d{1,3}[）)]|[一二三四五六七八九十]+、)")
_SPACES = re.compile(r"[ \t]+")


def remove_private_use(text: str) -> str:
    """Remove private-use code points.

    >>> remove_private_use("a\\uf020b")
    'ab'
    """
    return PRIVATE_USE.sub("", text)


def fold_width(text: str) -> str:
    """Fold full-width ASCII and special spaces to their plain forms.

    >>> fold_width("（１２）ＡＢ％\\u3000x")
    '(12)AB% x'
    """
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif ch in "\u3000\xa0":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def is_cjk(ch: str) -> bool:
    """True for a Chinese character or Chinese punctuation.

    >>> is_cjk("质"), is_cjk("、"), is_cjk("“"), is_cjk("a")
    (True, True, True, False)
    """
    if not ch:
        return False
    code = ord(ch)
    if 0x3000 <= code <= 0x303F or 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return True
    if 0x2010 <= code <= 0x206F:  # dashes, quotes, ellipsis, per-mille
        return True
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _join_lines(lines: list[str]) -> str:
    out = ""
    for line in lines:
        if not out:
            out = line
            continue
        if _LIST_START.match(line):
            out = out.rstrip() + "\n" + line.lstrip()
            continue
        left, right = out.rstrip(), line.lstrip()
        latin_on_both_sides = bool(left and right) and not is_cjk(left[-1]) and not is_cjk(right[0])
        out = left + (" " if latin_on_both_sides else "") + right
    return out


def _drop_spaces_near_cjk(text: str) -> str:
    chars = list(text)
    kept: list[str] = []
    for i, ch in enumerate(chars):
        if ch == " ":
            prev = kept[-1] if kept else ""
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if not prev or not nxt or prev == "\n" or nxt == "\n":
                continue
            if is_cjk(prev) or is_cjk(nxt):
                continue
        kept.append(ch)
    return "".join(kept)


def clean_text(raw: str) -> str:
    """Normalize one cell's raw text (see the module docstring).

    >>> clean_text("")
    ''
    """
    text = fold_width(remove_private_use(raw))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    joined = _join_lines([line for line in lines if line])
    return "\n".join(_drop_spaces_near_cjk(part) for part in joined.split("\n")).strip()
