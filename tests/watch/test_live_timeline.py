"""``LiveTimeline``: the incremental form of ``timeline()`` the TUI follows, checked against it."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.watch.test_timeline import _llm, _mcp
from ztmcp.watch.providers import digest
from ztmcp.watch.timeline import LiveTimeline, timeline

ARGS = {"city": "Paris"}


def _records(events: list[tuple[int, bool, int, str, int, bool]]) -> list[dict[str, Any]]:
    """Model turns (some streamed, readable before they end) and MCP calls of agent ``bot``;
    some records of another agent, and some of a session whose start names ``bot``."""
    records: list[dict[str, Any]] = [
        {
            "event": "session.start",
            "ts": "2026-01-01T00:00:00Z",
            "seq": 0,
            "mcp.session.id": "run",
            "gen_ai.agent.name": "bot",
        }
    ]
    for i, (kind, streamed, second, name, arg, other) in enumerate(events, 1):
        ts = f"2026-01-01T00:00:{second:02d}.{i:06d}Z"
        call = {"id": f"c{i}", "name": name, "arguments_sha256": digest({"a": arg})}
        if kind == 0:
            record = _llm(ts, i, [call])
            if streamed:  # readable 3 s before it ended
                record.update(
                    {
                        "gen_ai.request.stream": True,
                        "ztmcp.latency_ms": 5000.0,
                        "ztmcp.time_to_first_chunk_ms": 2000.0,
                    }
                )
        else:
            record = _mcp(ts, i, name, {"a": arg})
            if kind == 2:  # from `ztmcp run`'s session: no name of its own
                del record["gen_ai.agent.name"]
                record["mcp.session.id"] = "run"
        if other:
            record["gen_ai.agent.name"] = "other"
        records.append(record)
    return records


EVENTS = st.lists(
    st.tuples(
        st.integers(0, 2),  # model turn, MCP call named, MCP call in the agent's session
        st.booleans(),  # streamed (turns)
        st.integers(1, 40),  # second
        st.sampled_from(["t", "u"]),
        st.integers(1, 2),
        st.booleans() | st.just(False),  # another agent's record
    ),
    max_size=25,
)


@given(EVENTS, st.randoms(use_true_random=False), st.lists(st.integers(1, 6), max_size=10))
def test_the_live_form_equals_timeline_in_any_arrival_order(
    events: list[tuple[int, bool, int, str, int, bool]], rng: Any, sizes: list[int]
) -> None:
    records = _records(events)
    start, rest = records[0], records[1:]
    rng.shuffle(rest)  # sessions write at once: records arrive late and out of order
    arrived = [start, *rest]
    live = LiveTimeline("bot")
    shown: list[dict[str, Any]] = []
    at = 0
    for size in [*sizes, len(arrived)]:
        update = live.add(arrived[at : at + size])
        at += size
        if update.relinked:
            shown = list(live.linked)
        else:
            shown.extend(update.appended)
        assert shown == live.linked  # appending what it says gives the window
    assert live.linked == timeline(arrived, "bot")


@given(EVENTS)
def test_in_time_order_it_only_appends(events: list[tuple[int, bool, int, str, int, bool]]) -> None:
    records = sorted(_records(events), key=lambda r: (r["ts"], r["seq"]))
    live = LiveTimeline("bot")
    for record in records:
        update = live.add([record])
        # only a streamed turn, readable before it was written, links earlier calls again
        assert not update.relinked or record.get("gen_ai.request.stream")
    assert live.linked == timeline(records, "bot")


def test_a_streamed_turn_written_after_the_call_it_asked_for_links_it_again() -> None:
    asked = [{"id": "s", "name": "t", "arguments_sha256": digest(ARGS)}]
    streamed = {
        **_llm("2026-01-01T00:00:05Z", 0, asked),
        "gen_ai.request.stream": True,
        "ztmcp.latency_ms": 4000.0,
        "ztmcp.time_to_first_chunk_ms": 1000.0,  # readable from :02
    }
    live = LiveTimeline("bot")
    first = live.add([_mcp("2026-01-01T00:00:03Z", 1, "t", ARGS)])
    assert first.appended[0]["ztmcp.unprompted"] is True  # as far as is known yet
    second = live.add([streamed])
    assert second.relinked
    assert live.linked[0]["ztmcp.link"]["gen_ai.tool.call.id"] == "s"


def test_the_window_is_bounded_and_forgets_model_calls_that_fell_off() -> None:
    live = LiveTimeline("bot", cap=3)
    asked = [{"id": "old", "name": "t", "arguments_sha256": digest(ARGS)}]
    live.add([_llm("2026-01-01T00:00:01Z", 0, asked)])
    for n in range(2, 6):
        live.add([{**_llm(f"2026-01-01T00:00:0{n}Z", n, []), "event": "egress"}])
    assert len(live.linked) == 3
    assert live._linker.asked == []  # the turn fell off the front: its calls with it
    update = live.add([_mcp("2026-01-01T00:00:07Z", 9, "t", ARGS)])
    assert update.appended[0]["ztmcp.unprompted"] is True
    assert len(live.linked) == 3
