"""The approvals State API (the TUI's contract) and the audited Operator, on real SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ztmcp.state import paths
from ztmcp.state.approvals import ApprovalStore, Operator
from ztmcp.state.audit import read_records, session_files, utc_iso, verify_file
from ztmcp.state.grants import SCHEMA_VERSION, GrantLookup, GrantStore, StateError

NOW = 1_000_000.0
DIGEST = "cd" * 32


def ask(
    store: ApprovalStore,
    *,
    tool: str = "write",
    now: float = NOW,
    wait: float = 60,
    digest: str | None = DIGEST,
) -> str:
    made = store.request(server="fs", tool=tool, digest=digest, session="s", now=now, wait=wait)
    assert made.state == "pending" and made.deadline == now + wait
    return made.id


def test_heartbeats_attach_and_detach(tmp_path: Path) -> None:
    with ApprovalStore(tmp_path / "state.db") as store:
        assert not store.attached(NOW)
        store.heartbeat("tui:a", NOW)
        assert store.attached(NOW + 2.9) and not store.attached(NOW + 3.1)
        assert store.attached(NOW + 9, within=10)
        store.heartbeat("tui:a", NOW + 100)  # one row per watcher, updated in place
        assert not store.attached(NOW + 50)  # an hour-ahead clock is not a fresh heartbeat
        assert store.attached(NOW + 100)
        store.detach("tui:a")
        assert not store.attached(NOW + 100)


def test_pending_is_oldest_first_and_drops_past_deadlines(tmp_path: Path) -> None:
    with ApprovalStore(tmp_path / "state.db") as store:
        late = ask(store, now=NOW + 1, wait=60)
        early = ask(store, now=NOW, wait=5)
        assert [a.id for a in store.pending(NOW + 2)] == [early, late]
        assert [a.id for a in store.pending(NOW + 5)] == [late]  # early is past its deadline
        assert store.pending(NOW - 3600) == []  # requested "in the future": a clock moved back
        got = store.get(early)
        assert got is not None and got.left(NOW + 2) == 3 and got.left(NOW + 9) == 0
        assert store.get("nope") is None
        assert [a.id for a in store.recent()] == [late, early]


def test_grant_binds_the_digest_and_is_seen_by_the_lookup(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with ApprovalStore(path) as store:
        approval_id = ask(store)
        given = store.grant(approval_id, seconds=900, who="ada", why="fix", now=NOW + 1)
        assert given.digest == DIGEST and given.who == "ada" and given.expires == NOW + 901
        decided = store.get(approval_id)
        assert decided is not None and decided.state == "granted"
        assert decided.grant_id == given.id and decided.decided == NOW + 1
        assert store.pending(NOW + 2) == []
    lookup = GrantLookup(path)
    assert [g.id for g in lookup.live("fs", "write", NOW + 2)] == [given.id]
    lookup.close()


def test_decisions_are_refused_once_not_pending(tmp_path: Path) -> None:
    with ApprovalStore(tmp_path / "state.db") as store:
        one = ask(store)
        store.deny(one, who="bob", now=NOW + 1)
        with pytest.raises(StateError, match=f"approval {one} is already denied"):
            store.grant(one, seconds=60, who="ada", now=NOW + 2)
        with pytest.raises(StateError, match="already denied"):
            store.deny(one, who="bob", now=NOW + 2)
        two = ask(store, wait=5)
        with pytest.raises(StateError, match="expired") as caught:
            store.grant(two, seconds=60, who="ada", now=NOW + 5)
        assert caught.value.hint == "grant ahead of the next call: ztmcp grant fs write --for 15m"
        with pytest.raises(StateError, match="no approval request 'zz'"):
            store.deny("zz", who="bob", now=NOW)
        three = ask(store)
        with pytest.raises(StateError, match="between 1s and 30d"):
            store.grant(three, seconds=0, who="ada", now=NOW)
        still = store.get(three)
        assert still is not None and still.state == "pending"  # a refused grant changes nothing
        unlisted = ask(store, digest=None)
        with pytest.raises(StateError, match="never listed"):
            store.grant(unlisted, seconds=60, who="ada", now=NOW)
        assert store.finish(three, "expired", now=NOW + 70) is not None
        with pytest.raises(StateError, match="expired or cancelled"):
            store.finish(three, "granted", now=NOW)
        with GrantStore(store.path) as grants:
            assert grants.grants(include_inactive=True) == []


def test_finish_keeps_a_decision_that_came_first(tmp_path: Path) -> None:
    with ApprovalStore(tmp_path / "state.db") as store:
        approval_id = ask(store)
        store.grant(approval_id, seconds=60, who="ada", now=NOW + 1)
        ended = store.finish(approval_id, "cancelled", now=NOW + 2)
        assert ended is not None and ended.state == "granted"


def test_bad_wait_is_refused(tmp_path: Path) -> None:
    with ApprovalStore(tmp_path / "state.db") as store:
        for wait in (0, -1, 3601):
            with pytest.raises(StateError, match="held for 1s to 3600s"):
                ask(store, wait=wait)


def test_changes_moves_when_another_connection_commits(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with ApprovalStore(path) as watcher, ApprovalStore(path) as proxy:
        before = proxy.changes()
        assert proxy.changes() == before
        watcher.heartbeat("tui", NOW)
        assert proxy.changes() != before


def test_operator_audits_every_change_in_one_chained_log() -> None:
    clock = [NOW]
    with Operator("ztmcp-tui", clock=lambda: clock[0]) as ops:
        approval_id = ask(ops.approvals)
        given = ops.approve(approval_id, seconds=60, who="ada", why="ticket")
        denied_id = ask(ops.approvals, tool="rm")
        ops.deny(denied_id, who="bob")
        direct = ops.grant("fs", "read", 30, digest=None, who="ada")
        assert ops.revoke(direct.id) is not None
        assert ops.revoke(direct.id) is None  # already revoked: no event
        clock[0] += 120
        assert [g.id for g in ops.sweep()] == [given.id]
    (log,) = session_files(paths.audit_dir())
    assert "ztmcp-tui" in log.name and verify_file(log).ok and verify_file(log).closed
    events = [r["event"] for r in read_records([log])]
    assert events == [
        "session.start",
        "approval.grant",
        "grant.create",
        "approval.deny",
        "grant.create",
        "grant.revoke",
        "grant.expire",
        "session.end",
    ]
    records = list(read_records([log]))
    assert records[1]["approval.id"] == approval_id and records[1]["user.name"] == "ada"
    assert records[2]["approval.id"] == approval_id and records[2]["grant.id"] == given.id
    assert records[3]["approval.state"] == "denied" and records[3]["user.name"] == "bob"
    # Stamped by the Operator's clock (the one that timed the grants), not the wall clock.
    assert [r["ts"] for r in records[:6]] == [utc_iso(NOW)] * 6
    assert records[6]["ts"] == utc_iso(NOW + 120)


def test_operator_without_changes_writes_no_log() -> None:
    with Operator("ztmcp-tui") as ops:
        ops.sweep()
        assert ops.revoke("nope") is None
    assert session_files(paths.audit_dir()) == []


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (1);
        CREATE TABLE grants (id TEXT PRIMARY KEY, server TEXT NOT NULL, tool TEXT NOT NULL,
            digest TEXT, arg TEXT, prefix TEXT, who TEXT NOT NULL, why TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL, expires REAL NOT NULL, renew REAL, revoked REAL,
            expiry_logged INTEGER NOT NULL DEFAULT 0);
        INSERT INTO grants (id, server, tool, who, created, expires)
            VALUES ('old1', 'fs', 'write', 'ada', 1000000.0, 1000600.0);
        """
    )
    old.close()
    said: list[str] = []
    lookup = GrantLookup(path, say=said.append)  # a proxy meets the old file first
    # Migrated, but a row from before grants carried a MAC is not honoured: it is reported.
    assert lookup.live("fs", "write", NOW + 1) == []
    assert set(lookup.forged) == {"old1"} and len(said) == 1 and "'old1'" in said[0]
    assert lookup.live("fs", "write", NOW + 1) == [] and len(said) == 1  # reported once
    lookup.close()
    with ApprovalStore(path) as store:
        ask(store)
    check = sqlite3.connect(path)
    assert check.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    check.close()


def test_a_newer_database_is_refused_with_one_line(newer_db: Path) -> None:
    with pytest.raises(StateError, match="schema version 99, this ztmcp knows") as caught:
        ApprovalStore(newer_db)
    assert caught.value.hint and "upgrade ztmcp" in caught.value.hint


def test_corrupt_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"not sqlite" * 500)
    with pytest.raises(StateError, match="file is not a database") as caught:
        ApprovalStore(path)
    assert "\n" not in caught.value.message and caught.value.hint
    assert "move" in caught.value.hint
