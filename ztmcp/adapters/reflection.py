"""Brokered credentials in the forms an agent could decode from a JSON message.

The byte-level redactor in ``mitm.py`` cuts the exact forms an upstream most likely echoes
(as is, JSON-escaped, percent-encoded, base64 at any alignment, hex) from the raw stream, also
across chunks. This module is the second pass, on each decoded JSON message: every string
(and object key) is read as the agent's JSON parser reads it (any ``\\uXXXX`` escaping), then
also percent-decoded (either hex case), HTML-unescaped, and every base64 run (standard or
URL-safe alphabet, padded or not, wrapped over lines, at any alignment) and hex run (any case)
in it is decoded; a string in which any of those forms holds a fragment of a brokered secret
is replaced whole. A fragment is any run of ``fragment`` characters of the secret (at most 8,
at least half the secret, never under 4), so a secret split across two messages (two SSE
events, two chunks) is caught in each half.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import unquote, unquote_plus

REDACTED_TEXT: Final = "[REDACTED:credential]"
_B64_RUN: Final = re.compile(r"[A-Za-z0-9+/_\-=\s]{12,}")
_HEX_RUN: Final = re.compile(r"[0-9A-Fa-f]{8,}")
MAX_DEPTH: Final = 256


def fragment_length(secret: str) -> int:
    return max(4, min(8, -(-len(secret) // 2), len(secret)))


class Reflections:
    """Finds brokered secrets, or fragments of them, in decoded strings."""

    def __init__(self, secrets: Iterable[str]) -> None:
        fragments: set[str] = set()
        for secret in _cores(secrets):
            n = fragment_length(secret)
            fragments |= {secret[i : i + n] for i in range(len(secret) - n + 1)}
        ordered = sorted(fragments, key=len, reverse=True)
        self._text = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._bytes = (
            re.compile(b"|".join(re.escape(f.encode("utf-8", "surrogateescape")) for f in ordered))
            if ordered
            else None
        )

    def __bool__(self) -> bool:
        return self._text is not None

    def hidden_in(self, text: str) -> bool:
        """Whether ``text``, or a form of it an agent could decode, holds a secret fragment."""
        if self._text is None:
            return False
        views = {text}
        if "%" in text:
            views |= {unquote(text), unquote_plus(text)}
        if "&" in text:
            views.add(html.unescape(text))
        for view in views:
            if self._text.search(view) or any(self._found(b) for b in _decoded_runs(view)):
                return True
        return False

    def _found(self, data: bytes) -> bool:
        assert self._bytes is not None
        return self._bytes.search(data) is not None

    def redact(self, value: Any) -> tuple[Any, int]:
        """``value`` (a decoded JSON value) with every string that hides a secret replaced,
        and how many were."""
        count = 0

        def walk(item: Any, depth: int) -> Any:
            nonlocal count
            if depth > MAX_DEPTH:  # deeper than any parser accepts: the Session refuses it
                return item
            if isinstance(item, str):
                if self.hidden_in(item):
                    count += 1
                    return REDACTED_TEXT
                return item
            if isinstance(item, list):
                return [walk(v, depth + 1) for v in item]
            if isinstance(item, dict):
                out: dict[str, Any] = {}
                for key, v in item.items():
                    if self.hidden_in(key):
                        count += 1
                        key = f"{REDACTED_TEXT}{count}"
                    out[key] = walk(v, depth + 1)
                return out
            return item

        return walk(value, 0), count


def _cores(values: Iterable[str]) -> set[str]:
    """The secret parts of brokered values: a header value such as ``Bearer TOKEN`` is split at
    white space and its scheme word left out (its fragments would match ordinary text)."""
    cores: set[str] = set()
    for value in values:
        parts = value.split()
        if len(parts) > 1 and parts[0].lower() in _SCHEMES:
            parts = parts[1:]
        cores |= {part for part in parts if len(part) >= 4} if len(parts) > 1 else set(parts)
    return {c for c in cores if c}


_SCHEMES: Final = frozenset({"bearer", "basic", "token", "digest", "apikey", "dpop"})


def _decoded_runs(text: str) -> Iterable[bytes]:
    """Every base64 and hex run of ``text`` decoded, at every alignment."""
    for match in _B64_RUN.finditer(text):
        run = re.sub(r"\s+", "", match.group()).rstrip("=")
        run = run.replace("-", "+").replace("_", "/")
        for start in range(4):
            part = run[start:]
            part = part[: len(part) - len(part) % 4] if len(part) % 4 == 1 else part
            try:
                yield base64.b64decode(part + "=" * (-len(part) % 4))
            except (binascii.Error, ValueError):
                continue
    for match in _HEX_RUN.finditer(text):
        run = match.group()
        for start in range(2):
            part = run[start:]
            yield bytes.fromhex(part[: len(part) - len(part) % 2])
