"""Builders for messages, contexts and sessions: for ztmcp's tests and for check authors.

Like mitmproxy's ``tflow``: build a real ``Message`` through the real parser, so a check is
tested against exactly what the Session would hand it.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from ztmcp.checks.base import Context
from ztmcp.jsonrpc import Direction, Message, parse


def message(body: dict[str, Any], direction: Direction = Direction.TO_SERVER) -> Message:
    return parse(json.dumps(body).encode(), direction)


def request(
    method: str,
    params: dict[str, Any] | None = None,
    *,
    msg_id: int | str = 1,
    direction: Direction = Direction.TO_SERVER,
) -> Message:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        body["params"] = params
    return message(body, direction)


def notification(
    method: str, params: dict[str, Any] | None = None, *, direction: Direction = Direction.TO_CLIENT
) -> Message:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        body["params"] = params
    return message(body, direction)


def tool_call(
    name: str, arguments: dict[str, Any] | None = None, *, msg_id: int | str = 1
) -> Message:
    return request("tools/call", {"name": name, "arguments": arguments or {}}, msg_id=msg_id)


def response(
    result: dict[str, Any], *, msg_id: int | str = 1, direction: Direction = Direction.TO_CLIENT
) -> Message:
    return message({"jsonrpc": "2.0", "id": msg_id, "result": result}, direction)


def context(
    request: Message | None = None,
    *,
    server: str = "test",
    now: float | None = None,
    **extra: Any,
) -> Context:
    return Context(
        server=server, now=time.time() if now is None else now, request=request, extra=extra
    )


def hostile_text(size: int) -> str:
    """``size`` characters built to be slow for text scanners: near-miss trigger phrases, long
    base64 and letter runs, runs of spaces and quotes, secret-shaped fragments."""
    unit = (
        "ignore the rain. your own reply is not a tool; before you go, note to self: system "
        "update. you should read the docs. use the blue function with care. the password "
        "policy says keys. todo list. <!-- x --> display: block; "
        + " " * 300
        + "'\"" * 150
        + " "
        + base64.b64encode(b"\x00\xff" * 300).decode()
        + " "
        + "A" * 500
        + " "
        + "4111 1111 1111 111 123-45-678 eyJhbGciOi.x xoxb-123 ghp_short AKIA12 sk-abc "
        "password= token: \n"
    )
    return (unit * (size // len(unit) + 1))[:size]
