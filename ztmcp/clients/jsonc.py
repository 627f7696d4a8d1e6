"""A minimal JSONC reader that remembers where every value is, so an edit changes only spans.

Client configs (VS Code's ``mcp.json`` above all) are JSON with comments and trailing commas.
Re-serialising one would drop the comments and reflow the file; instead ``parse`` returns a
tree of ``Node``s carrying the ``[start, end)`` offsets of each value, and ``splice`` replaces
exactly the spans an edit names. Everything outside them is kept byte for byte.

Strict where it matters: duplicate keys, unterminated comments or strings, anything after the
top-level value, and nesting deeper than ``MAX_DEPTH`` are refused with ``ConfigError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ztmcp.errors import ZtmcpError

MAX_DEPTH = 64


class ConfigError(ZtmcpError):
    """A client config file cannot be read or edited safely."""


class Kind(Enum):
    OBJECT = "object"
    ARRAY = "array"
    SCALAR = "scalar"


@dataclass(frozen=True)
class Member:
    key: str
    value: Node


@dataclass(frozen=True)
class Node:
    kind: Kind
    start: int
    end: int
    value: Any  # the plain Python value of the whole node
    members: tuple[Member, ...] = ()
    items: tuple[Node, ...] = ()

    def get(self, key: str) -> Node | None:
        for member in self.members:
            if member.key == key:
                return member.value
        return None


_WS = " \t\r\n\ufeff"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


class Cursor:
    """A position in a config file's text and the one error it reports (the JSONC reader's
    and the TOML scanner's)."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.pos = 0

    def fail(self, problem: str) -> ConfigError:
        line = self.text.count("\n", 0, self.pos) + 1
        return ConfigError(
            f"{self.where}: line {line}: {problem}",
            hint="fix the file by hand (ztmcp edits only files it can read exactly)",
        )


class _Reader(Cursor):
    def skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in _WS:
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated /* comment")
                self.pos = end + 2
            else:
                return

    def value(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH}")
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of file")
        char = self.text[self.pos]
        if char == "{":
            return self.obj(depth)
        if char == "[":
            return self.array(depth)
        start = self.pos
        if char not in '"-0123456789tfn':
            raise self.fail(f"unexpected {char!r}")
        try:
            value, end = _DECODER.raw_decode(self.text, start)
        except json.JSONDecodeError as exc:
            raise self.fail(f"bad value: {exc.msg}") from None
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        self.pos = end
        return Node(Kind.SCALAR, start, end, value)

    def obj(self, depth: int) -> Node:
        start = self.pos
        self.pos += 1
        members: list[Member] = []
        seen: set[str] = set()
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                break
            key_node = self.value(depth + 1)
            if not isinstance(key_node.value, str) or self.text[key_node.start] != '"':
                raise self.fail("object key must be a string")
            key = key_node.value
            if key in seen:
                raise self.fail(f"duplicate key {key!r}")
            seen.add(key)
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':'")
            self.pos += 1
            members.append(Member(key, self.value(depth + 1)))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("}", self.pos):
                raise self.fail("expected ',' or '}'")
        value = {m.key: m.value.value for m in members}
        return Node(Kind.OBJECT, start, self.pos, value, members=tuple(members))

    def array(self, depth: int) -> Node:
        start = self.pos
        self.pos += 1
        items: list[Node] = []
        while True:
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                break
            items.append(self.value(depth + 1))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("]", self.pos):
                raise self.fail("expected ',' or ']'")
        return Node(Kind.ARRAY, start, self.pos, [i.value for i in items], items=tuple(items))


def parse(text: str, where: str = "config") -> Node:
    """The tree of a JSONC document (comments, trailing commas allowed); ``ConfigError`` else."""
    reader = _Reader(text, where)
    node = reader.value(0)
    reader.skip()
    if reader.pos != len(text):
        raise reader.fail("unexpected text after the top-level value")
    return node


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, replacement)`` applied; spans must not overlap."""
    out: list[str] = []
    last = 0
    for start, end, replacement in sorted(edits):
        if start < last:
            raise ConfigError("internal: overlapping edits")
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    return "".join(out)
