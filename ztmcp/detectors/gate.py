"""The detectors' gate: one cheap test per text that proves no rule can fire in it.

Most strings an MCP message carries are short and benign ("Echo: hello", a file name, a
status line). The engines find nothing in them, but only after each has made its own first
tests: an RE2 pass for the triggers and one for the language anchors, the candidate runs, the
text gates, the CSS words, the disguise probes, each with its Python bookkeeping. The gate
makes all those first tests in one RE2 pass:

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
  engines' own RE2 passes handle those), no RE2, an engine whose list RE2 cannot parse (that
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

# The engines, and the modules whose first tests each one's scan makes.
CONTENT: Final = 0  # ``detectors.scan_content``: unicode, instructions (and its helpers), offtopic
SECRETS: Final = 1  # ``secrets.scan``
_MODULES: Final = (("unicode", "instructions", "offtopic"), ("secrets",))
# Longer texts are not gated: the RE2 set reads every byte of the view (it cannot stop at the
# first match), and on the corpora few strings past this length can be cleared.
MAX_CHARS: Final = 256
_NOT_PLAIN: Final = re.compile(r"[^\t\n\r -~]")
# A Python quantifier that RE2 reads as literal text: a pattern holding one is not summarised.
_RE2_LITERAL_BRACES: Final = re.compile(r"(?<!\\)\{,")

Hits = frozenset[int] | None  # the engines that may fire (None: any)
_RE2_MAX_MEM = multi.MAX_MEM  # a module attribute, so that a test can starve it


class _Gate:
    """The RE2 set of every engine's first tests, and the views it searches."""

    def __init__(self) -> None:
        modules = {
            name: importlib.import_module(f"ztmcp.detectors.{name}")
            for names in _MODULES
            for name in names
        }
        self.instructions_view: Callable[[str], str] = modules["instructions"].gate_view
        self.secrets_view: Callable[[str], str] = modules["secrets"].gate_view
        sources: list[str] = []
        engines: list[int] = []
        always: set[int] = set()  # engines not summarised: always scanned
        for engine, names in enumerate(_MODULES):
            source = _alternation([p for name in names for p in modules[name].gate_patterns()])
            if source is None:
                always.add(engine)
            else:
                sources.append(source)
                engines.append(engine)
        self.always = frozenset(always)
        self.engines = tuple(engines)
        self.set = multi.RegexSet(sources, _RE2_MAX_MEM)

    def hits(self, text: str) -> Hits:
        """The engines whose first tests pass somewhere in ``text`` (plain ASCII), or None."""
        low = text.lower()
        if "_" not in text and "\\" not in text:  # the engines' views are these two (tested)
            view = f"\n{text}\n{low}\n"
        else:
            theirs = self.secrets_view(text)
            views = (text, low, self.instructions_view(text), theirs, theirs.lower())
            view = "\n" + "\n".join(dict.fromkeys(views)) + "\n"
        found = self.set.matching(view)
        if found is None:
            return None
        if not found:
            return self.always
        return self.always.union(self.engines[i] for i in found)


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
    """Build the set now (``detectors.warm_up``) rather than for the first text."""
    _gate()


def available() -> frozenset[int]:
    """The engines the gate can clear (what the tests check: all of them)."""
    gate = _gate()
    if not gate.set.available:
        return frozenset()
    return frozenset(gate.engines) - gate.always


# The last text asked about and its answer: the checks of one message ask about the same
# text (``injection`` and ``secrets`` both scan a response's strings joined).
_last: tuple[str, Hits] = ("", None)


def hits(text: str) -> Hits:
    """The engines that may find something in ``text``: None (any) unless proved otherwise."""
    global _last
    last = _last
    if last[0] == text:
        return last[1]
    found: Hits = None
    if len(text) <= MAX_CHARS and text.isascii() and _NOT_PLAIN.search(text) is None:
        found = _gate().hits(text)
    _last = (text, found)
    return found


def clear(text: str, engine: int) -> bool:
    """True when no rule of ``engine`` can fire in ``text`` (its scan would return ``[]``)."""
    found = hits(text)
    return found is not None and engine not in found
