"""The exposure report: how long each tool was callable under grants, against standing access.

Computed from the audit log alone. A grant's interval starts at its ``grant.create`` record (the
record's ``ts``; grants given by approving a held call in the TUI are ``grant.create`` records
too, carrying ``approval.id``) and ends at its expiry, or at its ``grant.revoke`` when earlier.
The expiry is the latest one the log records for the grant: ``grant.expires`` of the creation,
of each ``grant.renew`` (a proxy slid it after an allowed call) and of its ``grant.expire`` (the
database's final value, so a renewal whose own record was lost still counts); never past what
the creation record allows (``grant.cap`` for a renewing grant, ``grant.expires`` otherwise).

For each (server, tool) seen in the window (called, held, or granted over part of it) the report
gives the union of its grant intervals clipped to the window, the window's length (what standing
access would have left open), the reduction, the calls allowed, the calls denied per rule, and
the held calls: a call the ``access`` check refused while a TUI was attached is recorded as
``held`` and again when it was released (counted as allowed) or refused (counted as denied);
one the agent cancelled while held is neither. How holds ended and how long they waited come
from the proxy's ``access.hold_end`` records.

A tool with an allowed call that carried no ``access.granted`` verdict (allowed by a rule, or a
monitor-mode session) was not gated then. When the log shows it gated later (a call allowed by
a grant, refused or held by the ``access`` check after the last ungated call: a rule was added),
it counts as callable from the window's start until that first gated record, and under its
grants from then on; otherwise it counts as callable for the whole window, reduction 0.
Grant scope (a digest, a path prefix) is not subtracted: a grant counts for its whole interval.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ztmcp.durations import format_duration

_ALLOWED = frozenset({"forwarded", "flagged", "rewritten"})
_DENIED = frozenset({"denied", "dropped"})
_HELD: Final = "held"
# How a hold can end (ztmcp.holds); the JSON always has every one of these keys.
HOLD_OUTCOMES: Final = ("released", "denied", "expired", "cancelled", "error")


def parse_ts(value: Any) -> float | None:
    """Epoch seconds of an audit ``ts`` (``2026-11-25T10:00:00.123456Z``); ``None`` if not one."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo is not None else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class GrantInterval:
    grant_id: str
    server: str
    tool: str
    start: float
    end: float  # the latest recorded expiry (within the cap), or the revocation when earlier
    given_end: float | None = None  # the expiry the grant was created with
    renewals: int = 0  # grant.renew records for it
    approval_id: str | None = None  # given by approving a held call


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
    held: int = 0  # calls held for approval (each is also counted once allowed or denied)
    hold_ends: tuple[tuple[str, int], ...] = ()  # (outcome, count), in HOLD_OUTCOMES order
    hold_waits_ms: tuple[float, ...] = ()  # how long each ended hold waited
    grants: int = 0  # grants open during the window
    grants_from_approvals: int = 0
    renewals: int = 0  # grant.renew records of those grants
    # Ungated at first (allowed without a grant), gated from a later record on: the seconds
    # from the window's start to that record (``granted_seconds`` then counts after it only).
    ungated_seconds: float = 0.0
    allowed_ungated: int = 0  # calls allowed without a grant before it was gated

    @property
    def callable_seconds(self) -> float:
        if not self.gated:
            return self.standing_seconds
        return min(self.standing_seconds, self.ungated_seconds + self.granted_seconds)

    @property
    def reduction(self) -> float:
        """Percent of the standing window during which the tool was not callable."""
        if self.standing_seconds <= 0:
            return 0.0
        return 100.0 * (1.0 - self.callable_seconds / self.standing_seconds)

    @property
    def denied_total(self) -> int:
        return sum(count for _, count in self.denied)

    @property
    def hold_median_ms(self) -> float | None:
        return statistics.median(self.hold_waits_ms) if self.hold_waits_ms else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "tool": self.tool,
            "gated": self.gated,
            "ungated_seconds": round(self.ungated_seconds, 3),
            "allowed_ungated": self.allowed_ungated,
            "granted_seconds": round(self.granted_seconds, 3),
            "callable_seconds": round(self.callable_seconds, 3),
            "standing_seconds": round(self.standing_seconds, 3),
            "reduction_percent": round(self.reduction, 2),
            "allowed": self.allowed,
            "allowed_by_grant": self.allowed_by_grant,
            "denied": self.denied_total,
            "denied_by_rule": dict(self.denied),
            "grants": self.grants,
            "grants_from_approvals": self.grants_from_approvals,
            "renewals": self.renewals,
            "held": self.held,
            "holds": _outcomes(self.hold_ends),
            "hold_median_ms": _ms(self.hold_median_ms),
        }


def _outcomes(ends: Iterable[tuple[str, int]]) -> dict[str, int]:
    counts = dict.fromkeys(HOLD_OUTCOMES, 0)
    for outcome, count in ends:
        counts[outcome] = counts.get(outcome, 0) + count
    return counts


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


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

    @property
    def held(self) -> int:
        return sum(t.held for t in self.tools)

    @property
    def hold_ends(self) -> dict[str, int]:
        return _outcomes(end for t in self.tools for end in t.hold_ends)

    @property
    def hold_median_ms(self) -> float | None:
        waits = [w for t in self.tools for w in t.hold_waits_ms]
        return statistics.median(waits) if waits else None

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
                "grants": sum(t.grants for t in self.tools),
                "grants_from_approvals": sum(t.grants_from_approvals for t in self.tools),
                "renewals": sum(t.renewals for t in self.tools),
                "held": self.held,
                "holds": self.hold_ends,
                "hold_median_ms": _ms(self.hold_median_ms),
            },
        }


@dataclass(slots=True)
class _Given:
    server: str
    tool: str
    start: float
    expires: float
    limit: float  # no recorded expiry counts past this
    renews: bool
    approval_id: str | None


def _created(record: Mapping[str, Any], ts: float) -> _Given | None:
    server, tool = record.get("server"), record.get("gen_ai.tool.name")
    expires = _number(record.get("grant.expires"))
    if not isinstance(server, str) or not isinstance(tool, str) or expires is None:
        return None
    renews = _number(record.get("grant.renew")) is not None
    cap = _number(record.get("grant.cap"))
    # A renewing grant may slide up to its cap; any other ends where it was given to end.
    limit = (cap if cap is not None else float("inf")) if renews else expires
    approval = record.get("approval.id")
    return _Given(
        server, tool, ts, expires, limit, renews, approval if isinstance(approval, str) else None
    )


def grant_intervals(records: Iterable[Mapping[str, Any]]) -> list[GrantInterval]:
    """Grant intervals from the grant.create / renew / expire / revoke records (any order)."""
    given: dict[str, _Given] = {}
    revoked: dict[str, float] = {}
    # grant id -> (server, tool, recorded expiry, from a renewal) of each later record
    later: defaultdict[str, list[tuple[Any, Any, float, bool]]] = defaultdict(list)
    for record in records:
        event = record.get("event")
        if event not in ("grant.create", "grant.revoke", "grant.renew", "grant.expire"):
            continue
        grant_id, ts = record.get("grant.id"), parse_ts(record.get("ts"))
        if not isinstance(grant_id, str) or ts is None:
            continue
        if event == "grant.revoke":
            revoked[grant_id] = min(ts, revoked.get(grant_id, ts))
        elif event == "grant.create":
            created = _created(record, ts)
            if created is not None:
                given[grant_id] = created
        else:
            expires = _number(record.get("grant.expires"))
            if expires is not None:
                where = (record.get("server"), record.get("gen_ai.tool.name"))
                later[grant_id].append((*where, expires, event == "grant.renew"))
    intervals = []
    for grant_id, grant in given.items():
        expires, renewals = grant.expires, 0
        for server, tool, recorded, renewal in later.get(grant_id, ()):
            if (server, tool) != (grant.server, grant.tool):
                continue  # another grant that happens to share the id: not this one's
            if renewal:
                if not grant.renews:
                    continue
                renewals += 1
            expires = max(expires, min(recorded, grant.limit))
        end = min(expires, revoked.get(grant_id, expires))
        if end > grant.start:
            intervals.append(
                GrantInterval(
                    grant_id,
                    grant.server,
                    grant.tool,
                    grant.start,
                    end,
                    given_end=grant.expires,
                    renewals=renewals,
                    approval_id=grant.approval_id,
                )
            )
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


def _denial_rule(record: Mapping[str, Any]) -> str:
    for verdict in record.get("verdicts") or []:
        if isinstance(verdict, dict) and verdict.get("action") == "deny":
            return str(verdict.get("rule") or "unknown")
    return "unknown"


def _by_grant(record: Mapping[str, Any]) -> bool:
    return any(
        isinstance(v, dict) and v.get("rule") == "access.granted"
        for v in record.get("verdicts") or []
    )


def _is_call(record: Mapping[str, Any]) -> bool:
    """A tools/call request from the agent (not its answer, not a listing)."""
    return (
        record.get("event") == "message"
        and record.get("mcp.method.name") == "tools/call"
        and record.get("direction") == "to_server"
        and record.get("kind", "request") == "request"
    )


def _ungated_call_before(
    record: Mapping[str, Any], key: tuple[str, str], before: float, start: float
) -> bool:
    """A call to ``key`` allowed without a grant in [start, before)."""
    if not _is_call(record) or record.get("outcome") not in _ALLOWED or _by_grant(record):
        return False
    if (record.get("server"), record.get("gen_ai.tool.name")) != key:
        return False
    ts = parse_ts(record.get("ts"))
    return ts is not None and start <= ts < before


def build_report(
    records: Iterable[Mapping[str, Any]], start: float, end: float, server: str | None = None
) -> Report:
    """The exposure report for [start, end] (epoch seconds), optionally for one server."""
    records = list(records)
    intervals = [i for i in grant_intervals(records) if server is None or i.server == server]
    allowed: Counter[tuple[str, str]] = Counter()
    by_grant: Counter[tuple[str, str]] = Counter()
    held: Counter[tuple[str, str]] = Counter()
    ungated: set[tuple[str, str]] = set()
    denied: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    hold_ends: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    waits: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    last_ungated: dict[tuple[str, str], float] = {}  # the latest call allowed without a grant
    gated_at: defaultdict[tuple[str, str], list[float]] = defaultdict(list)  # access at work
    for record in records:
        call = _is_call(record)
        if not call and record.get("event") != "access.hold_end":
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
        if not call:
            hold_ends[key][outcome if isinstance(outcome, str) else "unknown"] += 1
            wait = _number(record.get("held_ms"))
            if wait is not None and wait >= 0:
                waits[key].append(wait)
        elif outcome in _ALLOWED:
            allowed[key] += 1
            if _by_grant(record):
                by_grant[key] += 1
                gated_at[key].append(ts)
            else:
                ungated.add(key)
                last_ungated[key] = max(ts, last_ungated.get(key, ts))
        elif outcome in _DENIED:
            rule = _denial_rule(record)
            denied[key][rule] += 1
            if rule.startswith("access."):
                gated_at[key].append(ts)
        elif outcome == _HELD:
            held[key] += 1
            gated_at[key].append(ts)
    # A tool allowed without a grant, then gated by a rule added later: from when.
    gated_from: dict[tuple[str, str], float] = {}
    for key, until in last_ungated.items():
        later = [t for t in gated_at.get(key, ()) if t > until]
        if later:
            gated_from[key] = min(later)
            ungated.discard(key)
    spans: defaultdict[tuple[str, str], list[GrantInterval]] = defaultdict(list)
    for interval in intervals:
        if min(interval.end, end) > max(interval.start, start):
            spans[(interval.server, interval.tool)].append(interval)
    window = max(0.0, end - start)
    tools = []
    for key in sorted(seen | set(spans)):
        counts = denied.get(key, Counter())
        grants = spans.get(key, [])
        ends = hold_ends.get(key, Counter())
        order = {outcome: n for n, outcome in enumerate(HOLD_OUTCOMES)}
        since = gated_from.get(key)
        early = (
            0
            if since is None
            else sum(1 for r in records if _ungated_call_before(r, key, since, start))
        )
        tools.append(
            ToolExposure(
                server=key[0],
                tool=key[1],
                granted_seconds=union_seconds(
                    ((g.start, g.end) for g in grants), since if since is not None else start, end
                ),
                ungated_seconds=0.0 if since is None else since - start,
                allowed_ungated=early,
                standing_seconds=window,
                gated=key not in ungated,
                allowed=allowed[key],
                allowed_by_grant=by_grant[key],
                denied=tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
                held=held[key],
                hold_ends=tuple(
                    sorted(ends.items(), key=lambda item: (order.get(item[0], 99), item[0]))
                ),
                hold_waits_ms=tuple(waits.get(key, ())),
                grants=len(grants),
                grants_from_approvals=sum(1 for g in grants if g.approval_id is not None),
                renewals=sum(g.renewals for g in grants),
            )
        )
    return Report(start, end, tuple(tools))


def format_seconds(seconds: float) -> str:
    """``0s``, ``5m00s``, ``24h00m``: rounded to whole seconds, the two largest units."""
    return format_duration(round(seconds))
