"""Baselines learned from the audit history, and departures from them (docs/behaviour.md).

Per (agent, server, tool), from the ``message`` records of ``tools/call`` requests and their
responses: the most calls seen in any ``WINDOW``-second window, the largest argument and
result sizes, the UTC hours of activity, and how many calls that rests on. The agent is the
record's ``agent`` field when present, else its ``client`` (``unknown``).

A call departs from its baseline (``Detector.observe``), with thresholds as data
(``Thresholds``):

* **burst**: more than ``max(rate_floor, rate_factor x usual)`` calls in the window;
* **new tool**: a tool the agent never called on a server it has used ``min_calls`` times
  (a new sink is the case that matters);
* **size**: arguments or result larger than ``size_factor x`` the largest seen (and
  ``size_floor`` bytes more);
* **hour**: a call in a UTC hour in which the agent was never active (its baseline holding at
  least ``min_calls`` calls).

Each anomaly is explained in words ("``send_email`` called 40 times in 60 s; usual at most
3"). Nothing of a message's content is read: only sizes, names, times.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

WINDOW: Final = 60.0

Key = tuple[str, str, str]  # agent, server, tool


@dataclass(frozen=True, slots=True)
class Thresholds:
    rate_factor: float = 2.0
    rate_floor: int = 5
    size_factor: float = 4.0
    size_floor: int = 4096
    min_calls: int = 50


@dataclass(slots=True)
class Baseline:
    calls: int = 0
    max_rate: int = 0  # most calls in any WINDOW
    max_args: int = 0
    max_result: int = 0
    hours: set[int] = field(default_factory=set)
    _recent: deque[float] = field(default_factory=deque)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "max_per_window": self.max_rate,
            "max_args": self.max_args,
            "max_result": self.max_result,
            "hours": sorted(self.hours),
        }


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # "burst" | "new_tool" | "size" | "hour"
    key: Key
    at: float
    explanation: str


def _ts(record: Mapping[str, Any]) -> float | None:
    value = record.get("ts")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _agent(record: Mapping[str, Any]) -> str:
    for name in ("agent", "client"):
        value = record.get(name)
        if isinstance(value, str) and value:
            return value
    return "unknown"


@dataclass(frozen=True, slots=True)
class Call:
    key: Key
    at: float
    args: int
    result: int | None = None


def calls(records: Iterable[Mapping[str, Any]]) -> Iterable[Call]:
    """The tools/call requests of audit ``message`` records (with result sizes when the
    response follows in the same log)."""
    pending: dict[tuple[str, Any], Call] = {}
    for record in records:
        if record.get("event") != "message" or record.get("mcp.method.name") != "tools/call":
            continue
        at, server = _ts(record), str(record.get("server", ""))
        if at is None:
            continue
        rid = record.get("jsonrpc.request.id")
        size = int(record.get("size") or 0)
        if record.get("kind") == "request":
            tool = record.get("gen_ai.tool.name")
            if not isinstance(tool, str):
                continue
            call = Call((_agent(record), server, tool), at, size)
            if rid is not None:
                pending[(server, rid)] = call
            yield call
        elif record.get("kind") == "response":
            asked = pending.pop((server, rid), None)
            if asked is not None:
                yield Call(asked.key, asked.at, -1, size)  # a result size, not a new call


def _hour(at: float) -> int:
    return datetime.fromtimestamp(at, UTC).hour


def _window_count(recent: deque[float], at: float) -> int:
    recent.append(at)
    while recent and recent[0] <= at - WINDOW:
        recent.popleft()
    return len(recent)


def learn(records: Iterable[Mapping[str, Any]]) -> dict[Key, Baseline]:
    out: dict[Key, Baseline] = {}
    for call in calls(records):
        base = out.setdefault(call.key, Baseline())
        if call.args < 0:
            base.max_result = max(base.max_result, call.result or 0)
            continue
        base.calls += 1
        base.max_args = max(base.max_args, call.args)
        base.hours.add(_hour(call.at))
        base.max_rate = max(base.max_rate, _window_count(base._recent, call.at))
    return out


class Detector:
    """Streams calls against learned baselines; one anomaly per kind and key per window."""

    def __init__(
        self, baselines: Mapping[Key, Baseline], thresholds: Thresholds = Thresholds()
    ) -> None:
        self.baselines = baselines
        self.t = thresholds
        self._recent: dict[Key, deque[float]] = {}
        self._last: dict[tuple[str, Key], float] = {}
        self._server_calls: dict[tuple[str, str], int] = {}
        self._agent_calls: dict[str, int] = {}
        self._agent_hours: dict[str, set[int]] = {}
        for (agent, server, _), base in baselines.items():
            self._server_calls[(agent, server)] = (
                self._server_calls.get((agent, server), 0) + base.calls
            )
            self._agent_calls[agent] = self._agent_calls.get(agent, 0) + base.calls
            self._agent_hours.setdefault(agent, set()).update(base.hours)

    def observe(self, call: Call) -> list[Anomaly]:
        base = self.baselines.get(call.key)
        agent, server, tool = call.key
        found: list[Anomaly] = []
        if call.args < 0:
            if base is not None and base.calls >= self.t.min_calls and call.result is not None:
                limit = base.max_result * self.t.size_factor + self.t.size_floor
                if call.result > limit:
                    found.append(
                        Anomaly(
                            "size",
                            call.key,
                            call.at,
                            f"`{tool}` returned {call.result} bytes; usual at most "
                            f"{base.max_result}",
                        )
                    )
            return self._once(found)
        count = _window_count(self._recent.setdefault(call.key, deque()), call.at)
        usual = base.max_rate if base is not None else 0
        if count > max(self.t.rate_floor, self.t.rate_factor * usual):
            found.append(
                Anomaly(
                    "burst",
                    call.key,
                    call.at,
                    f"`{tool}` called {count} times in {WINDOW:.0f} s; usual at most {usual}",
                )
            )
        hours = self._agent_hours.get(agent, set())
        if self._agent_calls.get(agent, 0) >= self.t.min_calls and _hour(call.at) not in hours:
            found.append(
                Anomaly(
                    "hour",
                    call.key,
                    call.at,
                    f"`{tool}` called at {_hour(call.at):02d}:00 UTC; {agent} is "
                    f"usually active {_hours(hours)}",
                )
            )
        if base is None:
            used = self._server_calls.get((agent, server), 0)
            if used >= self.t.min_calls:
                found.append(
                    Anomaly(
                        "new_tool",
                        call.key,
                        call.at,
                        f"`{tool}` was never called by {agent} on {server} in {used} earlier calls",
                    )
                )
            return self._once(found)
        if (
            base.calls >= self.t.min_calls
            and call.args > base.max_args * self.t.size_factor + self.t.size_floor
        ):
            found.append(
                Anomaly(
                    "size",
                    call.key,
                    call.at,
                    f"`{tool}` sent {call.args} bytes of arguments; usual at most {base.max_args}",
                )
            )
        return self._once(found)

    def _once(self, found: list[Anomaly]) -> list[Anomaly]:
        out = []
        for anomaly in found:
            last = self._last.get((anomaly.kind, anomaly.key))
            if last is None or anomaly.at - last > WINDOW:
                out.append(anomaly)
            self._last[(anomaly.kind, anomaly.key)] = anomaly.at
        return out


def _hours(hours: set[int]) -> str:
    if not hours:
        return "none"
    return (
        f"{min(hours):02d}-{max(hours):02d}"
        if len(hours) > 3
        else ", ".join(f"{h:02d}" for h in sorted(hours))
    )
