"""Baselines learned from the audit history, and departures from them (docs/behaviour.md).

``Reader`` turns audit records, in order, into events: a ``Call`` (a ``tools/call`` request:
argument size), its ``Result`` (the response's size and shape) and a ``Reach`` (an ``egress``
record of the sandbox's gate or seccomp audit, or an ``llm.call`` / ``egress`` record of ``ztmcp
watch``: the host and port reached, allowed or refused). The agent of a record is the run's
agent as the flow check names it: ``gen_ai.agent.name`` (``ztmcp watch``'s identity, on the
record or on an earlier record of the same audit session), else the MCP client's
``name/version``, else ``unknown``. A reach is attributed to the most recent call still
unanswered in its audit session (the tool that was running), else to no tool.

``learn`` keeps, per (agent, server, tool) (``Baseline``): the most calls seen in any
``WINDOW``-second window, the largest argument and result sizes, the result shapes, the UTC
hours of activity and how many calls that rests on; per (agent, server) (``Hosts``): every
host reached, with how often it was allowed and refused, the calls and the period they span,
and when the set last grew. An agent's own traffic under ``ztmcp watch`` (model calls, other
HTTP) is learned under the server ``OWN``.

A call departs from its baseline (``Detector``), with thresholds as data (``Thresholds``):

* **burst**: more than ``max(rate_floor, rate_factor x usual)`` calls in the window;
* **new tool**: a tool the agent never called on a server it has used ``min_calls`` times
  (a new sink is the case that matters);
* **size**: arguments or result larger than ``size_factor x`` the largest seen (and
  ``size_floor`` bytes more);
* **shape**: a result shaped as the tool's results never were (``ztmcp.state.shapes``:
  content types and structured; an error is judged by its content), once ``min_calls``
  results carried a shape and the tool has at most ``MAX_SHAPES`` shapes;
* **hour**: a call in a UTC hour in which the agent was never active (its baseline holding at
  least ``min_calls`` calls);
* **new host**: a host the (agent, server) never reached, once its history is judged
  (``Hosts.judged``: ``min_calls`` calls over at least ``host_min_span`` seconds, at most
  ``host_novelty`` of its attempts to hosts seen once, and no new host in the last
  ``host_settle`` seconds of it: a server that keeps reaching new hosts, an open web fetcher,
  is not judged). Each new host is reported once; an hour once per agent and clock hour.

Each anomaly is explained in words ("``send_email`` called 40 times in 60 s; usual at most
3"). Nothing of a message's content is read: only sizes, names, hosts and times.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ztmcp.state.shapes import SHAPE_FIELD

WINDOW: Final = 60.0
DAY: Final = 86_400.0
OWN: Final = "(own)"  # the server slot of an agent's own traffic (``ztmcp watch``)
NO_TOOL: Final = ""  # a reach outside any call
MAX_SESSIONS: Final = 4096  # audit sessions whose agent and open calls the reader keeps
MAX_OPEN: Final = 1024  # unanswered calls kept per session (the oldest go first)
LAST_SECOND: Final = 253_402_300_800  # 10000-01-01T00:00:00Z: UTC hours are defined below it
MAX_HOST: Final = 261  # a host name (253) and a port, as shown

MAX_SHAPES: Final = 8  # a tool with more result shapes than this is not judged on shape
MAX_HOSTS: Final = 4096  # hosts kept per (agent, server); past it the set is open-ended
MAX_REPORTED: Final = 65_536  # new hosts remembered as reported; past it they are told again

Key = tuple[str, str, str]  # agent, server, tool
Pair = tuple[str, str]  # agent, server


@dataclass(frozen=True, slots=True)
class Thresholds:
    rate_factor: float = 2.0
    rate_floor: int = 5
    size_factor: float = 4.0
    size_floor: int = 4096
    min_calls: int = 50
    host_min_span: float = DAY
    host_settle: float = DAY
    host_novelty: float = 0.01


@dataclass(slots=True)
class Baseline:
    calls: int = 0
    max_rate: int = 0  # most calls in any WINDOW
    max_args: int = 0
    max_result: int = 0
    hours: set[int] = field(default_factory=set)
    shapes: dict[str, int] = field(default_factory=dict)  # result shape -> results
    shaped: int = 0  # results that carried a shape (older logs have none)
    _recent: deque[float] = field(default_factory=deque)

    def learn_shape(self, shape: str) -> None:
        self.shaped += 1
        if shape in self.shapes or len(self.shapes) <= MAX_SHAPES:  # one past: "varied"
            self.shapes[shape] = self.shapes.get(shape, 0) + 1

    def usual_shapes(self) -> str:
        if len(self.shapes) > MAX_SHAPES:
            return "varied"
        return ", ".join(sorted(self.shapes, key=lambda s: (-self.shapes[s], s))) or "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "max_per_window": self.max_rate,
            "max_args": self.max_args,
            "max_result": self.max_result,
            "hours": sorted(self.hours),
            "result_shapes": dict(sorted(self.shapes.items())),
        }


@dataclass(slots=True)
class Hosts:
    """What one (agent, server) reached: host -> [allowed, refused] attempts."""

    calls: int = 0
    first: float | None = None
    last: float | None = None
    hosts: dict[str, list[int]] = field(default_factory=dict)
    grown: float | None = None  # when a host was last seen for the first time
    overflow: int = 0  # attempts to new hosts past MAX_HOSTS (the set is then never judged)

    def seen(self, at: float) -> None:
        self.first = at if self.first is None else min(self.first, at)
        self.last = at if self.last is None else max(self.last, at)

    def span(self) -> float:
        return 0.0 if self.first is None or self.last is None else self.last - self.first

    def novelty(self) -> float:
        """How likely the next attempt is to reach a host never seen (Good-Turing: the share
        of attempts that went to a host seen once)."""
        total = sum(a + r for a, r in self.hosts.values())
        once = sum(1 for a, r in self.hosts.values() if a + r == 1)
        return once / total if total else 0.0

    def judged(self, t: Thresholds) -> bool:
        """Enough history, a closed and settled host set: only then is a new host an anomaly."""
        if self.calls < t.min_calls or self.span() < t.host_min_span or self.last is None:
            return False
        if self.overflow or self.novelty() > t.host_novelty:
            return False
        return self.grown is None or self.last - self.grown >= t.host_settle

    def status(self, t: Thresholds) -> str:
        """Whether a new host is judged, and if not, why (for ``ztmcp baseline``)."""
        if self.calls < t.min_calls:
            return f"not judged: {self.calls} calls, needs {t.min_calls}"
        if self.span() < t.host_min_span:
            hours, needed = self.span() / 3600, t.host_min_span / 3600
            return f"not judged: {hours:.0f} h of history, needs {needed:.0f} h"
        if self.overflow:
            return f"not judged: more than {MAX_HOSTS} hosts"
        if self.novelty() > t.host_novelty:
            once = sum(1 for a, r in self.hosts.values() if a + r == 1)
            return f"not judged: open-ended ({once} hosts reached only once)"
        if not self.judged(t):
            return f"not judged: a new host in the last {t.host_settle / 3600:.0f} h of it"
        return "a new host is an anomaly"

    def usual(self, most: int = 3) -> str:
        if not self.hosts:
            return "none"
        ranked = sorted(self.hosts, key=lambda h: (-sum(self.hosts[h]), h))
        more = len(ranked) - most
        return ", ".join(ranked[:most]) + (f", … ({more} more)" if more > 0 else "")

    def as_dict(self, t: Thresholds) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "days": round(self.span() / DAY, 1),
            "judged": self.judged(t),
            "overflow": self.overflow,
            "hosts": {h: {"allowed": a, "refused": r} for h, (a, r) in sorted(self.hosts.items())},
        }


@dataclass(slots=True)
class Learned:
    tools: dict[Key, Baseline] = field(default_factory=dict)
    egress: dict[Pair, Hosts] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # "burst" | "new_tool" | "size" | "shape" | "hour" | "new_host"
    key: Key
    at: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Call:
    key: Key
    at: float
    args: int


@dataclass(frozen=True, slots=True)
class Result:
    key: Key
    at: float
    size: int
    shape: str | None = None  # ``result_shape`` (None: a log from before it was recorded)


@dataclass(frozen=True, slots=True)
class Reach:
    key: Key  # agent, server, the tool running (NO_TOOL: none)
    at: float
    host: str  # host:port
    refused: bool
    times: int = 1  # an aggregated refusal record stands for that many attempts


Event = Call | Result | Reach


def record_time(record: Mapping[str, Any]) -> float | None:
    """A record's time (its ISO ``ts``, or seconds), None when it has none that a calendar
    can hold (the writers stamp every record; a hand-edited one must not stop the judge)."""
    value = record.get("ts")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return float(value) if 0 <= value < LAST_SECOND else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def host_of(record: Mapping[str, Any]) -> str:
    """``host:port`` of an egress or model-call record (lower case, no trailing dot); a
    refusal before any address (a ``socket()`` call) or past the audit-flood bound is named
    as such."""
    address = record.get("server.address")
    if address == "*":
        return "(many addresses)"
    if not isinstance(address, str) or not address:
        return "(direct socket)"
    host = address.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = record.get("server.port")
    if isinstance(port, int) and not isinstance(port, bool):
        host = f"{host}:{port}"
    return "".join(c if c.isprintable() else "?" for c in host)[:MAX_HOST]


def _judged_shape(shape: Any) -> str | None:
    """The part of a recorded shape that is judged: a tool error is judged by its content (a
    tool that fails now and then is not an anomaly; one whose errors carry a resource link
    is), a JSON-RPC error not at all."""
    if not isinstance(shape, str) or shape == "error":
        return None
    return shape.removeprefix("error:")[:64]


@dataclass(slots=True)
class _Session:
    agent: str | None = None  # gen_ai.agent.name seen in the session
    client: str | None = None  # the latest client name/version
    open: OrderedDict[tuple[str, Any], Call] = field(default_factory=OrderedDict)
    relay: tuple[str, int] | None = None  # a sandbox's log: the relay it serves (server, pid)


def _process(record: Mapping[str, Any]) -> tuple[str, int] | None:
    server, pid = record.get("server"), record.get("process.pid")
    if isinstance(server, str) and isinstance(pid, int) and not isinstance(pid, bool):
        return server, pid
    return None


class Reader:
    """Audit records in order -> events. Keeps, per audit session (bounded), its agent and its
    unanswered calls; a result whose call was forgotten is counted in ``lost``.

    A sandboxed server's gate writes to a log of its own (``sandbox.start``, then ``egress``),
    opened by the same ``ztmcp run`` process as the relay's log: the two are joined by server
    name and process id (``process.pid`` on both starts), so an egress attempt gets the
    relay session's agent and the call it was running."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[Any, _Session] = OrderedDict()
        self._relays: OrderedDict[tuple[str, int], _Session] = OrderedDict()
        self.named: set[str] = set()  # agents named by ``ztmcp watch`` (bounded)
        self.lost = 0

    def _relay(self, session: _Session) -> _Session:
        """The session whose agent and calls an egress record of ``session`` belongs to."""
        if session.relay is not None:
            return self._relays.get(session.relay, session)
        return session

    def _session(self, record: Mapping[str, Any]) -> _Session:
        sid = record.get("mcp.session.id")
        sid = sid if isinstance(sid, str | int) and not isinstance(sid, bool) else None
        session = self._sessions.get(sid)
        if session is None:
            session = self._sessions[sid] = _Session()
            if len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(sid)
        name = _text(record.get("gen_ai.agent.name"))
        if name is not None:
            session.agent = name[:200]
            if len(self.named) < MAX_SESSIONS:
                self.named.add(session.agent)
        client = _text(record.get("client"))
        if client is not None:
            session.client = client[:200]
        return session

    def feed(self, record: Mapping[str, Any]) -> list[Event]:
        event = record.get("event")
        if event not in ("message", "egress", "llm.call", "session.start", "sandbox.start"):
            return []
        session = self._session(record)
        if event in ("session.start", "sandbox.start"):
            process = _process(record)
            if process is not None and event == "sandbox.start":
                session.relay = process
            elif process is not None:
                self._relays[process] = session
                self._relays.move_to_end(process)
                if len(self._relays) > MAX_SESSIONS:
                    self._relays.popitem(last=False)
            return []
        at = record_time(record)
        if at is None:
            return []
        if event == "message":
            return self._message(record, session, session.agent or session.client or "unknown", at)
        session = self._relay(session)
        agent = session.agent or session.client or "unknown"
        server = _text(record.get("server")) or OWN
        tool = NO_TOOL
        for call in reversed(session.open.values()):
            if call.key[1] == server:
                tool = call.key[2]
                break
        times = record.get("egress.count")
        return [
            Reach(
                (agent, server, tool),
                at,
                host_of(record),
                record.get("egress.verdict") == "deny",
                times if isinstance(times, int) and times > 0 else 1,
            )
        ]

    def _message(
        self, record: Mapping[str, Any], session: _Session, agent: str, at: float
    ) -> list[Event]:
        if record.get("mcp.method.name") != "tools/call":
            return []
        server = str(record.get("server") or "")
        rid = record.get("jsonrpc.request.id")
        rid = rid if isinstance(rid, str | int) and not isinstance(rid, bool) else None
        size = record.get("size")
        size = size if isinstance(size, int) and not isinstance(size, bool) else 0
        if record.get("kind") == "request":
            tool = _text(record.get("gen_ai.tool.name"))
            if tool is None:
                return []
            call = Call((agent, server, tool), at, size)
            if rid is not None:
                session.open.pop((server, rid), None)
                session.open[(server, rid)] = call
                if len(session.open) > MAX_OPEN:
                    session.open.popitem(last=False)
            return [call]
        if record.get("kind") == "response":
            asked = session.open.pop((server, rid), None)
            if asked is None:
                self.lost += rid is not None
                return []
            return [Result(asked.key, at, size, _judged_shape(record.get(SHAPE_FIELD)))]
        return []


def events(records: Iterable[Mapping[str, Any]], reader: Reader | None = None) -> Iterator[Event]:
    """The events of ``records`` (in order), through ``reader`` (default: a new one)."""
    reader = reader if reader is not None else Reader()
    for record in records:
        yield from reader.feed(record)


def _hour(at: float) -> int:
    return datetime.fromtimestamp(at, UTC).hour


def _window_count(recent: deque[float], at: float) -> int:
    recent.append(at)
    while recent and recent[0] <= at - WINDOW:
        recent.popleft()
    return len(recent)


def learn(records: Iterable[Mapping[str, Any]], reader: Reader | None = None) -> Learned:
    """What the history ``records`` (in order) teaches; ``reader`` keeps the audit sessions'
    state for the records that follow (``Detector.from_history``)."""
    out = Learned()
    for event in events(records, reader):
        agent, server, _ = event.key
        hosts = out.egress.setdefault((agent, server), Hosts())
        if isinstance(event, Reach):
            if event.host not in hosts.hosts and len(hosts.hosts) >= MAX_HOSTS:
                hosts.overflow += event.times
                hosts.grown = event.at if hosts.grown is None else max(hosts.grown, event.at)
                hosts.seen(event.at)
                continue
            if event.host not in hosts.hosts:
                hosts.hosts[event.host] = [0, 0]
                hosts.grown = event.at if hosts.grown is None else max(hosts.grown, event.at)
            hosts.hosts[event.host][event.refused] += event.times
            hosts.seen(event.at)
            if server == OWN:
                hosts.calls += 1  # an agent's own traffic: each model call or request counts
            continue
        base = out.tools.setdefault(event.key, Baseline())
        if isinstance(event, Result):
            base.max_result = max(base.max_result, event.size)
            if event.shape is not None:
                base.learn_shape(event.shape)
            continue
        hosts.calls += 1
        hosts.seen(event.at)
        base.calls += 1
        base.max_args = max(base.max_args, event.args)
        base.hours.add(_hour(event.at))
        base.max_rate = max(base.max_rate, _window_count(base._recent, event.at))
    return out


class Detector:
    """Streams events against learned baselines; one anomaly per kind and key per window
    (each new host once)."""

    def __init__(
        self,
        learned: Learned,
        thresholds: Thresholds = Thresholds(),
        reader: Reader | None = None,
    ) -> None:
        self.learned = learned
        self.baselines = learned.tools
        self.t = thresholds
        self.reader = reader if reader is not None else Reader()
        self._recent: dict[Key, deque[float]] = {}
        self._last: dict[tuple[str, Key], float] = {}
        self._reported: set[tuple[str, str, str]] = set()  # agent, server, host
        self._hours_reported: set[tuple[str, int]] = set()  # agent, clock hour
        self._server_calls: dict[tuple[str, str], int] = {}
        self._agent_calls: dict[str, int] = {}
        self._agent_hours: dict[str, set[int]] = {}
        for (agent, server, _), base in learned.tools.items():
            self._server_calls[(agent, server)] = (
                self._server_calls.get((agent, server), 0) + base.calls
            )
            self._agent_calls[agent] = self._agent_calls.get(agent, 0) + base.calls
            self._agent_hours.setdefault(agent, set()).update(base.hours)

    @classmethod
    def from_history(
        cls, records: Iterable[Mapping[str, Any]], thresholds: Thresholds = Thresholds()
    ) -> Detector:
        """Learn from ``records``, then judge what follows them (their audit sessions'
        agents and unanswered calls carry over)."""
        reader = Reader()
        return cls(learn(records, reader), thresholds, reader)

    def feed(self, record: Mapping[str, Any]) -> list[Anomaly]:
        """One audit record (the next in order): the anomalies it shows."""
        return [a for event in self.reader.feed(record) for a in self.observe(event)]

    def observe(self, event: Event) -> list[Anomaly]:
        if isinstance(event, Reach):
            return self._reach(event)
        if isinstance(event, Result):
            return self._once(self._result(event))
        return self._once(self.judge(event.key, event.at, event.args))

    def _reach(self, event: Reach) -> list[Anomaly]:
        agent, server, tool = event.key
        hosts = self.learned.egress.get((agent, server))
        # The known host first: ``judged`` sums over every host (up to MAX_HOSTS) per reach.
        if hosts is None or event.host in hosts.hosts or not hosts.judged(self.t):
            return []
        if (agent, server, event.host) in self._reported:
            return []
        if len(self._reported) >= MAX_REPORTED:  # a bound that repeats, never one that hides
            self._reported.clear()
        self._reported.add((agent, server, event.host))
        who = f"`{tool}`" if tool else (agent if server == OWN else f"{server} (outside a call)")
        verdict = "refused" if event.refused else "allowed"
        days = hosts.span() / DAY
        return [
            Anomaly(
                "new_host",
                event.key,
                event.at,
                f"{who} reached {event.host} ({verdict}), never seen in {hosts.calls} calls "
                f"over {days:.0f} day{'' if round(days) == 1 else 's'}; usual hosts "
                f"{hosts.usual()}",
            )
        ]

    def _result(self, event: Result) -> list[Anomaly]:
        base = self.baselines.get(event.key)
        if base is None or base.calls < self.t.min_calls:
            return []
        found = []
        tool = event.key[2]
        if event.size > base.max_result * self.t.size_factor + self.t.size_floor:
            found.append(
                Anomaly(
                    "size",
                    event.key,
                    event.at,
                    f"`{tool}` returned {event.size} bytes; usual at most {base.max_result}",
                )
            )
        if (
            event.shape is not None
            and base.shaped >= self.t.min_calls
            and len(base.shapes) <= MAX_SHAPES
            and event.shape not in base.shapes
        ):
            found.append(
                Anomaly(
                    "shape",
                    event.key,
                    event.at,
                    f"`{tool}` returned a result shaped {event.shape}, never seen in "
                    f"{base.shaped} results; usual {base.usual_shapes()}",
                )
            )
        return found

    def adopt_windows(self, other: Detector) -> None:
        """Count on from the rate windows of ``other`` (a judge whose baselines were saved
        anew keeps the calls it already counted)."""
        self._recent = other._recent

    def forget_windows(self) -> None:
        """Drop the calls counted in the rate windows (a clock that stepped back would
        otherwise count every call until it caught up with the latest one)."""
        self._recent.clear()

    def judge(self, key: Key, at: float, args: int, *, hours: bool = True) -> list[Anomaly]:
        """Every departure of the call ``key`` at ``at`` with ``args`` bytes of arguments
        (counted in its window), without the once-per-window folding of ``observe``: the
        relay's judge (``ztmcp.behaviour.anomaly``) answers each call, so a burst is refused
        call after call, never only at its first. ``hours``: whether the hour of activity is
        judged."""
        base = self.baselines.get(key)
        agent, server, tool = key
        found: list[Anomaly] = []
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque()
        count = _window_count(recent, at)
        usual = base.max_rate if base is not None else 0
        if count > max(self.t.rate_floor, self.t.rate_factor * usual):
            found.append(
                Anomaly(
                    "burst",
                    key,
                    at,
                    f"`{tool}` called {count} times in {WINDOW:.0f} s; usual at most {usual}",
                )
            )
        active = self._agent_hours.get(agent, set())
        if (
            hours
            and self._agent_calls.get(agent, 0) >= self.t.min_calls
            and _hour(at) not in active
        ):
            found.append(
                Anomaly(
                    "hour",
                    key,
                    at,
                    f"`{tool}` called at {_hour(at):02d}:00 UTC; {agent} is "
                    f"usually active {_hours(active)}",
                )
            )
        if base is None:
            used = self._server_calls.get((agent, server), 0)
            if used >= self.t.min_calls:
                found.append(
                    Anomaly(
                        "new_tool",
                        key,
                        at,
                        f"`{tool}` was never called by {agent} on {server} in {used} earlier calls",
                    )
                )
            return found
        if (
            base.calls >= self.t.min_calls
            and args > base.max_args * self.t.size_factor + self.t.size_floor
        ):
            found.append(
                Anomaly(
                    "size",
                    key,
                    at,
                    f"`{tool}` sent {args} bytes of arguments; usual at most {base.max_args}",
                )
            )
        return found

    def _once(self, found: list[Anomaly]) -> list[Anomaly]:
        out = []
        for anomaly in found:
            if anomaly.kind == "hour":  # once per agent and clock hour, whatever the tool
                hour = (anomaly.key[0], int(anomaly.at // 3600))
                if hour not in self._hours_reported:
                    if len(self._hours_reported) >= MAX_REPORTED:
                        self._hours_reported.clear()
                    self._hours_reported.add(hour)
                    out.append(anomaly)
                continue
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


ACTIVITY: Final = frozenset({"message", "egress", "llm.call"})


def timed(records: Iterable[Mapping[str, Any]]) -> list[tuple[float, Mapping[str, Any]]]:
    """Records with a time, in time order: logs are read one file after another, and the judge
    wants one stream (a stable sort: records of the same instant keep their file order)."""
    stamped = [(at, r) for r in records if (at := record_time(r)) is not None]
    stamped.sort(key=lambda pair: pair[0])
    return stamped


def last_activity(stamped: Iterable[tuple[float, Mapping[str, Any]]]) -> float:
    """The time of the newest call, result or egress (0.0: none)."""
    return max((at for at, r in stamped if r.get("event") in ACTIVITY), default=0.0)


def judge(
    stamped: Iterable[tuple[float, Mapping[str, Any]]],
    cutoff: float,
    thresholds: Thresholds = Thresholds(),
) -> tuple[Detector, list[Anomaly]]:
    """Learn from the records up to ``cutoff``, judge the ones after it (``ztmcp baseline``)."""
    stamped = list(stamped)
    detector = Detector.from_history((r for at, r in stamped if at <= cutoff), thresholds)
    return detector, [a for at, r in stamped if at > cutoff for a in detector.feed(r)]


HISTORY_DAYS: Final = 14.0  # what a live judge (the TUI) learns from, before its first poll


def history(
    directory: Path, until: float, days: float = HISTORY_DAYS
) -> list[tuple[float, Mapping[str, Any]]]:
    """The audit records of the ``days`` before ``until`` (inclusive), in time order; files
    last written before that period (by the system's clock) are not read."""
    from ztmcp.state.audit import read_records, session_files

    start = until - days * DAY
    written = min(until, time.time()) - days * DAY
    files = []
    for path in session_files(directory):
        try:
            if path.stat().st_mtime >= written:
                files.append(path)
        except OSError:
            continue  # gone meanwhile: nothing to learn from it
    return [(at, r) for at, r in timed(read_records(files)) if start <= at <= until]
