"""One timeline per agent: LLM calls, MCP messages and egress, ordered, with MCP calls linked.

Linking is computed when the timeline is read, not in the hot path: the records already hold
what it needs (the tool calls each model turn requested, with argument digests, and each MCP
``tools/call`` with its tool name and, once the runtime records it, ``ARGS_FIELD``). An MCP
``tools/call`` is linked to the earliest earlier model tool call of the same agent with the
same tool name and the same argument digest that no other MCP call took; with no digest on
the MCP record the name alone links it (``ztmcp.link.by = "name"``). A ``tools/call`` no model
turn asked for is marked ``ztmcp.unprompted``. Records are never changed on disk. A record
belongs to the agent when it names it, or when its session's start does (``ztmcp run``
records the ``ZTMCP_AGENT`` identity it inherited on ``session.start``).
"""

from __future__ import annotations

from collections.abc import Iterable
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
    asked: list[dict[str, Any]] = []  # model tool calls not yet taken, oldest first
    out: list[dict[str, Any]] = []
    for record in mine:
        if record.get("event") == "llm.call":
            for call in record.get("gen_ai.response.tool_calls") or []:
                if isinstance(call, dict):
                    asked.append(
                        {
                            **call,
                            "ts": record.get("ts"),
                            "seq": record.get("seq"),
                            "session": record.get("mcp.session.id"),
                        }
                    )
            out.append(record)
            continue
        if not _is_mcp_call(record):
            out.append(record)
            continue
        name, args = record.get("gen_ai.tool.name"), record.get(ARGS_FIELD)
        found = next(
            (
                c
                for c in asked
                if c.get("name") == name and (args is None or c.get("arguments_sha256") == args)
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
