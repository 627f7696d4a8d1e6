"""The exposure report: how long each tool was callable under grants, against standing access.

Computed from the audit log alone. Grant intervals come from the ``grant.create`` records of the
CLI's session logs (the record's ``ts`` is when the grant was given, ``grant.expires`` when it
ends) and from ``grant.revoke`` records (their ``ts`` cuts the interval short). For each
(server, tool) seen in the window — called, or granted over part of it — the report gives the
union of its grant intervals clipped to the window, the window's length (what standing access
would have left open), the reduction, the calls allowed and the calls denied per rule.

A tool with an allowed call that carried no ``access.granted`` verdict (allowed by a rule, or a
monitor-mode session) was not gated: it counts as callable for the whole window, reduction 0.
Grant scope (a digest, a path prefix) is not subtracted: a grant counts for its whole interval.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ztmcp.durations import format_duration

_ALLOWED = frozenset({"forwarded", "flagged", "rewritten"})
_DENIED = frozenset({"denied", "dropped"})


def parse_ts(value: Any) -> float | None:
    """Epoch seconds of an audit ``ts`` (``2026-11-25T10:00:00.123456Z``); ``None`` if not one."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class GrantInterval:
    grant_id: str
    server: str
    tool: str
    start: float
    end: float  # the expiry, or the revocation when earlier


@dataclass(frozen=True, slots=True)
class ToolExposure:
    server: str
    tool: str
    granted_seconds: float  # union of grant intervals, clipped to the window
    standing_seconds: float  # the window: how long standing access leaves the tool callable
    gated: bool  # False: a call went through without a grant (allowed by rule, or monitor mode)
    allowed: int
    allowed_by_grant: int
    denied: tuple[tuple[str, int], ...]  # (rule, count), most frequent first

    @property
    def callable_seconds(self) -> float:
        return self.granted_seconds if self.gated else self.standing_seconds

    @property
    def reduction(self) -> float:
        """Percent of the standing window during which the tool was not callable."""
        if self.standing_seconds <= 0:
            return 0.0
        return 100.0 * (1.0 - self.callable_seconds / self.standing_seconds)

    @property
    def denied_total(self) -> int:
        return sum(count for _, count in self.denied)

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "tool": self.tool,
            "gated": self.gated,
            "granted_seconds": round(self.granted_seconds, 3),
            "callable_seconds": round(self.callable_seconds, 3),
            "standing_seconds": round(self.standing_seconds, 3),
            "reduction_percent": round(self.reduction, 2),
            "allowed": self.allowed,
            "allowed_by_grant": self.allowed_by_grant,
            "denied": self.denied_total,
            "denied_by_rule": dict(self.denied),
        }


@dataclass(frozen=True, slots=True)
class Report:
    start: float
    end: float
    tools: tuple[ToolExposure, ...]

    @property
    def window_seconds(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def callable_seconds(self) -> float:
        return sum(t.callable_seconds for t in self.tools)

    @property
    def standing_seconds(self) -> float:
        return sum(t.standing_seconds for t in self.tools)

    @property
    def reduction(self) -> float:
        standing = self.standing_seconds
        return 0.0 if standing <= 0 else 100.0 * (1.0 - self.callable_seconds / standing)

    @property
    def allowed(self) -> int:
        return sum(t.allowed for t in self.tools)

    @property
    def denied(self) -> int:
        return sum(t.denied_total for t in self.tools)

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": {
                "start": self.start,
                "end": self.end,
                "seconds": round(self.window_seconds, 3),
            },
            "tools": [t.as_dict() for t in self.tools],
            "total": {
                "tools": len(self.tools),
                "callable_seconds": round(self.callable_seconds, 3),
                "standing_seconds": round(self.standing_seconds, 3),
                "reduction_percent": round(self.reduction, 2),
                "allowed": self.allowed,
                "denied": self.denied,
            },
        }


def grant_intervals(records: Iterable[dict[str, Any]]) -> list[GrantInterval]:
    """Grant intervals from ``grant.create`` / ``grant.revoke`` records (any order)."""
    created: dict[str, tuple[str, str, float, float]] = {}
    revoked: dict[str, float] = {}
    for record in records:
        event = record.get("event")
        if event not in ("grant.create", "grant.revoke"):
            continue
        grant_id, ts = record.get("grant.id"), parse_ts(record.get("ts"))
        if not isinstance(grant_id, str) or ts is None:
            continue
        if event == "grant.revoke":
            revoked[grant_id] = min(ts, revoked.get(grant_id, ts))
            continue
        server, tool, expires = (
            record.get("server"),
            record.get("gen_ai.tool.name"),
            record.get("grant.expires"),
        )
        if not isinstance(server, str) or not isinstance(tool, str):
            continue
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            continue
        created[grant_id] = (server, tool, ts, float(expires))
    intervals = []
    for grant_id, (server, tool, start, expires) in created.items():
        end = min(expires, revoked.get(grant_id, expires))
        if end > start:
            intervals.append(GrantInterval(grant_id, server, tool, start, end))
    return intervals


def union_seconds(spans: Iterable[tuple[float, float]], start: float, end: float) -> float:
    """Length of the union of ``spans`` after clipping each to [start, end]."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if min(b, end) > max(a, start))
    total, cur_a, cur_b = 0.0, None, None
    for a, b in clipped:
        if cur_b is None or a > cur_b:
            if cur_a is not None and cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_a is not None and cur_b is not None:
        total += cur_b - cur_a
    return total


def _denial_rule(record: dict[str, Any]) -> str:
    for verdict in record.get("verdicts") or []:
        if isinstance(verdict, dict) and verdict.get("action") == "deny":
            return str(verdict.get("rule") or "unknown")
    return "unknown"


def _by_grant(record: dict[str, Any]) -> bool:
    return any(
        isinstance(v, dict) and v.get("rule") == "access.granted"
        for v in record.get("verdicts") or []
    )


def build_report(
    records: Iterable[dict[str, Any]], start: float, end: float, server: str | None = None
) -> Report:
    """The exposure report for [start, end] (epoch seconds), optionally for one server."""
    records = list(records)
    intervals = [i for i in grant_intervals(records) if server is None or i.server == server]
    allowed: Counter[tuple[str, str]] = Counter()
    by_grant: Counter[tuple[str, str]] = Counter()
    ungated: set[tuple[str, str]] = set()
    denied: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    seen: set[tuple[str, str]] = set()
    for record in records:
        if record.get("event") != "message" or record.get("mcp.method.name") != "tools/call":
            continue
        if record.get("direction") != "to_server" or record.get("kind", "request") != "request":
            continue
        name, where = record.get("gen_ai.tool.name"), record.get("server")
        if not isinstance(name, str) or not isinstance(where, str):
            continue
        if server is not None and where != server:
            continue
        ts = parse_ts(record.get("ts"))
        if ts is None or not start <= ts <= end:
            continue
        key = (where, name)
        seen.add(key)
        outcome = record.get("outcome")
        if outcome in _ALLOWED:
            allowed[key] += 1
            if _by_grant(record):
                by_grant[key] += 1
            else:
                ungated.add(key)
        elif outcome in _DENIED:
            denied[key][_denial_rule(record)] += 1
    spans: defaultdict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for interval in intervals:
        spans[(interval.server, interval.tool)].append((interval.start, interval.end))
    window = max(0.0, end - start)
    tools = []
    for key in sorted(seen | {k for k, s in spans.items() if union_seconds(s, start, end) > 0}):
        counts = denied.get(key, Counter())
        tools.append(
            ToolExposure(
                server=key[0],
                tool=key[1],
                granted_seconds=union_seconds(spans.get(key, []), start, end),
                standing_seconds=window,
                gated=key not in ungated,
                allowed=allowed[key],
                allowed_by_grant=by_grant[key],
                denied=tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
            )
        )
    return Report(start, end, tuple(tools))


def format_seconds(seconds: float) -> str:
    """``0s``, ``5m00s``, ``24h00m``: rounded to whole seconds, the two largest units."""
    return format_duration(round(seconds))
