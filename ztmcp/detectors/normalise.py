# ruff: noqa: RUF001, RUF002  (look-alike letters are what this module folds)
"""Normalisation before the rules: the text a model reads, not the code points it arrives in.

A model reads ``іgnоrе`` (Cyrillic і, о, е), ``𝐢𝐠𝐧𝐨𝐫𝐞`` (mathematical bold), ``ig\\u00adnore``
(a soft hyphen) and ``&#105;gnore`` as "ignore"; keyword rules did not. ``views`` gives, for
the parts of a text that normalisation changes, the text as folded, so the rules can run on
it as well:

1. Unicode tag characters (U+E0020…E007E) become the ASCII they spell, and a run of variation
   selectors ("emoji smuggling": one byte per selector, VS1–16 for 0–15 and VS17–256 for
   16–255) becomes the UTF-8 text its bytes spell, as a view of its own.
2. HTML character references (``&#105;``, ``&#x69;``, ``&lt;``) are decoded.
3. Compatibility forms that spell ASCII letters and digits (fullwidth, mathematical
   alphanumerics, circled and parenthesised letters, letterlike symbols) become those letters:
   NFKC restricted to the characters whose NFKC form is ASCII.
4. Default-ignorable code points (soft hyphen, zero-width characters, bidi marks, variation
   selectors, Hangul fillers, …; Unicode's ``Default_Ignorable_Code_Point``) are removed.
5. Confusables (Unicode TR39's skeleton, a compact table for Cyrillic, Greek, Armenian and a
   few Latin look-alikes) become the Latin letter they imitate in a word that mixes them with
   ASCII letters (TR39's mixed-script confusable): ``іgnоrе`` (Cyrillic і, о, е around Latin
   g, n, r) is folded; Russian text is not touched, so the language rules still see it and a
   Russian page costs no rescan.

Cheap pre-checks keep ordinary text free: an ASCII text without ``&`` has no view at all, and
only the lines that change are returned (a page with one folded line rescans one line).
Everything is linear: one regex pass over the text and per-line work on changed lines only.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, Final

from ztmcp.detectors.lazyre import LazyPattern, compile_now

# -- tables ----------------------------------------------------------------------------------
# Default_Ignorable_Code_Point (DerivedCoreProperties.txt), tag characters aside (decoded).
_IGNORABLE_RANGES: Final = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE001F),
    (0xE007F, 0xE0FFF),
)
# TR39 confusables (confusables.txt, "MA" table) whose prototype is one ASCII letter: the
# Cyrillic, Greek and Armenian letters that render like Latin ones, and Latin variants.
_CONFUSABLES: Final = dict(
    zip(
        "авеёіїјкмнорстухѕԁԛԝһӏүɡʏьАВЕЁІЇЈКМНОРСТ"
        "УХЅԀԚԜҺӀҮЬαβγεικνορτυχϲϳωΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹ"
        "ահոսօցզıſɑɩʋℓ",
        "abeeiijkmhopctyxsdqwhlygybABEEIIJKMHOPCT"
        "YXSDQWHIYbabyeikvoptuxcjwABEZHIKMNOPTYXC"
        "whnuogqisaiul",
        strict=True,
    )
)
_CONFUSABLE_CHARS: Final = "".join(sorted(_CONFUSABLES))


# Blocks whose characters may fold to ASCII letters or digits under NFKC (fullwidth forms,
# mathematical alphanumerics, letterlike symbols, enclosed alphanumerics, super- and
# subscripts, the ideographic space): what the folding table covers and the cheap test finds.
_COMPAT_RANGES: Final = (
    (0xFF01, 0xFF5E),
    (0x1D400, 0x1D7FF),
    (0x2100, 0x214F),
    (0x2460, 0x24FF),
    (0x1F130, 0x1F189),
    (0x2070, 0x209F),
    (0x3000, 0x3000),
)


def _compat_table() -> dict[int, str]:
    """Characters whose NFKC form is ASCII letters or digits (fullwidth, mathematical, …)."""
    table: dict[int, str] = {}
    for lo, hi in _COMPAT_RANGES:
        for cp in range(lo, hi + 1):
            folded = unicodedata.normalize("NFKC", chr(cp))
            if folded != chr(cp) and folded.isascii() and folded.strip():
                table[cp] = folded
    table[0x3000] = " "
    return table


@functools.cache
def _translate() -> dict[int, str | None]:
    """The folding table: built at its first use (ASCII text never needs it), then kept."""
    return {
        **_compat_table(),
        **{cp: None for lo, hi in _IGNORABLE_RANGES for cp in range(lo, hi + 1)},
        **{0xE0000 + i: chr(i) for i in range(0x20, 0x7F)},
    }


_SPECIAL: Final = LazyPattern(
    "["
    + "".join(
        f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" if hi > lo else re.escape(chr(lo))
        for lo, hi in (
            *_IGNORABLE_RANGES,
            (0xE0020, 0xE007E),
            *_COMPAT_RANGES,
            (0xE0100, 0xE01EF),
        )
    )
    + "]"
)
_ENTITY: Final = LazyPattern(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A word (letters only) that mixes ASCII letters and look-alikes: TR39's mixed-script
# confusable. Tried at word starts only (the look-behind), so each word is read twice at most.
_MIXED_WORD: Final = LazyPattern(
    r"(?<![^\W\d_])(?=[^\W\d_]*[A-Za-z])(?=[^\W\d_]*[" + re.escape(_CONFUSABLE_CHARS) + r"])"
    r"[^\W\d_]+"
)
# Every look-alike word worth folding has a look-alike next to an ASCII letter: the cheap test.
_MIXED_PAIR: Final = LazyPattern(
    "[A-Za-z][" + re.escape(_CONFUSABLE_CHARS) + "]|[" + re.escape(_CONFUSABLE_CHARS) + "][A-Za-z]"
)
_CONFUSABLE_TABLE: Final = str.maketrans(_CONFUSABLES)
_IGNORABLE: Final = LazyPattern(
    "["
    + "".join(
        f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" if hi > lo else re.escape(chr(lo))
        for lo, hi in _IGNORABLE_RANGES
    )
    + "]"
)
_VS_RUN: Final = LazyPattern("[\ufe00-\ufe0f\U000e0100-\U000e01ef]{4,}")


class _Any:
    """Whether a character class occurs in a long text: one RE2 pass over its UTF-8 (Python's
    ``re`` tests a large Unicode class by a search per character); ``re`` without RE2. Both
    are compiled at the first use that needs them (``ready`` compiles them now): most texts
    are ASCII and never get here, and ``ztmcp run``'s first answer does not wait for them."""

    def __init__(self, rx: LazyPattern) -> None:
        self._rx = rx
        self._re2: Any = _NOT_YET

    def _compile_re2(self) -> Any:
        try:
            import re2  # type: ignore[import-untyped, unused-ignore]

            options = re2.Options()
            options.log_errors = False
            options.never_capture = True
            compiled: Any = re2.compile(self._rx.pattern, options)
        except Exception:  # no RE2, or it refuses the class: ``re`` decides alone
            compiled = None
        self._re2 = compiled  # two threads that race compile the same pattern
        return compiled

    def ready(self) -> None:
        """Compile both now (the warm-up)."""
        compile_now((self._rx,))
        if self._re2 is _NOT_YET:
            self._compile_re2()

    def __call__(self, text: str) -> bool:
        if len(text) < _LONG:
            return self._rx.search(text) is not None
        compiled = self._re2
        if compiled is _NOT_YET:
            compiled = self._compile_re2()
        if compiled is None:
            return self._rx.search(text) is not None
        return compiled.search(text.encode("utf-8")) is not None


_NOT_YET: Final = object()
_LONG: Final = 4096
_has_special: Final = _Any(_SPECIAL)
_has_mixed_pair: Final = _Any(_MIXED_PAIR)
has_ignorable: Final = _Any(_IGNORABLE)

# Every pattern above, compiled at first use; ``warm_up`` compiles them (and the table) now.
PATTERNS: Final = (_SPECIAL, _ENTITY, _MIXED_WORD, _MIXED_PAIR, _IGNORABLE, _VS_RUN)


def warm_up() -> None:
    """Compile every pattern and RE2 test and build the folding table (a background thread,
    once the relay is first idle: ``detectors.warm_up``)."""
    import html  # noqa: F401  (``fold``'s entity table, imported here off the relay's path)

    compile_now(PATTERNS)
    for test in (_has_special, _has_mixed_pair, has_ignorable):
        test.ready()
    _translate()


def _fold_word(m: re.Match[str]) -> str:
    return m.group().translate(_CONFUSABLE_TABLE)


def fold(text: str) -> str:
    """``text`` normalised as the module docstring says (steps 1–5); may change its length."""
    if "&" in text and _ENTITY.search(text):
        import html  # here: its entity table is a fifth of this module's import otherwise

        text = html.unescape(text)
    if text.isascii():
        return text
    if _has_special(text):
        text = text.translate(_translate())
    if _has_mixed_pair(text):
        text = _MIXED_WORD.sub(_fold_word, text)
    return text


def _smuggled(run: str) -> str | None:
    """The UTF-8 text a run of variation selectors spells, or None."""
    raw = bytes(ord(c) - 0xFE00 if ord(c) < 0xFE10 else ord(c) - 0xE0100 + 16 for c in run)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() and any(c.isalpha() for c in text) else None


def gate_patterns() -> list[str]:
    """Regexes (``re`` syntax, ``detectors.gate``): ``views`` of an ASCII text is empty unless one
    of these matches it (an HTML character reference: ``needed``)."""
    return [_ENTITY.pattern]


def needed(text: str) -> bool:
    """Whether ``views(text)`` can be non-empty (a cheap test: ASCII without ``&``: no)."""
    if text.isascii():
        return "&" in text and _ENTITY.search(text) is not None
    return True


def views(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded) for each line of ``text`` that normalisation changes, and for each
    run of variation selectors that spells text; in text order. Lines are found from the
    next occurrence of what normalisation folds (each regex searched once over the text, its
    next hit remembered), so a long page with a few changed lines costs a few searches."""
    if not needed(text):
        return []
    ascii_text = text.isascii()
    entities = "&" in text and _ENTITY.search(text) is not None
    special = not ascii_text and _has_special(text)
    mixed = not ascii_text and _has_mixed_pair(text)
    if not (entities or special or mixed):
        return []
    finders = [
        rx for rx, on in ((_ENTITY, entities), (_SPECIAL, special), (_MIXED_PAIR, mixed)) if on
    ]
    nxt: list[int | None] = [-1] * len(finders)  # None: no more hits
    out: list[tuple[int, int, str]] = []
    pos = 0
    n = len(text)
    while True:
        for i, rx in enumerate(finders):  # each finder's next hit at or after ``pos``
            seen = nxt[i]
            if seen is not None and seen < pos:
                m = rx.search(text, pos)
                nxt[i] = None if m is None else m.start()
        hits = [h for h in nxt if h is not None]
        if not hits:
            return out
        hit = min(hits)
        start = text.rfind("\n", 0, hit) + 1
        end = text.find("\n", hit)
        end = n if end < 0 else end
        line = text[start:end]
        folded = fold(line)
        if folded != line and folded.strip():
            out.append((start, end, folded))
        if special:
            for m in _VS_RUN.finditer(line):
                decoded = _smuggled(m.group())
                if decoded is not None:
                    out.append((start + m.start(), start + m.end(), decoded))
        pos = end + 1


def strip_ignorables(text: str) -> tuple[str, list[int]] | None:
    """``text`` without default-ignorable code points and the original index of each kept
    character, or None when it has none (secrets split by zero-width characters)."""
    if text.isascii() or not has_ignorable(text):
        return None
    table = _translate()
    kept = [i for i, c in enumerate(text) if table.get(ord(c), c) is not None]
    if len(kept) == len(text):
        return None
    return "".join(text[i] for i in kept), kept
