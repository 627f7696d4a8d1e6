"""One timeline per agent: LLM calls, MCP messages and egress, ordered, with MCP calls linked.

Linking is computed when the timeline is read, not in the hot path: the records already hold
what it needs (the tool calls each model turn requested, with argument digests, and each MCP
``tools/call`` with its tool name and ``ARGS_FIELD``, the digest of its arguments). An MCP
``tools/call`` is linked to the earliest earlier model tool call of the same agent with the
same tool name and the same argument digest that no other MCP call took; with no digest on
the MCP record (an older log) the name alone links it (``ztmcp.link.by = "name"``). "Earlier"
is against when the agent could first see the tool call: the end of a whole response (the
record's time), the first chunk of a streamed one (``_asked_at``). A ``tools/call`` no model
turn asked for is marked ``ztmcp.unprompted``. Records are never changed on disk. A record
belongs to the agent when it names it, or when its session's start does (``ztmcp run``
records the ``ZTMCP_AGENT`` identity it inherited on ``session.start``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from ztmcp.tool_arguments import ARGS_FIELD, mcp_call_fields

__all__ = ["AGENT_FIELD", "ARGS_FIELD", "mcp_call_fields", "timeline"]

AGENT_FIELD: Final = "gen_ai.agent.name"


def _is_mcp_call(record: dict[str, Any]) -> bool:
    return (
        record.get("event") == "message"
        and record.get("mcp.method.name") == "tools/call"
        and record.get("kind") == "request"
    )


def timeline(records: Iterable[dict[str, Any]], agent: str) -> list[dict[str, Any]]:
    """The agent's records in time order, MCP tool calls annotated with their link."""
    every = list(records)
    # A session whose start names the agent (``ztmcp run`` started by it) is the agent's:
    # its records need not repeat the name.
    sessions = {
        r.get("mcp.session.id")
        for r in every
        if r.get(AGENT_FIELD) == agent and r.get("mcp.session.id") is not None
    }
    mine = [
        r
        for r in every
        if r.get(AGENT_FIELD) == agent
        or (AGENT_FIELD not in r and r.get("mcp.session.id") in sessions)
    ]
    mine.sort(key=lambda r: (str(r.get("ts", "")), int(r.get("seq", 0) or 0)))
    asked = sorted(
        (
            {**call, "at": _asked_at(r), "seq": r.get("seq"), "session": r.get("mcp.session.id")}
            for r in mine
            if r.get("event") == "llm.call"
            for call in r.get("gen_ai.response.tool_calls") or []
            if isinstance(call, dict)
        ),
        key=lambda c: c["at"],
    )  # model tool calls not yet taken, in the order the agent could first see them
    out: list[dict[str, Any]] = []
    for record in mine:
        if not _is_mcp_call(record):
            out.append(record)
            continue
        name, args = record.get("gen_ai.tool.name"), record.get(ARGS_FIELD)
        when = _seconds(record.get("ts"))
        found = next(
            (
                c
                for c in asked
                if c["at"] <= when
                and c.get("name") == name
                and (args is None or c.get("arguments_sha256") == args)
            ),
            None,
        )
        if found is None:
            out.append({**record, "ztmcp.unprompted": True})
            continue
        asked.remove(found)
        out.append(
            {
                **record,
                "ztmcp.link": {
                    "gen_ai.tool.call.id": found.get("id"),
                    "llm.session": found.get("session"),
                    "llm.seq": found.get("seq"),
                    "by": "name" if args is None else "name+arguments",
                },
            }
        )
    return out


def _seconds(ts: Any) -> float:
    try:
        return datetime.fromisoformat(str(ts)).timestamp()
    except ValueError:
        return math.inf  # no usable time: never before anything


def _asked_at(record: dict[str, Any]) -> float:
    """When the agent could first have seen the turn's tool calls: the record is written when
    the response ended; a streamed one was readable from its first chunk (the agent may act
    on a tool call before the usage event that ends the stream)."""
    ended = _seconds(record.get("ts"))
    latency, first = record.get("ztmcp.latency_ms"), record.get("ztmcp.time_to_first_chunk_ms")
    numbers = (int, float)
    if (
        record.get("gen_ai.request.stream")
        and isinstance(latency, numbers)
        and isinstance(first, numbers)
        and 0 <= first <= latency
    ):
        return ended - (latency - first) / 1000
    return ended
