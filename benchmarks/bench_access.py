"""What the ``access`` check adds to one tools/call, in-process, in microseconds.

Three cases against a throw-away grant database holding 200 grants for other tools:

- ``allowed by rule``: the tool matches no grant rule (the default is "allow"): the goal is a
  median under 50 µs (0.05 ms); this path never opens the database;
- ``allowed by grant``: a live grant opens the tool: one indexed SELECT per call (so a
  revocation from any process counts on the next call);
- ``denied (no grant)``: the refusal, with the hint.

Run:  .venv/bin/python benchmarks/bench_access.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ztmcp.checks.access import AccessCheck, Rule
from ztmcp.checks.base import Context
from ztmcp.state.grants import GrantLookup, GrantStore, tool_digest
from ztmcp.testing import tool_call

TOOLS = {
    "echo": {"name": "echo", "description": "Echoes back the input",
             "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}},
             "annotations": {"readOnlyHint": True}},
    "write_file": {"name": "write_file", "description": "Write a file",
                   "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}},
    "delete_file": {"name": "delete_file", "description": "Delete a file",
                    "inputSchema": {"type": "object"}},
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.db"
        with GrantStore(path) as store:
            for i in range(200):
                store.add("fs", f"tool_{i}", 3600, digest=None)
            store.add("fs", "write_file", 3600, digest=tool_digest(TOOLS["write_file"]))
        lookup = GrantLookup(path)
        rules = [Rule("fs", "write_*", "grant"), Rule("fs", "delete_*", "grant"),
                 Rule("git", "*", "grant")]
        check = AccessCheck(rules, "allow", lookup)
        rows = [
            ("allowed by rule", measure(check, "echo", ns.calls)),
            ("allowed by grant", measure(check, "write_file", ns.calls)),
            ("denied (no grant)", measure(check, "delete_file", ns.calls)),
        ]
        lookup.close()
    print(f"{'case':<20} {'median µs':>10} {'p99 µs':>10}")
    for label, (median, p99) in rows:
        print(f"{label:<20} {median:>10.2f} {p99:>10.2f}")
    goal = rows[0][1][0]
    print(f"\ngoal: allowed-by-rule median < 50 µs: {'met' if goal < 50 else 'MISSED'} "
          f"({goal:.2f} µs)")


if __name__ == "__main__":
    main()
