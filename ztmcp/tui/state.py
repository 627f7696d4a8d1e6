"""The TUI's side of the shared state: grants and approvals through the same audited path as
the CLI (``ztmcp.state.approvals.Operator``; process name ``ztmcp-tui``).

The app calls this from one worker thread at a time (a lock makes sure), never from the UI
thread, so a database locked by another writer delays a table update, not a key press. A
``StateError`` while polling (a locked or corrupt database) becomes the snapshot's ``error``
line and the connection is reopened on the next poll; the actions (grant, deny, revoke) raise
``ZtmcpError`` for the app to show.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.errors import ZtmcpError
from ztmcp.state.approvals import Approval, Operator
from ztmcp.state.baselines import Baseline, Key
from ztmcp.state.first_seen import FirstSeen, FirstSeenStore
from ztmcp.state.grants import Grant
from ztmcp.state.observed import Observed, ObservedStore

RECENT: Final = 300.0  # seconds an ended grant stays listed (so a countdown visibly ends)
PROCESS: Final = "ztmcp-tui"  # names the TUI's own audit log


def user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # pragma: no cover - no passwd entry
        return "unknown"


@dataclass(frozen=True, slots=True)
class Snapshot:
    grants: tuple[Grant, ...] = ()
    approvals: tuple[Approval, ...] = ()
    observed: tuple[Observed, ...] | None = None  # None: not read in this poll
    first_seen: tuple[FirstSeen, ...] | None = None  # read with the observed manifests
    error: str | None = None


class StateView:
    """Polls grants and pending approvals, heartbeats, and grants, denies and revokes."""

    def __init__(self, db: Path, *, clock: Callable[[], float], who: str | None = None) -> None:
        self.db = db
        self._clock = clock
        self.who = who or user()
        self.watcher = f"tui {self.who} pid {os.getpid()}"
        self._ops: Operator | None = None
        self._observed: ObservedStore | None = None
        self._lock = threading.Lock()

    def _operator(self) -> Operator:
        if self._ops is None:
            self._ops = Operator(PROCESS, self.db, clock=self._clock)
        return self._ops

    def _drop(self) -> None:
        if self._ops is not None:
            with contextlib.suppress(ZtmcpError):
                self._ops.close()
            self._ops = None
        if self._observed is not None:
            self._observed.close()
            self._observed = None

    def close(self) -> None:
        """Detach (proxies stop holding calls at once) and close."""
        with self._lock:
            if self._ops is not None:
                with contextlib.suppress(ZtmcpError):
                    self._ops.approvals.detach(self.watcher)
            self._drop()

    def poll(self, *, heartbeat: bool, observed: bool = False) -> Snapshot:
        """Grants (live, and those that ended in the last ``RECENT`` seconds) and pending
        approvals; records expiries in the audit; heartbeats and reads the observed
        manifests when asked."""
        with self._lock:
            now = self._clock()
            try:
                ops = self._operator()
                if heartbeat:
                    ops.approvals.heartbeat(self.watcher, now)
                ops.sweep()
                grants = ops.grants.grants(include_inactive=True, ended_after=now - RECENT)
                approvals = ops.approvals.pending(now)
                seen = first = None
                if observed:
                    if self._observed is None:
                        self._observed = ObservedStore(self.db, busy_ms=1000)
                    seen = tuple(self._observed.servers())
                    with FirstSeenStore(self.db, busy_ms=1000) as pins:
                        first = tuple(pins.all())
            except ZtmcpError as exc:
                self._drop()
                return Snapshot(error=exc.message)
        grants.sort(key=lambda g: (not g.live(now), g.expires))
        return Snapshot(tuple(grants), tuple(approvals), seen, first)

    def grant(self, approval_id: str, seconds: float) -> Grant:
        with self._lock:
            return self._operator().approve(
                approval_id, seconds=seconds, who=self.who, why="approved in ztmcp tui"
            )

    def allow_once(self, approval_id: str) -> Approval:
        with self._lock:
            return self._operator().allow_once(approval_id, who=self.who)

    def deny(self, approval_id: str) -> Approval:
        with self._lock:
            return self._operator().deny(approval_id, who=self.who)

    def revoke(self, grant_id: str) -> Grant | None:
        with self._lock:
            return self._operator().revoke(grant_id)

    def save_baselines(self, tools: Mapping[Key, Baseline], learned_at: float) -> int:
        """What the Timeline learned, saved for the relay's anomaly judge (as ``ztmcp
        baseline --save`` saves it); how many baselines."""
        from ztmcp.state.saved_baselines import BaselineStore

        with self._lock, BaselineStore(self.db, busy_ms=1000) as store:
            return store.save(tools, learned_at, self._clock())

    def revoke_servers(self, servers: Collection[str], why: dict[str, Any]) -> list[Grant]:
        """An anomaly's response: revoke every live grant on ``servers`` (each audited as
        ``grant.revoke``), then record ``why`` (an ``anomaly.revoke`` event) with their ids."""
        with self._lock:
            ops = self._operator()
            live = [g for g in ops.grants.grants() if g.server in servers]
            revoked = [done for g in live if (done := ops.revoke(g.id)) is not None]
            if revoked:
                ids = [g.id for g in revoked]
                ops.audit([{"event": "anomaly.revoke", **why, "grant.ids": ids}])
            return revoked
