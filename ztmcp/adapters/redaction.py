"""Brokered secrets cut from the raw bytes an upstream sends back, also across chunks.

``needles`` lists the byte forms an upstream most likely echoes a secret in; ``Redactor`` cuts
them from a stream chunk by chunk. The decoded forms of a JSON message are the second pass
(``reflection.py``). Pure: no mitmproxy.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

REDACTED: Final = b"[REDACTED:credential]"


_PERCENT: Final = re.compile(r"%[0-9A-F]{2}")
# Below this many bytes a secret's base64 or hex run would be short enough to occur by chance.
_MIN_B64_SECRET: Final = 8


def _text_forms(value: str) -> set[str]:
    """``value`` as a JSON string body escapes it (``\\"``, ``\\uXXXX``) and as a URL or
    a form percent-encodes it, and as is."""
    encoded = {quote(value, safe=""), quote_plus(value, safe="")}
    lower = {_PERCENT.sub(lambda m: m.group().lower(), e) for e in encoded}  # %2f as well as %2F
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        *encoded,
        *lower,
    }


def needles(values: Iterable[str]) -> tuple[bytes, ...]:
    """The byte strings to cut out of responses: each secret as is, in its text forms
    (JSON-escaped, also with ``\\/``; percent-encoded), and in those forms applied twice
    (a JSON document quoted inside a JSON string, a URL percent-encoded inside another URL);
    then each text form base64-encoded (standard and URL-safe alphabets, at each of the three
    alignments it can have inside a longer blob) and hex-encoded (either case). Longest
    first, none inside another."""
    forms: set[bytes] = set()
    for value in values:
        if not value:
            continue
        once = _text_forms(value)
        twice = {again for text in once for again in _text_forms(text)}
        for text in once | twice:
            forms |= {text.encode("utf-8", "surrogateescape")}
            forms |= {text.replace("/", "\\/").encode("utf-8", "surrogateescape")}
        for text in once:  # an encoded blob of the secret, or of its escaped or quoted form
            raw = text.encode("utf-8", "surrogateescape")
            forms |= _base64_forms(raw)
            if len(raw) >= _MIN_B64_SECRET:  # hex: byte-aligned, so one form per letter case
                forms |= {raw.hex().encode(), raw.hex().upper().encode()}
    ordered = sorted(forms, key=len)
    kept = [n for i, n in enumerate(ordered) if not any(k in n for k in ordered[:i])]
    return tuple(sorted(kept, key=len, reverse=True))


def _base64_forms(secret: bytes) -> set[bytes]:
    """The base64 characters that depend only on ``secret``, wherever it sits in the encoded
    data: with k bytes before it, the first ceil(8k/6) characters and everything after the
    last full 6-bit group also carry neighbouring bits, so they are left out."""
    if len(secret) < _MIN_B64_SECRET:
        return set()
    forms: set[bytes] = set()
    for before in range(3):
        encoded = base64.b64encode(b"\0" * before + secret)
        start = -(-8 * before // 6)
        end = 8 * (before + len(secret)) // 6
        run = encoded[start:end]
        forms |= {run, run.replace(b"+", b"-").replace(b"/", b"_")}
        forms |= {run.replace(b"/", b"\\/")}  # inside a JSON string
    return forms


class Redactor:
    """Cuts the needles out of a byte stream, also where one spans two chunks.

    Only a chunk's tail that could begin a needle is held back for the next chunk; a secret
    never contains a line break, so an SSE event's closing blank line is never delayed.
    """

    def __init__(self, needles: tuple[bytes, ...]) -> None:
        self._needles = needles
        self._carry = b""
        self.hits = 0

    def line(self, data: bytes) -> bytes:
        """One complete value (a header): nothing carried over."""
        for needle in self._needles:
            if needle in data:
                self.hits += data.count(needle)
                data = data.replace(needle, REDACTED)
        return data

    def feed(self, chunk: bytes) -> bytes:
        data = self.line(self._carry + chunk)
        keep = self._partial(data)
        self._carry = data[len(data) - keep :]
        return data[: len(data) - keep]

    def finish(self) -> bytes:
        rest, self._carry = self._carry, b""
        return rest  # a proper prefix of a needle: not a secret

    def _partial(self, data: bytes) -> int:
        """The length of the longest tail of ``data`` that is a proper prefix of a needle."""
        best = 0
        for needle in self._needles:
            first, end = needle[:1], len(data) - best  # only tails longer than ``best``
            at = data.find(first, max(0, len(data) - len(needle) + 1), end)
            while at != -1:
                if needle.startswith(data[at:]):
                    best = len(data) - at
                    break
                at = data.find(first, at + 1, end)
        return best


# the names the addon's tests know
_needles = needles
_Redactor = Redactor
