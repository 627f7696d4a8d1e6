"""Where each ``key = value`` of a TOML document sits, so an edit changes only those spans.

``tomllib`` reads values but forgets positions, and no TOML writer is locked; Codex keeps its
MCP servers in ``~/.codex/config.toml`` beside the rest of its settings and the user's comments.
``assignments`` scans the document once (tables, dotted keys, strings of all four kinds,
arrays and inline tables across lines, comments) and returns, for every assignment, its full
key path and the ``[start, end)`` span of its value. The caller re-reads the edited document
with ``tomllib`` and compares it to what it meant to write (see ``clients.formats``): a scan
this module got wrong is refused there, never written.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from ztmcp.clients.jsonc import ConfigError, Cursor
from ztmcp.documents import loads_toml

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ Tt]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?")
_SCALAR = re.compile(r"[^\s,\]\}#]+")


@dataclass(frozen=True)
class Assignment:
    path: tuple[str, ...]  # table path + key path
    line_start: int  # start of the line the key is on
    key_start: int  # first character of the key
    last_key_start: int  # first character of the key's last component
    start: int  # value span
    end: int
    line_end: int  # just after the newline ending the assignment (or len(text))
    items: tuple[tuple[int, int], ...] = ()  # spans of the items when the value is an array


class _Scanner(Cursor):
    def spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def blank(self) -> None:
        """Whitespace, newlines and comments (inside arrays)."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t\r\n":
                self.pos += 1
            elif char == "#":
                self.comment()
            else:
                return

    def comment(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def end_of_line(self) -> None:
        self.spaces()
        if self.pos < len(self.text) and self.text[self.pos] == "#":
            self.comment()
        if self.text.startswith("\r\n", self.pos):
            self.pos += 2
        elif self.text.startswith("\n", self.pos):
            self.pos += 1
        elif self.pos < len(self.text):
            raise self.fail("expected the end of the line")

    def string(self) -> str:
        """A quoted string token; returns its raw text."""
        text, start = self.text, self.pos
        for quote in ('"""', "'''"):
            if text.startswith(quote, start):
                i = start + 3
                while True:
                    j = text.find(quote, i)
                    if j < 0:
                        raise self.fail("unterminated multi-line string")
                    if quote == '"""' and _escaped(text, j):
                        i = j + 1
                        continue
                    end = j + 3
                    while end < len(text) and text[end] == quote[0] and end - j < 5:
                        end += 1  # up to two quotes may end the content
                    self.pos = end
                    return text[start:end]
        quote = text[start]
        i = start + 1
        while i < len(text):
            char = text[i]
            if char == "\n":
                break
            if char == "\\" and quote == '"':
                i += 2
                continue
            if char == quote:
                self.pos = i + 1
                return text[start : self.pos]
            i += 1
        raise self.fail("unterminated string")

    def key(self) -> tuple[tuple[str, ...], int]:
        """A dotted key; returns its parts and where its last part starts."""
        parts: list[str] = []
        last = self.pos
        while True:
            self.spaces()
            last = self.pos
            if self.pos < len(self.text) and self.text[self.pos] in "\"'":
                raw = self.string()
                if raw.startswith(('"""', "'''")):
                    raise self.fail("multi-line string as a key")
                parts.append(tomllib.loads(f"k = {raw}")["k"])
            else:
                match = _BARE.match(self.text, self.pos)
                if not match:
                    raise self.fail("expected a key")
                parts.append(match.group())
                self.pos = match.end()
            self.spaces()
            if self.text.startswith(".", self.pos):
                self.pos += 1
                continue
            return tuple(parts), last

    def value(self, depth: int = 0) -> list[tuple[int, int]]:
        """Skip one value; for an array, return the spans of its items."""
        if depth > 64:
            raise self.fail("nested deeper than 64")
        text = self.text
        if self.pos >= len(text):
            raise self.fail("expected a value")
        char = text[self.pos]
        items: list[tuple[int, int]] = []
        if char in "\"'":
            self.string()
        elif char == "[":
            self.pos += 1
            while True:
                self.blank()
                if text.startswith("]", self.pos):
                    self.pos += 1
                    return items
                start = self.pos
                self.value(depth + 1)
                items.append((start, self.pos))
                self.blank()
                if text.startswith(",", self.pos):
                    self.pos += 1
                elif not text.startswith("]", self.pos):
                    raise self.fail("expected ',' or ']'")
        elif char == "{":
            self.pos += 1
            while True:
                self.spaces()
                if text.startswith("}", self.pos):
                    self.pos += 1
                    return items
                self.key()
                if not text.startswith("=", self.pos):
                    raise self.fail("expected '='")
                self.pos += 1
                self.spaces()
                self.value(depth + 1)
                self.spaces()
                if text.startswith(",", self.pos):
                    self.pos += 1
                elif not text.startswith("}", self.pos):
                    raise self.fail("expected ',' or '}'")
        else:
            match = _DATETIME.match(text, self.pos) or _SCALAR.match(text, self.pos)
            if not match:
                raise self.fail("expected a value")
            self.pos = match.end()
        return items


def _escaped(text: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def assignments(text: str, where: str = "config") -> list[Assignment]:
    """Every ``key = value`` in document order, with full key paths; ``ConfigError`` if the
    document is not TOML this scanner reads exactly."""
    try:
        loads_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    scan = _Scanner(text, where)
    table: tuple[str, ...] = ()
    found: list[Assignment] = []
    while True:
        scan.blank()
        if scan.pos >= len(text):
            return found
        line_start = text.rfind("\n", 0, scan.pos) + 1
        if text[scan.pos] == "[":
            double = text.startswith("[[", scan.pos)
            scan.pos += 2 if double else 1
            table, _ = scan.key()
            closing = "]]" if double else "]"
            if not text.startswith(closing, scan.pos):
                raise scan.fail("expected the end of a table header")
            scan.pos += len(closing)
            if double:
                table = (*table, "[]")  # entries of an array of tables are never ours
            scan.end_of_line()
            continue
        key_start = scan.pos
        key, last = scan.key()
        if not text.startswith("=", scan.pos):
            raise scan.fail("expected '='")
        scan.pos += 1
        scan.spaces()
        start = scan.pos
        items = scan.value()
        end = scan.pos
        scan.end_of_line()
        path = (*table, *key)
        found.append(
            Assignment(path, line_start, key_start, last, start, end, scan.pos, tuple(items))
        )
