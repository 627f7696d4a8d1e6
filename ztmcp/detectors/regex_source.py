"""Reading a Python regular expression's source: one tokenizer, the readings built on it.

The detectors read their own regexes in three ways: the literal text every match starts with
(``instructions`` groups its triggers by it), the literal prefixes of a provider shape's
group 1, forking through small classes and alternations of literals (``secrets`` tells a
provider's prefix followed by words), and the pattern without its look-arounds (``multi``
hands it to RE2, which has none). Each once walked the source by hand, skipping escapes,
classes and groups in its own way; here ``tokens`` does it once and the readings walk tokens.

A token is an escape (``\\.``, ``\\x41``, ``\\u00e9``, ``\\N{...}``, octal, back-reference), a
character class (a ``]`` right after ``[`` or ``[^`` is in it, escapes inside skipped), a
group's opening (each kind its own ``Kind``: ``(``, ``(?P<name>``, ``(?:``, ``(?>``,
``(?i-s:``, the four look-arounds, ``(?(1)``), ``)``, ``|``, a quantifier with its lazy ``?``
or possessive ``+`` (``{m,n}``, ``{m,}``, ``{,n}``, ``{m}``: a brace that is not one of these is
a character to ``re``), an inert whole (global flags ``(?i)``, a comment, ``(?P=name)``), a
metacharacter standing alone (``. ^ $`` and a bare ``{ } ]``) or one literal character. The
tokens cover the source end to end, for any string (a source ``re`` refuses included), so the
readings never fail: they read less, never wrong.

This module is a leaf: it imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import Final, NamedTuple


class Kind(Enum):
    LITERAL = "literal"
    ESCAPE = "escape"
    CLASS = "class"
    CAPTURE = "capture"  # (
    NAMED = "named"  # (?P<name>
    GROUP = "group"  # (?:
    ATOMIC = "atomic"  # (?>
    SCOPED = "scoped"  # (?i:  (?-i:  (?i-s:
    AHEAD = "ahead"  # (?=
    NOT_AHEAD = "not_ahead"  # (?!
    BEHIND = "behind"  # (?<=
    NOT_BEHIND = "not_behind"  # (?<!
    CONDITIONAL = "conditional"  # (?(1)  (?(name)
    CLOSE = "close"
    ALT = "alt"
    QUANTIFIER = "quantifier"
    FLAGS = "flags"  # (?i) for the whole pattern
    INERT = "inert"  # (?#comment)  (?P=name)
    META = "meta"  # . ^ $ and a bare { } ]


OPENS: Final = frozenset(
    {
        Kind.CAPTURE,
        Kind.NAMED,
        Kind.GROUP,
        Kind.ATOMIC,
        Kind.SCOPED,
        Kind.AHEAD,
        Kind.NOT_AHEAD,
        Kind.BEHIND,
        Kind.NOT_BEHIND,
        Kind.CONDITIONAL,
    }
)
LOOKAROUNDS: Final = frozenset({Kind.AHEAD, Kind.NOT_AHEAD, Kind.BEHIND, Kind.NOT_BEHIND})
CAPTURES: Final = frozenset({Kind.CAPTURE, Kind.NAMED})
# Groups whose text is their alternatives' text (flags, look-arounds, conditions change it).
PLAIN_GROUPS: Final = frozenset({Kind.CAPTURE, Kind.NAMED, Kind.GROUP, Kind.ATOMIC})

_ESCAPE: Final = (
    r"\\(?:x[0-9A-Fa-f]{0,2}|u[0-9A-Fa-f]{0,4}|U[0-9A-Fa-f]{0,8}|N\{[^}]*\}"
    r"|0[0-7]{0,2}|[1-7][0-7]{2}|[1-9][0-9]?|.|\Z)"
)
_FLAG: Final = "[aiLmsux]"
# One alternative per kind, tried in this order; the last takes any one character.
_TOKEN: Final = re.compile(
    "|".join(
        (
            f"(?P<escape>{_ESCAPE})",
            rf"(?P<class>\[\^?\]?(?:{_ESCAPE}|[^\]\\])*\]?)",
            r"(?P<named>\(\?P<[^>)]*>)",
            r"(?P<inert>\(\?(?:#|P=)[^)]*\)?)",
            r"(?P<group>\(\?:)",
            r"(?P<atomic>\(\?>)",
            r"(?P<ahead>\(\?=)",
            r"(?P<not_ahead>\(\?!)",
            r"(?P<behind>\(\?<=)",
            r"(?P<not_behind>\(\?<!)",
            r"(?P<conditional>\(\?\([^)]*\))",
            rf"(?P<scoped>\(\?{_FLAG}*(?:-{_FLAG}*)?:)",
            rf"(?P<flags>\(\?{_FLAG}+\))",
            r"(?P<capture>\()",
            r"(?P<close>\))",
            r"(?P<alt>\|)",
            r"(?P<quantifier>(?:[?*+]|\{(?:[0-9]+(?:,[0-9]*)?|,[0-9]*)\})[?+]?)",
            r"(?P<meta>[.^${}\]])",
            r"(?P<literal>.)",
        )
    ),
    re.DOTALL,
)


class Token(NamedTuple):
    kind: Kind
    text: str
    start: int
    end: int

    @property
    def literal(self) -> str | None:
        """The one character this token always matches (None: a class, a group, an anchor,
        an escape of a letter or a digit: not one literal character)."""
        if self.kind is Kind.LITERAL:
            return self.text
        if self.kind is Kind.ESCAPE and len(self.text) == 2 and not self.text[1].isalnum():
            return self.text[1]
        return None


def tokens(src: str) -> tuple[Token, ...]:
    """``src`` as tokens, end to end (``"".join(t.text for t in tokens(src)) == src``)."""
    return tuple(
        Token(Kind(m.lastgroup), m.group(), m.start(), m.end()) for m in _TOKEN.finditer(src)
    )


class Source(NamedTuple):
    """A regex's tokens and, for each group's opening, the index of the ``)`` that closes it
    (``len(tokens)`` when none does; -1 for any other token)."""

    tokens: tuple[Token, ...]
    closes: tuple[int, ...]


def read(src: str) -> Source:
    toks = tokens(src)
    closes = [-1] * len(toks)
    stack: list[int] = []
    for k, t in enumerate(toks):
        if t.kind in OPENS:
            stack.append(k)
        elif t.kind is Kind.CLOSE and stack:
            closes[stack.pop()] = k
    for k in stack:
        closes[k] = len(toks)
    return Source(toks, tuple(closes))


def _top_level(source: Source, kind: Kind) -> bool:
    """Whether a token of ``kind`` stands outside every group."""
    toks, k = source.tokens, 0
    while k < len(toks):
        if toks[k].kind is kind:
            return True
        k = source.closes[k] + 1 if toks[k].kind in OPENS else k + 1
    return False


def _ignores_case(source: Source) -> bool:
    """Whether global flags make the text read otherwise (``i``: any case; ``x``: verbose)."""
    return any(t.kind is Kind.FLAGS and ("i" in t.text or "x" in t.text) for t in source.tokens)


# -- the literal text every match starts with ---------------------------------------------------


def literal_prefix(rx: str) -> tuple[str, int]:
    """The literal text every match of ``rx`` starts with, and the index in ``rx`` after it
    (a literal that a quantifier follows is not in it). A pattern with an alternation outside
    any group has none: its alternatives need not share one."""
    source = read(rx)
    toks = source.tokens
    if _top_level(source, Kind.ALT):
        return "", 0
    out: list[str] = []
    ends: list[int] = []
    k = 0
    while k < len(toks) and (ch := toks[k].literal) is not None:
        out.append(ch)
        ends.append(toks[k].end)
        k += 1
    if k < len(toks) and toks[k].kind is Kind.QUANTIFIER and out:  # the last one is quantified
        out.pop()
        ends.pop()
    return "".join(out), (ends[-1] if ends else 0)


# -- the literal prefixes of group 1, forking ---------------------------------------------------
# A class of a few characters or an alternation of literals forks the prefix (``do[opr]_v1_``:
# three); anything else (a wider class, a quantified atom, a look-around) ends it. More than
# ``forks`` prefixes: the prefix ends before the fork.

_Heads = list[tuple[str, bool]]  # (prefix so far, whether it may go on)


class _Forking(NamedTuple):
    source: Source
    forks: int
    class_forks: int

    def sequence_end(self, k: int) -> int:
        """The index of the ``|`` or ``)`` that ends the sequence at ``k`` (or the end)."""
        toks, closes = self.source.tokens, self.source.closes
        while k < len(toks) and toks[k].kind not in (Kind.ALT, Kind.CLOSE):
            k = closes[k] + 1 if toks[k].kind in OPENS else k + 1
        return k

    def atom(self, k: int) -> tuple[_Heads | None, int]:
        """The literal texts the atom at ``k`` matches (None: not a few literals) and its end."""
        t = self.source.tokens[k]
        if t.kind is Kind.CLASS:
            body = t.text[1:-1] if t.text.endswith("]") and len(t.text) > 1 else t.text[1:]
            literal = "\\" not in body and "-" not in body[1:-1] and not body.startswith("^")
            few = literal and 0 < len(set(body)) <= self.class_forks
            return ([(ch, True) for ch in dict.fromkeys(body)] if few else None), k + 1
        if t.kind in PLAIN_GROUPS:
            heads, close = self.alternatives(k + 1)
            return heads, close + 1
        if t.kind in OPENS:
            return None, self.source.closes[k] + 1
        ch = t.literal
        return ([(ch, True)] if ch is not None else None), k + 1

    def sequence(self, k: int) -> tuple[_Heads, int]:
        toks = self.source.tokens
        heads: _Heads = [("", True)]
        while k < len(toks) and toks[k].kind not in (Kind.ALT, Kind.CLOSE):
            options, j = self.atom(k)
            quantified = j < len(toks) and toks[j].kind is Kind.QUANTIFIER
            grown = [(h + o, more) for h, go in heads if go for o, more in options or ()]
            if options is None or quantified or len(grown) > self.forks:
                return [(h, False) for h, _go in heads], self.sequence_end(k)
            heads = [(h, go) for h, go in heads if not go] + grown
            if not any(go for _h, go in heads):
                return heads, self.sequence_end(j)
            k = j
        return heads, k

    def alternatives(self, k: int) -> tuple[_Heads, int]:
        """The heads of the alternatives from ``k`` to the ``)`` that closes them, and its
        index."""
        toks = self.source.tokens
        heads: _Heads = []
        while True:
            more, k = self.sequence(k)
            heads += more
            if k >= len(toks) or toks[k].kind is Kind.CLOSE:
                return heads, k
            k += 1


def group_one_heads(pattern: str, forks: int = 16, class_forks: int = 4) -> frozenset[str]:
    """The literal texts group 1 of ``pattern`` starts with, one per way into it: every text
    group 1 matches starts with one of them ("" among them: a way in that starts with no
    literal). Empty: no group, or global flags that read the text otherwise."""
    source = read(pattern)
    if _ignores_case(source):
        return frozenset()
    first = next((k for k, t in enumerate(source.tokens) if t.kind in CAPTURES), None)
    if first is None:
        return frozenset()
    heads, _close = _Forking(source, forks, class_forks).alternatives(first + 1)
    return frozenset(h for h, _go in heads)


def literal_prefixes(pattern: str, forks: int = 16, class_forks: int = 4) -> frozenset[str]:
    """The literal prefixes of ``pattern``'s group 1: ``group_one_heads`` but "" (none: it
    starts with no literal)."""
    return group_one_heads(pattern, forks, class_forks) - {""}


# -- the pattern without its look-arounds -------------------------------------------------------


def rewritten(rx: str, replace: Callable[[Token], str], drop: frozenset[Kind] = frozenset()) -> str:
    """``rx`` with each token's text ``replace(token)``, the groups whose opening is of a kind
    in ``drop`` left out whole."""
    source = read(rx)
    toks = source.tokens
    out: list[str] = []
    k = 0
    while k < len(toks):
        if toks[k].kind in drop:
            k = source.closes[k] + 1
            continue
        out.append(replace(toks[k]))
        k += 1
    return "".join(out)


def _text(token: Token) -> str:
    return token.text


def drop_lookarounds(rx: str) -> str:
    """``rx`` without its look-around groups: it matches wherever ``rx`` does."""
    return rewritten(rx, _text, LOOKAROUNDS)


class Count(NamedTuple):
    """The repetition a quantifier writes."""

    low: int
    high: int | None  # None: no upper bound
    mode: str  # "": greedy, "?": lazy, "+": possessive


_SIGNS: Final = {"?": (0, 1), "*": (0, None), "+": (1, None)}


def count(quantifier: str) -> Count:
    """The repetition of a ``Kind.QUANTIFIER`` token's text (``{,n}`` is ``{0,n}``)."""
    mode = quantifier[-1] if len(quantifier) > 1 and quantifier[-1] in "?+" else ""
    core = quantifier[: len(quantifier) - len(mode)]
    if core in _SIGNS:
        return Count(*_SIGNS[core], mode)
    low, comma, high = core[1:-1].partition(",")
    if not comma:
        return Count(int(low), int(low), mode)
    return Count(int(low or 0), int(high) if high else None, mode)
