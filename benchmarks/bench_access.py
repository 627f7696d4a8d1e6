"""What the ``access`` check adds to one tools/call, in-process, in microseconds.

Three cases against a throw-away grant database holding 200 grants for other tools:

- ``allowed by rule``: the tool matches no grant rule (the default is "allow"): the goal is a
  median under 50 µs (0.05 ms); this path never opens the database;
- ``allowed by grant``: a live grant opens the tool: ``PRAGMA data_version`` per call, the
  grants re-read only after another connection committed (so a revocation from any process
  counts on the next call), the tool digest memoised per listing: goal under 50 µs too;
- ``denied (no grant)``: the refusal, with the hint.

Then the same calls through a whole ``Session`` (parse, correlate, audit record) with and without
the access check, as a ratio against the Session without it; and the hold/release latency: a call
held for approval (a watcher attached), an approval granted from a second connection, the time
from that commit to the held call's release (``hold.wait()`` returning the forwarded frame).

Run:  .venv/bin/python benchmarks/bench_access.py [--calls 20000] [--holds 50]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ztmcp.checks.access import AccessCheck, Rule
from ztmcp.checks.base import Context
from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.holds import AccessEdge
from ztmcp.jsonrpc import Direction
from ztmcp.session import Outcome, Session
from ztmcp.state.approvals import ApprovalStore
from ztmcp.state.grants import GrantLookup, GrantStore, tool_digest
from ztmcp.testing import tool_call


class NullAudit:
    """Drops records: the benchmark measures the checks, not the audit writer."""

    def post(self, event: dict[str, Any]) -> None:
        pass

    def close(self, **fields: Any) -> None:
        pass


TOOLS = {
    "echo": {
        "name": "echo",
        "description": "Echoes back the input",
        "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}},
        "annotations": {"readOnlyHint": True},
    },
    "write_file": {
        "name": "write_file",
        "description": "Write a file",
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}},
    },
    "delete_file": {
        "name": "delete_file",
        "description": "Delete a file",
        "inputSchema": {"type": "object"},
    },
}


def measure(check: AccessCheck, name: str, calls: int) -> tuple[float, float]:
    msg = tool_call(name, {"path": "/srv/app/a.txt", "message": "hi"})
    samples = []
    for _ in range(calls):
        ctx = Context(server="fs", now=time.time(), extra={"tools": TOOLS})
        t0 = time.perf_counter_ns()
        check.check(msg, ctx)
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99)] / 1000


def listed_session(checks: list[Any], edge: AccessEdge | None = None) -> Session:
    session = Session("fs", checks, NullAudit(), edge=edge)
    listing = {"jsonrpc": "2.0", "id": 0, "method": "tools/list"}
    session.handle(Direction.TO_SERVER, json.dumps(listing).encode())
    tools = {"jsonrpc": "2.0", "id": 0, "result": {"tools": list(TOOLS.values())}}
    session.handle(Direction.TO_CLIENT, json.dumps(tools).encode())
    return session


def per_session_call(session: Session, name: str, calls: int) -> float:
    """Median µs of one tools/call through Session.handle (answered, so ids never pile up)."""
    samples = []
    for i in range(1, calls + 1):
        params = {"name": name, "arguments": {"path": "/srv/app/a.txt"}}
        raw = json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params})
        answer = json.dumps({"jsonrpc": "2.0", "id": i, "result": {"content": []}}).encode()
        t0 = time.perf_counter_ns()
        session.handle(Direction.TO_SERVER, raw.encode())
        samples.append(time.perf_counter_ns() - t0)
        session.handle(Direction.TO_CLIENT, answer)
    return statistics.median(samples) / 1000


def _release(hold: Any, released: list[float], done: threading.Event) -> None:
    outcome = hold.wait().outcome
    released.append(time.perf_counter())
    assert outcome is Outcome.FLAGGED, outcome
    done.set()


def hold_latency(path: Path, holds: int) -> list[float]:
    """Milliseconds from the approval's commit to the held call's release, per hold."""
    lookup = GrantLookup(path)
    check = AccessCheck([Rule("fs", "delete_*", "grant")], "allow", lookup, hold_seconds=30)
    edge = AccessEdge(lookup, hold_seconds=30, session_id="bench", path=path)
    session = listed_session([check], edge)
    watcher = ApprovalStore(path)
    latencies = []
    try:
        for i in range(holds):
            watcher.heartbeat("bench", time.time())
            params = {"name": "delete_file", "arguments": {}}
            raw = json.dumps(
                {"jsonrpc": "2.0", "id": 10_000 + i, "method": "tools/call", "params": params}
            ).encode()
            held = session.handle(Direction.TO_SERVER, raw)
            assert held.outcome is Outcome.HELD and held.hold is not None
            released: list[float] = []
            done = threading.Event()
            threading.Thread(target=_release, args=(held.hold, released, done)).start()
            deadline = time.monotonic() + 10
            while not (queue := watcher.pending(time.time())):
                assert time.monotonic() < deadline
                time.sleep(0.001)
            # Approve at a random phase of the waiter's poll loop, as a person would.
            time.sleep(0.02 + random.random() * 0.01)
            given = watcher.grant(queue[0].id, seconds=1, who="bench", now=time.time())
            committed = time.perf_counter()
            assert done.wait(10)
            latencies.append((released[0] - committed) * 1000)
            with GrantStore(path) as store:
                store.revoke(given.id)
            answer = {"jsonrpc": "2.0", "id": 10_000 + i, "result": {"content": []}}
            session.handle(Direction.TO_CLIENT, json.dumps(answer).encode())
    finally:
        watcher.close()
        session.close("bench over")
        lookup.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--holds", type=int, default=50)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.db"
        with GrantStore(path) as store:
            for i in range(200):
                store.add("fs", f"tool_{i}", 3600, digest=None)
            store.add("fs", "write_file", 3600, digest=tool_digest(TOOLS["write_file"]))
        lookup = GrantLookup(path)
        rules = [
            Rule("fs", "write_*", "grant"),
            Rule("fs", "delete_*", "grant"),
            Rule("git", "*", "grant"),
        ]
        check = AccessCheck(rules, "allow", lookup)
        rows = [
            ("allowed by rule", measure(check, "echo", ns.calls)),
            ("allowed by grant", measure(check, "write_file", ns.calls)),
            ("denied (no grant)", measure(check, "delete_file", ns.calls)),
        ]
        calls = max(1000, ns.calls // 4)
        plain = per_session_call(listed_session([EnvelopeCheck()]), "write_file", calls)
        guarded = per_session_call(listed_session([EnvelopeCheck(), check]), "write_file", calls)
        lookup.close()
        latencies = sorted(hold_latency(path, ns.holds))
    print(f"{'case':<20} {'median µs':>10} {'p99 µs':>10}")
    for label, (median, p99) in rows:
        print(f"{label:<20} {median:>10.2f} {p99:>10.2f}")
    for label, index in (("allowed-by-rule", 0), ("allowed-by-grant", 1)):
        goal = rows[index][1][0]
        print(f"goal: {label} median < 50 µs: {'met' if goal < 50 else 'MISSED'} ({goal:.2f} µs)")
    print(f"\nSession.handle, tools/call allowed by a grant ({calls} calls, median):")
    print(f"  envelope only          {plain:8.2f} µs   1.00x")
    print(
        f"  envelope + access      {guarded:8.2f} µs   {guarded / plain:.2f}x "
        f"(+{guarded - plain:.2f} µs)"
    )
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    print(f"\nhold/release: approval committed -> held call released ({len(latencies)} holds):")
    print(
        f"  median {statistics.median(latencies):.2f} ms   p95 {p95:.2f} ms   "
        f"max {latencies[-1]:.2f} ms   (poll interval 10 ms)"
    )


if __name__ == "__main__":
    main()
