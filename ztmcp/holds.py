"""The access edge: held calls and sliding renewal, the side effects the ``access`` check lacks.

The check stays pure: for a ``grant`` tool without a live grant it returns the DENY verdict
``access.grant_required``. The Session hands that verdict to this edge; when a watcher (the
TUI) is attached, the edge returns a ``Hold`` and the Session answers with a HELD Decision
that carries it. The adapter calls ``hold.wait()`` off its reading thread and applies the
Decision it returns (see docs/access.md):

* a grant appeared (from the TUI or ``ztmcp grant``; any live grant whose digest and
  constraint fit the call): the frame is run through every check again, with a fresh clock,
  and forwarded or refused as they say now (no second hold);
* a person allowed this call once (``once``): the very frame held is run through the checks
  again, the access check allowing exactly that message object (``OnceAllowances``), so the
  next call, even an identical one, is asked about again;
* the approval was denied, or nobody decided within ``[access] hold_seconds``: the call is
  refused with the usual actionable text;
* the agent sent ``notifications/cancelled`` for it, or the session closed: nothing is sent.

Waiting polls ``PRAGMA data_version`` every ``POLL`` seconds (a shared-memory read) and reads the
approval and the grants only when another process committed something, so a decision reaches
the held call within about ``POLL`` seconds. The wait is timed on the monotonic clock: a wall
clock jump neither stretches nor cuts it.

Renewal: after a call allowed by a grant with a renewal window, the edge slides the grant's
expiry to ``min(now + renew, cap)`` on a writer thread, when that moves it by at least
``renew / 100`` (one write per hundredth of the window, not one per call).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.checks.access import (
    ALLOWED_ONCE,
    ASK_REQUIRED,
    GRANT_REQUIRED,
    HOLD_SECONDS,
    HOLDABLE,
    AccessCheck,
    OnceAllowances,
    grant_hint,
    granted_id,
)
from ztmcp.checks.base import Action, Severity, Verdict
from ztmcp.checks.flow import APPROVAL_REQUIRED, FlowCheck
from ztmcp.errors import ZtmcpError
from ztmcp.jsonrpc import Message

if TYPE_CHECKING:
    from ztmcp.session import Decision, ListedPage, Session
    from ztmcp.state.approvals import ApprovalStore
    from ztmcp.state.grants import GrantLookup

POLL: Final = 0.01  # seconds between two data_version reads while a call is held
MAX_HOLDS: Final = 32  # held calls per proxy process; beyond that, refused at once
RENEW_STEP: Final = 0.01  # a renewal is written when it moves the expiry by this part of renew


AGENT_ENV: Final = "ZTMCP_AGENT"  # names the agent on the approval screen, when set
# Refusals a person can lift for one call only (no grant would fit: the flow check's hold
# depends on what the run saw, not on the tool).
_ASK: Final = frozenset({ASK_REQUIRED, APPROVAL_REQUIRED})


def holdable(denial: Verdict) -> bool:
    """A refusal this edge can hold: the access check's for want of a grant or a person's
    yes, the flow check's ``hold`` (``flow.approval_required``)."""
    if denial.check == "access":
        return denial.rule in HOLDABLE
    return denial.check == "flow" and denial.rule == APPROVAL_REQUIRED


def detail(session: Session, msg: Message, denial: Verdict) -> dict[str, Any]:
    """What a person needs to judge a held call, secrets masked (``ztmcp.preview``): the
    tool's description as listed, the arguments, the agent and client, why it was held."""
    from ztmcp import preview

    tool = msg.tool_name or ""
    listed = session.surface.tools.get(tool)
    arguments = msg.params.get("arguments")
    shown = preview.arguments(arguments if isinstance(arguments, dict) else None)
    agent = os.environ.get(AGENT_ENV, "").strip()
    if agent.startswith("{"):  # `ztmcp watch` passes its identity as JSON (ztmcp.identity)
        from ztmcp.identity import from_env

        agent = str(from_env().get("gen_ai.agent.name", "?"))
    return {
        "description": preview.description(listed if isinstance(listed, dict) else None),
        "arguments": shown.text,
        "masked": shown.masked,
        "agent": agent[:120],
        "client": (session.client or "")[:120],
        "reason": denial.reason[:300],
        "ask": denial.rule in _ASK,
    }


@dataclass(frozen=True, slots=True)
class _Ended:
    outcome: str  # "released" | "once" | "denied" | "expired" | "cancelled" | "error"
    detail: str = ""
    who: str | None = None


class AccessHold:
    """One held call. ``wait`` blocks until it ends and returns the Decision to apply."""

    def __init__(
        self,
        edge: AccessEdge,
        session: Session,
        msg: Message,
        tool: str,
        digest: str | None,
        denial: Verdict,
    ) -> None:
        self._edge = edge
        self._session = session
        self._msg = msg
        self.tool = tool
        self.digest = digest
        self._denial = denial
        self.ask = denial.rule in _ASK
        self._cancelled = threading.Event()
        self._why = ""
        self.approval_id: str | None = None

    def cancel(self, reason: str) -> None:
        """End the wait without an answer (the client cancelled, or the session closed)."""
        self._why = reason
        self._cancelled.set()

    def wait(self) -> Decision:
        from ztmcp.session import Decision, Outcome

        try:
            ended = self._wait()
        except Exception as exc:  # fail closed: a broken hold refuses the call
            ended = _Ended("error", f"{type(exc).__name__}")
        finally:
            self._edge.release_slot()
        if ended.outcome == "cancelled":
            return Decision(Outcome.DROPPED)
        if ended.outcome == "released":
            return self._session.resume(self._msg, None)
        if ended.outcome == "once" and self.approval_id is not None:
            once = self._edge.once
            once.put(self._msg, self.approval_id)
            try:
                return self._session.resume(self._msg, None)
            finally:
                once.drop(self._msg)
        return self._session.resume(self._msg, self._refusal(ended))

    def _refusal(self, ended: _Ended) -> Verdict:
        server = self._session.server
        needs = "needs a person's approval" if self.ask else "needs a just-in-time grant"
        base = f"tool {self.tool[:80]!r} on server {server[:80]!r} {needs}"
        if self._denial.check != "access":  # the flow check's reason names the earlier calls
            base = f"{self._denial.reason[:300]}; it {needs}"
        if ended.outcome == "denied":
            reason = f"{base}; approval {self.approval_id} was denied by {ended.who or 'someone'}"
        elif ended.outcome == "expired":
            reason = f"{base}; nobody approved it within {self._edge.hold_seconds:g}s"
        else:
            reason = f"{base}; the hold failed ({ended.detail[:200]})"
        return Verdict(
            Action.DENY,
            self._denial.check,
            self._denial.rule,
            reason,
            Severity.HIGH,
            evidence=self._denial.evidence,
            hint=self._denial.hint or grant_hint(server, self.tool),
        )

    def _wait(self) -> _Ended:
        from ztmcp.state.approvals import CANCELLED, DENIED, EXPIRED, GRANTED, ONCE

        edge = self._edge
        store = edge.approvals()
        if store is None:
            return _Ended("error", "no state database")
        started = time.monotonic()
        deadline = started + edge.hold_seconds
        try:
            approval = store.request(
                server=self._session.server,
                tool=self.tool,
                digest=self.digest,
                session=edge.session_id,
                now=edge.clock(),
                wait=edge.hold_seconds,
                detail=detail(self._session, self._msg, self._denial),
            )
        except ZtmcpError as exc:
            return _Ended("error", exc.message)
        self.approval_id = approval.id
        self._session.note(
            {"event": "access.hold", **self._fields(), "deadline": approval.deadline}
        )
        seen: int | None = None
        ended: _Ended | None = None
        arguments = self._msg.params.get("arguments")
        args: Mapping[str, Any] = arguments if isinstance(arguments, dict) else {}
        while ended is None:
            if self._cancelled.wait(POLL):
                ended = _Ended("cancelled", self._why)
                break
            try:
                version = store.changes()
                if version != seen:
                    seen = version
                    current = store.get(approval.id)
                    state = current.state if current is not None else CANCELLED
                    if state == ONCE:
                        who = current.decided_by if current is not None else None
                        ended = _Ended("once", who=who)
                    elif (state == GRANTED and not self.ask) or (
                        not self.ask
                        and self.digest is not None
                        and edge.grant_exists(self._session.server, self.tool, self.digest, args)
                    ):
                        ended = _Ended("released")
                    elif state == DENIED:
                        who = current.decided_by if current is not None else None
                        ended = _Ended("denied", who=who)
                    elif state in (EXPIRED, CANCELLED):
                        ended = _Ended("expired")
            except ZtmcpError as exc:
                ended = _Ended("error", exc.message)
            if ended is None and time.monotonic() >= deadline:
                ended = _Ended("expired")
        if ended.outcome in ("expired", "cancelled", "error"):
            final = CANCELLED if ended.outcome == "cancelled" else EXPIRED
            with contextlib.suppress(ZtmcpError):  # past its deadline it is not pending anyway
                store.finish(approval.id, final, now=edge.clock())
        self._session.note(
            {
                "event": "access.hold_end",
                **self._fields(),
                "outcome": ended.outcome,
                "held_ms": round((time.monotonic() - started) * 1000, 1),
                **({"detail": ended.detail[:200]} if ended.detail else {}),
                **({"user.name": ended.who} if ended.who else {}),
            }
        )
        return ended

    def _fields(self) -> dict[str, Any]:
        msg_id = self._msg.id
        return {
            "approval.id": self.approval_id,
            "gen_ai.tool.name": self.tool[:200],
            "tool.sha256": self.digest,
            "jsonrpc.request.id": msg_id if isinstance(msg_id, str | int) else None,
        }


class AccessEdge:
    """What one proxy process does besides checking: holding calls, renewing grants.

    Opens the state database only when first needed; never blocks the reading thread on a
    write (requests and renewals are written by the hold's thread and a writer thread).
    """

    def __init__(
        self,
        lookup: GrantLookup | None,
        *,
        hold_seconds: float,
        session_id: str,
        path: Path | None = None,
        clock: Callable[[], float] = time.time,
        within: float = 3.0,
        once: OnceAllowances | None = None,
    ) -> None:
        from ztmcp.state.grants import db_path

        self.once = once if once is not None else ALLOWED_ONCE
        self.lookup = lookup
        self.hold_seconds = hold_seconds
        self.session_id = session_id
        self.path = path or db_path()
        self.clock = clock
        self.within = within
        self._store: ApprovalStore | None = None
        self._store_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_HOLDS)
        self._renewals: queue.SimpleQueue[tuple[str, float] | None] = queue.SimpleQueue()
        self._asked: dict[str, float] = {}  # grant id -> the latest expiry asked for
        self._writer: threading.Thread | None = None
        self._session: Session | None = None
        self._closed = False

    @classmethod
    def for_checks(
        cls, checks: Sequence[object], session_id: str, path: Path | None = None
    ) -> AccessEdge | None:
        """The edge for a pipeline with an access check that uses grants, or a flow check
        that holds (for ``[access] hold_seconds``); else ``None``."""
        access = next((c for c in checks if isinstance(c, AccessCheck)), None)
        flow = any(isinstance(c, FlowCheck) and c.holds for c in checks)
        if access is not None and access.needs_grants:
            from ztmcp.state.grants import GrantLookup  # only grants need it

            lookup = access.grants if isinstance(access.grants, GrantLookup) else None
            return cls(
                lookup,
                hold_seconds=access.hold_seconds,
                session_id=session_id,
                path=path or (lookup.path if lookup is not None else None),
                once=access.once,
            )
        if flow:
            return cls(
                None,
                hold_seconds=access.hold_seconds if access is not None else HOLD_SECONDS,
                session_id=session_id,
                path=path,
                once=access.once if access is not None else ALLOWED_ONCE,
            )
        return None

    # -- holding --------------------------------------------------------------------------

    def approvals(self) -> ApprovalStore | None:
        with self._store_lock:
            if self._store is None:
                if self._closed or not self.path.exists():  # no database: no TUI ever ran
                    return None
                from ztmcp.state.approvals import ApprovalStore

                self._store = ApprovalStore(self.path, busy_ms=2000)
            return self._store

    def hold(self, session: Session, msg: Message, denial: Verdict) -> AccessHold | None:
        """A hold for a call refused for want of a grant, when someone can approve it now."""
        if self.hold_seconds <= 0 or not holdable(denial):
            return None
        tool = msg.tool_name
        digest = _digest(denial)
        if tool is None:
            return None
        if digest is None and denial.rule == GRANT_REQUIRED:
            return None  # never listed: a grant could not be bound to it
        try:  # a read-only lookup: the reading thread never waits for a writer
            if self.lookup is not None:
                watched = self.lookup.watched(self.clock(), self.within)
            else:
                store = self.approvals()
                watched = store is not None and store.attached(self.clock(), self.within)
        except ZtmcpError:
            return None  # fail closed: refused at once, as without a TUI
        if not watched:
            return None
        if not self._slots.acquire(blocking=False):
            return None
        return AccessHold(self, session, msg, tool, digest, denial)

    def release_slot(self) -> None:
        self._slots.release()

    def grant_exists(self, server: str, tool: str, digest: str, args: Mapping[str, Any]) -> bool:
        """Whether a live grant would let this call through now (the checks decide, after)."""
        if self.lookup is None:
            return False
        now = self.clock()
        return any(
            g.live(now) and (g.digest is None or g.digest == digest) and g.allows(args)
            for g in self.lookup.live(server, tool, now)
        )

    # -- renewal --------------------------------------------------------------------------

    def allowed(self, session: Session, verdicts: Sequence[Verdict], now: float) -> None:
        """After an allowed call: slide the grant that allowed it, if it renews."""
        if self.lookup is None:
            return
        self._session = session
        for verdict in verdicts:
            grant_id = granted_id(verdict)
            if grant_id is None:
                continue
            grant = self.lookup.seen(grant_id)
            if grant is None or grant.renew is None:
                continue
            target = grant.renewed(now)
            floor = max(grant.expires, self._asked.get(grant_id, 0.0))
            if target is None or target - floor < grant.renew * RENEW_STEP:
                continue
            if len(self._asked) >= 1024:
                self._asked.clear()
            self._asked[grant_id] = target
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_renewals, name="ztmcp-renew", daemon=True
                )
                self._writer.start()
            self._renewals.put((grant_id, now))

    def _write_renewals(self) -> None:
        from ztmcp.state.grants import GrantStore

        store: GrantStore | None = None
        while (item := self._renewals.get()) is not None:
            grant_id, at = item
            try:
                if store is None:
                    store = GrantStore(self.path, busy_ms=2000)
                moved = store.renew(grant_id, at)
            except ZtmcpError as exc:  # the grant simply expires at its old time
                if self._session is not None:
                    self._session.note(
                        {"event": "grant.renew_failed", "grant.id": grant_id, "error": exc.message}
                    )
                continue
            if moved is not None and self._session is not None:
                self._session.note({"event": "grant.renew", **moved.as_event()})
        if store is not None:
            store.close()

    def listed(self, page: ListedPage) -> None:
        """Listings are the pin edge's business."""
        return None

    def close(self) -> None:
        if self._writer is not None:
            self._renewals.put(None)
            self._writer.join(timeout=5.0)
        with self._store_lock:
            self._closed = True
            if self._store is not None:
                self._store.close()
                self._store = None


def _digest(verdict: Verdict) -> str | None:
    evidence = verdict.evidence or ""
    if evidence.startswith("tool.sha256="):
        value = evidence.removeprefix("tool.sha256=")
        return value if len(value) == 64 else None
    return None
