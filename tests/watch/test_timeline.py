"""Linking MCP tool calls to the model turns that asked for them, when the timeline is read."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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


def test_a_streamed_turns_tool_call_counts_from_its_first_chunk() -> None:
    asked = [{"id": "s", "name": "t", "arguments_sha256": digest(ARGS)}]
    streamed = {
        **_llm("2026-01-01T00:00:05Z", 0, asked),
        "gen_ai.request.stream": True,
        "ztmcp.latency_ms": 4000.0,  # started at :01
        "ztmcp.time_to_first_chunk_ms": 1000.0,  # readable from :02
    }
    early = _mcp("2026-01-01T00:00:01.500000Z", 0, "t", ARGS)  # before any chunk
    during = _mcp("2026-01-01T00:00:03Z", 1, "t", ARGS)  # before the stream's usage event
    out = timeline([streamed, early, during], "bot")
    assert [r["ts"] for r in out] == [early["ts"], during["ts"], streamed["ts"]]
    assert out[0]["ztmcp.unprompted"] is True
    assert out[1]["ztmcp.link"]["gen_ai.tool.call.id"] == "s"
    whole = {**streamed, "gen_ai.request.stream": False}  # readable only at its end
    assert timeline([whole, during], "bot")[0]["ztmcp.unprompted"] is True


def test_two_calls_to_one_tool_link_by_arguments_whatever_their_order() -> None:
    paris, rome = {"city": "Paris"}, {"city": "Rome"}
    records = [
        _llm(
            "2026-01-01T00:00:01Z", 0, [{"id": "a", "name": "t", "arguments_sha256": digest(paris)}]
        ),
        _llm(
            "2026-01-01T00:00:02Z", 1, [{"id": "b", "name": "t", "arguments_sha256": digest(rome)}]
        ),
        _mcp("2026-01-01T00:00:03Z", 2, "t", rome),
        _mcp("2026-01-01T00:00:04Z", 3, "t", paris),
        _mcp("2026-01-01T00:00:05Z", 4, "t", {"city": "Oslo"}),
    ]
    out = timeline(records, "bot")
    assert [r.get("ztmcp.link", {}).get("gen_ai.tool.call.id") for r in out[2:4]] == ["b", "a"]
    assert out[4]["ztmcp.unprompted"] is True
    names_only = [{k: v for k, v in r.items() if k != ARGS_FIELD} for r in records]
    linked = timeline(names_only, "bot")  # an older log: by name, in time order
    assert [r["ztmcp.link"]["gen_ai.tool.call.id"] for r in linked[2:4]] == ["a", "b"]
    assert linked[4]["ztmcp.unprompted"] is True


@given(
    st.lists(
        st.tuples(
            st.booleans(),  # a model turn's tool call, or an MCP call
            st.integers(0, 30),  # second
            st.sampled_from(["t", "u"]),
            st.sampled_from([{"a": 1}, {"a": 2}]),
        ),
        max_size=25,
    )
)
def test_links_are_sound_and_as_many_as_possible(
    events: list[tuple[bool, int, str, dict[str, int]]],
) -> None:
    records: list[dict[str, object]] = []
    for i, (model, second, name, args) in enumerate(events):
        ts = f"2026-01-01T00:00:{second:02d}.{i:06d}Z"  # distinct times
        call = {"id": f"c{i}", "name": name, "arguments_sha256": digest(args)}
        records.append(_llm(ts, i, [call]) if model else _mcp(ts, i, name, args))
    out = timeline(records, "bot")
    by_seq = {r["seq"]: r for r in records}
    taken = [r["ztmcp.link"]["llm.seq"] for r in out if "ztmcp.link" in r]
    assert len(taken) == len(set(taken))  # no model tool call taken twice
    for r in out:
        if "ztmcp.link" in r:
            turn = by_seq[r["ztmcp.link"]["llm.seq"]]
            (asked,) = turn["gen_ai.response.tool_calls"]  # type: ignore[misc]
            assert asked["name"] == r["gen_ai.tool.name"]
            assert asked["arguments_sha256"] == r[ARGS_FIELD]
            assert str(turn["ts"]) < str(r["ts"])
    # as many as possible: per (name, digest), matches = MCP calls - the worst excess of MCP
    # calls over model calls in any prefix of time (an independent count)
    best = 0
    for key in {(r.get("gen_ai.tool.name"), r.get(ARGS_FIELD)) for r in records}:
        excess, worst, calls = 0, 0, 0
        for r in sorted(records, key=lambda r: str(r["ts"])):
            if r["event"] == "llm.call":
                (asked,) = r["gen_ai.response.tool_calls"]  # type: ignore[misc]
                excess -= (asked["name"], asked["arguments_sha256"]) == key
            elif (r["gen_ai.tool.name"], r[ARGS_FIELD]) == key:
                excess += 1
                calls += 1
            worst = max(worst, excess)
        best += calls - worst
    assert len(taken) == best
    unprompted = [r for r in out if r.get("ztmcp.unprompted")]
    assert len(unprompted) + len(taken) == sum(1 for r in records if r["event"] == "message")
