"""The grant store: WAL SQLite, expiry, revocation, digests, constraints, failing closed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ztmcp.state import grants as g
from ztmcp.state.grants import GrantLookup, GrantStore, StateError, tool_digest, under_prefix

NOW = 1_000_000.0


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_store_is_wal_with_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with GrantStore(path):
        pass
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(g.SCHEMA_VERSION,)]
    conn.close()


def test_default_path_is_under_ztmcp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZTMCP_HOME", str(tmp_path / "h"))
    assert g.db_path() == tmp_path / "h" / "state.db"


def test_grant_expires_and_lookup_sees_it(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "state.db"
    lookup = GrantLookup(path)
    assert lookup.live("fs", "write", clock.now) == []  # no database yet: no grants
    with GrantStore(path, clock=clock) as store:
        grant = store.add("fs", "write", 60, digest="d" * 64, why="fix bug", who="ada")
    assert grant.who == "ada" and grant.expires == clock.now + 60
    assert [x.id for x in lookup.live("fs", "write", clock.now + 59)] == [grant.id]
    assert lookup.live("fs", "write", clock.now + 60) == []
    assert lookup.live("fs", "read", clock.now) == []
    assert lookup.live("other", "write", clock.now) == []
    clock.now += 61
    with GrantStore(path, clock=clock) as store:
        expired = store.sweep_expired()
        assert [x.id for x in expired] == [grant.id]
        assert store.sweep_expired() == []  # reported once
        assert store.grants() == []
        assert [x.status(clock.now) for x in store.grants(include_inactive=True)] == ["expired"]
    lookup.close()


def test_revocation_is_seen_by_an_open_lookup(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    clock = Clock()
    with GrantStore(path, clock=clock) as store:
        one = store.add("fs", "write", 600, digest=None)
        two = store.add("fs", "write", 600, digest=None)
    lookup = GrantLookup(path)
    assert len(lookup.live("fs", "write", clock.now)) == 2
    with GrantStore(path, clock=clock) as store:
        assert store.revoke(one.id) is not None
        assert store.revoke(one.id) is None  # already revoked
        assert store.revoke("nope") is None
    assert [x.id for x in lookup.live("fs", "write", clock.now)] == [two.id]
    with GrantStore(path, clock=clock) as store:
        assert [x.id for x in store.revoke_all()] == [two.id]
    assert lookup.live("fs", "write", clock.now) == []
    lookup.close()


def test_argument_constraint() -> None:
    grant = g.Grant("id", "fs", "write", None, "path", "/srv/app", "me", "", 0.0, 10.0)
    assert grant.allows({"path": "/srv/app/x.txt"})
    assert grant.allows({"path": "/srv/app"})
    assert not grant.allows({"path": "/srv/app/../etc/passwd"})
    assert not grant.allows({"path": "/srv/application"})
    assert not grant.allows({"path": 7})
    assert not grant.allows({})
    assert not grant.allows({"path": "/srv/app/\0x"})
    assert under_prefix("/a/b", "/") and not under_prefix("a/b", "/")
    assert g.Grant("id", "fs", "w", None, None, None, "me", "", 0, 1).allows({})


def test_tool_digest_is_canonical() -> None:
    a = {"name": "echo", "inputSchema": {"type": "object", "properties": {}}}
    b = {"inputSchema": {"properties": {}, "type": "object"}, "name": "echo"}
    assert tool_digest(a) == tool_digest(b)
    assert tool_digest(a) != tool_digest({**a, "description": "changed"})


def test_bad_arguments(tmp_path: Path) -> None:
    with GrantStore(tmp_path / "s.db") as store:
        with pytest.raises(StateError):
            store.add("fs", "w", 0, digest=None)
        with pytest.raises(StateError):
            store.add("fs", "w", 10, digest=None, arg="path")


def test_corrupt_database_fails_closed_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StateError) as caught:
        GrantStore(path)
    assert "\n" not in caught.value.message and "not a database" in caught.value.message
    with pytest.raises(StateError):
        GrantLookup(path).live("fs", "write", 0)


def test_newer_schema_is_refused(newer_db: Path) -> None:
    with pytest.raises(StateError, match="schema version 99"):
        GrantStore(newer_db)
    with pytest.raises(StateError, match="schema version 99"):
        GrantLookup(newer_db).live("fs", "write", 0)


def test_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with GrantStore(path):
        pass
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = GrantStore(path, busy_ms=50)
    except StateError as exc:  # the schema transaction already waits
        assert "locked" in exc.message
    else:
        with pytest.raises(StateError, match="locked"):
            store.add("fs", "w", 10, digest=None)
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_lookup_on_a_database_being_created_sees_no_grants(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode = WAL").fetchone()  # a file, no tables yet
    lookup = GrantLookup(path)
    assert lookup.live("fs", "w", 0) == []
    with GrantStore(path, clock=lambda: 0.0) as store:
        store.add("fs", "w", 10, digest=None)
    assert len(lookup.live("fs", "w", 1)) == 1
    lookup.close()
    raw.close()


def test_a_late_renewal_never_revives_a_grant_whose_expiry_was_logged(tmp_path: Path) -> None:
    # A call allowed just before expiry whose renewal write lands after a sweep logged the
    # expiry: the grant stays expired (the audit log already says it ended).
    clock = Clock()
    path = tmp_path / "state.db"
    with GrantStore(path, clock=clock) as store:
        grant = store.add("fs", "write", 60, digest=None, who="ada", renew=30, cap=600)
        allowed_at = clock.now + 59
        clock.now += 61
        assert [x.id for x in store.sweep_expired()] == [grant.id]
        assert store.renew(grant.id, allowed_at) is None
        assert store.grants(include_inactive=True)[0].expires == grant.expires
        # Before any sweep, the same late write does slide the expiry (the call was allowed).
        other = store.add("fs", "read", 60, digest=None, who="ada", renew=30, cap=600)
        moved = store.renew(other.id, clock.now + 59)
        assert moved is not None and moved.expires == clock.now + 89


def test_recent_grants_leave_out_what_ended_long_ago(tmp_path: Path) -> None:
    clock = Clock()
    with GrantStore(tmp_path / "state.db", clock=clock) as store:
        old = store.add("fs", "write", 60, digest=None, who="ada")
        revoked_old = store.add("fs", "read", 600, digest=None, who="ada")
        store.revoke(revoked_old.id)
        clock.now += 3600
        recent = store.add("fs", "write", 10, digest=None, who="ada")
        revoked_now = store.add("fs", "read", 600, digest=None, who="ada")
        store.revoke(revoked_now.id)
        live = store.add("fs", "list", 600, digest=None, who="ada")
        clock.now += 30  # `recent` expired 20 s ago
        shown = {x.id for x in store.grants(include_inactive=True, ended_after=clock.now - 60)}
        assert shown == {recent.id, revoked_now.id, live.id}
        assert {x.id for x in store.grants(include_inactive=True)} == {
            old.id,
            revoked_old.id,
            recent.id,
            revoked_now.id,
            live.id,
        }
        assert [x.id for x in store.grants()] == [live.id]


def _raw(path: Path, sql: str, *args: object) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql, args)
    conn.commit()
    conn.close()


def test_a_grant_row_inserted_by_hand_is_ignored_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with GrantStore(path, clock=Clock()) as store:
        real = store.add("fs", "read", 60, digest=None)
    _raw(
        path,
        "INSERT INTO grants (id, server, tool, who, why, created, expires) "
        "VALUES ('evil0001', 'fs', 'write', 'agent', '', ?, ?)",
        NOW,
        NOW + 3600,
    )
    said: list[str] = []
    lookup = GrantLookup(path, say=said.append)
    assert lookup.live("fs", "write", NOW + 1) == []
    assert [g.id for g in lookup.live("fs", "read", NOW + 1)] == [real.id]
    assert set(lookup.forged) == {"evil0001"} and "MAC does not verify" in said[0]
    lookup.close()
    with GrantStore(path, clock=Clock()) as store:
        assert [g.id for g in store.grants(include_inactive=True)] == [real.id]
        assert [f.id for f in store.forged()] == ["evil0001"]
        assert store.get("evil0001") is None


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE grants SET expires = expires + 86400",  # a longer grant
        "UPDATE grants SET tool = 'rm'",  # another tool
        "UPDATE grants SET digest = NULL",  # any version
        "UPDATE grants SET prefix = '/'",  # a wider path
        "UPDATE grants SET revoked = NULL",  # un-revoked
    ],
)
def test_a_grant_row_edited_by_hand_is_not_honoured(tmp_path: Path, edit: str) -> None:
    path = tmp_path / "state.db"
    clock = Clock()
    with GrantStore(path, clock=clock) as store:
        grant = store.add("fs", "write", 60, digest="d" * 64, arg="path", prefix="/tmp")
        if "revoked" in edit:
            store.revoke(grant.id)
    _raw(path, edit)
    lookup = GrantLookup(path, say=lambda _: None)
    assert lookup.live("fs", "rm" if "'rm'" in edit else "write", NOW + 1) == []
    assert set(lookup.forged) == {grant.id}
    lookup.close()


def test_renewal_and_revocation_keep_the_row_authentic(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    clock = Clock()
    with GrantStore(path, clock=clock) as store:
        grant = store.add("fs", "w", 60, digest=None, renew=120, cap=600)
        moved = store.renew(grant.id, NOW + 50)
        assert moved is not None and moved.expires == NOW + 170
        lookup = GrantLookup(path, say=lambda _: pytest.fail("nothing is forged"))
        (seen,) = lookup.live("fs", "w", NOW + 51)
        assert seen.expires == NOW + 170
        revoked = store.revoke(grant.id)
        assert revoked is not None and revoked.revoked == NOW
        assert lookup.live("fs", "w", NOW + 52) == [] and store.forged() == []
        lookup.close()


def test_the_database_and_its_wal_are_private(tmp_path: Path) -> None:
    import stat

    path = tmp_path / "state" / "state.db"
    with GrantStore(path, clock=Clock()) as store:
        store.add("fs", "w", 60, digest=None)
        for suffix in ("", "-wal", "-shm"):
            file = path.with_name(path.name + suffix)
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
