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


def pattern(members: str, min_len: int) -> str:
    """A regex (``re`` and RE2 syntax) for ``min_len`` characters of ``members`` in a row:
    what a text holds wherever ``runs`` of ``table(members)`` finds a run that long."""
    if min_len < 1:
        raise ValueError("min_len must be at least 1")
    body = "".join("\\" + c if c in "\\]^-[" else c for c in dict.fromkeys(members))
    return f"[{body}]{{{min_len}}}"


def classes(text: str, tbl: bytes) -> bytes:
    """One class byte per character of ``text`` (non-ASCII characters get the class of '?')."""
    if text.isascii():
        return text.encode("ascii").translate(tbl)
    if "?" in text:
        text = text.replace("?", "!")
    return text.encode("ascii", "replace").translate(tbl)


@cache
def _run_rx(mark: int, min_len: int) -> re.Pattern[bytes]:
    """The reference: what ``runs`` finds is what this regex's ``finditer`` finds."""
    b = bytes([mark])
    return re.compile(re.escape(b * min_len) + re.escape(b) + b"*")


@cache
def _rest_rx(mark: int) -> re.Pattern[bytes]:
    return re.compile(re.escape(bytes([mark])) + b"*")


def runs(cls: bytes, mark: str, min_len: int) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of ``mark`` bytes at least ``min_len`` long.

    ``bytes.find`` of ``min_len`` marks skips ahead in bulk (mostly by whole needle lengths),
    several times faster than ``re``'s prefix scan; the first hit after the previous run's end
    is the start of a run, whose end one ``match`` of ``mark*`` finds.
    """
    if min_len < 1:
        raise ValueError("min_len must be at least 1")
    code = ord(mark)
    needle = bytes([code]) * min_len
    rest = _rest_rx(code).match
    find = cls.find
    out: list[tuple[int, int]] = []
    i = find(needle)
    while i >= 0:
        m = rest(cls, i + min_len)
        e = m.end() if m is not None else i + min_len
        out.append((i, e))
        i = find(needle, e)
    return out
