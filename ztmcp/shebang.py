"""The interpreter a script's ``#!`` line names (the sandbox mounts it; ``ztmcp wrap`` warns
when a desktop launcher's ``PATH`` will not find it)."""

from __future__ import annotations

import os

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
        return words[-1] if not words[-1].startswith("-") else None
    return words[0]
