"""The detectors' gate: one cheap test per text that proves no rule can fire in it.

Most strings an MCP message carries are short and benign ("Echo: hello", a file name, a
status line). The engines find nothing in them, but only after each has made its own first
tests: an RE2 pass for the triggers and one for the language anchors, the candidate runs, the
text gates, the CSS words, the disguise probes, each with its Python bookkeeping. The gate
makes all those first tests in a few RE2 passes (``_PROBES``: four for the content scan, two
for the secrets scan, stopping at the first that matches):

- Each engine lists, as regexes, the first tests its ``scan`` makes before anything can be
  found, built from its own tables (``gate_patterns`` in ``instructions``, ``languages``,
  ``ciphers``, ``normalise``, ``offtopic``, ``unicode``, ``secrets``): every rule's triggers,
  every phrase's anchors, every context word and every shape searched in the whole text, the
  candidate run that every other shape needs, the shapes of the disguises. A rule added to a
  table is in its engine's list, so in the gate: nothing is listed here.
- The gate searches them, loosened (``multi.widen``: a superset) and in multi-line mode, in
  every view the engines read a text in, each on a line of its own: the text, its lower case,
  the instruction rules' view (``_`` and escaped line breaks as spaces) and the secrets' (line
  continuations as spaces). Nothing matches: no engine's first test passes, so no engine finds
  anything, and the scan returns ``[]`` without running. A match proves nothing: the whole
  scan runs, as it did without the gate.
- It vouches only for what it reads exactly as the engines do: plain ASCII (tab, line feed,
  carriage return and the printable characters; RE2's and Python's classes agree there) of at
  most ``MAX_CHARS`` characters. Anything else is "maybe": non-ASCII text (normalisation and
  the Unicode rules read it), control characters, a longer text (few can be cleared, and the
  engines' own RE2 passes handle those), no RE2, a module whose list RE2 cannot parse (its
  engine is always scanned), an automaton out of memory (the canary, as in ``multi``).

Why this is sound, and what keeps it so: docs/detection.md ("The detector gate"); the tests
compare gated and ungated scans on arbitrary text and on every corpus.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from typing import Final

from ztmcp.detectors import multi

# The engines, and the first tests each one's scan makes: the ``gate_patterns`` (or named
# function) of each module, grouped into RE2 sets, the set most often passed first. A group
# is one set: together, some lists make an automaton with many more states (``_Gate``).
CONTENT: Final = 0  # ``detectors.scan_content``: instructions (and its helpers), offtopic, unicode
SECRETS: Final = 1  # ``secrets.scan``
_PROBES: Final = (
    (
        ("instructions",),
        ("languages", "ciphers", "normalise"),
        ("offtopic",),
        ("unicode",),
    ),
    (("secrets",), ("secrets.gate_shapes",)),
)
# Longer texts are not gated: an RE2 pass reads every byte of the view, and on the corpora few
# strings past this length can be cleared.
MAX_CHARS: Final = 256
_NOT_PLAIN: Final = re.compile(r"[^\t\n\r -~]")
# A Python quantifier that RE2 reads as literal text: a pattern holding one is not summarised.
_RE2_LITERAL_BRACES: Final = re.compile(r"(?<!\\)\{,")
_RE2_MAX_MEM = multi.MAX_MEM  # a module attribute, so that a test can starve it


class _Gate:
    """Per engine, its RE2 sets (each group's patterns as one alternation), and the views they
    search. Several sets, not one for everything: an automaton of all the patterns together
    has so many states that a text it has not seen costs over 100 µs (its states are built as
    it reads), where each group's set costs one or two µs."""

    def __init__(self) -> None:
        lists: dict[str, list[str]] = {}
        for groups in _PROBES:
            for group in groups:
                for name in group:
                    module, _, function = name.partition(".")
                    found = importlib.import_module(f"ztmcp.detectors.{module}")
                    lists[name] = getattr(found, function or "gate_patterns")()
        instructions = importlib.import_module("ztmcp.detectors.instructions")
        secrets = importlib.import_module("ztmcp.detectors.secrets")
        self.instructions_view: Callable[[str], str] = instructions.gate_view
        self.secrets_view: Callable[[str], str] = secrets.gate_view
        self.probes: tuple[tuple[multi.RegexSet | None, ...], ...] = tuple(
            tuple(_probe([p for name in group for p in lists[name]]) for group in groups)
            for groups in _PROBES
        )

    def view(self, text: str) -> bytes:
        """``text`` (plain ASCII) in every view an engine reads it in, one per line, as the
        sets read it (``multi.canaried``)."""
        low = text.lower()
        if "_" not in text and "\\" not in text:  # the engines' views are these two (tested)
            return multi.canaried(f"\n{text}\n{low}\n")
        theirs = self.secrets_view(text)
        views = (text, low, self.instructions_view(text), theirs, theirs.lower())
        return multi.canaried("\n" + "\n".join(dict.fromkeys(views)) + "\n")

    def may_fire(self, view: bytes, engine: int) -> bool:
        """False when none of ``engine``'s first tests passes in ``view`` (proved)."""
        for probe in self.probes[engine]:
            found = None if probe is None else probe.matching_canaried(view)
            if found is None or found:  # cannot say, or a first test passes
                return True
        return False


def _probe(patterns: list[str]) -> multi.RegexSet | None:
    """The RE2 set of one alternation of ``patterns``, or None when it cannot be trusted."""
    source = _alternation(patterns)
    if source is None:
        return None
    probe = multi.RegexSet([source], _RE2_MAX_MEM)
    return probe if probe.available else None


def _alternation(patterns: list[str]) -> str | None:
    """One RE2 source matching wherever any of ``patterns`` (``re`` syntax) matches, or None
    when RE2 cannot be trusted to: a pattern it cannot parse, or one it would read otherwise."""
    if not patterns or any(_RE2_LITERAL_BRACES.search(p) for p in patterns):
        return None
    source = "(?m)" + "|".join(f"(?:{multi.widen(p)})" for p in patterns)
    return source if multi.parses(source) else None


_lock: Final = threading.Lock()
_built: list[_Gate] = []


def _gate() -> _Gate:
    if not _built:
        with _lock:
            if not _built:
                _built.append(_Gate())
    return _built[0]


def build() -> None:
    """Build the sets now (``detectors.warm_up``) rather than for the first text."""
    _gate()


def available() -> frozenset[int]:
    """The engines the gate can clear (what the tests check: all of them)."""
    return frozenset(
        engine
        for engine, probes in enumerate(_gate().probes)
        if all(probe is not None for probe in probes)
    )


# The last text asked about, its view (None: not plain, or too long) and the answers so far:
# the checks of one message ask about the same text (``injection`` and ``secrets`` both scan a
# response's strings joined). Replaced whole; a race only costs a second RE2 pass.
_last: tuple[str, bytes | None, dict[int, bool]] = ("", None, {})


def clear(text: str, engine: int) -> bool:
    """True when no rule of ``engine`` can fire in ``text`` (its scan would return ``[]``)."""
    global _last
    if len(text) > MAX_CHARS:  # first: a long text costs one length test, not a comparison
        return False
    last = _last
    if last[0] != text or not text:
        view = None
        if text.isascii() and _NOT_PLAIN.search(text) is None:
            view = _gate().view(text)
        last = _last = (text, view, {})
    answers = last[2]
    answer = answers.get(engine)
    if answer is None:
        view = last[1]
        answer = view is not None and not _gate().may_fire(view, engine)
        answers[engine] = answer
    return answer
