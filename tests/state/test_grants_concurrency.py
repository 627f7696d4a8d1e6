"""Several processes grant, revoke and look up at once: no lost grant, no corruption, no error."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

DURATION = 4.0  # seconds of contention per worker: enough to interleave, cheap for CI

WORKER = r"""
import json, random, sys, time
from pathlib import Path
from ztmcp.state.grants import GrantLookup, GrantStore

role, path, duration = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + duration
done = []
if role == "grant":
    while time.monotonic() < end:
        with GrantStore(path) as store:  # a fresh connection each time, like the CLI
            done.append(store.add("fs", random.choice("abc"), 600, digest=None).id)
elif role == "revoke":
    with GrantStore(path) as store:
        while time.monotonic() < end:
            live = store.grants()
            if live:
                got = store.revoke(random.choice(live).id)
                if got is not None:
                    done.append(got.id)
            time.sleep(0.002)
else:
    lookup = GrantLookup(path)
    while time.monotonic() < end:
        lookup.live("fs", random.choice("abc"), time.time())
        done.append(1)
print(json.dumps(done))
"""


def test_processes_share_the_store_safely(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    roles = ["grant", "grant", "grant", "revoke", "check", "check"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, role, str(path), str(DURATION)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for role in roles
    ]
    results = []
    for role, proc in zip(roles, procs, strict=True):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (role, err.decode()[-2000:])
        assert err == b"", (role, err.decode()[-2000:])
        results.append((role, json.loads(out)))

    granted = [i for role, ids in results if role == "grant" for i in ids]
    revoked = {i for role, ids in results if role == "revoke" for i in ids}
    lookups = sum(len(ids) for role, ids in results if role == "check")
    assert len(granted) > 20 and lookups > 100 and revoked

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = dict(conn.execute("SELECT id, revoked IS NOT NULL FROM grants").fetchall())
    conn.close()
    assert len(granted) == len(set(granted)) == len(rows)  # no lost grant, no duplicate
    assert set(rows) == set(granted)
    assert {i for i, gone in rows.items() if gone} == revoked
