"""Regular expressions compiled at their first use, not at import.

The rule tables hold a few hundred regexes (provider shapes, instruction rules and triggers,
phrases in twelve languages); compiling them all costs a noticeable part of a second, and an MCP
client waits for every ``ztmcp run`` it starts. Most texts need none of them: a ``ping`` or an
``initialize`` holds no trigger word and no provider prefix, and each engine decides from such
cheap tests (a literal, a gate word, an RE2 set) whether a rule runs at all. A ``LazyPattern``
is what such a rule holds: the source, compiled the first time a method is called, after which
its methods are the compiled pattern's own (found in the instance, no indirection per call).

Matching is ``re``'s, unchanged: a ``LazyPattern`` is only ever a later ``re.compile`` of the
same source and flags. A source that does not compile fails at its first use, with ``re``'s
error; the rule tables' tests compile every rule (``compile_now``), so that never reaches a
user. Two threads that first use one pattern together both compile it, to the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Final

_METHODS: Final = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split")


class LazyPattern:
    """``re.compile(pattern, flags)``, done at the first call of one of its methods."""

    # Filled in by the first use (``__getattr__`` runs only for names not found here).
    search: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    fullmatch: Callable[..., re.Match[str] | None]
    finditer: Callable[..., Iterator[re.Match[str]]]
    findall: Callable[..., list[Any]]
    sub: Callable[..., str]
    split: Callable[..., list[Any]]

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet)."""
        compiled = self._compiled
        if compiled is None:
            compiled = re.compile(self.pattern, self._flags)
            slots = self.__dict__
            for name in _METHODS:
                slots[name] = getattr(compiled, name)
            self._compiled = compiled
        return compiled

    @property
    def ready(self) -> bool:
        """Whether it has been compiled."""
        return self._compiled is not None

    @property
    def flags(self) -> int:
        return self.compiled.flags

    @property
    def groups(self) -> int:
        return self.compiled.groups

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(name)
        return getattr(self.compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}{', ' + str(self._flags) if self._flags else ''})"


Pattern = re.Pattern[str] | LazyPattern


def compile_now(
    patterns: Iterator[LazyPattern] | tuple[LazyPattern, ...] | list[LazyPattern],
) -> int:
    """Compile every pattern not compiled yet (the rule tables' tests; a warm-up); returns how
    many were compiled now."""
    count = 0
    for p in patterns:
        if not p.ready:
            _ = p.compiled
            count += 1
    return count
