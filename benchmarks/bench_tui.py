"""``ztmcp tui`` with 10,000 audit records present at start: time to first paint, cost per tick.

Records are written with the real ``AuditLog`` into a throw-away ``ZTMCP_HOME`` (10 session
files of 1,000 records, one in five a denial with a finding; 20 grants, 3 held calls in the
state database). Measured, in this process:

- ``direct read``: ``read_records`` over every file (parse only), the floor any viewer pays;
- ``first paint, empty``: the app starting with no records (Textual's own start-up);
- ``first paint, 10k``: the app starting over the 10,000 records, until the first tick's table
  and the state worker's first poll are on screen (the table keeps the newest 5,000 rows);
- ``tick, idle``: one tick when nothing changed (a ``stat`` per session file, the status line),
  on the UI thread; ``state poll``: the worker's heartbeat, sweep, grants and approvals reads;
- ``tick, +50 records``: a tick that finds 50 new records (read, parse, 50 rows added).

Ratios are printed against the direct read and against the empty start. The machine is shared:
run it alone for stable numbers.

Run:  .venv/bin/python benchmarks/bench_tui.py [--records 10000] [--ticks 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _event(i: int) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": "message",
        "server": f"server-{i % 4}",
        "client": "bench/1.0",
        "direction": "to_server" if i % 2 == 0 else "to_client",
        "kind": "request" if i % 2 == 0 else "response",
        "jsonrpc.request.id": i // 2,
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": f"tool-{i % 17}",
        "size": 200 + i % 50,
        "sha256": f"{i:064x}",
        "outcome": "forwarded",
        "check_us": 20.0 + i % 7,
    }
    if i % 5 == 0:
        event["outcome"] = "denied"
        event["verdicts"] = [
            {
                "check": "access",
                "action": "deny",
                "rule": "access.grant_required",
                "severity": "medium",
                "reason": f"tool 'tool-{i % 17}' needs a just-in-time grant",
                "evidence": "tool.sha256=" + "cd" * 32,
            }
        ]
    return event


def _populate(home: Path, records: int) -> None:
    from ztmcp.state import paths
    from ztmcp.state.approvals import ApprovalStore
    from ztmcp.state.audit import AuditLog
    from ztmcp.state.grants import GrantStore

    per_file = max(1, records // 10)
    written = 0
    while written < records:
        log = AuditLog.create(paths.audit_dir(), f"server-{written // per_file}")
        log.append({"event": "session.start", "server": "bench", "mode": "enforce"})
        written += 1
        for _ in range(min(per_file - 1, records - written)):
            log.append(_event(written))
            written += 1
        log.close()
    now = time.time()
    with GrantStore() as store:
        for n in range(20):
            store.add("server-0", f"tool-{n}", 600 + n, digest="cd" * 32, who="bench")
    with ApprovalStore() as approvals:
        for n in range(3):
            approvals.request(
                server="server-1",
                tool=f"tool-{n}",
                digest="cd" * 32,
                session="s",
                now=now,
                wait=600,
            )


async def _first_paint() -> tuple[float, Any]:
    from ztmcp.tui.app import make_app

    started = time.perf_counter()
    app = make_app(interval=None, lock_path=Path(os.devnull))
    async with app.run_test(size=(160, 48)) as pilot:
        await app.settle()
        await pilot.pause()
        painted = time.perf_counter() - started
        rows = app.traffic.row_count
    return painted, rows


async def _ticks(count: int, append: int) -> tuple[list[float], list[float], list[float]]:
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog
    from ztmcp.tui.app import make_app

    app = make_app(interval=None, lock_path=Path(os.devnull))
    idle: list[float] = []
    busy: list[float] = []
    polls: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await app.settle()
        await pilot.pause()
        for _ in range(count):
            started = time.perf_counter()
            app.tick()
            idle.append(time.perf_counter() - started)
            await app.settle()
        for _ in range(count):
            started = time.perf_counter()
            app.state.poll(heartbeat=True, observed=False)
            polls.append(time.perf_counter() - started)
        log = AuditLog.create(paths.audit_dir(), "live")
        n = 0
        for _ in range(max(1, count // 4)):
            for _ in range(append):
                log.append(_event(n))
                n += 1
            started = time.perf_counter()
            app.tick()
            busy.append(time.perf_counter() - started)
            await app.settle()
        log.close()
    return idle, busy, polls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--append", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ZTMCP_HOME"] = str(Path(tmp) / "empty")
        empty, _ = asyncio.run(_first_paint())

        os.environ["ZTMCP_HOME"] = str(Path(tmp) / "home")
        _populate(Path(tmp) / "home", args.records)
        from ztmcp.state import paths
        from ztmcp.state.audit import read_records, session_files

        started = time.perf_counter()
        direct = sum(1 for _ in read_records(session_files(paths.audit_dir())))
        direct_s = time.perf_counter() - started
        full, rows = asyncio.run(_first_paint())
        idle, busy, polls = asyncio.run(_ticks(args.ticks, args.append))

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.2f} ms (p95 {_p95(values) * 1000:.2f})"

    print(f"records at start           {direct} in 10 session logs, {rows} rows on screen")
    print(f"direct read (parse only)   {direct_s * 1000:.1f} ms")
    print(f"first paint, empty home    {empty * 1000:.0f} ms")
    print(
        f"first paint, {direct} records {full * 1000:.0f} ms"
        f"  = {full / empty:.2f}x the empty start, +{(full - empty) * 1000:.0f} ms"
        f" = {(full - empty) / direct_s:.1f}x the direct read"
    )
    print(f"tick, idle (UI thread)     {ms(idle)}")
    print(f"state poll (worker thread) {ms(polls)}")
    print(f"tick, +{args.append} records         {ms(busy)}")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


if __name__ == "__main__":
    main()
