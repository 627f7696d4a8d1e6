"""The hidden-markup rules' pre-test: a part is searched only where its literal word occurs.

Each CSS part (``unicode._CSS_PARTS``) starts with a literal word and is searched in the
lower-cased text, so a text without the word has no match of it: the pre-test only skips
searches that cannot match (the model: tests/detectors/test_secret_prechecks.py).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.detectors import unicode

FRAGMENTS = st.sampled_from(
    ["display", "DISPLAY", ":", " ", "none", "visibility", "hidden", "font-size", "0", "px",
     "opacity", "0.0", "color", "Color", "transparent", "\t", "x", "\u0131", "\u017f", "\u00e9",
     "style=", ";", "e"]
)  # fmt: skip


def test_every_part_starts_with_its_word() -> None:
    for part, word in zip(unicode._CSS_PARTS, unicode._CSS_WORDS, strict=True):
        assert word.isalpha() or word == "font-size"
        assert part.startswith(word)
        assert re.escape(word) == word.replace("-", "\\-")  # no metacharacter inside it
        assert unicode._HIDDEN_CSS_LOW[unicode._CSS_PARTS.index(part)].pattern == part


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(FRAGMENTS, max_size=30).map("".join))
def test_the_pretest_changes_no_finding(text: str) -> None:
    low = text.lower()
    if len(low) == len(text) and (low.isascii() or ("\u0131" not in low and "\u017f" not in low)):
        reference = sorted(m.span() for rx in unicode._HIDDEN_CSS_LOW for m in rx.finditer(low))
        if ":" in low:
            assert unicode._hidden_css(text) == reference
        else:
            assert reference == []
    else:
        assert unicode._hidden_css(text) == [m.span() for m in unicode._HIDDEN_CSS.finditer(text)]
