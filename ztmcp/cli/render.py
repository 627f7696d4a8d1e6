"""Shared output helpers: one way to print an error, one way to print a record line."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer

from ztmcp.errors import ZtmcpError
from ztmcp.terminal import echo, safe


def fail(exc: ZtmcpError, code: int = 2) -> NoReturn:
    hint = f"\n  hint: {safe(exc.hint)}" if exc.hint else ""  # each part stays one line
    echo(f"ztmcp: error: {safe(exc.message)}{hint}", err=True)
    raise typer.Exit(code)


def describe_exception(exc: BaseException) -> str:
    """One line for an exception from a client library: its type and first line, never a
    traceback (anyio wraps failures in exception groups: the first leaf is the cause)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def record_line(record: dict[str, Any]) -> str:
    """One audit record as a readable line: when, where, what, outcome, why. Every field is
    escaped for the terminal (``ztmcp.terminal.safe``): records carry what servers and agents
    chose to send, and a newline in a name must not forge a line."""
    ts = safe(str(record.get("ts", ""))[:23].replace("T", " "))
    event = safe(record.get("event", "?"))
    server = safe(record.get("server") or "")
    if event in ("egress", "egress.end"):  # the sandbox's egress gate: ztmcp/sandbox/visible.py
        from ztmcp.sandbox.visible import line as egress_line

        return egress_line(record, ts)
    if event != "message":
        extra = safe(record.get("reason") or record.get("mode") or "")
        return f"{ts}  {server:<16} {event:<14} {extra}".rstrip()
    arrow = "→" if record.get("direction") == "to_server" else "←"
    what = safe(record.get("mcp.method.name") or record.get("kind") or "?")
    tool = record.get("gen_ai.tool.name")
    if tool:
        what = f"{what} {safe(tool)}"
    from ztmcp.outcomes import label

    line = f"{ts}  {server:<16} {arrow} {what:<36} {safe(label(record))}"
    verdicts = record.get("verdicts") or []
    if verdicts:
        first = verdicts[0] if isinstance(verdicts[0], dict) else {}
        line += f"  [{safe(first.get('rule'))}] {safe(first.get('reason', ''))}"
        if len(verdicts) > 1:
            line += f" (+{len(verdicts) - 1} more)"
    return line


def is_tty() -> bool:
    return sys.stdout.isatty()
