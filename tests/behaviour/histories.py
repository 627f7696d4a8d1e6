"""Synthetic audit histories with injected incidents, for the anomaly table (docs/behaviour.md).

    uv run python -m tests.behaviour.histories      # prints the table

Normal traffic: one agent, three servers, working hours 08-18 UTC, Poisson-like arrivals from
a seeded RNG; five days to learn from, then two days replayed with incidents injected: bursts
of a sink, a sink never used before, oversized arguments (bulk exfiltration), a call at night.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ztmcp.state.baselines import Detector, calls, learn

DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
NORMAL = (  # server, tool, calls per working hour, argument size, result size
    ("mail", "read_inbox", 12, 120, 6000),
    ("mail", "send_email", 2, 900, 80),
    ("web", "fetch", 8, 200, 20000),
    ("bank", "get_balance", 1, 60, 100),
    ("bank", "send_money", 0.3, 300, 90),
)


@dataclass(frozen=True)
class Incident:
    kind: str
    server: str
    tool: str
    start: float
    end: float


def _pair(
    rid: int,
    at: float,
    server: str,
    tool: str,
    args: int,
    result: int,
    agent: str = "claude-code/1.0",
) -> Iterator[dict[str, Any]]:
    base = {
        "event": "message",
        "server": server,
        "client": agent,
        "mcp.method.name": "tools/call",
        "jsonrpc.request.id": rid,
    }
    yield {**base, "ts": at, "kind": "request", "gen_ai.tool.name": tool, "size": args}
    yield {**base, "ts": at + 0.2, "kind": "response", "size": result}


def normal(rng: random.Random, days: int, start: float) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    rid = 0
    for day in range(days):
        for hour in range(8, 18):
            t0 = start + day * DAY + hour * 3600
            for server, tool, per_hour, args, result in NORMAL:
                count = sum(1 for _ in range(60) if rng.random() < per_hour / 60)
                for _ in range(count):
                    rid += 1
                    at = t0 + rng.random() * 3600
                    records += _pair(
                        rid,
                        at,
                        server,
                        tool,
                        int(args * rng.uniform(0.5, 1.5)),
                        int(result * rng.uniform(0.5, 1.5)),
                    )
    records.sort(key=lambda r: (r["ts"], r["kind"] != "request"))
    return records


def incidents(rng: random.Random, start: float) -> tuple[list[dict[str, Any]], list[Incident]]:
    records: list[dict[str, Any]] = []
    found: list[Incident] = []
    rid = 10**6
    for n in range(10):
        t = start + (n % 2) * DAY + (9 + n) * 3600 + rng.random() * 600
        kind = ("burst", "new_sink", "exfil", "night", "burst")[n % 5]
        if kind == "burst":
            server, tool = ("mail", "send_email") if n % 2 else ("bank", "send_money")
            for i in range(40):
                rid += 1
                records += _pair(rid, t + i, server, tool, 500, 80)
            found.append(Incident(kind, server, tool, t, t + 40))
        elif kind == "new_sink":
            rid += 1
            records += _pair(rid, t, "web", "post_webhook", 700, 50)
            found.append(Incident(kind, "web", "post_webhook", t, t + 1))
        elif kind == "exfil":
            rid += 1
            records += _pair(rid, t, "mail", "send_email", 250_000, 80)
            found.append(Incident(kind, "mail", "send_email", t, t + 1))
        else:
            at = start + (n % 2) * DAY + 3 * 3600
            rid += 1
            records += _pair(rid, at, "bank", "send_money", 300, 90)
            found.append(Incident(kind, "bank", "send_money", at, at + 1))
    return records, found


def replay(seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    train = normal(rng, 5, START)
    test_start = START + 5 * DAY
    test = normal(rng, 2, test_start)
    injected, planted = incidents(rng, test_start)
    stream = sorted(test + injected, key=lambda r: (r["ts"], r["kind"] != "request"))
    detector = Detector(learn(train))
    alarms = [a for call in calls(stream) for a in detector.observe(call)]
    detected = {
        i: any(a.key[1:] == (i.server, i.tool) and i.start - 1 <= a.at <= i.end + 1 for a in alarms)
        for i in planted
    }
    false = [
        a
        for a in alarms
        if not any(
            a.key[1:] == (i.server, i.tool) and i.start - 1 <= a.at <= i.end + 1 for i in planted
        )
    ]
    by_kind: dict[str, list[int]] = {}
    for incident, hit in detected.items():
        by_kind.setdefault(incident.kind, [0, 0])
        by_kind[incident.kind][0] += int(hit)
        by_kind[incident.kind][1] += 1
    normal_calls = sum(1 for r in test if r["kind"] == "request")
    return {
        "by_kind": by_kind,
        "false_alarms": len(false),
        "normal_calls": normal_calls,
        "examples": [a.explanation for a in alarms[:6]],
        "false": false,
    }


if __name__ == "__main__":
    out = replay()
    print("| incident | detected |\n|---|---|")
    for kind, (hit, total) in out["by_kind"].items():
        print(f"| {kind} | {hit}/{total} |")
    print(f"\nfalse alarms: {out['false_alarms']} over {out['normal_calls']} normal calls")
    for line in out["examples"]:
        print(" ", line)
    for a in out["false"][:10]:
        print("  FALSE", a)
