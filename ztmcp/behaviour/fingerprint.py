"""Fingerprints of distinctive values: keyed hashes, never the plaintext.

A *distinctive value* is what a data flow can be recognised by when it reappears in a later
call's arguments: an identifier-like token (a letter and a digit, ``@``, ``.``, ``/`` or ``_``:
account numbers, addresses, URLs, ids) of at least ``MIN_TOKEN`` characters (bare numbers,
amounts and dates are too common to tie one call to another), or a run
of ``NGRAM`` consecutive words (free text copied along). Common words alone never count: they
would tie every message to every other. Each value is hashed with BLAKE2b under the run's own
random key and truncated to 64 bits, so the run state holds no text and cannot be matched
against a dictionary without the key (docs/behaviour.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

MIN_TOKEN: Final = 4
NGRAM: Final = 3
MAX_TEXT: Final = 1 << 20  # characters fingerprinted per value; the rest is refused upstream
_TOKEN: Final = re.compile(r"[\w][\w.@/:+\-]*[\w]|\w")
_DISTINCT: Final = re.compile(r"[\d@./_]")
_LETTER: Final = re.compile(r"[^\W\d_]")
_FIND: Final = _TOKEN.findall


def texts(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string and number in a JSON value (not its keys: they name fields, the schema's
    words, and would tie every call with the same schema together)."""
    if depth > 64:
        raise ValueError("value nested too deeply to fingerprint")
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield repr(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts(item, depth + 1)


def values(text: str) -> Iterator[str]:
    """The distinctive values of one text (lower-cased): identifier-like tokens (a URL or an
    address also by its host) and runs of ``NGRAM`` plain words. A token that is not a plain
    word breaks a run. (A token ends with a word character, so nothing is stripped from it.)"""
    if len(text) > MAX_TEXT:
        raise ValueError("text too long to fingerprint")
    run: list[str] = []
    for token in _FIND(text.lower()):
        if token.isalpha():  # letters only: a word of a phrase, never a value by itself
            if len(token) >= 2 and token.isascii():
                run.append(token)
                if len(run) >= NGRAM:
                    yield " ".join(run[-NGRAM:])
            else:
                run.clear()
            continue
        run.clear()
        if len(token) >= MIN_TOKEN and _DISTINCT.search(token) and _LETTER.search(token):
            yield token
            # a URL or address also counts without its scheme and path
            host = token.split("://", 1)[-1].split("/", 1)[0]
            if host != token and len(host) >= MIN_TOKEN:
                yield host


class Keyed:
    """The hasher of one run."""

    __slots__ = ("_keyed",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a fingerprint key has at least 16 bytes")
        # The keyed state once; each value hashes a copy (the key block is not redone).
        self._keyed = hashlib.blake2b(key=key, digest_size=8)

    def one(self, value: str) -> int:
        h = self._keyed.copy()
        h.update(value.encode())
        return int.from_bytes(h.digest(), "big")

    def of(self, items: Iterable[str]) -> frozenset[int]:
        return frozenset(self.one(v) for text in items for v in values(text))

    def of_json(self, value: Any) -> frozenset[int]:
        return self.of(texts(value))

    def word(self, word: str) -> int:
        """The key of one plain word (a name: ``Bob``, ``general``), apart from values."""
        return self.one("\x00" + word.lower())

    def words(self, text: str) -> frozenset[int]:
        """The word keys of every token of a text: what a user turn names in plain words."""
        if len(text) > MAX_TEXT:
            raise ValueError("text too long to fingerprint")
        return frozenset(self.word(t) for t in _FIND(text.lower()))

    def name_key(self, value: Any) -> int | None:
        """The word key of an argument that is one plain token and no distinctive value (a
        person, a channel: ``Dora``); None for anything else."""
        if not isinstance(value, str):
            return None
        token = value.strip().lower()
        if not token or _TOKEN.fullmatch(token) is None or any(values(token)):
            return None
        return self.word(token)

    def whole(self, value: Any) -> int | None:
        """The fingerprint of an argument that is, in whole, one distinctive value (a link as
        it was posted, an IBAN); None for anything else."""
        if not isinstance(value, str):
            return None
        token = value.strip().lower()
        if _TOKEN.fullmatch(token) is None or next(values(token), None) != token:
            return None
        return self.one(token)
