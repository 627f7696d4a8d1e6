"""Held calls and sliding renewal through a real Session, real SQLite and the real audit log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ztmcp.checks.access import AccessCheck, Rule
from ztmcp.holds import AccessEdge
from ztmcp.jsonrpc import Direction
from ztmcp.session import Decision, Outcome, Session
from ztmcp.state.approvals import ApprovalStore, Operator
from ztmcp.state.audit import AuditLog, read_records
from ztmcp.state.grants import GrantLookup, GrantStore, StateError, tool_digest

WRITE = {"name": "write_file", "description": "write", "inputSchema": {"type": "object"}}
ECHO = {"name": "echo", "description": "echo", "inputSchema": {"type": "object"}}
BOUND = 10.0  # no wait in these tests lasts longer than this


def frame(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def call(tool: str, msg_id: int, **arguments: Any) -> bytes:
    params = {"name": tool, "arguments": arguments}
    return frame({"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": params})


@dataclass
class Proxy:
    session: Session
    edge: AccessEdge
    db: Path
    log: Path
    pool: ThreadPoolExecutor

    def send(self, raw: bytes) -> Decision:
        return self.session.handle(Direction.TO_SERVER, raw)

    def wait(self, decision: Decision) -> Future[Decision]:
        """What an adapter does with a HELD decision: wait off the reading thread."""
        assert decision.outcome is Outcome.HELD and decision.hold is not None
        return self.pool.submit(decision.hold.wait)

    def records(self) -> list[dict[str, Any]]:
        return list(read_records([self.log]))


@pytest.fixture()
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    db = tmp_path / "state.db"
    log = tmp_path / "audit.jsonl"
    lookup = GrantLookup(db)
    check = AccessCheck([Rule("fs", "write_*", "grant")], "allow", lookup, hold_seconds=5)
    edge = AccessEdge(lookup, hold_seconds=check.hold_seconds, session_id="s1", path=db)
    session = Session("fs", [check], AuditLog(log, "s1"), edge=edge)
    listing = frame({"jsonrpc": "2.0", "id": 0, "method": "tools/list"})
    assert session.handle(Direction.TO_SERVER, listing).outcome is Outcome.FORWARDED
    result = {"jsonrpc": "2.0", "id": 0, "result": {"tools": [WRITE, ECHO]}}
    session.handle(Direction.TO_CLIENT, frame(result))
    pool = ThreadPoolExecutor(4)
    yield Proxy(session, edge, db, log, pool)
    session.close("test over")
    pool.shutdown(wait=True)
    lookup.close()


def watch(db: Path) -> ApprovalStore:
    store = ApprovalStore(db)
    store.heartbeat("tui:test", time.time())
    return store


def pending_one(store: ApprovalStore) -> str:
    deadline = time.monotonic() + BOUND
    while not (queue := store.pending(time.time())):
        assert time.monotonic() < deadline, "no approval request appeared"
        time.sleep(0.01)
    assert len(queue) == 1
    return queue[0].id


def text_of(decision: Decision) -> str:
    assert decision.reply is not None
    body = json.loads(decision.reply)
    return " ".join(c["text"] for c in body["result"]["content"])


def test_without_a_watcher_the_call_is_denied_at_once(proxy: Proxy) -> None:
    decision = proxy.send(call("write_file", 1))
    assert decision.outcome is Outcome.DENIED and decision.hold is None
    assert "a person must approve" in text_of(decision)
    with GrantStore(proxy.db):  # a database now exists, but nobody watches
        pass
    assert proxy.send(call("write_file", 2)).outcome is Outcome.DENIED


def test_a_stale_or_future_heartbeat_does_not_hold(proxy: Proxy) -> None:
    with ApprovalStore(proxy.db) as store:
        store.heartbeat("tui:old", time.time() - 10)
        assert proxy.send(call("write_file", 1)).outcome is Outcome.DENIED
        store.heartbeat("tui:old", time.time() + 3600)  # its clock runs an hour ahead
        assert proxy.send(call("write_file", 2)).outcome is Outcome.DENIED
        store.heartbeat("tui:old", time.time())
        assert proxy.send(call("write_file", 3)).outcome is Outcome.HELD
        store.detach("tui:old")


def test_approving_releases_the_held_call(proxy: Proxy) -> None:
    store = watch(proxy.db)
    held = proxy.send(call("write_file", 7, path="/tmp/x"))
    assert held.outcome is Outcome.HELD and held.forward is None and held.reply is None
    result = proxy.wait(held)
    approval_id = pending_one(store)
    approval = store.get(approval_id)
    assert approval is not None and approval.digest == tool_digest(WRITE)
    assert approval.session == "s1" and approval.server == "fs" and approval.tool == "write_file"
    # Other frames keep flowing while the call is held.
    assert proxy.send(call("echo", 8)).outcome is Outcome.FORWARDED
    assert proxy.send(call("write_file", 7)).outcome is Outcome.DENIED  # the held id is taken
    with Operator("ztmcp-tui", proxy.db) as ops:
        given = ops.approve(approval_id, seconds=300, who="alice", why="ticket 12")
    released = result.result(timeout=BOUND)
    assert released.outcome is Outcome.FLAGGED and released.forward == call(
        "write_file", 7, path="/tmp/x"
    )
    assert [v.rule for v in released.verdicts] == ["access.granted"]
    assert proxy.session.pending == 2  # the echo call and the released call await the server
    decided = store.get(approval_id)
    assert decided is not None and decided.state == "granted" and decided.grant_id == given.id
    assert decided.decided_by == "alice" and store.pending(time.time()) == []
    store.close()
    proxy.session.close("done")
    events = [r["event"] for r in proxy.records()]
    assert "access.hold" in events and "access.hold_end" in events
    ends = [r for r in proxy.records() if r["event"] == "access.hold_end"]
    assert ends[0]["outcome"] == "released" and ends[0]["approval.id"] == approval_id
    outcomes = [r.get("outcome") for r in proxy.records() if r.get("jsonrpc.request.id") == 7]
    assert outcomes[:1] == ["held"] and "flagged" in outcomes


def test_a_cli_grant_releases_it_too_but_only_for_the_listed_digest(proxy: Proxy) -> None:
    store = watch(proxy.db)
    result = proxy.wait(proxy.send(call("write_file", 1)))
    pending_one(store)
    with GrantStore(proxy.db) as grants:
        grants.add("fs", "write_file", 60, digest="0" * 64)  # another version of the tool
        grants.add("fs", "other", 60, digest=None)  # another tool
        time.sleep(0.2)
        assert not result.done()
        grants.add("fs", "write_file", 60, digest=tool_digest(WRITE))
    assert result.result(timeout=BOUND).outcome is Outcome.FLAGGED
    store.close()


def test_denying_refuses_with_the_actionable_text(proxy: Proxy) -> None:
    store = watch(proxy.db)
    result = proxy.wait(proxy.send(call("write_file", 1)))
    approval_id = pending_one(store)
    with Operator("ztmcp-tui", proxy.db) as ops:
        denied = ops.deny(approval_id, who="bob")
    assert denied.state == "denied"
    decision = result.result(timeout=BOUND)
    assert decision.outcome is Outcome.DENIED
    text = text_of(decision)
    assert f"approval {approval_id} was denied by bob" in text
    assert "a person must approve" in text and "ztmcp grant fs" not in text
    assert proxy.session.pending == 0
    store.close()


def test_the_wait_is_bounded(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    lookup = GrantLookup(db)
    check = AccessCheck([Rule("*", "write_file", "grant")], "allow", lookup, hold_seconds=0.3)
    edge = AccessEdge(lookup, hold_seconds=0.3, session_id="s2", path=db)
    log = tmp_path / "a.jsonl"
    session = Session("fs", [check], AuditLog(log, "s2"), edge=edge)
    session.handle(Direction.TO_SERVER, frame({"jsonrpc": "2.0", "id": 0, "method": "tools/list"}))
    session.handle(
        Direction.TO_CLIENT, frame({"jsonrpc": "2.0", "id": 0, "result": {"tools": [WRITE]}})
    )
    store = watch(db)
    held = session.handle(Direction.TO_SERVER, call("write_file", 1))
    assert held.hold is not None
    started = time.monotonic()
    decision = held.hold.wait()
    assert 0.25 < time.monotonic() - started < BOUND
    assert decision.outcome is Outcome.DENIED
    assert "nobody approved it within 0.3s" in text_of(decision)
    (approval,) = store.recent()
    assert approval.state == "expired" and store.pending(time.time()) == []
    session.close("done")
    ends = [r for r in read_records([log]) if r["event"] == "access.hold_end"]
    assert ends[0]["outcome"] == "expired"
    store.close()
    lookup.close()


def test_cancelling_ends_the_hold_and_nothing_is_sent(proxy: Proxy) -> None:
    store = watch(proxy.db)
    result = proxy.wait(proxy.send(call("write_file", 5)))
    approval_id = pending_one(store)
    cancel = frame(
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}}
    )
    dropped = proxy.send(cancel)
    assert dropped.outcome is Outcome.DROPPED and dropped.forward is None
    decision = result.result(timeout=BOUND)
    assert decision.outcome is Outcome.DROPPED and decision.forward is decision.reply is None
    approval = store.get(approval_id)
    assert approval is not None and approval.state == "cancelled"
    # The id is free again, and an approval that came too late is refused with one line.
    with Operator("ztmcp-tui", proxy.db) as ops, pytest.raises(Exception, match="cancelled"):
        ops.approve(approval_id, seconds=60)
    store.close()


def test_closing_the_session_answers_held_calls(proxy: Proxy) -> None:
    store = watch(proxy.db)
    result = proxy.wait(proxy.send(call("write_file", 9)))
    pending_one(store)
    replies = proxy.session.close("agent closed stdin")
    assert [json.loads(r)["id"] for r in replies] == [9]
    assert result.result(timeout=BOUND).outcome is Outcome.DROPPED
    store.close()


def test_holds_run_in_parallel_and_are_bounded(proxy: Proxy) -> None:
    store = watch(proxy.db)
    results = [proxy.wait(proxy.send(call("write_file", i))) for i in range(1, 4)]
    deadline = time.monotonic() + BOUND
    while len(store.pending(time.time())) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with Operator("ztmcp-tui", proxy.db) as ops:
        first, *_ = store.pending(time.time())
        ops.approve(first.id, seconds=60, who="alice")
    # One grant releases every call it covers.
    assert [r.result(timeout=BOUND).outcome for r in results] == [Outcome.FLAGGED] * 3
    store.close()


def test_sliding_renewal_moves_the_expiry_up_to_the_cap(proxy: Proxy) -> None:
    with GrantStore(proxy.db) as grants:
        given = grants.add("fs", "write_file", 60, digest=tool_digest(WRITE), renew=600, cap=900)
    assert given.cap == pytest.approx(given.created + 900)
    assert proxy.send(call("write_file", 1)).outcome is Outcome.FLAGGED
    deadline = time.monotonic() + BOUND
    with GrantStore(proxy.db) as grants:
        while (now := grants.get(given.id)) is not None and now.expires == given.expires:
            assert time.monotonic() < deadline, "the renewal was never written"
            time.sleep(0.01)
        assert now is not None and now.expires == pytest.approx(time.time() + 600, abs=5)
        # The cap holds: a call later than cap - renew only slides the expiry to the cap.
        assert grants.renew(given.id, given.created + 500) is not None
        capped = grants.get(given.id)
        assert capped is not None and capped.expires == pytest.approx(given.cap)
        assert grants.renew(given.id, given.created + 550) is None  # already at the cap
        grants.revoke(given.id)
        assert grants.renew(given.id, time.time()) is None  # never revives a revoked grant
    proxy.session.close("done")
    renewals = [r for r in proxy.records() if r["event"] == "grant.renew"]
    assert renewals and renewals[0]["grant.id"] == given.id


def test_renewal_never_revives_an_expired_grant(tmp_path: Path) -> None:
    clock = [1000.0]
    with GrantStore(tmp_path / "s.db", clock=lambda: clock[0]) as grants:
        given = grants.add("fs", "t", 60, digest=None, renew=30)
        assert grants.renew(given.id, 1061.0) is None  # after its expiry
        assert grants.renew(given.id, 1050.0) is not None  # within it: slides to 1080
        moved = grants.get(given.id)
        assert moved is not None and moved.expires == 1080.0


def test_an_unlisted_tool_is_never_held(proxy: Proxy) -> None:
    store = watch(proxy.db)
    fresh = Session(
        "fs", proxy.session.checks, AuditLog(proxy.log.with_suffix(".2"), "x"), edge=proxy.edge
    )
    decision = fresh.handle(Direction.TO_SERVER, call("write_file", 1))
    assert decision.outcome is Outcome.DENIED  # no digest to bind a grant to
    fresh.close("done")
    store.close()


def test_no_hold_when_the_database_is_unusable(proxy: Proxy) -> None:
    proxy.db.write_bytes(b"not sqlite" * 100)
    decision = proxy.send(call("write_file", 1))
    assert decision.outcome is Outcome.DENIED


def test_holds_never_block_the_reading_thread_on_a_locked_database(proxy: Proxy) -> None:
    store = watch(proxy.db)
    import sqlite3

    blocker = sqlite3.connect(proxy.db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        # Deciding to hold is a read (WAL readers never wait for the writer); a write here
        # would time out under the lock and the call would be refused instead.
        held = proxy.send(call("write_file", 1))
        assert held.outcome is Outcome.HELD
        result = proxy.wait(held)
        threading.Event().wait(0.1)  # the hold's own request write waits for the lock
        assert not result.done()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with Operator("ztmcp-tui", proxy.db) as ops:
        ops.approve(pending_one(store), seconds=60)
    assert result.result(timeout=BOUND).outcome is Outcome.FLAGGED
    store.close()


# -- approvals a person can judge: detail, allow once, "ask" -------------------------------

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # a GitHub token shape


@pytest.fixture()
def asking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxy]:
    """A proxy whose policy asks about every call (``tool = "*"``, ``action = "ask"``)."""
    monkeypatch.setenv("ZTMCP_AGENT", "release-bot")
    db = tmp_path / "state.db"
    log = tmp_path / "audit.jsonl"
    from ztmcp.policy import parse_policy

    config = parse_policy(
        {"access": {"rule": [{"tool": "*", "action": "ask"}], "hold_seconds": 5}}, "test"
    ).access
    check = AccessCheck.from_config(config, GrantLookup(db))
    edge = AccessEdge.for_checks([check], "s3", path=db)
    assert edge is not None
    session = Session("fs", [check], AuditLog(log, "s3"), edge=edge)
    hello = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "claude-code", "version": "2"},
        },
    }
    session.handle(Direction.TO_SERVER, frame(hello))
    session.handle(Direction.TO_CLIENT, frame({"jsonrpc": "2.0", "id": 0, "result": {}}))
    session.handle(Direction.TO_SERVER, frame({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    result = {"jsonrpc": "2.0", "id": 1, "result": {"tools": [WRITE, ECHO]}}
    session.handle(Direction.TO_CLIENT, frame(result))
    pool = ThreadPoolExecutor(4)
    yield Proxy(session, edge, db, log, pool)
    session.close("test over")
    pool.shutdown(wait=True)


def test_the_held_call_carries_what_a_person_needs_and_never_the_secret(asking: Proxy) -> None:
    store = watch(asking.db)
    result = asking.wait(asking.send(call("write_file", 5, path="/srv/a", token=SECRET)))
    approval = store.get(pending_one(store))
    assert approval is not None and approval.ask
    detail = approval.detail
    assert detail["description"] == "write"
    assert detail["agent"] == "release-bot" and detail["client"] == "claude-code/2"
    assert "asks a person about every call" in detail["reason"]
    assert '"/srv/a"' in detail["arguments"] and "ghp_…" in detail["arguments"]
    assert detail["masked"] == 1
    with Operator("ztmcp-tui", asking.db) as ops:
        ops.deny(approval.id, who="alice")
    assert result.result(timeout=BOUND).outcome is Outcome.DENIED
    store.close()
    asking.session.close("done")
    for path in [asking.db, *asking.db.parent.glob("state.db*"), asking.log]:
        assert SECRET.encode() not in path.read_bytes()


def test_allow_once_lets_exactly_that_call_through_and_asks_again(asking: Proxy) -> None:
    store = watch(asking.db)
    result = asking.wait(asking.send(call("echo", 5, text="hi")))
    first = pending_one(store)
    with Operator("ztmcp-tui", asking.db) as ops:
        with pytest.raises(StateError, match="a grant would not answer it"):
            ops.approve(first, seconds=300, who="alice")  # "ask" is per call
        allowed = ops.allow_once(first, who="alice")
    assert allowed.state == "once" and allowed.grant_id is None
    released = result.result(timeout=BOUND)
    assert released.outcome is Outcome.FLAGGED and released.forward == call("echo", 5, text="hi")
    assert [v.rule for v in released.verdicts] == ["access.once"]
    # The same call again is asked about again: the allowance was for that message only.
    again = asking.send(call("echo", 6, text="hi"))
    assert again.outcome is Outcome.HELD
    second_result = asking.wait(again)
    second = pending_one(store)
    assert second != first
    with GrantStore(asking.db) as grants:  # a grant does not answer an "ask" either
        grants.add("fs", "echo", 60, digest=None)
        time.sleep(0.2)
        assert not second_result.done()
    with Operator("ztmcp-tui", asking.db) as ops:
        ops.deny(second, who="alice")
    assert second_result.result(timeout=BOUND).outcome is Outcome.DENIED
    store.close()


def test_an_ask_call_without_a_watcher_is_refused_at_once(asking: Proxy) -> None:
    decision = asking.send(call("echo", 9))
    assert decision.outcome is Outcome.DENIED
    assert "a person must allow each call" in text_of(decision)


def test_allow_once_on_a_grant_rule_call_needs_no_grant(proxy: Proxy) -> None:
    store = watch(proxy.db)
    result = proxy.wait(proxy.send(call("write_file", 3, path="/tmp/y")))
    with Operator("ztmcp-tui", proxy.db) as ops:
        ops.allow_once(pending_one(store), who="alice")
    assert result.result(timeout=BOUND).outcome is Outcome.FLAGGED
    with GrantStore(proxy.db) as grants:
        assert grants.grants() == []
    assert proxy.send(call("write_file", 4)).outcome is Outcome.HELD  # held again
    store.close()
