"""Linking MCP tool calls to the model turns that asked for them, when the timeline is read."""

from __future__ import annotations

from ztmcp.watch.providers import digest
from ztmcp.watch.timeline import ARGS_FIELD, mcp_call_fields, timeline

ARGS = {"city": "Paris"}


def _llm(ts: str, seq: int, calls: list[dict[str, object]]) -> dict[str, object]:
    return {
        "event": "llm.call",
        "ts": ts,
        "seq": seq,
        "mcp.session.id": "w",
        "gen_ai.agent.name": "bot",
        "gen_ai.response.tool_calls": calls,
    }


def _mcp(ts: str, seq: int, name: str, args: object) -> dict[str, object]:
    return {
        "event": "message",
        "kind": "request",
        "mcp.method.name": "tools/call",
        "ts": ts,
        "seq": seq,
        "gen_ai.agent.name": "bot",
        "gen_ai.tool.name": name,
        **mcp_call_fields({"name": name, "arguments": args}),
    }


def test_linked_unprompted_and_ordered() -> None:
    asked = [{"id": "call_1", "name": "get_weather", "arguments_sha256": digest(ARGS)}]
    records = [
        _mcp("2026-01-01T00:00:03Z", 0, "get_weather", ARGS),  # after the turn: linked
        _llm("2026-01-01T00:00:01Z", 0, asked),
        _mcp("2026-01-01T00:00:04Z", 1, "get_weather", ARGS),  # the turn's call is taken
        _mcp("2026-01-01T00:00:00Z", 2, "get_weather", ARGS),  # before any turn
        _mcp("2026-01-01T00:00:05Z", 3, "get_weather", {"city": "Rome"}),  # other arguments
        {**_llm("2026-01-01T00:00:02Z", 1, asked), "gen_ai.agent.name": "other"},
    ]
    out = timeline(records, "bot")
    assert [r["ts"][-3:-1] for r in out] == ["00", "01", "03", "04", "05"]
    assert out[0]["ztmcp.unprompted"] is True
    assert out[2]["ztmcp.link"]["gen_ai.tool.call.id"] == "call_1"
    assert out[2]["ztmcp.link"]["by"] == "name+arguments"
    assert out[3]["ztmcp.unprompted"] is True and out[4]["ztmcp.unprompted"] is True


def test_without_an_argument_digest_the_name_links() -> None:
    asked = [{"id": "c", "name": "t", "arguments_sha256": digest({})}]
    mcp = _mcp("2026-01-01T00:00:02Z", 0, "t", {})
    del mcp[ARGS_FIELD]
    out = timeline([_llm("2026-01-01T00:00:01Z", 0, asked), mcp], "bot")
    assert out[1]["ztmcp.link"]["by"] == "name"


def test_a_session_started_by_the_agent_is_the_agents() -> None:
    start = {
        "event": "session.start",
        "ts": "2026-01-01T00:00:00Z",
        "seq": 0,
        "mcp.session.id": "run1",
        "gen_ai.agent.name": "bot",
    }
    mcp = _mcp("2026-01-01T00:00:02Z", 1, "t", {})
    del mcp["gen_ai.agent.name"]
    mcp["mcp.session.id"] = "run1"
    stranger = {**mcp, "mcp.session.id": "run2"}
    out = timeline([start, mcp, stranger], "bot")
    assert [r["mcp.session.id"] for r in out] == ["run1", "run1"]
    assert out[1]["ztmcp.unprompted"] is True
