"""Many regexes, one pass: which of them match anywhere in a text (RE2's ``Set``).

The detectors search a long text once per rule trigger or provider shape, each pass a C loop
over the whole text. An RE2 set is one automaton for all of them: a single linear pass says
which patterns match somewhere, and only those are searched (with Python's ``re``, which
gives the positions and the exact semantics). RE2 is only ever a way to skip work, never a
verdict of its own:

* RE2's ``\\b \\w \\d \\s`` are ASCII, Python's are Unicode. ``ascii_view`` maps a text to one
  where every other character stands for its class (decimal digit ``0``, other word character
  ``a``, white space `` ``, anything else ``\\x01``), same length: what a pattern matches in the
  text, it matches in the view. Look-arounds, which RE2 lacks, are dropped from the RE2 copy
  of a pattern (``loosen``): a looser pattern matches at least where the strict one does.
* A set that runs out of memory reports no match at all; every text gets a canary that only
  the canary pattern matches, so "no canary" means "no answer" and the caller searches as it
  would without RE2. No RE2 installed, a pattern RE2 cannot parse, an automaton too big to
  compile: the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from ztmcp.detectors import regex_source

_CANARY: Final = "\x00ztmcp\x01canary\x00"
_CANARY_RX: Final = r"\x00ztmcp\x01canary\x00"
_NOT_PLAIN: Final = re.compile(r"[^\x00-\x0a\x0c-\x1b\x20-\x7f]")  # \v, \x1c-\x1f, non-ASCII
_ODD_ASCII: Final = "\x0b\x1c\x1d\x1e\x1f"  # white space to Python, not to RE2
MAX_MEM: Final = 64 << 20


def _class_char(m: re.Match[str]) -> str:
    c = m.group()
    if c.isdecimal():
        return "0"
    if c.isalnum() or c == "_":
        return "a"
    return " " if c.isspace() else "\x01"


def plain(text: str) -> bool:
    """Whether ``text`` is its own ``ascii_view``: ASCII without the white space only Python
    reads as such, where RE2's classes and Python's agree."""
    return text.isascii() and not any(c in text for c in _ODD_ASCII)  # memchr-fast checks


def ascii_view(text: str, max_other: float = 0.02) -> str | None:
    """``text`` with the characters RE2 classes differently replaced by their class; None when
    more than ``max_other`` of it would need replacing (the view would cost more than it saves).
    """
    if plain(text):
        return text
    if len(text.encode("utf-8")) - len(text) > max_other * len(text):
        return None
    return _NOT_PLAIN.sub(_class_char, text)


_RE2_MAX_COUNT: Final = 1000


def _count_for_re2(quantifier: str, wide: bool) -> str:
    """A repetition as RE2 reads it, matching at least what it does in ``re``: a possessive
    one as a greedy one, ``{,n}`` (text to RE2) as ``{0,n}``, a count past RE2's limit with
    fewer required and no upper bound; ``wide``: no upper bound on any ``{m,n}``."""
    if quantifier[0] != "{" and quantifier[1:] in ("", "?"):
        return quantifier  # ? * + and their lazy forms: RE2's own
    low, high, mode = regex_source.count(quantifier)
    lazy = "?" if mode == "?" else ""
    written = quantifier[: len(quantifier) - len(mode)]
    if not written.startswith("{"):
        return written + lazy
    if low > _RE2_MAX_COUNT or (high is not None and high > _RE2_MAX_COUNT):
        return f"{{{min(low, _RE2_MAX_COUNT)},}}{lazy}"
    if wide and high is not None and "," in written:
        return f"{{{low},}}{lazy}"
    if written.startswith("{,"):
        return f"{{0,{high}}}{lazy}"
    return written + lazy


# Each token RE2 reads otherwise, rewritten: an atomic group read as a plain one, Python's
# ``\Z`` (the very end) as RE2 writes it.
_FOR_RE2: Final = {
    regex_source.Kind.QUANTIFIER: lambda q: _count_for_re2(q, wide=False),
    regex_source.Kind.ATOMIC: lambda _open: "(?:",
    regex_source.Kind.ESCAPE: lambda e: r"\z" if e == r"\Z" else e,
}
_WIDE_FOR_RE2: Final = {
    **_FOR_RE2,
    regex_source.Kind.QUANTIFIER: lambda q: _count_for_re2(q, wide=True),
}


def loosen(rx: str) -> str:
    """``rx`` as RE2 can read it (``_FOR_RE2``), without its look-around groups (RE2 has
    none): it matches wherever ``rx`` does."""
    return regex_source.rewritten(rx, _FOR_RE2, regex_source.LOOKAROUNDS)


def widen(rx: str) -> str:
    """``loosen(rx)`` with every upper repetition bound dropped (``{m,n}`` read as ``{m,}``):
    it matches wherever ``rx`` does, and RE2 accepts nested counts whose product passes its
    limit and builds a smaller automaton."""
    return regex_source.rewritten(rx, _WIDE_FOR_RE2, regex_source.LOOKAROUNDS)


_NONE: Final[frozenset[int]] = frozenset()


def in_canary(literal: str) -> bool:
    """Whether ``literal`` occurs in the canary: a set reports such a pattern on every text."""
    return literal in _CANARY


def canaried(view: str) -> bytes:
    """``view`` with the canary after it, as RE2 reads it (UTF-8)."""
    return f"{view}\n{_CANARY}".encode()


class RegexSet:
    """Which of ``patterns`` match somewhere in a text, or None when RE2 cannot say."""

    def __init__(self, patterns: Sequence[str], max_mem: int = MAX_MEM) -> None:
        self.size = len(patterns)
        self._set: Any = None
        try:
            import re2  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            return
        options = re2.Options()
        options.max_mem = max_mem
        options.log_errors = False  # a refusal is handled here, not printed
        options.never_capture = True
        rset = re2.Set.SearchSet(options)
        try:
            for rx in (*patterns, _CANARY_RX):
                if rset.Add(rx) < 0:
                    return
            rset.Compile()  # raises re2.Error when the automaton does not fit
        except Exception:  # any failure of the fast path means: search as without it
            return
        self._set = rset

    @property
    def available(self) -> bool:
        return self._set is not None

    def matching(self, view: str) -> frozenset[int] | None:
        """Indexes of the patterns that match in ``view`` (an ``ascii_view``), or None."""
        return self.matching_canaried(canaried(view))

    def matching_canaried(self, buf: bytes) -> frozenset[int] | None:
        """``matching`` of a view already passed through ``canaried`` (several sets can read
        one view without each copying and encoding it)."""
        if self._set is None:
            return None
        try:
            hits = self._set.Match(buf) or ()
        except Exception:  # as above
            return None
        if self.size not in hits:
            return None
        if len(hits) == 1:  # the canary alone: most short texts
            return _NONE
        return frozenset(i for i in hits if i < self.size)


def parses(rx: str) -> bool:
    """Whether RE2 is installed and compiles ``rx`` (its program: no automaton is built)."""
    try:
        import re2  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return False
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    try:
        re2.compile(rx, options)
    except Exception:  # any refusal: the caller does without RE2
        return False
    return True


class Search:
    """Where a regex may match in an ``ascii_view`` (as bytes): RE2's leftmost start of the
    loosened pattern at or after a position. A superset of the strict pattern's starts, found
    by RE2's DFA (about twice ``re``'s speed on a long page); each start is then checked with
    ``re``. ``available`` is False without RE2 or when RE2 cannot parse the pattern."""

    def __init__(self, pattern: str, *, wide: bool = False) -> None:
        """``wide``: the pattern ``widen``-ed (no upper repetition bounds), a smaller automaton
        for a pattern with long bounded gaps, where only whether it matches is asked."""
        self._rx: Any = None
        try:
            import re2  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            return
        options = re2.Options()
        options.log_errors = False
        options.never_capture = True
        try:
            self._rx = re2.compile(widen(pattern) if wide else loosen(pattern), options)
        except Exception:  # any failure of the fast path means: search as without it
            self._rx = None

    @property
    def available(self) -> bool:
        return self._rx is not None

    def start(self, view: bytes, pos: int) -> int:
        """The leftmost start >= ``pos`` of a loosened match in ``view``, or -1."""
        m = self._rx.search(view, pos)
        return -1 if m is None else int(m.start())

    def within(self, view: bytes, lo: int, hi: int) -> bool:
        """Whether a loosened match lies in ``view[lo:hi]``. RE2 reads the text on both sides
        of the slice (at ``hi``, ``\\b`` and ``$`` see what follows), where ``re``'s
        ``finditer(text, lo, hi)`` ends the text at ``hi``: False means that ``re`` reports no
        match there only for a pattern without ``\\b``, ``\\B`` or ``$`` (the other
        languages' phrases, which ``test_cheap_rules`` checks)."""
        return self._rx.search(view, lo, hi) is not None
