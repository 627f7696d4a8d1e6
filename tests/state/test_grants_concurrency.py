"""Eight processes grant, revoke, renew, request and decide approvals and check, all at once.

Invariants: no lost grant, no grant revoked that nobody revoked, every decision recorded as
made, no renewal past its cap, ``PRAGMA integrity_check`` ok, and no process saw an error.
The fast variant runs in the normal suite; the one-minute variant (issue 6) is e2e.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ztmcp.state.grants import GrantStore

FAST = 4.0  # seconds of contention per worker in the normal suite
MINUTE = 60.0  # the "for a minute", marked e2e

WORKER = r"""
import json, random, sys, time
from pathlib import Path
from ztmcp.state.approvals import ApprovalStore
from ztmcp.state.grants import GrantLookup, GrantStore

role, path, duration = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + duration
done = []
tools = "abcd"
if role == "grant":  # the CLI: a fresh connection per command
    while time.monotonic() < end:
        with GrantStore(path) as store:
            renew = random.choice([None, 30.0])  # renewable ones start short: 20 s
            done.append(store.add("fs", random.choice(tools), 600 if renew is None else 20,
                                  digest=None, renew=renew,
                                  cap=None if renew is None else 900.0).id)
        time.sleep(0.001)
elif role == "revoke":
    with GrantStore(path) as store:
        while time.monotonic() < end:
            live = store.grants()
            if live:
                got = store.revoke(random.choice(live).id)
                if got is not None:
                    done.append(got.id)
            time.sleep(0.003)
elif role == "renew":  # a proxy's renewal writer
    lookup = GrantLookup(path)
    with GrantStore(path) as store:
        while time.monotonic() < end:
            now = time.time()
            for grant in lookup.live("fs", random.choice(tools), now):
                if grant.renew is not None and store.renew(grant.id, now) is not None:
                    done.append(grant.id)
            time.sleep(0.002)
elif role == "request":  # a proxy holding calls: request, poll, end
    with ApprovalStore(path) as store:
        while time.monotonic() < end:
            made = store.request(server="fs", tool=random.choice(tools), digest="e" * 64,
                                 session="p", now=time.time(), wait=0.5)
            seen, state = None, "pending"
            stop = time.monotonic() + 0.5
            while time.monotonic() < stop and state == "pending":
                version = store.changes()
                if version != seen:
                    seen = version
                    state = store.get(made.id).state
                time.sleep(0.005)
            if state == "pending":
                state = store.finish(made.id, "expired", now=time.time()).state
            done.append([made.id, state])
elif role == "decide":  # the TUI: heartbeat, read the queue, grant or deny
    with ApprovalStore(path) as store:
        while time.monotonic() < end:
            now = time.time()
            store.heartbeat("tui", now)
            for approval in store.pending(now)[:2]:
                try:
                    if random.random() < 0.5:
                        grant = store.grant(approval.id, seconds=60, who="t", now=time.time())
                        done.append([approval.id, "granted", grant.id])
                    else:
                        store.deny(approval.id, who="t", now=time.time())
                        done.append([approval.id, "denied", None])
                except Exception as exc:  # only "no longer pending" races are expected
                    if "expired" not in str(exc) and "already" not in str(exc):
                        raise
            time.sleep(0.01)
else:  # proxies checking calls
    lookup = GrantLookup(path)
    while time.monotonic() < end:
        now = time.time()
        lookup.live("fs", random.choice(tools), now)
        lookup.watched(now, 3.0)
        done.append(1)
        time.sleep(0.0005)
print(json.dumps(done))
"""

ROLES = ("grant", "grant", "revoke", "renew", "request", "decide", "check", "check")


def _contend(path: Path, duration: float) -> dict[str, list[Any]]:
    with GrantStore(path):  # created before the race: creation is not what is tested
        pass
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, role, str(path), str(duration)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for role in ROLES
    ]
    results: dict[str, list[Any]] = {role: [] for role in ROLES}
    try:
        for role, proc in zip(ROLES, procs, strict=True):
            out, err = proc.communicate(timeout=duration + 60)
            assert proc.returncode == 0, (role, err.decode()[-2000:])
            assert err == b"", (role, err.decode()[-2000:])
            results[role] += json.loads(out)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def _verify(path: Path, results: dict[str, list[Any]], duration: float) -> None:
    granted = results["grant"]
    revoked = set(results["revoke"])
    requested = {approval_id: state for approval_id, state in results["request"]}
    decided = {row[0]: (row[1], row[2]) for row in results["decide"]}
    lookups = len(results["check"])
    scale = duration / FAST
    assert len(granted) > 20 * scale and lookups > 100 * scale and revoked
    assert requested and decided and results["renew"]

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        grants = dict(conn.execute("SELECT id, revoked IS NOT NULL FROM grants").fetchall())
        approvals = {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT id, state, grant_id FROM approvals").fetchall()
        }
        over_cap = conn.execute(
            "SELECT count(*) FROM grants WHERE cap IS NOT NULL AND expires > cap"
        ).fetchone()[0]
    finally:
        conn.close()
    from_approvals = [g for state, g in decided.values() if state == "granted"]
    # No lost grant, no duplicate: every grant written is there, and nothing else is.
    assert len(granted) == len(set(granted))
    assert set(grants) == set(granted) | set(from_approvals)
    assert {i for i, gone in grants.items() if gone} == revoked
    assert over_cap == 0
    # Every approval request is there; every decision is recorded as made, exactly once.
    assert set(requested) <= set(approvals)
    for approval_id, (state, grant_id) in decided.items():
        assert approvals[approval_id] == (state, grant_id)
    # What a proxy saw at the end of a wait agrees with the store.
    for approval_id, state in requested.items():
        assert approvals[approval_id][0] == state, (approval_id, state)


def test_processes_share_the_store_safely(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _verify(path, _contend(path, FAST), FAST)


@pytest.mark.e2e
@pytest.mark.timeout(MINUTE + 120)
def test_eight_processes_for_a_minute(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _verify(path, _contend(path, MINUTE), MINUTE)
