"""What ``ztmcp run`` and ``ztmcp proxy`` tell a person who is not an MCP client.

Small, pure pieces the commands call at one place each (issue 22, "rough edges"):

- ``waiting_notice``: ``ztmcp run`` started by hand on a terminal printed nothing and seemed to
  hang; it says that it waits for an MCP client on stdin, and how to try it out.
- ``not_mcp``: a command that does not speak MCP (``cat`` echoes the client's ``initialize``
  back) was told to add ``initialize`` to ``allow_methods``; the refusal of a *client* method
  coming from the server means the server does not speak MCP, and that is what to say;
  ``not_json``: the same for a server that writes other text than JSON on stdout.
- ``upstream_down``: ``ztmcp proxy`` to an upstream that does not answer said "proxying" and
  then closed connections; it says so at start (``probe``), and each request is answered with
  HTTP 502 and a JSON-RPC error naming the upstream (``adapters/http_rules.failure_answer``).
- ``print_run_help``: ``ztmcp run --help`` (argparse, for start-up time) is drawn like every
  other command's help (rich panels), from the same parser.

Nothing here imports more than the standard library and ``ztmcp.jsonrpc`` at module level:
``ztmcp run`` is started once per server by every MCP client.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from ztmcp.jsonrpc import Direction

if TYPE_CHECKING:
    import argparse

    from ztmcp.session import Decision


def waiting_notice(stdin_is_terminal: bool, server: str) -> str | None:
    """The line ``ztmcp run`` prints on stderr at start when a person, not a client, is on
    stdin; ``None`` when a client started it (stdin a pipe)."""
    if not stdin_is_terminal:
        return None
    return (
        f"ztmcp: waiting for an MCP client on stdin (server {server}); ztmcp run is meant to "
        "be started by an MCP client from its config, not typed at a terminal. To see it "
        "work: `ztmcp demo`; to wire a client: `ztmcp wrap`. Ctrl-D ends it."
    )


def say_waiting(stdin: IO[Any], stderr: IO[str], server: str) -> None:
    """``waiting_notice`` for these streams, written when it applies (the one call for
    ``ztmcp run``)."""
    try:
        terminal = stdin.isatty()
    except (AttributeError, ValueError, OSError):
        terminal = False
    notice = waiting_notice(terminal, server)
    if notice is not None:
        stderr.write(notice + "\n")
        stderr.flush()


def not_mcp(method: str | None, from_server: bool, command: Iterable[str] = ()) -> str | None:
    """What to say instead of "add it to allow_methods" when a server sends a request only a
    client sends: it does not speak MCP (it echoed the client, or is another program)."""
    from ztmcp.checks.envelope import CLIENT_METHODS, SERVER_METHODS

    if not from_server or method not in CLIENT_METHODS - SERVER_METHODS:
        return None
    shown = " ".join(command)[:120] or "the server"
    return (
        f"{shown} sent {method!r}, a request only an MCP client sends: it does not speak MCP "
        "on stdio (did it echo its input?); check the command after `--`"
    )


def not_json(command: Iterable[str] = ()) -> str:
    """What to say when the server writes a line on stdout that is not JSON at all."""
    shown = " ".join(command)[:120] or "the server"
    return (
        f"{shown} wrote a line on stdout that is not JSON (refused, not relayed): it does not "
        "speak MCP on stdio, or it logs to stdout (an MCP server logs to stderr); check the "
        "command after `--`"
    )


class NotMcpWatch:
    """``ztmcp run``'s watch on the relay's decisions (``StdioRelay(watch=…)``): the first time
    the server sends what only a client sends (``not_mcp``), or a line that is not JSON
    (``not_json``), say once on stderr that it does not speak MCP, naming the command."""

    def __init__(self, command: Iterable[str], stderr: IO[str]) -> None:
        self._command = tuple(command)
        self._stderr = stderr
        self.said: str | None = None

    def __call__(self, direction: Direction, raw: bytes, decision: Decision) -> None:
        if self.said is not None or direction is not Direction.TO_CLIENT:
            return
        rules = {v.rule for v in decision.verdicts}
        line: str | None = None
        if "json.syntax" in rules:
            line = not_json(self._command)
        elif "envelope.unknown_method" in rules:
            try:
                body = json.loads(raw)
            except ValueError:
                return
            method = body.get("method") if isinstance(body, dict) else None
            line = not_mcp(method if isinstance(method, str) else None, True, self._command)
        if line is None:
            return
        self.said = line
        with contextlib.suppress(OSError, ValueError):  # a closed stderr: the denial stands
            self._stderr.write(f"ztmcp: {line}\n")
            self._stderr.flush()


def probe(url: str, timeout: float = 1.0) -> str | None:
    """Whether something accepts a TCP connection at the URL's host and port: ``None`` when
    it does, else the reason (one line) for ``upstream_down``."""
    import socket  # here: ``ztmcp run`` imports this module at its start and never probes
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname
    if host is None:
        return "the URL names no host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "the URL's port is not a number"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def upstream_down(url: str, reason: str) -> str:
    """The start-up line of ``ztmcp proxy`` when its upstream does not answer."""
    return (
        f"ztmcp: upstream {url} does not answer ({reason}); proxying anyway: each request is "
        "answered 502 with a JSON-RPC error until the server is up"
    )


def print_run_help(parser: argparse.ArgumentParser, out: IO[str] | None = None) -> None:
    """``ztmcp run --help`` in the same rich style as the typer commands, from ``parser``."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False)
    console.print()
    console.print(Text.assemble(" Usage: ", ("ztmcp run [OPTIONS] -- CMD ARGS…", "bold")))
    console.print()
    prose: list[str] = []
    for line in [*(parser.description or "").strip().splitlines(), ""]:
        if line.strip() and not line.startswith("  "):
            prose.append(line.strip())  # a paragraph: rewrapped to the terminal
            continue
        if prose:
            console.print(Text(" " + " ".join(prose)))
            prose = []
        if line.startswith("  "):  # an example: kept as written
            console.print(Text(f" {line}", no_wrap=True, overflow="ellipsis"))
        else:
            console.print()
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(style="yellow", no_wrap=True)
    table.add_column()
    for action in parser._actions:
        if not action.option_strings:
            continue
        flags = ", ".join(sorted(action.option_strings, key=lambda s: (not s.startswith("--"), s)))
        takes_value = action.nargs != 0
        metavar = ""
        if takes_value:
            shown = action.metavar or action.dest.upper()
            metavar = shown if isinstance(shown, str) else " ".join(shown)
        table.add_row(flags, metavar, Text(action.help or ""))
    console.print(Panel(table, title="Options", title_align="left", border_style="dim"))
    if parser.epilog:
        console.print(Text(parser.epilog.rstrip()))
