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

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ztmcp.tool_arguments import ARGS_FIELD, mcp_call_fields

__all__ = ["AGENT_FIELD", "ARGS_FIELD", "LiveTimeline", "Update", "mcp_call_fields", "timeline"]

AGENT_FIELD: Final = "gen_ai.agent.name"


def _is_mcp_call(record: dict[str, Any]) -> bool:
    return (
        record.get("event") == "message"
        and record.get("mcp.method.name") == "tools/call"
        and record.get("kind") == "request"
    )


def _key(record: dict[str, Any]) -> tuple[str, int]:
    return (str(record.get("ts", "")), int(record.get("seq", 0) or 0))


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
    mine.sort(key=_key)
    return _Linker.over(mine)[1]


class _Linker:
    """The one linker: model tool calls offered, then MCP calls linked in time order."""

    def __init__(self) -> None:
        # model tool calls not yet taken, in the order the agent could first see them
        self.asked: list[dict[str, Any]] = []
        self.last_call = -math.inf  # the time of the latest MCP call linked (or not)

    @classmethod
    def over(cls, mine: list[dict[str, Any]]) -> tuple[_Linker, list[dict[str, Any]]]:
        """Link ``mine`` (one agent's records in time order): every offer, then every link."""
        linker = cls()
        for record in mine:
            linker.offer(record)
        return linker, [linker.link(record) for record in mine]

    def offer(self, record: dict[str, Any]) -> None:
        if record.get("event") != "llm.call":
            return
        at = _asked_at(record)
        for call in record.get("gen_ai.response.tool_calls") or []:
            if isinstance(call, dict):
                entry = {
                    **call,
                    "at": at,
                    "seq": record.get("seq"),
                    "session": record.get("mcp.session.id"),
                    "_from": id(record),
                }
                bisect.insort_right(self.asked, entry, key=lambda c: c["at"])

    def link(self, record: dict[str, Any]) -> dict[str, Any]:
        if not _is_mcp_call(record):
            return record
        name, args = record.get("gen_ai.tool.name"), record.get(ARGS_FIELD)
        when = _seconds(record.get("ts"))
        self.last_call = max(self.last_call, when)
        found = next(
            (
                c
                for c in self.asked
                if c["at"] <= when
                and c.get("name") == name
                and (args is None or c.get("arguments_sha256") == args)
            ),
            None,
        )
        if found is None:
            return {**record, "ztmcp.unprompted": True}
        self.asked.remove(found)
        return {
            **record,
            "ztmcp.link": {
                "gen_ai.tool.call.id": found.get("id"),
                "llm.session": found.get("session"),
                "llm.seq": found.get("seq"),
                "by": "name" if args is None else "name+arguments",
            },
        }


@dataclass(frozen=True, slots=True)
class Update:
    """What one ``LiveTimeline.add`` changed: records appended at the end, or (``relinked``)
    the whole window linked again because a record arrived out of order."""

    appended: tuple[dict[str, Any], ...] = ()
    relinked: bool = False


class LiveTimeline:
    """``timeline()`` as records arrive, over a window of the agent's newest ``cap`` records.

    Records that sort after the window's last one are linked by the same linker, continuing
    where it stopped; a record that sorts earlier, or a model turn the agent could have seen
    before the latest MCP call already linked (a streamed turn is written when it ends), links
    the window again from its start. Either way the window equals ``timeline()`` over the same
    records, as long as none fell off the front. A record without the agent's name belongs to
    it when its session was already known as the agent's when it arrived (a session's start,
    its first record, names the agent).
    """

    def __init__(
        self,
        agent: str,
        records: Iterable[dict[str, Any]] = (),
        cap: int = 5000,
        sessions: Iterable[Any] = (),
    ) -> None:
        self.agent = agent
        self.cap = cap
        # the agent's sessions (``sessions``: known from records no longer at hand);
        # insertion-ordered, bounded like the window
        self._sessions: dict[Any, None] = dict.fromkeys(sessions)
        self._mine: list[dict[str, Any]] = []
        self.linked: list[dict[str, Any]] = []
        self._linker = _Linker()
        self.add(records)

    def _owns(self, record: dict[str, Any]) -> bool:
        if AGENT_FIELD in record:
            return record.get(AGENT_FIELD) == self.agent
        return record.get("mcp.session.id") in self._sessions

    def add(self, records: Iterable[dict[str, Any]]) -> Update:
        batch = list(records)
        for r in batch:
            session = r.get("mcp.session.id")
            if r.get(AGENT_FIELD) == self.agent and session is not None:
                self._sessions[session] = None
        while len(self._sessions) > self.cap:
            del self._sessions[next(iter(self._sessions))]
        new = sorted((r for r in batch if self._owns(r)), key=_key)
        if not new:
            return Update()
        late = bool(self._mine) and _key(new[0]) < _key(self._mine[-1])
        early_turn = any(
            _asked_at(r) <= self._linker.last_call
            for r in new
            if r.get("event") == "llm.call" and r.get("gen_ai.response.tool_calls")
        )
        self._mine.extend(new)
        dropped = max(0, len(self._mine) - self.cap)
        if late or early_turn:
            self._mine.sort(key=_key)
            del self._mine[:dropped]
            self._linker, self.linked = _Linker.over(self._mine)
            return Update(relinked=True)
        del self._mine[:dropped]
        for r in new:
            self._linker.offer(r)
        appended = [self._linker.link(r) for r in new]
        self.linked.extend(appended)
        del self.linked[:dropped]
        if dropped:
            alive = {id(r) for r in self._mine}
            self._linker.asked = [c for c in self._linker.asked if c["_from"] in alive]
        return Update(appended=tuple(appended[-self.cap :]))


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
