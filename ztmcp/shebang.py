"""The interpreter a script's ``#!`` line names (the sandbox mounts it; ``ztmcp wrap`` warns
when a desktop launcher's ``PATH`` will not find it)."""

from __future__ import annotations

import os
from typing import Final

_HEAD = 256  # bytes read: a ``#!`` line longer than this is not one the kernel would run


def interpreter(path: str) -> str | None:
    """``NAME`` for ``#!/usr/bin/env [OPTIONS] NAME`` (looked up on ``PATH``), the program
    itself for ``#!/usr/bin/python3``; None for no script, an unreadable file, or an ``env``
    line that ends in an option."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env" and len(words) > 1:
        if words[1] == "-S" or words[1].startswith("-S"):
            # ``env -S`` splits the rest: the first word that is not an option is the program
            # (``#!/usr/bin/env -S node --no-warnings``).
            rest = [words[1][2:], *words[2:]] if words[1] != "-S" else words[2:]
            return _program(rest)
        # Without -S the kernel hands env the rest as one word: only a lone name runs.
        return words[-1] if not words[-1].startswith("-") else None
    return words[0]


_TAKES_VALUE: Final = frozenset({"-u", "--unset", "-C", "--chdir"})  # env options with an argument


def _program(words: list[str]) -> str | None:
    """The program ``env -S`` runs from its split words: past options (and their arguments)
    and ``NAME=VALUE`` assignments; None when only those are there."""
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _TAKES_VALUE:
            skip = True
        elif word and not word.startswith("-") and "=" not in word:
            return word
    return None
