"""Fast runs of character classes: one C-level pass instead of a regex that tries every offset.

``classes(text, table)`` maps each character of ``text`` to one byte (``table`` is indexed by the
ASCII code; a real ``?`` is looked up as ``!``, which must share its class, and the ``?`` entry
is the class of every non-ASCII character). ``runs(cls, byte, min_len)`` then finds the maximal
runs of one class with a regex whose literal prefix lets ``re`` skip ahead with a substring
search. Offsets in the bytes are offsets in ``text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Final

NOT_ASCII: Final = ord("?")


def table(members: Iterable[str], mark: str = "a", other: str = " ") -> bytes:
    """A 256-byte translation table: ``mark`` for the ASCII ``members``, ``other`` elsewhere."""
    chars = set(members)
    if ("?" in chars) != ("!" in chars):
        raise ValueError("'?' and '!' must be in the same class")
    out = bytearray(other.encode() * 256)
    for ch in chars:
        if ord(ch) < 128:
            out[ord(ch)] = ord(mark)
    out[NOT_ASCII] = ord(other)  # non-ASCII characters are never members
    return bytes(out)


def classes(text: str, tbl: bytes) -> bytes:
    """One class byte per character of ``text`` (non-ASCII characters get the class of '?')."""
    if text.isascii():
        return text.encode("ascii").translate(tbl)
    if "?" in text:
        text = text.replace("?", "!")
    return text.encode("ascii", "replace").translate(tbl)


@cache
def _run_rx(mark: int, min_len: int) -> re.Pattern[bytes]:
    b = bytes([mark])
    return re.compile(re.escape(b * min_len) + re.escape(b) + b"*")


def runs(cls: bytes, mark: str, min_len: int) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of ``mark`` bytes at least ``min_len`` long."""
    return [m.span() for m in _run_rx(ord(mark), min_len).finditer(cls)]
