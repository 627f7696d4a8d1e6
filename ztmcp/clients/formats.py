"""Read the servers of a client config and rewrite some of them, changing only their spans.

Both formats go through one mechanism: ``servers`` lists the entries; ``rewrite`` replaces the
``command`` and ``args`` values of the entries it is given (inserting ``args`` after
``command`` where there was none) and then re-reads the new text and compares it, as data, to
the old data with exactly those changes applied. Any other difference (a scan that misplaced
a span, an escaping bug) refuses the edit: nothing is written that does not read back as meant.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ztmcp.clients import jsonc, tomlspan
from ztmcp.clients.jsonc import ConfigError
from ztmcp.clients.rules import Client, Format
from ztmcp.documents import loads_toml


@dataclass(frozen=True)
class Server:
    container: tuple[str, ...]  # the keys leading to the server map
    name: str
    command: str | None
    args: tuple[str, ...] | None  # None: the entry has no args
    url: str | None
    entry: Any  # the whole entry, as data
    url_key: str | None = None  # the key that holds ``url``

    @property
    def key(self) -> tuple[str, ...]:
        return (*self.container, self.name)


@dataclass(frozen=True)
class Change:
    """Set ``command``; the new args are ``insert`` followed by the old args minus the first
    ``drop``. Editing the front of the list (not the whole list) keeps the comments and layout
    of the server's own arguments. With ``url`` set, only the URL is replaced (an HTTP
    server put behind, or taken from behind, a local ``ztmcp proxy``)."""

    server: Server
    command: str | None
    insert: tuple[str, ...] = ()
    drop: int = 0
    url: str | None = None

    def args(self) -> list[str]:
        return [*self.insert, *(self.server.args or ())[self.drop :]]


def load(client: Client, text: str, where: str) -> Any:
    if client.format is Format.TOML:
        try:
            return loads_toml(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    return jsonc.parse(text, where).value


def _maps(
    data: Any, pattern: tuple[str, ...], at: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Any]]:
    if not pattern:
        return [(at, data)] if isinstance(data, dict) else []
    if not isinstance(data, dict):
        return []
    head, rest = pattern[0], pattern[1:]
    keys = list(data) if head == "*" else [head] if head in data else []
    return [found for key in keys for found in _maps(data[key], rest, (*at, key))]


def servers(client: Client, data: Any) -> list[Server]:
    found: list[Server] = []
    for pattern in client.containers:
        for container, mapping in _maps(data, pattern):
            for name, entry in mapping.items():
                if not isinstance(entry, dict):
                    continue
                command = entry.get("command")
                args = entry.get("args")
                url_key = next((k for k in client.url_keys if isinstance(entry.get(k), str)), None)
                url = entry[url_key] if url_key is not None else None
                ok_args = isinstance(args, list) and all(isinstance(a, str) for a in args)
                found.append(
                    Server(
                        container=container,
                        name=name,
                        command=command if isinstance(command, str) else None,
                        args=tuple(args) if isinstance(args, list) and ok_args else None,
                        url=url,
                        url_key=url_key,
                        entry=entry,
                    )
                )
    return found


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _toml_string(value: str) -> str:
    # JSON's escapes are TOML's, except that TOML wants DEL escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_array(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def _front(
    items: Sequence[tuple[int, int]],
    open_at: int,
    close_at: int,
    change: Change,
    render: Callable[[str], str],
) -> tuple[int, int, str]:
    """The edit of an array's front: drop the first items, insert new ones (spans inside)."""
    added = ", ".join(render(v) for v in change.insert)
    if change.drop:
        if change.drop < len(items):
            return (items[0][0], items[change.drop][0], added + (", " if added else ""))
        return (open_at + 1, close_at - 1, added)
    return (open_at + 1, open_at + 1, added + (", " if items else ""))


def _json_edits(text: str, where: str, changes: Sequence[Change]) -> list[tuple[int, int, str]]:
    root = jsonc.parse(text, where)
    edits: list[tuple[int, int, str]] = []
    for change in changes:
        node: jsonc.Node | None = root
        for part in change.server.key:
            node = node.get(part) if node is not None else None
        if node is not None and change.url is not None and change.server.url_key is not None:
            target = node.get(change.server.url_key)
            if target is not None:
                edits.append((target.start, target.end, _json_string(change.url)))
                continue
        command = node.get("command") if node is not None else None
        if node is None or command is None or change.command is None:
            raise ConfigError(f"{where}: {change.server.name}: entry not found for editing")
        edits.append((command.start, command.end, json.dumps(change.command, ensure_ascii=False)))
        args = node.get("args")
        if args is None:
            args_text = json.dumps(change.args(), ensure_ascii=False)
            edits.append((command.end, command.end, f', "args": {args_text}'))
        elif change.insert or change.drop:
            spans = [(i.start, i.end) for i in args.items]
            edits.append(_front(spans, args.start, args.end, change, _json_string))
    return edits


def _toml_edits(text: str, where: str, changes: Sequence[Change]) -> list[tuple[int, int, str]]:
    spans = {a.path: a for a in tomlspan.assignments(text, where)}
    edits: list[tuple[int, int, str]] = []
    for change in changes:
        key = change.server.key
        if change.url is not None and change.server.url_key is not None:
            target = spans.get((*key, change.server.url_key))
            if target is None:
                raise ConfigError(f"{where}: {change.server.name}: no url line to edit")
            edits.append((target.start, target.end, _toml_string(change.url)))
            continue
        command = spans.get((*key, "command"))
        if command is None or change.command is None:
            raise ConfigError(
                f"{where}: {change.server.name}: the server is not written as a "
                f"[{'.'.join(key)}] table with a command line",
                hint="write it as a table (command = …, args = […]) and run the command again",
            )
        edits.append((command.start, command.end, _toml_string(change.command)))
        args = spans.get((*key, "args"))
        if args is None:
            prefix = text[command.key_start : command.last_key_start]
            indent = text[command.line_start : command.key_start]
            newline = "\r\n" if text.endswith("\r\n", 0, command.line_end) else "\n"
            line = f"{indent}{prefix}args = {_toml_array(change.args())}{newline}"
            if command.line_end == len(text) and not text.endswith("\n"):
                line = newline + line[: -len(newline)]
            edits.append((command.line_end, command.line_end, line))
        elif change.insert or change.drop:
            edits.append(_front(args.items, args.start, args.end, change, _toml_string))
    return edits


def rewrite(client: Client, text: str, where: str, changes: Sequence[Change]) -> str:
    """``text`` with each change's command and args replaced, and nothing else changed."""
    if not changes:
        return text
    before = load(client, text, where)
    if client.format is Format.TOML:
        edits = _toml_edits(text, where, changes)
    else:
        edits = _json_edits(text, where, changes)
    after = jsonc.splice(text, edits)
    expected = copy.deepcopy(before)
    for change in changes:
        entry = expected
        for part in change.server.key:
            entry = entry[part]
        if change.url is not None and change.server.url_key is not None:
            entry[change.server.url_key] = change.url
            continue
        entry["command"] = change.command
        entry["args"] = change.args()
    try:
        got = load(client, after, where)
    except ConfigError as exc:
        raise ConfigError(f"internal: the edit would break {where}: {exc.message}") from None
    if got != expected:
        raise ConfigError(f"internal: the edit of {where} does not read back as intended")
    return after
