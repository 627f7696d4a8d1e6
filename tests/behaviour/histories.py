"""Audit histories with injected incidents, for the anomaly table (docs/behaviour.md).

    uv run python -m tests.behaviour.histories [--noisy] [SEED ...]     # prints the table

Every record is written by the real components into real audit logs: a ``Session`` (the
envelope check) per server and day, whose ``AuditLog`` is stamped with the simulated time
(``AuditLog.append(event, ts)``), and, for each sandboxed server, the real egress gate's addon
(``EgressAddon``) deciding mitmproxy flows against the server's network profile, into a log of
its own as ``ztmcp run --sandbox`` does (joined to the relay's by ``process.pid``). The logs are
then read back and judged the way ``ztmcp baseline`` does (``baselines.timed``, ``judge``).

Normal traffic: one agent, four servers, working hours 08-18 UTC, Poisson-like arrivals from a
seeded RNG; each call reaches its server's usual hosts (the web fetcher a weighted few, the
open browser one of 500 sites), and the web server phones home once a day (refused). Five days
to learn from, then two days replayed with incidents injected: bursts of a sink, a sink never
used before, oversized arguments (bulk exfiltration), a payment at night, and new hosts (one
refused by the profile, one allowed by its glob).
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.jsonrpc import Direction, encode
from ztmcp.sandbox.egress import EgressAddon
from ztmcp.sandbox.profile import Profile, parse_net
from ztmcp.session import Session
from ztmcp.state.audit import AuditLog, read_records, session_files
from ztmcp.state.baselines import judge, timed

DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
AGENT = ("claude-code", "1.0")
LEARN_DAYS, REPLAY_DAYS = 5, 2
MAIL_HOSTS = {"read_inbox": ("imap.mail.example", 993), "send_email": ("smtp.mail.example", 587)}
WEB_HOSTS = (  # host, port, weight
    ("api.github.com", 443, 0.5),
    ("raw.githubusercontent.com", 443, 0.25),
    ("pypi.org", 443, 0.13),
    ("docs.python.org", 443, 0.1),
    ("files.pythonhosted.org", 443, 0.02),
)
BROWSE_SITES = tuple(f"site{n}.example" for n in range(500))
PHONE_HOME = ("telemetry.fetch-tools.example", 443)
PROFILES = {  # what each sandboxed server may reach
    "mail": ("imap.mail.example:993", "smtp.mail.example:587"),
    "web": (
        "*.github.com:443",
        "raw.githubusercontent.com:443",
        "pypi.org:443",
        "docs.python.org:443",
        "files.pythonhosted.org:443",
    ),
    "bank": ("api.bank.example:443",),
    "browse": ("*.example:443",),
}
NORMAL = (  # server, tool, calls per working hour, argument size, result size
    ("mail", "read_inbox", 12, 120, 6000),
    ("mail", "send_email", 2, 900, 80),
    ("web", "fetch", 8, 200, 20000),
    ("bank", "get_balance", 1, 60, 100),
    ("bank", "send_money", 0.3, 300, 90),
    ("browse", "open_page", 3, 150, 15000),
)


@dataclass(frozen=True)
class Incident:
    kind: str
    server: str
    tool: str
    start: float
    end: float


@dataclass(frozen=True)
class Planned:
    """One call to make: its tool, sizes, and the hosts its server reaches while it runs."""

    at: float
    server: str
    tool: str
    args: int
    result: int
    hosts: tuple[tuple[str, int], ...] = ()
    content: tuple[str, ...] = ("text",)  # the result's content types
    error: bool = False  # a tool error (isError)


PIDS = itertools.count(4000)  # the simulated ztmcp run processes


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Stamped:
    """The real ``AuditLog``, each record stamped with the simulated time."""

    def __init__(self, log: AuditLog, clock: Clock) -> None:
        self.log, self.clock = log, clock

    def post(self, event: dict[str, Any]) -> None:
        self.log.append(event, ts=self.clock())

    def close(self, **fields: Any) -> None:
        self.log.close(**fields)


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%SZ")


def _hosts(rng: random.Random, server: str, tool: str) -> tuple[tuple[str, int], ...]:
    if server == "mail":
        return (MAIL_HOSTS[tool],)
    if server == "bank":
        return (("api.bank.example", 443),)
    if server == "browse":
        return ((rng.choice(BROWSE_SITES), 443),)
    (host, port, _), *_ = rng.choices(WEB_HOSTS, weights=[w for *_, w in WEB_HOSTS])
    return ((host, port),)


def normal(rng: random.Random, days: int, start: float, noisy: bool = False) -> list[Planned]:
    """Working days of normal traffic. ``noisy``: each day's volume x0.5-2, its hours from
    07-09 to 17-20, sizes x0.2-3, 2 % of fetches to one of 30 rarely used documentation hosts
    (outside the profile: refused), and on one day in ten a legitimate batch of 3-8 mails in
    a minute."""
    planned: list[Planned] = []
    for day in range(days):
        first, last, volume, spread = 8, 18, 1.0, (0.5, 1.5)
        if noisy:
            first, last = rng.choice((7, 8, 8, 9)), rng.choice((17, 18, 18, 19, 20))
            volume, spread = rng.uniform(0.5, 2.0), (0.2, 3.0)
        for hour in range(first, last):
            t0 = start + day * DAY + hour * 3600
            for server, tool, per_hour, args, result in NORMAL:
                rate = min(per_hour * volume / 60, 1.0)
                count = sum(1 for _ in range(60) if rng.random() < rate)
                for _ in range(count):
                    at = t0 + rng.random() * 3600
                    sizes = int(args * rng.uniform(*spread)), int(result * rng.uniform(*spread))
                    hosts = _hosts(rng, server, tool)
                    error = rng.random() < ERROR_RATE
                    if noisy and tool == "fetch" and rng.random() < 0.02:
                        hosts = ((rng.choice(RARE_DOCS), 443),)
                    planned.append(Planned(at, server, tool, *sizes, hosts, error=error))
        if noisy and rng.random() < 0.1:  # a newsletter: a few mails at once
            t = start + day * DAY + rng.uniform(first, last - 1) * 3600
            host = MAIL_HOSTS["send_email"]
            for i in range(rng.randint(3, 8)):
                planned.append(Planned(t + i * 5, "mail", "send_email", 900, 80, (host,)))
    return planned


RARE_DOCS = tuple(f"docs{n}.example.org" for n in range(30))


KINDS = ("burst", "new_sink", "exfil", "night", "new_host", "burst", "shape")
ERROR_RATE = 0.01  # normal calls that end in a tool error


def incidents(rng: random.Random, start: float) -> tuple[list[Planned], list[Incident]]:
    planned: list[Planned] = []
    found: list[Incident] = []
    for n in range(14):
        t = start + (n % 2) * DAY + (9 + n // 2) * 3600 + rng.random() * 600
        kind = KINDS[n % 7]
        if kind == "burst":
            server, tool = ("mail", "send_email") if n % 4 == 1 else ("bank", "send_money")
            host = MAIL_HOSTS["send_email"] if server == "mail" else ("api.bank.example", 443)
            planned += [Planned(t + i, server, tool, 500, 80, (host,)) for i in range(40)]
            found.append(Incident(kind, server, tool, t, t + 40))
        elif kind == "new_sink":
            planned.append(Planned(t, "web", "post_webhook", 700, 50))
            found.append(Incident(kind, "web", "post_webhook", t, t + 1))
        elif kind == "exfil":
            planned.append(
                Planned(t, "mail", "send_email", 250_000, 80, (MAIL_HOSTS["send_email"],))
            )
            found.append(Incident(kind, "mail", "send_email", t, t + 1))
        elif kind == "night":
            at = start + (n % 2) * DAY + 3 * 3600
            planned.append(Planned(at, "bank", "send_money", 300, 90, (("api.bank.example", 443),)))
            found.append(Incident(kind, "bank", "send_money", at, at + 1))
        elif kind == "shape":  # the inbox answers with a resource link it never sent before
            content = ("text", "resource_link")
            planned.append(
                Planned(t, "mail", "read_inbox", 120, 6000, (MAIL_HOSTS["read_inbox"],), content)
            )
            found.append(Incident(kind, "mail", "read_inbox", t, t + 1))
        else:  # a new host: refused by the profile, then one its glob allows
            host = ("evil.example", 443) if n < 7 else ("gist.github.com", 443)
            planned.append(Planned(t, "web", "fetch", 200, 20000, (host,)))
            found.append(Incident(kind, "web", "fetch", t, t + 1))
    for day in range(2):  # a new host on the open browser, whose host set never settles
        t = start + day * DAY + 15 * 3600 + rng.random() * 600
        planned.append(Planned(t, "browse", "open_page", 150, 15000, (("exfil.example", 443),)))
        found.append(Incident("new_host_open", "browse", "open_page", t, t + 1))
    return planned, found


def _request(rid: int, tool: str, size: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": tool, "arguments": {"text": "x" * size}},
    }


def _item(kind: str, size: int) -> dict[str, Any]:
    if kind == "resource_link":
        return {"type": kind, "uri": "file:///" + "z" * size, "name": "attachment"}
    return {"type": kind, "text": "y" * size}


class Day:
    """One day of one agent: a ``ztmcp run`` session (and its gate) per server."""

    def __init__(
        self, directory: Path, clock: Clock, servers: set[str], agent: str | None = None
    ) -> None:
        from mitmproxy.test import tflow, tutils

        self.tflow, self.tutils = tflow, tutils
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self.gates: dict[str, EgressAddon] = {}
        self.rid = 0
        self.sandboxes: list[Stamped] = []
        for server in sorted(servers):
            # As `ztmcp run --sandbox` does: the gate's log first (its `sandbox.start` names the
            # process), then the relay's, whose `session.start` names the same process.
            pid = next(PIDS)
            rules = tuple(r for spec in PROFILES[server] for r in parse_net(spec))
            box = Stamped(self._log(directory, server), clock)
            box.post({"event": "sandbox.start", "server": server, "process.pid": pid,
                      "sandbox.allow_net": list(PROFILES[server])})  # fmt: skip
            self.sandboxes.append(box)
            self.gates[server] = EgressAddon(server, Profile(allow_net=rules), box.post)
            where = {"process.pid": pid, **({"gen_ai.agent.name": agent} if agent else {})}
            sink = Stamped(self._log(directory, server), clock)
            self.sessions[server] = Session(
                server, [EnvelopeCheck()], sink, clock=clock, where=where
            )
            self._frame(server, Direction.TO_SERVER, self._initialize())

    def _log(self, directory: Path, server: str) -> AuditLog:
        sid = secrets.token_hex(8)
        return AuditLog(directory / f"{_stamp(self.clock.now)}-{server}-{sid}.jsonl", sid)

    def _initialize(self) -> dict[str, Any]:
        self.rid += 1
        return {
            "jsonrpc": "2.0",
            "id": self.rid,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": AGENT[0], "version": AGENT[1]},
            },
        }

    def _frame(self, server: str, direction: Direction, body: dict[str, Any]) -> None:
        decision = self.sessions[server].handle(direction, encode(body))
        assert decision.forward, decision

    def reach(self, server: str, host: str, port: int) -> None:
        """The server opens a tunnel to ``host:port`` through its sandbox's gate."""
        request = self.tutils.treq(method=b"CONNECT", host=host, port=port, path=b"")
        self.gates[server].http_connect(self.tflow.tflow(req=request))

    def call(self, planned: Planned) -> None:
        self.rid += 1
        self.clock.now = planned.at
        self._frame(
            planned.server, Direction.TO_SERVER, _request(self.rid, planned.tool, planned.args)
        )
        for host, port in planned.hosts:
            self.clock.now = planned.at + 0.05
            self.reach(planned.server, host, port)
        self.clock.now = planned.at + 0.2
        share = planned.result // len(planned.content)
        items = [_item(kind, share) for kind in planned.content]
        result: dict[str, Any] = {"content": items, **({"isError": True} if planned.error else {})}
        self._frame(
            planned.server,
            Direction.TO_CLIENT,
            {"jsonrpc": "2.0", "id": self.rid, "result": result},
        )

    def close(self) -> None:
        for session in self.sessions.values():
            session.close("the day ends")
        for box in self.sandboxes:
            box.close(reason="the day ends")


def write(
    directory: Path, planned: list[Planned], start: float, days: int, agent: str | None = None
) -> None:
    """Run ``planned`` through a day of sessions each simulated day, into ``directory``."""
    clock = Clock()
    by_day: dict[int, list[Planned]] = {}
    for p in planned:
        by_day.setdefault(int((p.at - start) // DAY), []).append(p)
    for day in range(days):
        clock.now = start + day * DAY + 1
        today = sorted(by_day.get(day, []), key=lambda p: p.at)
        sessions = Day(directory, clock, {p.server for p in planned}, agent)
        if "web" in sessions.gates:
            clock.now = start + day * DAY + 8 * 3600 - 60  # the web server phones home
            sessions.reach("web", *PHONE_HOME)
        for p in today:
            sessions.call(p)
        clock.now = start + (day + 1) * DAY - 1
        sessions.close()


def _matches(anomaly: Any, incident: Incident) -> bool:
    return (
        anomaly.key[1:] == (incident.server, incident.tool)
        and incident.start - 1 <= anomaly.at <= incident.end + 1
    )


def replay(directory: Path, seed: int = 7, noisy: bool = False) -> dict[str, Any]:
    """Learn five days, judge two with incidents; counts per incident kind and false alarms."""
    rng = random.Random(seed)
    test_start = START + LEARN_DAYS * DAY
    history = normal(rng, LEARN_DAYS + REPLAY_DAYS, START, noisy)
    injected, planted = incidents(rng, test_start)
    write(directory, history + injected, START, LEARN_DAYS + REPLAY_DAYS)
    stamped = timed(read_records(session_files(directory)))
    detector, alarms = judge(stamped, test_start)
    by_kind: dict[str, list[int]] = {}
    for incident in planted:
        counts = by_kind.setdefault(incident.kind, [0, 0])
        counts[0] += any(_matches(a, incident) for a in alarms)
        counts[1] += 1
    false = [a for a in alarms if not any(_matches(a, i) for i in planted)]
    replayed = [p for p in history if p.at >= test_start]
    return {
        "by_kind": by_kind,
        "false_alarms": len(false),
        "false_by_kind": _count(a.kind for a in false),
        "normal_calls": len(replayed),
        "normal_reaches": sum(len(p.hosts) for p in replayed),
        "examples": [a.explanation for a in alarms if a.kind == "new_host"][:2],
        "false": false,
        "egress": {
            f"{a}/{s}": h.as_dict(detector.t)
            for (a, s), h in detector.learned.egress.items()
            if h.hosts
        },
    }


def _count(kinds: Iterator[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind in kinds:
        out[kind] = out.get(kind, 0) + 1
    return out


def table(outs: Mapping[int, Mapping[str, Any]]) -> str:
    kinds: dict[str, list[int]] = {}
    for out in outs.values():
        for kind, (hit, total) in out["by_kind"].items():
            counts = kinds.setdefault(kind, [0, 0])
            counts[0] += hit
            counts[1] += total
    lines = ["| incident | detected |", "|---|---|"]
    lines += [f"| {kind} | {hit}/{total} |" for kind, (hit, total) in kinds.items()]
    false = sum(o["false_alarms"] for o in outs.values())
    calls = sum(o["normal_calls"] for o in outs.values())
    reaches = sum(o["normal_reaches"] for o in outs.values())
    lines.append(
        f"| false alarms | {false} over {calls} normal calls and {reaches} egress attempts |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import os
    import sys
    import tempfile

    noisy = "--noisy" in sys.argv
    seeds = [int(a) for a in sys.argv[1:] if a != "--noisy"] or [1, 2, 3, 4, 5]
    with tempfile.TemporaryDirectory() as home:
        os.environ["ZTMCP_HOME"] = home
        outs = {}
        for seed in seeds:
            directory = Path(home) / f"audit-{seed}"
            outs[seed] = replay(directory, seed, noisy)
            out = outs[seed]
            print(f"seed {seed}: {json.dumps(out['by_kind'])}, false {out['false_by_kind']}")
        print(table(outs))
        first = outs[seeds[0]]
        for line in first["examples"]:
            print(" ", line)
        for a in first["false"][:10]:
            print("  FALSE", a)
        print(json.dumps(first["egress"], indent=1)[:3000])
