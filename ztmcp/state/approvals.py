"""Approval requests: a call held by a proxy until someone in the TUI grants or denies it.

This module is the contract between the proxies (``ztmcp run``/``proxy``) and the TUI. Both sides
use the same SQLite file as the grants (``$ZTMCP_HOME/state.db``, WAL); every error is a
``ztmcp.state.grants.StateError`` with one line of text, and callers fail closed.

TUI side (a watcher)::

    store = ApprovalStore()                  # thread-safe; or pass the path
    store.heartbeat("tui:alice", now)        # about every second while the queue is on screen
    for a in store.pending(now): ...         # oldest first; a.left(now): seconds still held
    store.recent(100)                        # any state, newest first (a history view)
    ops.grants.grants()                      # live grants (GrantStore) for the grants table
    ops = Operator("ztmcp-tui")              # grants, revocations, decisions: always through it
    ops.approve(a.id, seconds=900, who="alice")   # -> Grant; the held call goes on at once
    ops.allow_once(a.id, who="alice")             # -> Approval; this call only, no grant
    ops.deny(a.id, who="alice")                   # -> Approval; the held call is refused
    ops.approve(a.id, seconds=900, renew=300)     # sliding: see ``GrantStore.add``
    ops.revoke(grant_id)                          # -> Grant | None
    ops.sweep()                                   # audit expiries (do it now and then)
    store.detach("tui:alice"); store.close(); ops.close()   # on exit

``Operator`` is the one audited path shared with ``ztmcp grant`` / ``ztmcp revoke``: it
changes the state and writes the audit events (``grant.create``, ``grant.revoke``,
``grant.expire``, ``approval.grant``, ``approval.deny``) to a log of its own
(``$ZTMCP_HOME/audit/*-<process>-*.jsonl``); the TUI never writes audit records itself.
``ApprovalStore.grant`` / ``deny`` change state without auditing (for tests; people go through
``Operator``).

A decision on an approval that is no longer pending (decided, expired, cancelled, unknown)
raises ``StateError`` with one line, to show as is.

Proxy side (``ztmcp.holds``): ``attached(now)`` (or its read-only twin
``GrantLookup.watched``) is one indexed read, asked only when a call is about to be
refused for want of a grant; while a watcher's heartbeat is fresh (``within`` seconds), the
call is held: ``request(...)`` writes a pending approval and the proxy waits, off its reading
thread, until a matching grant exists, the approval is denied, the agent cancels, or the
deadline passes; then it records the end with ``finish``. ``changes()`` (``PRAGMA
data_version``) lets a waiter poll cheaply: it changes when another connection commits.

States: ``pending`` → ``granted`` | ``once`` (this call only, no grant) | ``denied`` |
``expired`` (the wait ended) | ``cancelled`` (the agent cancelled the call or the proxy
stopped). A pending approval whose deadline has passed is not in ``pending()`` even before
its proxy marks it expired. Heartbeats and records dated more than ``CLOCK_SKEW`` seconds
ahead of the reader's clock count as absent (a clock moved back): no hold, the call is
refused at once.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Unpack

from ztmcp.state import paths
from ztmcp.state.audit import AuditLog
from ztmcp.state.grants import (
    CLOCK_SKEW,
    Grant,
    GrantStore,
    GrantTerms,
    StateError,
    _one_line,
    _user,
    db_path,
    insert,
    new_grant,
    open_writer,
    transaction,
)

PENDING: Final = "pending"
GRANTED: Final = "granted"
DENIED: Final = "denied"
EXPIRED: Final = "expired"
CANCELLED: Final = "cancelled"
ONCE: Final = "once"  # a person allowed this one call, without a grant
STATES: Final = (PENDING, GRANTED, ONCE, DENIED, EXPIRED, CANCELLED)
MAX_WAIT: Final = 3600.0  # no call is held longer than an hour
MAX_DETAIL: Final = 4096  # characters of an approval's stored detail (JSON)
DETAIL_KEYS: Final = ("description", "arguments", "masked", "agent", "client", "reason", "ask")

_COLUMNS: Final = (
    "id, server, tool, digest, session, requested, deadline, state, grant_id, decided_by, "
    "decided, detail"
)


def _detail_text(detail: Mapping[str, Any] | None) -> str | None:
    """The stored form of a detail: known keys only, JSON, bounded (a value too long is cut)."""
    if not detail:
        return None
    kept: dict[str, Any] = {}
    for key in DETAIL_KEYS:
        value = detail.get(key)
        if isinstance(value, str):
            kept[key] = value[:1500]
        elif isinstance(value, bool | int) and value is not None:
            kept[key] = value
    text = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
    while len(text) > MAX_DETAIL:  # the longest value gives way
        longest = max((k for k in kept if isinstance(kept[k], str)), key=lambda k: len(kept[k]))
        kept[longest] = kept[longest][: len(kept[longest]) // 2] + "…"
        text = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
    return text


def _detail(text: object) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Approval:
    id: str  # short hex id
    server: str  # the `ztmcp run --name`
    tool: str
    digest: str | None  # ztmcp.state.grants.tool_digest() of the tool as listed
    session: str  # the proxy's audit session id
    requested: float  # epoch seconds
    deadline: float  # the call is held until then, then denied
    state: str  # "pending" | "granted" | "denied" | "expired" | "cancelled"
    grant_id: str | None  # set when state == "granted"
    decided_by: str | None
    decided: float | None = None  # when it left "pending"
    # What a person needs to judge the call (``DETAIL_KEYS``): the tool's description, the
    # argument preview (secrets masked, ``ztmcp.preview``), the agent, why it was held, and
    # ``ask`` (policy asks about every call: only "allow once" or "deny" answer it).
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ask(self) -> bool:
        return self.detail.get("ask") is True

    def left(self, now: float) -> float:
        """Seconds the call is still held (0 once decided or past its deadline)."""
        return max(0.0, self.deadline - now) if self.state == PENDING else 0.0

    def as_event(self) -> dict[str, Any]:
        return {
            "approval.id": self.id,
            "server": self.server,
            "gen_ai.tool.name": self.tool,
            "tool.sha256": self.digest,
            "approval.session": self.session,
            "approval.state": self.state,
            "grant.id": self.grant_id,
            "user.name": self.decided_by,
        }


def _row(row: tuple[Any, ...]) -> Approval:
    *values, detail = row
    fields = (*values[:11], _detail(detail))
    return Approval(*fields)


class ApprovalStore:
    """Approval requests and watcher heartbeats. Thread-safe (one connection, one lock)."""

    def __init__(self, path: Path | None = None, *, busy_ms: int = 5000) -> None:
        self.path = path or db_path()
        self._conn = open_writer(self.path, busy_ms=busy_ms)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ApprovalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, query: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(query, args).fetchall()
            except sqlite3.Error as exc:
                raise _one_line(self.path, exc) from None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock; a SQLite failure is one line."""
        with self._lock:
            try:
                with transaction(self._conn) as conn:
                    yield conn
            except sqlite3.Error as exc:
                raise _one_line(self.path, exc) from None

    def _write(self, query: str, args: tuple[Any, ...]) -> int:
        with self._tx() as conn:
            return conn.execute(query, args).rowcount

    # -- watchers -------------------------------------------------------------------------

    def heartbeat(self, who: str, now: float) -> None:
        """A watcher (the TUI) is on screen; proxies hold calls while a heartbeat is fresh."""
        self._write(
            "INSERT INTO watchers (who, seen) VALUES (?, ?) "
            "ON CONFLICT (who) DO UPDATE SET seen = excluded.seen",
            (who, now),
        )

    def detach(self, who: str) -> None:
        """The watcher leaves: proxies stop holding at once instead of after ``within``."""
        self._write("DELETE FROM watchers WHERE who = ?", (who,))

    def attached(self, now: float, within: float = 3.0) -> bool:
        """Whether some watcher's heartbeat is at most ``within`` seconds old."""
        rows = self._read(
            "SELECT 1 FROM watchers WHERE seen > ? AND seen <= ? LIMIT 1",
            (now - within, now + CLOCK_SKEW),
        )
        return bool(rows)

    # -- proxy side -----------------------------------------------------------------------

    def request(
        self,
        *,
        server: str,
        tool: str,
        digest: str | None,
        session: str,
        now: float,
        wait: float,
        detail: Mapping[str, Any] | None = None,
    ) -> Approval:
        """Write a pending approval for one held call; it is held until ``now + wait``.

        ``detail`` is stored as given (known keys, bounded): the caller masks secrets first."""
        if not (0 < wait <= MAX_WAIT):
            raise StateError(f"a call can be held for 1s to {MAX_WAIT:g}s, not {wait:g}s")
        approval = Approval(
            id=secrets.token_hex(4),
            server=server,
            tool=tool,
            digest=digest,
            session=session,
            requested=now,
            deadline=now + wait,
            state=PENDING,
            grant_id=None,
            decided_by=None,
            detail=_detail(_detail_text(detail)),
        )
        try:
            self._write(
                f"INSERT INTO approvals ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    approval.id,
                    server,
                    tool,
                    digest,
                    session,
                    now,
                    approval.deadline,
                    PENDING,
                    None,
                    None,
                    None,
                    _detail_text(detail),
                ),
            )
        except StateError as exc:
            if "UNIQUE" in exc.message:  # an id collision (2^-32): try once more
                return self.request(
                    server=server,
                    tool=tool,
                    digest=digest,
                    session=session,
                    now=now,
                    wait=wait,
                    detail=detail,
                )
            raise
        return approval

    def finish(self, approval_id: str, state: str, *, now: float) -> Approval | None:
        """Close a still-pending approval as ``expired`` or ``cancelled`` (the proxy's side);
        the approval as it now stands (a decision that came first is kept)."""
        if state not in (EXPIRED, CANCELLED):
            raise StateError(f"a proxy ends an approval as expired or cancelled, not {state!r}")
        self._write(
            "UPDATE approvals SET state = ?, decided = ? WHERE id = ? AND state = ?",
            (state, now, approval_id, PENDING),
        )
        return self.get(approval_id)

    def changes(self) -> int:
        """A number that changes whenever another connection commits (cheap to poll)."""
        return int(self._read("PRAGMA data_version", ())[0][0])

    # -- reading --------------------------------------------------------------------------

    def get(self, approval_id: str) -> Approval | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM approvals WHERE id = ?", (approval_id,))
        return _row(rows[0]) if rows else None

    def pending(self, now: float) -> list[Approval]:
        """Approvals still waiting at ``now``, oldest first."""
        rows = self._read(
            f"SELECT {_COLUMNS} FROM approvals WHERE state = ? AND deadline > ? "
            "AND requested <= ? ORDER BY requested, id",
            (PENDING, now, now + CLOCK_SKEW),
        )
        return [_row(r) for r in rows]

    def recent(self, limit: int = 100) -> list[Approval]:
        """The latest approvals in any state, newest first (for a history view)."""
        rows = self._read(
            f"SELECT {_COLUMNS} FROM approvals ORDER BY requested DESC, id LIMIT ?", (limit,)
        )
        return [_row(r) for r in rows]

    # -- deciding (unaudited: people go through Operator) ---------------------------------

    def _pending_one(self, conn: sqlite3.Connection, approval_id: str, now: float) -> Approval:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM approvals WHERE id = ?", (approval_id,)
        ).fetchone()
        if row is None:
            raise StateError(f"no approval request {approval_id!r}")
        approval = _row(row)
        if approval.state != PENDING:
            raise StateError(f"approval {approval_id} is already {approval.state}")
        if now >= approval.deadline:
            raise StateError(
                f"approval {approval_id} expired (the call was refused)",
                hint=f"grant ahead of the next call: ztmcp grant {approval.server} "
                f"{approval.tool} --for 15m",
            )
        return approval

    def grant(
        self,
        approval_id: str,
        *,
        seconds: float,
        who: str,
        why: str = "",
        now: float,
        renew: float | None = None,
        cap: float | None = None,
    ) -> Grant:
        """Create the grant (bound to the approval's digest) and mark the approval granted,
        in one transaction: the held call sees both or neither."""
        with self._tx() as conn:
            approval = self._pending_one(conn, approval_id, now)
            if approval.ask:
                raise StateError(
                    f"approval {approval_id}: policy asks about every call of "
                    f"{approval.tool!r}, a grant would not answer it",
                    hint="allow this call once, or deny it",
                )
            if approval.digest is None:
                raise StateError(
                    f"approval {approval_id}: tool {approval.tool!r} was never listed, "
                    "so the grant cannot be bound to its definition",
                    hint="deny it; let the agent list tools, or use ztmcp grant --digest",
                )
            grant = new_grant(
                approval.server,
                approval.tool,
                seconds,
                now=now,
                digest=approval.digest,
                why=why,
                who=who,
                renew=renew,
                cap=cap,
            )
            insert(conn, grant)
            conn.execute(
                "UPDATE approvals SET state = ?, grant_id = ?, decided_by = ?, "
                "decided = ? WHERE id = ?",
                (GRANTED, grant.id, who, now, approval_id),
            )
        return grant

    def allow_once(self, approval_id: str, *, who: str, now: float) -> Approval:
        """Let this one held call go on, without a grant: the next call is asked again."""
        with self._tx() as conn:
            self._pending_one(conn, approval_id, now)
            conn.execute(
                "UPDATE approvals SET state = ?, decided_by = ?, decided = ? WHERE id = ?",
                (ONCE, who, now, approval_id),
            )
        allowed = self.get(approval_id)
        assert allowed is not None
        return allowed

    def deny(self, approval_id: str, *, who: str, now: float) -> Approval:
        """Mark a pending approval denied; the held call is refused at once."""
        with self._tx() as conn:
            self._pending_one(conn, approval_id, now)
            conn.execute(
                "UPDATE approvals SET state = ?, decided_by = ?, decided = ? WHERE id = ?",
                (DENIED, who, now, approval_id),
            )
        denied = self.get(approval_id)
        assert denied is not None
        return denied


class Operator:
    """A person changing access: every change is committed, then audited, here and only here.

    ``process`` names the audit log (``ztmcp-cli`` for a CLI command, ``ztmcp-tui`` for a TUI
    session); the log is created on the first event and closed by ``close``. Not thread-safe.
    """

    def __init__(
        self,
        process: str = "ztmcp-cli",
        path: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.process = process
        self.grants = GrantStore(path, clock=clock)
        try:
            self.approvals = ApprovalStore(self.grants.path)
        except StateError:
            self.grants.close()
            raise
        self._clock = clock
        self._log: AuditLog | None = None

    def close(self) -> None:
        try:
            if self._log is not None:
                self._log.close()
        finally:
            self.grants.close()
            self.approvals.close()

    def __enter__(self) -> Operator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def audit(self, events: list[dict[str, Any]]) -> None:
        """Write audit events (``AuditError`` when the log cannot be written)."""
        if not events:
            return
        if self._log is None:
            self._log = AuditLog.create(paths.audit_dir(), self.process)
            self._log.append(
                {"event": "session.start", "server": self.process, "process": self.process},
                ts=self._clock(),
            )
        for event in events:  # stamped by the clock that decided the change, as grants are
            self._log.append(event, ts=self._clock())

    def _expired(self) -> list[dict[str, Any]]:
        return [{"event": "grant.expire", **g.as_event()} for g in self.grants.sweep_expired()]

    def sweep(self) -> list[Grant]:
        """Record the expiry of grants that ran out since the last sweep."""
        expired = self.grants.sweep_expired()
        self.audit([{"event": "grant.expire", **g.as_event()} for g in expired])
        return expired

    def grant(self, server: str, tool: str, seconds: float, **terms: Unpack[GrantTerms]) -> Grant:
        """A new grant (``GrantStore.add``), audited."""
        given = self.grants.add(server, tool, seconds, **terms)
        self.audit([*self._expired(), {"event": "grant.create", **given.as_event()}])
        return given

    def revoke(self, grant_id: str) -> Grant | None:
        """Revoke one grant; ``None`` when there is none by that id or it was revoked."""
        revoked = self.grants.revoke(grant_id)
        events = self._expired()
        if revoked is not None:
            events.append({"event": "grant.revoke", **revoked.as_event()})
        self.audit(events)
        return revoked

    def revoke_all(self) -> list[Grant]:
        revoked = self.grants.revoke_all()
        events = [{"event": "grant.revoke", **g.as_event()} for g in revoked]
        self.audit([*self._expired(), *events])
        return revoked

    def approve(
        self,
        approval_id: str,
        *,
        seconds: float,
        who: str | None = None,
        why: str = "",
        renew: float | None = None,
        cap: float | None = None,
    ) -> Grant:
        """Grant a held call's tool for ``seconds``; the call goes on at once."""
        person = who or _user()
        given = self.approvals.grant(
            approval_id,
            seconds=seconds,
            who=person,
            why=why,
            now=self._clock(),
            renew=renew,
            cap=cap,
        )
        decided = self.approvals.get(approval_id)
        assert decided is not None
        self.audit(
            [
                *self._expired(),
                {"event": "approval.grant", **decided.as_event()},
                {"event": "grant.create", **given.as_event(), "approval.id": approval_id},
            ]
        )
        return given

    def allow_once(self, approval_id: str, *, who: str | None = None) -> Approval:
        """Let one held call go on, without a grant (audited as ``approval.once``)."""
        allowed = self.approvals.allow_once(approval_id, who=who or _user(), now=self._clock())
        self.audit([{"event": "approval.once", **allowed.as_event()}])
        return allowed

    def deny(self, approval_id: str, *, who: str | None = None) -> Approval:
        """Refuse a held call now."""
        denied = self.approvals.deny(approval_id, who=who or _user(), now=self._clock())
        self.audit([{"event": "approval.deny", **denied.as_event()}])
        return denied
