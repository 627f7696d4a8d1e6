"""Anomalies judged in the relay: each ``tools/call`` against the baselines saved in
``state.db`` (``ztmcp.state.saved_baselines``), so an anomaly can refuse the call and revoke
the run's grants whether or not a TUI is open (issue 21, item 5; docs/behaviour.md).

The judge is the Reader's own (``ztmcp.state.baselines.Detector.judge``, the same
``Thresholds`` and the same words as ``ztmcp baseline``), asked per call for what a relay can
judge at once and cheaply: a **burst** (calls per (agent, server, tool) in the window over
the learned maximum), a **new tool** and an **argument size** far beyond the learned range.
(Result sizes and shapes come after the call has run; hours and hosts stay with ``ztmcp
baseline`` and the TUI.)

Two sides, one object, as ``OnceAllowances`` joins the access edge and its check:

* the flow edge (``FlowEdge.context``) calls ``observe`` for every ``tools/call`` request
  before the checks run: it loads the saved set on first use (off the start-up path), counts
  the call in its window and keeps the judgement for that request;
* the flow check (pure) calls ``judged`` and turns the judgement into its verdict (rule
  ``anomaly``, as ``[flow] anomaly`` says).

A saved set that cannot be read raises ``StateError`` on every call until it can: the Session
refuses the frame (the judge was asked for and cannot judge). Nothing saved: nothing is
judged, and that is said once on stderr.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.jsonrpc import Message

if TYPE_CHECKING:
    from ztmcp.state.baselines import Anomaly, Detector, Thresholds
    from ztmcp.state.saved_baselines import Saved

RULE: Final = "anomaly"
KINDS: Final = frozenset({"burst", "new_tool", "size"})
RELOAD: Final = 60.0  # seconds between looks at whether the saved set changed
MAX_PENDING: Final = 1024  # judged calls whose checks have not run yet (a bound that refuses)


class _Unseen:
    """No judgement was kept for the call."""


_UNSEEN: Final = _Unseen()


class NotJudged(RuntimeError):
    """The check was asked about a call the judge never saw: the call is refused."""


def reader_agent(client: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The agent a call is judged as: the one ``ztmcp baseline`` learned it under (the
    Reader's rule: ``gen_ai.agent.name`` from ``ztmcp watch``'s identity, else the client's
    ``name/version``, else ``unknown``, each cut to 200 characters). Not the flow run's
    identity, which also honours a plain ``ZTMCP_AGENT`` the audit log never records."""
    from ztmcp.identity import from_env

    name = from_env(environ).get("gen_ai.agent.name")
    if isinstance(name, str) and name:
        return name[:200]
    return client[:200] if client else "unknown"


def _say(text: str) -> None:
    sys.stderr.write(f"ztmcp: {text}\n")


class AnomalyJudge:
    """The relay's judge of one process (shared by its sessions). Thread-safe."""

    def __init__(
        self,
        path: Path | None = None,
        thresholds: Thresholds | None = None,
        *,
        say: Callable[[str], None] = _say,
    ) -> None:
        self.path = path  # the state database (default: $ZTMCP_HOME/state.db)
        self.thresholds = thresholds
        self.say = say
        self.wired = False  # an edge feeds this judge: the check must find every call judged
        self.saved: Saved | None = None
        self._detector: Detector | None = None
        self._lock = threading.Lock()
        # Judgements waiting for their check, by (thread, server, request id), oldest first.
        # The thread: the Session asks the edge and then its checks in one thread, while
        # Sessions of one pipeline (clients whose ids repeat) may run side by side; without
        # it another Session's call to the same server with the same id could swap judgements.
        self._pending: dict[tuple[int, str, Any], Anomaly | None] = {}
        self._latest = float("-inf")  # the latest time judged
        self._looked = float("-inf")  # when the saved set was last looked at
        self._stamp: float | None = None  # its saved_at then
        self._said = False

    def _load(self, old: Detector | None, now: float) -> Detector:
        """The judge over the saved set: loaded at the first call, then again when a look
        (every ``RELOAD`` seconds) finds it saved anew; the windows carry over."""
        from ztmcp.state.baselines import Detector, Learned, Thresholds
        from ztmcp.state.saved_baselines import BaselineStore

        with BaselineStore(self.path) as store:  # StateError: the caller's frame is refused
            stamp = store.saved_at()
            if old is not None and stamp == self._stamp:
                self._looked = now
                return old
            saved = store.load()
        if saved is not None and not saved.learned.tools:  # an empty history was saved
            saved = None
        if saved is None and not self._said:
            self._said = True
            self.say(
                "no baselines saved in state.db: anomalies are not judged in the relay "
                "(learn them with `ztmcp baseline --save`)"
            )
        self.saved, self._stamp, self._looked = saved, stamp, now
        detector = Detector(
            saved.learned if saved is not None else Learned(),
            self.thresholds if self.thresholds is not None else Thresholds(),
        )
        if old is not None:
            detector.adopt_windows(old)
        return detector

    def observe(self, agent: str, server: str, msg: Message, size: int, now: float) -> None:
        """Judge the ``tools/call`` request ``msg`` (``size`` bytes, as the audit log records
        it) of ``agent`` on ``server``; the judgement waits for the check."""
        with self._lock:
            detector = self._detector
            if detector is None or not 0 <= now - self._looked < RELOAD:
                detector = self._detector = self._load(detector, now)
            found = None
            if now < self._latest:  # the wall clock stepped back: windows start again
                detector.forget_windows()
            self._latest = now
            if self.saved is not None:
                call = (agent, server, msg.tool_name or "")
                for anomaly in detector.judge(call, now, size, hours=False):
                    if anomaly.kind in KINDS:
                        found = anomaly
                        break
            pending = self._pending
            waiting = (threading.get_ident(), server, msg.id)
            pending.pop(waiting, None)
            pending[waiting] = found
            if len(pending) > MAX_PENDING:  # the oldest is then refused by ``judged``
                del pending[next(iter(pending))]

    def judged(self, server: str, msg: Message) -> Anomaly | None:
        """The judgement of ``msg`` (taken: each judgement is read once). Raises
        ``NotJudged`` when an edge feeds this judge and never saw the call."""
        waiting = (threading.get_ident(), server, msg.id)
        found = self._pending.pop(waiting, _UNSEEN)  # one dict operation: atomic
        if not isinstance(found, _Unseen):
            return found
        if self.wired:
            raise NotJudged(f"the anomaly judge never saw call {msg.id!r}")
        return None

    def describe(self) -> dict[str, Any]:
        """What the judge rests on (for tests and ``ztmcp baseline``)."""
        saved = self.saved
        if saved is None:
            return {"saved": False}
        return {
            "saved": True,
            "baselines": len(saved.learned.tools),
            "learned_at": saved.learned_at,
        }
