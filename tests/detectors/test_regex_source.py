"""One reader of regex source (``detectors.regex_source``) for the three readings the detectors
make of their own regexes. Differential: the readings equal the hand-written walkers they
replaced (their bodies kept below as the reference) on every pattern the project compiles and
on generated patterns. Promises: what a reading says holds of the strings the regex matches
(drawn by ``from_regex``); without its look-arounds a pattern is one RE2 compiles."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import itertools
import pkgutil
import re
import warnings
from collections.abc import Iterator
from typing import Any

import re2  # type: ignore[import-untyped, unused-ignore]
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ztmcp.detectors
from ztmcp.detectors import multi, regex_source
from ztmcp.detectors.lazyre import LazyPattern

# -- the reference: the walkers as they were before the one reader ------------------------------

_OLD_PREFIX_FORKS = 16
_OLD_CLASS_FORKS = 4
_OLD_QUANTIFIER = frozenset("?*+{")
_OLD_META = frozenset(".^$*+?{}[]()|\\")
_Heads = list[tuple[str, bool]]


def _old_skip(src: str, i: int) -> int:
    depth = 0
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _old_class_end(src, i) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            if not depth:
                return i
            depth -= 1
        elif c == "|" and not depth:
            return i
        i += 1
    return i


def _old_class_end(src: str, i: int) -> int:
    j = i + 1
    if src[j : j + 1] == "^":
        j += 1
    if src[j : j + 1] == "]":
        j += 1
    while j < len(src) and src[j] != "]":
        j += 2 if src[j] == "\\" else 1
    return j


def _old_atom(src: str, i: int) -> tuple[_Heads | None, int]:
    c = src[i]
    if c == "\\":
        e = src[i + 1 : i + 2]
        return ([(e, True)] if e and not e.isalnum() else None), i + 2
    if c == "[":
        end = _old_class_end(src, i)
        body = src[i + 1 : end]
        literal = "\\" not in body and "-" not in body[1:-1] and not body.startswith("^")
        few = literal and 0 < len(set(body)) <= _OLD_CLASS_FORKS
        return ([(ch, True) for ch in dict.fromkeys(body)] if few else None), end + 1
    if c == "(":
        if src.startswith("(?:", i):
            heads, end = _old_alternatives(src, i + 3)
            return heads, end + 1
        if src.startswith("(?", i):
            return None, _old_skip(src, i + 1) + 1
        heads, end = _old_alternatives(src, i + 1)
        return heads, end + 1
    if c in _OLD_META:
        return None, i + 1
    return [(c, True)], i + 1


def _old_sequence(src: str, i: int) -> tuple[_Heads, int]:
    heads: _Heads = [("", True)]
    while i < len(src) and src[i] not in "|)":
        options, j = _old_atom(src, i)
        quantified = j < len(src) and src[j] in _OLD_QUANTIFIER
        grown = [(h + o, more) for h, go in heads if go for o, more in options or ()]
        if options is None or quantified or len(grown) > _OLD_PREFIX_FORKS:
            return [(h, False) for h, _go in heads], _old_skip(src, i)
        heads = [(h, go) for h, go in heads if not go] + grown
        if not any(go for _h, go in heads):
            return heads, _old_skip(src, j)
        i = j
    return heads, i


def _old_alternatives(src: str, i: int) -> tuple[_Heads, int]:
    heads: _Heads = []
    while True:
        more, i = _old_sequence(src, i)
        heads += more
        if i >= len(src) or src[i] == ")":
            return heads, i
        i += 1


def old_literal_prefixes(pattern: str) -> frozenset[str]:
    """``secrets._literal_prefixes`` as it was."""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
        elif c == "[":
            i = _old_class_end(pattern, i) + 1
        elif c == "(" and not pattern.startswith("(?", i):
            heads, _end = _old_alternatives(pattern, i + 1)
            return frozenset(h for h, _go in heads if h)
        else:
            i += 1
    return frozenset()


_OLD_INSTRUCTION_META = frozenset(".^$*+?{}[]|()\\")


def old_literal_prefix(rx: str) -> tuple[str, int]:
    """``instructions._literal_prefix`` as it was."""
    out: list[str] = []
    ends: list[int] = []
    i = 0
    while i < len(rx):
        c = rx[i]
        if c == "\\" and i + 1 < len(rx) and not rx[i + 1].isalnum():
            out.append(rx[i + 1])
            i += 2
        elif c in _OLD_INSTRUCTION_META:
            break
        else:
            out.append(c)
            i += 1
        ends.append(i)
    if i < len(rx) and rx[i] in "?*+{" and out:
        out.pop()
        ends.pop()
    return "".join(out), (ends[-1] if ends else 0)


def old_drop_lookarounds(rx: str) -> str:
    """``multi._drop_lookarounds`` as it was."""
    out: list[str] = []
    i, n = 0, len(rx)
    in_class = False
    while i < n:
        c = rx[i]
        if c == "\\":
            out.append(rx[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            j = i + 1
            if j < n and rx[j] == "^":
                out.append("^")
                j += 1
            if j < n and rx[j] == "]":
                out.append("]")
                j += 1
            i = j
            continue
        if rx.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            i = _old_group_end(rx, i)
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _old_group_end(rx: str, start: int) -> int:
    depth = 0
    i, n = start, len(rx)
    in_class = False
    while i < n:
        c = rx[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if i + 1 < n and rx[i + 1] == "^":
                i += 1
            if i + 1 < n and rx[i + 1] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


_OLD_COUNT = re.compile(r"(?<!\\)\{(\d+)(,(\d*))?\}")
_OLD_BOUNDED = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]?|\{(\d+),\d+\}", re.DOTALL)


def _old_uncap(m: re.Match[str]) -> str:
    low, comma, high = int(m.group(1)), m.group(2), m.group(3)
    if low <= 1000 and (not comma or not high or int(high) <= 1000):
        return m.group()
    return f"{{{min(low, 1000)},}}"


def _old_unbound(m: re.Match[str]) -> str:
    return m.group() if m.group(1) is None else f"{{{m.group(1)},}}"


def old_loosen(rx: str) -> str:
    """``multi.loosen`` as it was."""
    return _OLD_COUNT.sub(_old_uncap, old_drop_lookarounds(rx))


def old_widen(rx: str) -> str:
    """``multi.widen`` as it was."""
    return _OLD_BOUNDED.sub(_old_unbound, old_loosen(rx))


# -- every pattern the project compiles, collected by import ------------------------------------


def _reachable(value: Any, seen: set[int]) -> Iterator[Any]:
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    if isinstance(value, dict):
        items: Any = [*value.keys(), *value.values()]
    elif isinstance(value, tuple | list | frozenset | set):
        items = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        return
    for item in items:
        yield from _reachable(item, seen)


def _project_patterns() -> list[str]:
    """The source of every ``LazyPattern`` and compiled pattern held by a detectors module,
    and every string of the rules data that ``re`` compiles (patterns, triggers, requirements,
    the words they are gated by)."""
    found: dict[str, None] = {}
    seen: set[int] = set()
    for info in pkgutil.walk_packages(ztmcp.detectors.__path__, "ztmcp.detectors."):
        module = importlib.import_module(info.name)
        rules = info.name.startswith("ztmcp.detectors.rules.")
        for value in list(vars(module).values()):
            for item in _reachable(value, seen):
                if isinstance(item, LazyPattern | re.Pattern):
                    src = item.pattern
                    found[src.decode("latin-1") if isinstance(src, bytes) else src] = None
                elif rules and isinstance(item, str) and _compiles(item):
                    found[item] = None
    return list(found)


def _compiles(rx: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(rx)
    except (re.error, FutureWarning, DeprecationWarning):
        return False
    return True


PROJECT = _project_patterns()


def test_the_project_patterns_are_collected() -> None:
    """Rules data and engine patterns of every kind are in (the walk follows the modules)."""
    assert len(PROJECT) > 1500
    from ztmcp.detectors.rules import instructions as rules_i
    from ztmcp.detectors.rules import secrets as rules_s

    wanted = {r.pattern for r in rules_s.RULES}
    wanted |= {rx for r in rules_i.RULES for _g, rx in r.triggers}
    assert wanted <= set(PROJECT)


def _top_alternation(rx: str) -> bool:
    return regex_source._alternation_outside_groups(regex_source.read(rx))


_OLD_BLIND_KINDS = frozenset({regex_source.Kind.NAMED, regex_source.Kind.ATOMIC})


def _old_blind(rx: str) -> bool:
    """What the old forking walker read as something else: a named or atomic group (not a
    group to it), global flags (``(?i)(ab)`` led by ``ab`` to it)."""
    toks = regex_source.tokens(rx)
    return any(t.kind in _OLD_BLIND_KINDS or t.kind is regex_source.Kind.FLAGS for t in toks)


def _re2_blind(rx: str) -> bool:
    """What the old ``loosen`` handed RE2 as it was: a possessive or ``{,n}`` repetition (RE2
    refuses the first, reads the second as text), an atomic group (refused)."""
    return any(
        t.kind is regex_source.Kind.ATOMIC
        or (
            t.kind is regex_source.Kind.QUANTIFIER
            and (t.text.startswith("{,") or regex_source.count(t.text)[2] == "+")
        )
        for t in regex_source.tokens(rx)
    )


def _re2_reads(rx: str) -> bool:
    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(rx, options)
    except re2.error:
        return False
    return True


def test_the_readings_equal_the_old_walkers_on_every_project_pattern() -> None:
    """Equal on all but what the old walkers misread, which no pattern they read holds: the
    forking walker's blind spots (``_old_blind``; no provider shape has one), ``a|b``, which
    the single prefix read as led by ``a`` (no trigger has one; the one reader gives no
    prefix), and the forms RE2 refused or misread (``_re2_blind``: two of the secrets
    detector's, which no RE2 set holds)."""
    from ztmcp.detectors.rules import instructions as rules_i
    from ztmcp.detectors.rules import secrets as rules_s

    assert not any(_old_blind(rule.pattern) for rule in rules_s.RULES)
    assert not any(_top_alternation(rx) for rule in rules_i.RULES for _g, rx in rule.triggers)
    for rx in PROJECT:
        if not _old_blind(rx):
            assert regex_source.literal_prefixes(rx) == old_literal_prefixes(rx), rx
        if _top_alternation(rx):
            assert regex_source.literal_prefix(rx) == ("", 0), rx
        else:
            assert regex_source.literal_prefix(rx) == old_literal_prefix(rx), rx
        assert regex_source.drop_lookarounds(rx) == old_drop_lookarounds(rx), rx
        if _re2_blind(rx):
            assert _re2_reads(multi.loosen(rx)) and _re2_reads(multi.widen(rx)), rx
            assert not _re2_reads(old_loosen(rx)), rx
        else:
            assert multi.loosen(rx) == old_loosen(rx), rx
            assert multi.widen(rx) == old_widen(rx), rx


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="\\[]()|?*+{},.^$:=!<>Pi-0123abx")))
def test_the_tokens_cover_any_text_and_the_readings_never_fail(src: str) -> None:
    """Any string, a regex or not, is tokens end to end, and each reading answers."""
    toks = regex_source.tokens(src)
    assert "".join(t.text for t in toks) == src
    assert all(t.text for t in toks)
    regex_source.literal_prefix(src)
    regex_source.group_one_heads(src)
    assert len(multi.widen(src)) <= len(src) + 4 * len(toks)


def test_the_tokens_cover_the_source() -> None:
    for rx in PROJECT:
        toks = regex_source.tokens(rx)
        assert "".join(t.text for t in toks) == rx
        assert all(a.end == b.start for a, b in itertools.pairwise(toks))


# -- generated patterns -------------------------------------------------------------------------

_PLAIN = st.sampled_from(list("abcxyzAB019_-/:= #\"'<>@%,"))
_ESCAPED = st.sampled_from([r"\.", r"\*", r"\(", r"\)", r"\[", r"\]", r"\|", r"\{", r"\\", r"\-"])
_CLASS_ESCAPE = st.sampled_from([r"\d", r"\w", r"\s", r"\D", r"\W", r"\S", r"\x41"])
_CLASS_ITEM = st.one_of(
    st.sampled_from(list("abcxyz019_ .:/")),
    st.sampled_from(["a-f", "0-9", "A-Z", r"\]", r"\\", r"\-", r"\d", r"\w", r"\s"]),
)


@st.composite
def _class(draw: st.DrawFn) -> str:
    negated = "^" if draw(st.booleans()) else ""
    bracket_first = "]" if draw(st.integers(0, 9)) == 0 else ""
    items = draw(st.lists(_CLASS_ITEM, min_size=0 if bracket_first else 1, max_size=5))
    dash = "-" if draw(st.integers(0, 5)) == 0 else ""
    return f"[{negated}{bracket_first}{''.join(items)}{dash}]"


_QUANT = st.tuples(
    st.sampled_from(["?", "*", "+", "{2}", "{1,}", "{0,3}", "{,2}", "{1,1500}"]),
    st.sampled_from(["", "", "?", "+"]),
)
# On a group, in the tests that run the pattern: no repetition of a repetition, whose
# backtracking ``re`` may take exponential time on (and hold the interpreter through).
_OPTIONAL = st.tuples(st.sampled_from(["?", "{0,1}", "{,1}", "{1}"]), st.sampled_from(["", "?"]))
_ATOM = st.one_of(_PLAIN, _PLAIN, _ESCAPED, _CLASS_ESCAPE, _class(), st.just("."))
_FIXED = st.lists(st.one_of(_PLAIN, _ESCAPED), min_size=1, max_size=3).map("".join)
_LOOK = st.builds(
    lambda h, body: h + body + ")", st.sampled_from(["(?=", "(?!", "(?<=", "(?<!"]), _FIXED
)


def _numbered(rx: str) -> str:
    counter = iter(range(1000))
    return re.sub("%d", lambda _m: str(next(counter)), rx)


@functools.cache
def _patterns(
    *,
    named: bool = True,
    atomic: bool = True,
    possessive: bool = True,
    flags: bool = True,
    top_alt: bool = True,
    lookarounds: bool = True,
    repeated_groups: bool = True,
) -> st.SearchStrategy[str]:
    """Valid Python regexes: literals, escapes, classes, groups of every kind, quantifiers
    (lazy and possessive too), alternation; the keywords leave kinds out."""

    def quantified(
        inner: st.SearchStrategy[str], counts: st.SearchStrategy[tuple[str, str]] = _QUANT
    ) -> st.SearchStrategy[str]:
        def add(a: str, q: tuple[str, str]) -> str:
            return a + q[0] + (q[1] if possessive or q[1] != "+" else "")

        return st.one_of(inner, st.builds(add, inner, counts))

    heads = ["(", "(?:", "(?i:", "(?-i:"] + ["(?P<g%d>"] * named + ["(?>"] * atomic

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        seq = st.lists(children, min_size=1, max_size=4).map("".join)
        alts = st.lists(seq, min_size=1, max_size=3).map("|".join)
        groups = st.builds(lambda h, body: h + body + ")", st.sampled_from(heads), alts)
        counts = _QUANT if repeated_groups else _OPTIONAL
        return st.one_of(quantified(groups, counts), quantified(_ATOM), *[_LOOK] * lookarounds)

    tree = st.recursive(quantified(_ATOM), extend, max_leaves=8)
    sequence = st.lists(tree, min_size=1, max_size=5).map("".join)
    body = st.lists(sequence, min_size=1, max_size=3 if top_alt else 1).map("|".join)
    prefix = st.sampled_from(["", "", "", "(?i)", "(?m)"] if flags else [""])
    return st.builds(lambda p, b: _numbered(p + b), prefix, body)


def _valid(rx: str) -> str:
    assert _compiles(rx), rx
    return rx


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_patterns(named=False, atomic=False, flags=False))
def test_generated_patterns_read_as_the_old_walkers_did(rx: str) -> None:
    """Where the old walkers read right (no named or atomic group, no global flag: they did
    not tell those apart), the readings are the same."""
    _valid(rx)
    assert regex_source.literal_prefixes(rx) == old_literal_prefixes(rx)
    assert regex_source.drop_lookarounds(rx) == old_drop_lookarounds(rx)
    if not _top_alternation(rx):
        assert regex_source.literal_prefix(rx) == old_literal_prefix(rx)
    if not _re2_blind(rx) and _re2_reads(old_loosen(rx)):
        assert multi.loosen(rx) == old_loosen(rx)
        assert multi.widen(rx) == old_widen(rx)


# -- what each reading promises, on generated patterns ------------------------------------------
# Matches are drawn from the pattern without its look-arounds (``from_regex`` draws those by
# rejection, which starves) and kept when the pattern itself matches them.


def _draw_match(data: st.DataObject, rx: str, ascii_only: bool = False) -> str:
    alphabet = st.characters(codec="ascii") if ascii_only else None
    loose = regex_source.drop_lookarounds(rx)
    s = data.draw(st.from_regex(loose, fullmatch=True, alphabet=alphabet))
    assume(re.fullmatch(rx, s) is not None)
    return s


_PROMISES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@_PROMISES
@given(_patterns(repeated_groups=False), st.data())
def test_every_match_starts_with_the_literal_prefix(rx: str, data: st.DataObject) -> None:
    """``literal_prefix``: each match starts with it, and the rest of the pattern (from the
    index it gives) matches the rest: ``instructions`` searches ``prefix(?=rest)``."""
    _valid(rx)
    s = _draw_match(data, rx)
    prefix, end = regex_source.literal_prefix(rx)
    assert s.startswith(prefix)
    if prefix:
        assert re.fullmatch(rx[end:], s[len(prefix) :]) is not None


@_PROMISES
@given(_patterns(repeated_groups=False), st.data())
def test_group_one_starts_with_one_of_its_heads(rx: str, data: st.DataObject) -> None:
    """``group_one_heads``: group 1 of each match starts with one of them; the literal
    prefixes are those heads but "" (an alternative led by no literal, ``(a|\\d)``, leaves
    ``a``: the prefixes say what a provider's key may start with, not that each does)."""
    _valid(rx)
    assume(re.compile(rx).groups >= 1)
    s = _draw_match(data, rx)
    m = re.fullmatch(rx, s)
    assert m is not None
    heads = regex_source.group_one_heads(rx)
    assert regex_source.literal_prefixes(rx) == heads - {""}
    if heads and m.group(1) is not None:
        assert m.group(1).startswith(tuple(heads)), (m.group(1), heads)


@_PROMISES
@given(_patterns(repeated_groups=False), st.data())
def test_re2_compiles_the_loosened_pattern_and_it_matches(rx: str, data: st.DataObject) -> None:
    """``multi.loosen`` and ``multi.widen`` (the pattern without its look-arounds, read as
    RE2 reads: ``{,n}``, counts past its limit, possessive and atomic forms): RE2 compiles
    them and they match whatever the pattern matches (on ASCII texts, where RE2's classes are
    Python's). The old ``loosen`` failed here on ``.{,2}`` (RE2 reads ``{,2}`` as text: a set
    that said "no match" where ``re`` finds one) and on ``\\\\{1,1500}``."""
    _valid(rx)
    options = re2.Options()
    options.log_errors = False
    loose = [re2.compile(multi.loosen(rx), options), re2.compile(multi.widen(rx), options)]
    s = _draw_match(data, rx, ascii_only=True)
    assume(multi.plain(s))
    for pattern in loose:
        assert pattern.fullmatch(s) is not None, (pattern.pattern, s)


def test_the_readings_by_example() -> None:
    read = regex_source.literal_prefix
    assert read(r"ignore\s+previous") == ("ignore", 6)
    assert read(r"you(?:r)?") == ("you", 3)
    assert read(r"abc?d") == ("ab", 2)
    assert read(r"a\.b{2}") == ("a.", 3)
    assert read(r"ab|cd") == ("", 0)
    assert read(r"(?i)ab") == ("", 0)
    assert read(r"ab{x}") == ("ab", 2)  # a brace that is no count is a character: not read
    forks = regex_source.literal_prefixes
    assert forks(r"(?P<k>sk|rk)_(live)") == {"sk", "rk"}
    assert forks(r"(?i)(sk_live)") == frozenset()
    assert forks(r"(?>ab|c)(d)") == {"d"}
    assert forks(r"((?>ab|c)d)") == {"abd", "cd"}
    drop = regex_source.drop_lookarounds
    assert drop(r"(?<![a-z(])ab(?=c[)])[x\]](?!d(?:e))") == r"ab[x\]]"
    assert drop(r"[(?=]a\(?=b") == r"[(?=]a\(?=b"
