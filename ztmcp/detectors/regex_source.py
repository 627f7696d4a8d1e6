"""Reading a Python regular expression's source: one tokenizer, the readings built on it.

The detectors read their own regexes in three ways: the literal text every match starts with
(``instructions`` groups its triggers by it), the literal prefixes of a provider shape's
group 1, forking through small classes and alternations of literals (``secrets`` tells a
provider's prefix followed by words), and the pattern rewritten token by token, groups left
out (``multi`` hands RE2 each pattern without its look-arounds, which RE2 lacks, and with
what RE2 reads otherwise rewritten). Each once walked the source by hand, skipping escapes,
classes and groups in its own way; here one ``findall`` of ``_TOKEN`` cuts the source into
tokens, ``kind_of`` tells each one's kind, and the readings walk the tokens.

A token is an escape (``\\.``, ``\\x41``, ``\\u00e9``, ``\\N{...}``, octal, back-reference), a
character class (a ``]`` right after ``[`` or ``[^`` is in it, escapes inside skipped), a
group's opening (each kind its own ``Kind``: ``(``, ``(?P<name>``, ``(?:``, ``(?>``,
``(?i-s:``, the four look-arounds, ``(?(1)``), ``)``, ``|``, a quantifier with its lazy ``?``
or possessive ``+`` (``{m,n}``, ``{m,}``, ``{,n}``, ``{m}``: a brace that is not one of these is
a character to ``re``), an inert whole (global flags ``(?i)``, a comment, ``(?P=name)``), a
metacharacter standing alone (``. ^ $`` and a bare ``{ } ]``) or a run of literal characters
(a quantifier after it repeats its last character only). The tokens cover the source end to
end, for any string (a source ``re`` refuses included), so the readings never fail: they read
less, never wrong. They are read as far as a reading asks: most stop after a few.

This module is a leaf: it imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import Enum
from functools import cache
from typing import Final, NamedTuple


class Kind(Enum):
    LITERAL = "literal"  # a run of characters that stand for themselves
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

    # A member is its own identity (``Enum``'s ``__hash__`` is Python code, and the readings
    # look kinds up in sets and dicts for every token).
    __hash__ = object.__hash__


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
# One alternative per kind of token, the most frequent first (no group: ``findall`` gives the
# tokens' texts, and ``kind_of`` reads a token's kind from its first characters). Every
# character starts a token. (Inside a class an escape is skipped two characters at a time: no
# longer escape holds ``]``.)
_TOKEN: Final = "|".join(
    (
        r"[^\\\[\]()|?*+{}.^$]+",  # literal characters
        r"\[\^?\]?(?:[^\]\\]++|\\.)*+\]?",  # a class
        _ESCAPE,
        r"(?:[?*+]|\{(?:[0-9]+(?:,[0-9]*)?|,[0-9]*)\})[?+]?",  # a quantifier
        r"[)|]",
        r"\((?:\?(?:[:=!>]|<[=!]|P<[^>)]*>|(?:#|P=)[^)]*\)?|\([^)]*\)"
        rf"|{_FLAG}*(?:-{_FLAG}*)?:|{_FLAG}+\)))?",  # a group's opening, or global flags
        r"[.^${}\]]",
    )
)


@cache
def _tokens() -> re.Pattern[str]:
    """``_TOKEN`` compiled, at the first reading (not at import: ``ztmcp run`` starts by
    importing the detectors)."""
    return re.compile(_TOKEN, re.DOTALL)


_BY_FIRST: Final = {
    "[": Kind.CLASS,
    "\\": Kind.ESCAPE,
    ")": Kind.CLOSE,
    "|": Kind.ALT,
    "?": Kind.QUANTIFIER,
    "*": Kind.QUANTIFIER,
    "+": Kind.QUANTIFIER,
    ".": Kind.META,
    "^": Kind.META,
    "$": Kind.META,
    "}": Kind.META,
    "]": Kind.META,
}
_OPENING: Final = {
    "(?:": Kind.GROUP,
    "(?=": Kind.AHEAD,
    "(?!": Kind.NOT_AHEAD,
    "(?>": Kind.ATOMIC,
    "(?#": Kind.INERT,
    "(?(": Kind.CONDITIONAL,
    "(?<=": Kind.BEHIND,
    "(?<!": Kind.NOT_BEHIND,
    "(?P<": Kind.NAMED,
    "(?P=": Kind.INERT,
}


def kind_of(token: str) -> Kind:
    """The kind of a token ``_tokens`` found, from its first characters."""
    first = token[0]
    if first == "(":
        if token == "(":
            return Kind.CAPTURE
        kind = _OPENING.get(token[:3]) or _OPENING.get(token[:4])
        return kind or (Kind.SCOPED if token.endswith(":") else Kind.FLAGS)
    if first == "{":
        return Kind.QUANTIFIER if len(token) > 1 else Kind.META
    return _BY_FIRST.get(first, Kind.LITERAL)


class Token(NamedTuple):
    kind: Kind
    text: str
    start: int
    end: int


class Source:
    """A regex's tokens (their texts, all found at once by one ``findall``) and their kinds,
    read as far as a reading asks (most stop after the first few)."""

    __slots__ = ("_closes", "_kinds", "texts")

    def __init__(self, src: str) -> None:
        self.texts: list[str] = _tokens().findall(src)
        self._kinds: list[Kind] = []
        self._closes: dict[int, int] = {}

    def kind(self, k: int) -> Kind | None:
        """The kind of the ``k``-th token (None: the source has fewer)."""
        kinds = self._kinds
        if k < len(kinds):
            return kinds[k]
        if k >= len(self.texts):
            return None
        kinds += map(kind_of, self.texts[len(kinds) : k + 1])
        return kinds[k]

    def text(self, k: int) -> str:
        """The source of the ``k``-th token (one ``kind`` said is there)."""
        return self.texts[k]

    def end(self, k: int) -> int:
        """The index in the source after the ``k``-th token."""
        return sum(map(len, self.texts[: k + 1]))

    def literal(self, k: int) -> str | None:
        """The text the ``k``-th token always matches, a character per character of its source
        (None: a class, a group, an anchor, an escape of a letter or a digit: not literal)."""
        kind = self.kind(k)
        if kind is Kind.LITERAL:
            return self.texts[k]
        if kind is Kind.ESCAPE:
            text = self.texts[k]
            return text[1] if len(text) == 2 and not text[1].isalnum() else None
        return None

    def close(self, k: int) -> int:
        """The index of the ``)`` closing the group that opens at token ``k`` (the number of
        tokens when none does)."""
        if k in self._closes:
            return self._closes[k]
        texts = self.texts
        depth, j = 0, k
        while j < len(texts):
            text = texts[j]
            if text == ")":
                depth -= 1
                if not depth:
                    break
            elif text[0] == "(" and kind_of(text) in OPENS:
                depth += 1
            j += 1
        self._closes[k] = j
        return j

    def next_of(self, k: int) -> int:
        """The index after the token at ``k``, after the whole group if one opens there."""
        return self.close(k) + 1 if self.kind(k) in OPENS else k + 1


def read(src: str) -> Source:
    return Source(src)


def tokens(src: str) -> tuple[Token, ...]:
    """``src`` as tokens, end to end (``"".join(t.text for t in tokens(src)) == src``)."""
    out: list[Token] = []
    start = 0
    for text in _tokens().findall(src):
        out.append(Token(kind_of(text), text, start, start + len(text)))
        start += len(text)
    return tuple(out)


def _alternation_outside_groups(source: Source) -> bool:
    """Whether a ``|`` stands outside every group (``(?#...)`` and ``(?i)`` hold no group)."""
    depth = 0
    for text in source.texts:
        if text == "|":
            if depth <= 0:
                return True
        elif text == ")":
            depth -= 1
        elif text[0] == "(" and kind_of(text) in OPENS:
            depth += 1
    return False


def _ignores_case(source: Source) -> bool:
    """Whether global flags (which ``re`` takes only at the start) make the text read
    otherwise (``i``: any case; ``x``: verbose)."""
    k = 0
    while source.kind(k) is Kind.FLAGS:
        if "i" in source.text(k) or "x" in source.text(k):
            return True
        k += 1
    return False


# -- the literal text every match starts with ---------------------------------------------------


def literal_prefix(rx: str) -> tuple[str, int]:
    """The literal text every match of ``rx`` starts with, and the index in ``rx`` after it
    (a literal that a quantifier follows is not in it). A pattern with an alternation outside
    any group has none: its alternatives need not share one."""
    source = read(rx)
    out: list[str] = []
    k = 0
    while (text := source.literal(k)) is not None:
        out += text
        k += 1
    if not out:
        return "", 0
    end = source.end(k - 1)
    if source.kind(k) is Kind.QUANTIFIER:  # the last character is quantified
        out.pop()
        end -= len(source.text(k - 1)) if source.kind(k - 1) is Kind.ESCAPE else 1
    if "|" in rx and _alternation_outside_groups(source):
        return "", 0
    return "".join(out), (end if out else 0)


# -- the literal prefixes of group 1, forking ---------------------------------------------------
# A class of a few characters or an alternation of literals forks the prefix (``do[opr]_v1_``:
# three); anything else (a wider class, a quantified atom, a look-around) ends it. More than
# ``forks`` prefixes: the prefix ends before the fork.

_Heads = list[tuple[str, bool]]  # (prefix so far, whether it may go on)
_ENDS: Final = frozenset({Kind.ALT, Kind.CLOSE})


class _Forking:
    """The walk of ``group_one_heads`` over one source."""

    __slots__ = ("class_forks", "forks", "source")

    def __init__(self, source: Source, forks: int, class_forks: int) -> None:
        self.source = source
        self.forks = forks
        self.class_forks = class_forks

    def sequence_end(self, k: int) -> int:
        """The index of the ``|`` or ``)`` that ends the sequence at ``k`` (or the end)."""
        while (kind := self.source.kind(k)) is not None and kind not in _ENDS:
            k = self.source.next_of(k)
        return k

    def atom(self, k: int) -> tuple[_Heads | None, int]:
        """The literal texts the atom at ``k`` matches (None: not a few literals) and its end."""
        kind = self.source.kind(k)
        if kind is Kind.CLASS:
            text = self.source.text(k)
            body = text[1:-1] if text.endswith("]") and len(text) > 1 else text[1:]
            plain = "\\" not in body and "-" not in body[1:-1] and not body.startswith("^")
            few = plain and 0 < len(set(body)) <= self.class_forks
            return ([(ch, True) for ch in dict.fromkeys(body)] if few else None), k + 1
        if kind in PLAIN_GROUPS:
            heads, close = self.alternatives(k + 1)
            return heads, close + 1
        if kind in OPENS:
            return None, self.source.close(k) + 1
        literal = self.source.literal(k)
        return ([(literal[-1], True)] if literal is not None else None), k + 1

    def sequence(self, k: int) -> tuple[_Heads, int]:
        heads: _Heads = [("", True)]
        while (kind := self.source.kind(k)) is not None and kind not in _ENDS:
            if kind is Kind.LITERAL and len(text := self.source.text(k)) > 1:
                # A run: each character but the last (which a quantifier may follow) is an
                # atom of one option, which leaves the count of heads as it is.
                heads = [(h + text[:-1], True) if go else (h, go) for h, go in heads]
            options, j = self.atom(k)
            quantified = self.source.kind(j) is Kind.QUANTIFIER
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
        heads: _Heads = []
        while True:
            more, k = self.sequence(k)
            heads += more
            if self.source.kind(k) in (None, Kind.CLOSE):
                return heads, k
            k += 1


def group_one_heads(pattern: str, forks: int = 16, class_forks: int = 4) -> frozenset[str]:
    """The literal texts group 1 of ``pattern`` starts with, one per way into it: every text
    group 1 matches starts with one of them ("" among them: a way in that starts with no
    literal). Empty: no group, or global flags that read the text otherwise."""
    source = read(pattern)
    if _ignores_case(source):
        return frozenset()
    first = 0
    while (kind := source.kind(first)) is not None and kind not in CAPTURES:
        first += 1
    if kind is None:
        return frozenset()
    heads, _close = _Forking(source, forks, class_forks).alternatives(first + 1)
    return frozenset(h for h, _go in heads)


def literal_prefixes(pattern: str, forks: int = 16, class_forks: int = 4) -> frozenset[str]:
    """The literal prefixes of ``pattern``'s group 1: ``group_one_heads`` but "" (none: it
    starts with no literal)."""
    return group_one_heads(pattern, forks, class_forks) - {""}


# -- the pattern without its look-arounds -------------------------------------------------------


def rewritten(
    rx: str,
    replace: Mapping[Kind, Callable[[str], str]],
    drop: frozenset[Kind] = frozenset(),
) -> str:
    """``rx`` with each token of a kind in ``replace`` rewritten by its function, the groups
    whose opening is of a kind in ``drop`` left out whole. (One pass, a token's kind read only
    where its first character can make it one of those: this runs on every pattern of the RE2
    sets.)"""
    firsts = _first_characters(frozenset(replace))
    out: list[str] = []
    depth = 0  # inside a group left out: how deep
    for text in _tokens().findall(rx):
        if firsts is not None and text[0] not in firsts:
            if not depth:
                out.append(text)
            continue
        kind = kind_of(text)
        if depth:
            depth += 1 if kind in OPENS else -1 if kind is Kind.CLOSE else 0
        elif kind in drop:
            depth = 1
        else:
            f = replace.get(kind)
            out.append(f(text) if f is not None else text)
    return "".join(out)


@cache
def _first_characters(kinds: frozenset[Kind]) -> frozenset[str] | None:
    """The first characters of the tokens that may be of ``kinds``, a group's opening or its
    end (None: any character)."""
    if Kind.LITERAL in kinds:
        return None
    chars = {"(", ")"} | {first for first, kind in _BY_FIRST.items() if kind in kinds}
    return frozenset(chars | ({"{"} if kinds & {Kind.QUANTIFIER, Kind.META} else set()))


def drop_lookarounds(rx: str) -> str:
    """``rx`` without its look-around groups: it matches wherever ``rx`` does."""
    return rewritten(rx, {}, LOOKAROUNDS)


# The repetition a quantifier writes: (fewest, most or None: no bound, mode: "" greedy, "?"
# lazy, "+" possessive). (A plain tuple: a NamedTuple class costs ``exec`` at import.)
Count = tuple[int, int | None, str]
_SIGNS: Final[dict[str, tuple[int, int | None]]] = {"?": (0, 1), "*": (0, None), "+": (1, None)}


def count(quantifier: str) -> Count:
    """The repetition of a ``Kind.QUANTIFIER`` token's text (``{,n}`` is ``{0,n}``)."""
    mode = quantifier[-1] if len(quantifier) > 1 and quantifier[-1] in "?+" else ""
    core = quantifier[: len(quantifier) - len(mode)]
    if core in _SIGNS:
        return (*_SIGNS[core], mode)
    low, comma, high = core[1:-1].partition(",")
    if not comma:
        return int(low), int(low), mode
    return int(low or 0), int(high) if high else None, mode
