"""One Session per connection: correlation, the check pipeline, the Decision, the audit record.

The Session is the only place that knows about modes: checks return verdicts, the Session
folds them (DENY over REWRITE over FLAG) and, in monitor mode, downgrades every DENY and
REWRITE to a recorded FLAG, once. A check that raises is a DENY. Adapters do what the
Decision says and nothing else.

Handling a frame is total: one guard around everything the Session does with it (parsing,
checks, correlation, the edge, the record, encoding the answer) turns any exception into a
refusal of that frame (``Session.refuse``), recorded. The one exception that passes is
``AuditError``: state that cannot be recorded stops the flow, so the adapter stops relaying.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol

from ztmcp.checks.base import Action, Check, Context, Severity, Verdict
from ztmcp.detectors.mcp import HANDSHAKES
from ztmcp.errors import AuditError, ProtocolError
from ztmcp.jsonrpc import (
    DEFAULT_LIMITS,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    MODERN_VERSION_KEY,
    SERVER_GONE,
    Direction,
    Kind,
    Limits,
    Message,
    encode,
    error_response,
    parse,
    recover_id,
    tool_error_result,
)
from ztmcp.state.shapes import SHAPE_FIELD, result_shape
from ztmcp.tool_arguments import ARGS_FIELD
from ztmcp.tool_arguments import digest as value_digest

MAX_PENDING: Final = 10_000
FAULT_RULE: Final = "session.fault"  # the rule of a refusal caused by ztmcp's own failure
_PROTOCOL_RULES: Final = frozenset({"session.duplicate_id", "session.too_many_pending"})


class Mode(StrEnum):
    ENFORCE = "enforce"
    MONITOR = "monitor"


class Outcome(StrEnum):
    FORWARDED = "forwarded"  # passed unchanged
    FLAGGED = "flagged"  # passed unchanged, with findings
    REWRITTEN = "rewritten"  # a replacement was forwarded
    DENIED = "denied"  # not forwarded; the sender (or the waiting peer) was answered
    DROPPED = "dropped"  # not forwarded; nobody is waiting for an answer
    HELD = "held"  # not forwarded yet: waiting for an approval (``Decision.hold``)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the adapter does with one frame."""

    outcome: Outcome
    forward: bytes | None = None  # send on, in the frame's own direction
    reply: bytes | None = None  # send back to whoever sent the frame
    verdicts: tuple[Verdict, ...] = ()
    # HELD: call ``hold.wait()`` off the reading thread, then apply the Decision it returns.
    hold: Hold | None = None


class Hold(Protocol):
    """A request waiting for approval (see ztmcp.holds and docs/access.md)."""

    def wait(self) -> Decision: ...

    def cancel(self, reason: str) -> None: ...


class Edge(Protocol):
    """Side effects after the checks decided, so that checks stay pure: holding calls and
    renewing grants (``ztmcp.holds.AccessEdge``), first-seen pins and drift records
    (``ztmcp.pinning.PinEdge``). Several are joined with ``Edges``."""

    def hold(self, session: Session, msg: Message, denial: Verdict) -> Hold | None: ...

    def allowed(self, session: Session, verdicts: Sequence[Verdict], now: float) -> None: ...

    def listed(self, page: ListedPage) -> None: ...

    def close(self) -> None: ...


class RunEdge(Protocol):
    """The agent run around the flow check (``ztmcp.behaviour.edge.FlowEdge``): the run for a
    request's checks (``ctx.extra["run"]``), and what a Decision lets through recorded in it
    before the Decision is returned (an audit event when it did more, e.g. revoked grants)."""

    def context(self, session: Session, msg: Message, now: float) -> Any: ...

    def decided(
        self,
        session: Session,
        msg: Message,
        request: Message | None,
        shown: Message,
        decision: Decision,
        now: float,
    ) -> dict[str, Any] | None: ...


class Edges:
    """Several edges as one: each sees every event in order; the first hold offered wins.

    ``shared`` edges outlive the session (the proxy's pin edge serves every conversation):
    ``close`` leaves them to their owner and closes only the session's ``own``.
    """

    __slots__ = ("_all", "_own")

    def __init__(self, own: Sequence[Edge | None] = (), shared: Sequence[Edge | None] = ()) -> None:
        self._own = tuple(e for e in own if e is not None)
        self._all = (*self._own, *(e for e in shared if e is not None))

    def __bool__(self) -> bool:
        return bool(self._all)

    def hold(self, session: Session, msg: Message, denial: Verdict) -> Hold | None:
        for edge in self._all:
            hold = edge.hold(session, msg, denial)
            if hold is not None:
                return hold
        return None

    def allowed(self, session: Session, verdicts: Sequence[Verdict], now: float) -> None:
        for edge in self._all:
            edge.allowed(session, verdicts, now)

    def listed(self, page: ListedPage) -> None:
        for edge in self._all:
            edge.listed(page)

    def close(self) -> None:
        for edge in self._own:
            edge.close()


_LIST_KINDS: Final = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/templates/list": "resourceTemplates",
}


@dataclass(frozen=True, slots=True)
class ListedPage:
    """One forwarded page of a tools/prompts/resource-template listing, for the edge.

    ``items`` are the server's own items (before any rewrite); ``shown`` the names the agent
    was shown; ``rules`` the rules of the verdicts on this page. The edge (``ztmcp run``)
    records first-seen pins and observed drift from these; checks never write state.

    A handshake answer (``initialize``, ``server/discover``) is a page too: ``kind`` is the
    method and ``items`` its one result, from which the edge learns the server fields.
    """

    kind: str  # "tools", "prompts" or "resourceTemplates"; or a handshake method, see below
    items: tuple[dict[str, Any], ...]
    shown: frozenset[str]
    rules: frozenset[str]
    first: bool  # the request had no cursor: a new listing starts
    last: bool  # the result has no nextCursor: the listing is complete


@dataclass(eq=False)
class ToolSurface:
    """The observed tool surface: every tool the server listed (by name), and the names a
    check withheld from the agent (name -> the rule that withheld it).

    Each Session keeps its own unless it is handed one: sessions that are, together, one
    conversation with a server share one (``ztmcp proxy``, 2026-07-28 era: a session per
    HTTP request, one tool list), so a tool withheld from a listing stays denied in later
    requests. The lock makes a listing's replace-all atomic for every session reading it.
    """

    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def copy(self) -> ToolSurface:
        with self.lock:
            return ToolSurface(dict(self.tools), dict(self.withheld))


class AuditSink(Protocol):
    """Where the Session's records go. ``post`` returns only once the record is written in
    full (``AuditLog.post``), or raises: the Session returns a frame's Decision after its
    record, so an adapter that does what the Decision says never forwards unrecorded."""

    def post(self, event: dict[str, Any]) -> None: ...

    def close(self, **fields: Any) -> None: ...


def _key(msg_id: Any) -> tuple[str, Any]:
    # 1 and "1" are different ids; 1 and True must never be confused.
    return (type(msg_id).__name__, msg_id)


def denial_text(verdict: Verdict) -> str:
    """The short, actionable text the agent sees; it never contains evidence."""
    text = f"ztmcp blocked this: {verdict.reason} [{verdict.rule}]"
    if verdict.hint:
        text += f". To allow it: {verdict.hint}"
    return text


class Session:
    """Correlates and checks every frame of one connection. Thread-safe."""

    def __init__(
        self,
        server: str,
        checks: Sequence[Check],
        audit: AuditSink,
        *,
        mode: Mode = Mode.ENFORCE,
        limits: Limits = DEFAULT_LIMITS,
        clock: Callable[[], float] = time.time,
        where: dict[str, Any] | None = None,
        edge: Edge | None = None,
        surface: ToolSurface | None = None,
        run: RunEdge | None = None,
    ) -> None:
        if not checks:
            raise ValueError("a Session needs at least one check (an empty pipeline allows all)")
        self.server = server
        self.checks = tuple(checks)
        self.mode = mode
        self.limits = limits
        self._audit = audit
        self._clock = clock
        self._lock = threading.Lock()
        # Requests in flight, by the direction they travelled.
        self._pending: dict[Direction, dict[tuple[str, Any], Message]] = {
            Direction.TO_SERVER: {},
            Direction.TO_CLIENT: {},
        }
        self.client: str | None = None
        # The observed tool surface (shared when given). Checks read the listed tools through
        # ``ctx.extra["tools"]``.
        self.surface = surface if surface is not None else ToolSurface()
        self._edge = edge if edge else None  # an empty Edges is no edge
        self._run_edge = run  # the agent run the flow check reads (None: not watched)
        self._held: dict[tuple[str, Any], tuple[Message, Hold]] = {}  # requests on hold
        # The request each direction's last response answered, by the response's bytes: a
        # fault after the response was correlated still owes the waiting peer an answer.
        self._answered: dict[Direction, tuple[bytes, Message]] = {}
        self._unanswered = 0  # requests answered by ztmcp when the session ended
        self._post(
            {
                "event": "session.start",
                "server": server,
                "mode": mode.value,
                "checks": [c.name for c in self.checks],
                **(where or {}),
            }
        )

    # -- the pipeline -------------------------------------------------------------------

    def handle(self, direction: Direction, raw: bytes) -> Decision:
        """Decide what happens to one framed message (without its newline).

        Total: any exception while handling the frame refuses it (see ``refuse``); only an
        ``AuditError`` passes, and the adapter must then stop relaying.
        """
        with self._lock:
            return self._guarded(
                direction, raw, b"", lambda started: self._decide(direction, raw, started)
            )

    def handle_oversize(
        self, direction: Direction, prefix: bytes, size: int, suffix: bytes = b""
    ) -> Decision:
        """A frame the adapter discarded unread because it exceeded the size limit."""
        exc = ProtocolError(
            f"message of {size}+ bytes exceeds the limit of {self.limits.max_bytes} bytes",
            code=INVALID_REQUEST,
            rule="limits.size",
        )
        with self._lock:
            return self._guarded(
                direction,
                prefix,
                suffix,
                lambda started: self._refuse(direction, prefix, size, exc, started, suffix),
            )

    def refuse(
        self,
        direction: Direction,
        raw: bytes,
        exc: BaseException,
        suffix: bytes = b"",
        *,
        record: bool = True,
    ) -> Decision:
        """Refuse a frame the adapter could not carry through (``exc`` says why), recorded.

        For adapters: a fault outside the Session (framing, delivery, a hold's waiter) while
        this frame was in hand. A request is answered with an error, a response is replaced
        by an error to the peer still waiting for it, anything else is dropped; nothing of
        the frame is forwarded. Raises only ``AuditError``; never with ``record=False``,
        which is for the frames in hand and after the audit log failed.
        """
        with self._lock:
            return self._fault(direction, raw, suffix, exc, time.perf_counter(), record=record)

    def drain(self, reason: str) -> list[bytes]:
        """Stop waiting: error answers for every request still waiting on the server (held
        ones included); holds are cancelled and the session's own edges closed. Total and
        idempotent. It records nothing, so it serves when the audit log has failed too."""
        with self._lock:
            waiting = list(self._pending[Direction.TO_SERVER].values())
            self._pending[Direction.TO_SERVER].clear()
            self._pending[Direction.TO_CLIENT].clear()
            held = list(self._held.values())
            self._held.clear()
            self._answered.clear()
            edge, self._edge = self._edge, None
        for _, hold in held:
            with contextlib.suppress(Exception):  # the request is answered below either way
                hold.cancel(reason)
        waiting += [m for m, _ in held]
        if edge is not None:
            with contextlib.suppress(Exception):  # it must not keep requests waiting
                edge.close()
        self._unanswered += len(waiting)
        return [_error_bytes(m.id, SERVER_GONE, f"ztmcp: {reason}") for m in waiting]

    def close(self, reason: str) -> list[bytes]:
        """End the session: error answers for every request still waiting on the server, and
        ``session.end`` in the audit log (``AuditError`` if that cannot be written)."""
        replies = self.drain(reason)
        try:
            self._audit.close(server=self.server, reason=reason, unanswered=self._unanswered)
        except AuditError:
            raise
        except Exception as exc:
            raise AuditError(f"cannot close the audit log ({type(exc).__name__})") from exc
        return replies

    def resume(self, msg: Message, refusal: Verdict | None) -> Decision:
        """End a hold: run the request through the checks again (``refusal`` None: a grant
        appeared) or refuse it; nothing to send when it was cancelled meanwhile."""
        with self._lock:
            if self._held.pop(_key(msg.id), None) is None:
                return Decision(Outcome.DROPPED)
            return self._guarded(
                msg.direction, msg.raw, b"", lambda started: self._resumed(msg, refusal, started)
            )

    def _resumed(self, msg: Message, refusal: Verdict | None, started: float) -> Decision:
        if refusal is None:
            return self._run(msg, started, may_hold=False)
        decision = self._deny(msg, None, refusal, (refusal,))
        self._record(msg, None, decision, len(msg.raw), started)
        return decision

    def own_surface(self) -> None:
        """Keep the tool surface to this session from now on: a copy of the shared one."""
        with self._lock:
            self.surface = self.surface.copy()

    def note(self, event: dict[str, Any]) -> None:
        """An audit event from the edge (holds, renewals), in this session's log."""
        self._post({**event, "server": self.server})

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(len(p) for p in self._pending.values())

    def _guarded(
        self,
        direction: Direction,
        raw: bytes,
        suffix: bytes,
        decide: Callable[[float], Decision],
    ) -> Decision:
        """The one guard every frame is handled under (the lock held): any exception while
        deciding refuses the frame in hand (``_fault``); only an ``AuditError`` passes."""
        started = time.perf_counter()
        try:
            return decide(started)
        except AuditError:
            raise
        except Exception as exc:  # fail closed: the frame in hand is refused
            return self._fault(direction, raw, suffix, exc, started)

    def _decide(self, direction: Direction, raw: bytes, started: float) -> Decision:
        try:
            msg = parse(raw, direction, self.limits)
        except ProtocolError as exc:
            return self._refuse(direction, raw, len(raw), exc, started)
        return self._run(msg, started)

    def _run(self, msg: Message, started: float, *, may_hold: bool = True) -> Decision:
        kind = msg.kind
        request: Message | None = None
        if kind is Kind.RESPONSE:
            request = self._pending[msg.direction.reverse].pop(_key(msg.id), None)
            if request is not None:
                self._answered[msg.direction] = (msg.raw, request)
        elif kind is Kind.REQUEST:
            self._note_client(msg)
        now = self._clock()
        extra: dict[str, Any] = {"tools": self.surface.tools}
        if self._run_edge is not None:  # a run that cannot be read raises: the frame is refused
            run = self._run_edge.context(self, msg, now)
            if run is not None:
                extra["run"] = run
        ctx = Context(self.server, now, request, extra)

        verdicts: list[Verdict] = []
        current = msg
        denial: Verdict | None = None
        for check in self.checks:
            try:
                verdict = check.check(current, ctx)
            except Exception as exc:  # fail closed: a broken check is a denial
                verdict = Verdict(
                    Action.DENY,
                    check.name,
                    f"{check.name}.error",
                    f"check {check.name!r} failed ({type(exc).__name__})",
                    Severity.HIGH,
                )
            if verdict is None:
                continue
            verdicts.append(verdict)
            if self.mode is Mode.MONITOR:
                continue
            if verdict.action is Action.DENY:
                denial = verdict
                break
            if verdict.action is Action.REWRITE and verdict.replacement is not None:
                body = dict(verdict.replacement)
                current = Message(current.direction, encode(body), body)

        if denial is None and kind is Kind.REQUEST:
            denial = self._withheld_tool(msg) or self._track(msg)
            if denial is not None:
                verdicts.append(denial)
        if denial is None and kind is Kind.NOTIFICATION and msg.method == "notifications/cancelled":
            # The canceller will ignore any late answer; stop waiting for one.
            cancelled = msg.params.get("requestId")
            if isinstance(cancelled, str | int) and not isinstance(cancelled, bool):
                self._pending[msg.direction].pop(_key(cancelled), None)
                if msg.direction is Direction.TO_SERVER and _key(cancelled) in self._held:
                    self._held.pop(_key(cancelled))[1].cancel("cancelled by the client")
                    decision = Decision(Outcome.DROPPED, verdicts=tuple(verdicts))
                    self._record(msg, request, decision, len(msg.raw), started)
                    return decision  # the server never saw the request: nothing to cancel

        if denial is None and request is not None and request.method == "tools/list":
            self._observe_tools(request, msg, current, verdicts)

        hold = None
        if (
            denial is not None
            and may_hold
            and self._edge is not None
            and kind is Kind.REQUEST
            and _key(msg.id) not in self._held
        ):
            hold = self._edge.hold(self, msg, denial)
        if hold is not None:
            self._held[_key(msg.id)] = (msg, hold)
            decision = Decision(Outcome.HELD, verdicts=tuple(verdicts), hold=hold)
        elif denial is not None:
            decision = self._deny(msg, request, denial, tuple(verdicts))
        elif current is not msg:
            decision = Decision(Outcome.REWRITTEN, forward=current.raw, verdicts=tuple(verdicts))
        elif verdicts:
            decision = Decision(Outcome.FLAGGED, forward=msg.raw, verdicts=tuple(verdicts))
        else:
            decision = Decision(Outcome.FORWARDED, forward=msg.raw)
        if self._run_edge is not None:  # recorded in the run before it is forwarded, or refused
            event = self._run_edge.decided(self, msg, request, current, decision, now)
            if event is not None:
                self._post({**event, "server": self.server})
        self._record(msg, request, decision, len(msg.raw), started)
        if self._edge is not None and denial is None and verdicts and kind is Kind.REQUEST:
            self._edge.allowed(self, decision.verdicts, ctx.now)
        if self._edge is not None and denial is None and request is not None:
            self._listed(request, msg, current, verdicts)
        return decision

    def _observe_tools(
        self, request: Message, listed: Message, shown: Message, verdicts: list[Verdict]
    ) -> None:
        """Remember what the server listed and which of those tools the agent never saw."""
        tools = _listed_tools(listed)
        if tools is None:
            return
        page = {
            t["name"]: t for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)
        }
        visible = {t.get("name") for t in _listed_tools(shown) or [] if isinstance(t, dict)}
        rule = next((v.rule for v in verdicts if v.action is Action.REWRITE), "session.withheld")
        surface = self.surface
        with surface.lock:
            if "cursor" not in request.params:  # a first page starts a new listing
                surface.tools.clear()
                surface.withheld.clear()
            surface.tools.update(page)
            for name in page:
                if name in visible:
                    surface.withheld.pop(name, None)
                else:
                    surface.withheld[name] = rule

    def _listed(
        self, request: Message, listed: Message, shown: Message, verdicts: list[Verdict]
    ) -> None:
        result = listed.body.get("result")
        if request.method in HANDSHAKES and isinstance(result, dict):
            page = ListedPage(
                kind=request.method,
                items=(result,),
                shown=frozenset(),
                rules=frozenset(v.rule for v in verdicts),
                first=True,
                last=True,
            )
            assert self._edge is not None
            self._edge.listed(page)
            return
        kind = _LIST_KINDS.get(request.method or "")
        items = result.get(kind) if kind is not None and isinstance(result, dict) else None
        if kind is None or not isinstance(result, dict) or not isinstance(items, list):
            return
        shown_result = shown.body.get("result")
        visible = shown_result.get(kind) if isinstance(shown_result, dict) else None
        page = ListedPage(
            kind=kind,
            items=tuple(i for i in items if isinstance(i, dict)),
            shown=frozenset(
                i["name"]
                for i in (visible if isinstance(visible, list) else [])
                if isinstance(i, dict) and isinstance(i.get("name"), str)
            ),
            rules=frozenset(v.rule for v in verdicts),
            first="cursor" not in request.params,
            last=result.get("nextCursor") is None,
        )
        assert self._edge is not None
        self._edge.listed(page)

    def _withheld_tool(self, msg: Message) -> Verdict | None:
        """A call to a tool that a check removed from the agent's list is denied, not routed."""
        name = msg.tool_name
        if name is None or self.mode is Mode.MONITOR:
            return None
        with self.surface.lock:
            rule = self.surface.withheld.get(name)
        if rule is None:
            return None
        return Verdict(
            Action.DENY,
            "session",
            "session.withheld_tool",
            f"tool {name[:80]!r} was withheld from the tool list ({rule})",
            Severity.HIGH,
            hint=f"inspect it with `ztmcp audit show --server {self.server}`",
        )

    def _track(self, msg: Message) -> Verdict | None:
        pending = self._pending[msg.direction]
        key = _key(msg.id)
        if key in pending or (msg.direction is Direction.TO_SERVER and key in self._held):
            return Verdict(
                Action.DENY,
                "session",
                "session.duplicate_id",
                "a request with this id is already in flight",
                Severity.MEDIUM,
                code=INVALID_REQUEST,
            )
        if len(pending) >= MAX_PENDING:
            return Verdict(
                Action.DENY,
                "session",
                "session.too_many_pending",
                f"more than {MAX_PENDING} requests in flight",
                Severity.MEDIUM,
            )
        pending[key] = msg
        return None

    def _deny(
        self, msg: Message, request: Message | None, denial: Verdict, verdicts: tuple[Verdict, ...]
    ) -> Decision:
        kind = msg.kind
        if kind is Kind.REQUEST:
            return Decision(Outcome.DENIED, reply=self._answer(msg, denial), verdicts=verdicts)
        if kind is Kind.RESPONSE and request is not None:
            # The peer that asked is still waiting: answer it in place of the response.
            return Decision(
                Outcome.DENIED, forward=self._answer(request, denial), verdicts=verdicts
            )
        return Decision(Outcome.DROPPED, verdicts=verdicts)

    @staticmethod
    def _answer(request: Message, denial: Verdict) -> bytes:
        text = denial_text(denial)
        # An id JSON-RPC does not allow (an object, a list, a fraction) is answered as null.
        msg_id = request.id
        if not isinstance(msg_id, str | int) or isinstance(msg_id, bool):
            msg_id = None
        # Policy denials of a tool call reach the model as a failed tool; protocol violations
        # (a malformed envelope, an id already in flight) stay JSON-RPC errors, since a tool
        # result with an in-flight id would read as the answer to the other call.
        if (
            request.method == "tools/call"
            and request.direction is Direction.TO_SERVER
            and denial.check != "envelope"
            and denial.rule not in _PROTOCOL_RULES
        ):
            return encode(tool_error_result(msg_id, text, modern=request.is_modern))
        data = {"ztmcp": {"check": denial.check, "rule": denial.rule}}
        return encode(error_response(msg_id, denial.code, text, data))

    def _refuse(
        self,
        direction: Direction,
        raw: bytes,
        size: int,
        exc: ProtocolError,
        started: float,
        suffix: bytes = b"",
    ) -> Decision:
        """A frame that could not be parsed: never forwarded; answered when an id is known.

        ``raw`` is the whole frame, or only its first bytes when it was too large to read.
        """
        verdict = Verdict(
            Action.DENY, "jsonrpc", exc.rule, exc.message, Severity.MEDIUM, code=exc.code
        )
        msg_id = recover_id(raw, suffix)
        decision = Decision(Outcome.DROPPED, verdicts=(verdict,))
        answer = _error_bytes(msg_id, exc.code, f"ztmcp: {exc.message}")
        if direction is Direction.TO_SERVER:
            # The agent may be waiting on this id; a null id still tells it something broke.
            decision = Decision(Outcome.DENIED, reply=answer, verdicts=(verdict,))
        elif msg_id is not None:
            request = self._pending[Direction.TO_SERVER].pop(_key(msg_id), None)
            if request is not None:
                decision = Decision(Outcome.DENIED, forward=answer, verdicts=(verdict,))
        self._post(
            {
                "event": "message",
                "server": self.server,
                "direction": direction.value,
                "kind": Kind.INVALID.value,
                "jsonrpc.request.id": msg_id if _plain(msg_id) else None,
                "size": size,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "outcome": decision.outcome.value,
                "verdicts": [_verdict_record(verdict)],
                "check_us": round((time.perf_counter() - started) * 1e6, 1),
            }
        )
        return decision

    # -- audit --------------------------------------------------------------------------

    def _note_client(self, msg: Message) -> None:
        if self.client is not None or msg.direction is not Direction.TO_SERVER:
            return
        info = msg.params.get("clientInfo")
        if not isinstance(info, dict):
            meta = msg.params.get("_meta")
            info = (
                meta.get("io.modelcontextprotocol/clientInfo") if isinstance(meta, dict) else None
            )
        if isinstance(info, dict) and isinstance(info.get("name"), str):
            self.client = f"{info['name'][:80]}/{str(info.get('version', ''))[:40]}"

    def _record(
        self,
        msg: Message,
        request: Message | None,
        decision: Decision,
        size: int,
        started: float,
    ) -> None:
        about = request or msg
        msg_id = msg.id
        kind = msg.kind
        event: dict[str, Any] = {
            "event": "message",
            "server": self.server,
            "client": self.client,
            "direction": msg.direction._value_,
            "kind": kind._value_,
            "jsonrpc.request.id": msg_id if isinstance(msg_id, str | int) else None,
            "mcp.method.name": about.method,
            "size": size,
            "sha256": hashlib.sha256(msg.raw).hexdigest(),
            "outcome": decision.outcome._value_,
            "check_us": round((time.perf_counter() - started) * 1e6, 1),
        }
        params = about.params
        if about.method == "tools/call":  # ``Message.tool_name``, read once
            tool = params.get("name")
            if isinstance(tool, str):
                event["gen_ai.tool.name"] = tool[:200]
                if kind is Kind.REQUEST:  # links the call to the model turn that asked for it
                    arguments = params.get("arguments")  # ``mcp_call_fields``, without a dict
                    event[ARGS_FIELD] = value_digest(arguments if arguments is not None else {})
                elif kind is Kind.RESPONSE:  # what the behaviour baselines learn (no content)
                    event[SHAPE_FIELD] = result_shape(msg.body)
        meta = params.get("_meta")
        if isinstance(meta, dict) and MODERN_VERSION_KEY in meta:  # ``Message.is_modern``
            version = meta.get(MODERN_VERSION_KEY)
            event["mcp.protocol.version"] = version if isinstance(version, str) else None
        if decision.verdicts:
            event["verdicts"] = [_verdict_record(v) for v in decision.verdicts]
            if self.mode is Mode.MONITOR:
                event["monitor"] = True
        self._post(event)

    def _refusal(
        self, direction: Direction, raw: bytes, suffix: bytes, verdict: Verdict
    ) -> tuple[Decision, Kind, Any]:
        """Whom ``_fault`` answers, and how: the frame is read again only for that (a frame
        that broke the parser is read by ``recover_id``); state the failed attempt left for
        it is undone. Only an id JSON-RPC allows (a string or an integer) is correlated."""
        msg: Message | None
        try:
            msg = parse(raw, direction, self.limits) if not suffix else None
        except Exception:
            msg = None
        kind: Kind
        if msg is not None and msg.kind is not Kind.INVALID:
            kind, msg_id = msg.kind, msg.id
        else:
            kind = Kind.INVALID
            try:
                msg_id = recover_id(raw, suffix)
            except Exception:
                msg_id = None
        if not isinstance(msg_id, str | int) or isinstance(msg_id, bool):
            msg_id = None
        key = _key(msg_id)
        text = f"ztmcp: {verdict.reason}"
        decision = Decision(Outcome.DROPPED, verdicts=(verdict,))
        if kind is Kind.REQUEST or (kind is Kind.INVALID and direction is Direction.TO_SERVER):
            # Whatever the failed attempt left waiting for this request goes: it is answered now.
            tracked = self._pending[direction].get(key)
            if tracked is not None and tracked.raw == raw:
                del self._pending[direction][key]
            held = self._held.get(key) if direction is Direction.TO_SERVER else None
            if held is not None and held[0].raw == raw:
                del self._held[key]
                with contextlib.suppress(Exception):
                    held[1].cancel("ztmcp failed while handling it")
            reply = _error_bytes(msg_id, INTERNAL_ERROR, text)
            decision = Decision(Outcome.DENIED, reply=reply, verdicts=(verdict,))
        elif kind is not Kind.NOTIFICATION and msg_id is not None:
            # A response (or what may be one): the peer waiting for it gets an error instead.
            waiting = self._pending[direction.reverse].pop(key, None)
            answered = self._answered.get(direction)
            if waiting is None and answered is not None and answered[0] == raw:
                waiting = answered[1]
            if waiting is not None:
                forward = _error_bytes(waiting.id, INTERNAL_ERROR, text)
                decision = Decision(Outcome.DENIED, forward=forward, verdicts=(verdict,))
        self._answered.pop(direction, None)
        return decision, kind, msg_id

    def _post(self, event: dict[str, Any]) -> None:
        """Every record goes through here: a sink that fails in any way is an ``AuditError``."""
        try:
            self._audit.post(event)
        except AuditError:
            raise
        except Exception as exc:
            raise AuditError(
                f"cannot record an audit event ({type(exc).__name__})",
                hint="check the audit directory (ZTMCP_HOME) is writable and has space",
            ) from exc

    def _fault(
        self,
        direction: Direction,
        raw: bytes,
        suffix: bytes,
        exc: BaseException,
        started: float,
        *,
        record: bool = True,
    ) -> Decision:
        """Refuse the frame in hand after an exception (called with the lock held); nothing
        here can fail but the audit record (``_refusal`` has a fallback of its own)."""
        verdict = Verdict(
            Action.DENY,
            "session",
            FAULT_RULE,
            f"ztmcp failed while handling this message ({type(exc).__name__}); it was refused",
            Severity.HIGH,
            code=INTERNAL_ERROR,
        )
        try:
            decision, kind, msg_id = self._refusal(direction, raw, suffix, verdict)
        except Exception:  # by construction unreachable; if not, still refuse
            kind, msg_id = Kind.INVALID, None
            decision = Decision(Outcome.DROPPED, verdicts=(verdict,))
            if direction is Direction.TO_SERVER:
                decision = Decision(Outcome.DENIED, reply=_FALLBACK_ERROR, verdicts=(verdict,))
        if not record:
            return decision
        self._post(
            {
                "event": "message",
                "server": self.server,
                "direction": direction.value,
                "kind": kind.value,
                "jsonrpc.request.id": msg_id if _plain(msg_id) else None,
                "size": len(raw),
                "sha256": hashlib.sha256(raw + suffix).hexdigest(),
                "outcome": decision.outcome.value,
                "verdicts": [_verdict_record(verdict)],
                "error.type": type(exc).__name__,
                "check_us": round((time.perf_counter() - started) * 1e6, 1),
            }
        )
        return decision


_FALLBACK_ERROR: Final = (
    b'{"jsonrpc":"2.0","id":null,"error":{"code":-32603,'
    b'"message":"ztmcp: internal error; the message was refused"}}'
)


def _plain(value: Any) -> bool:
    """An id that every JSON encoder writes the same way (a lone surrogate is not)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= 2**53 - 1
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    return False


def _error_bytes(msg_id: Any, code: int, text: str) -> bytes:
    """A JSON-RPC error answer that can always be written. If the encoder fails, a fixed
    template with the id as ASCII JSON; the id null if even that fails (the sender still
    learns that something failed)."""
    if isinstance(msg_id, str) and not _plain(msg_id):
        msg_id = None  # a lone surrogate: no peer could match it to a request anyway
    try:
        return encode(error_response(msg_id, code, text))
    except Exception:
        pass
    try:
        if (msg_id is not None and not isinstance(msg_id, str | int)) or isinstance(msg_id, bool):
            raise TypeError("not an id")
        return b'{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%s}}' % (
            json.dumps(msg_id).encode(),
            code,
            json.dumps(text).encode(),
        )
    except Exception:
        return _FALLBACK_ERROR


def _listed_tools(msg: Message) -> list[Any] | None:
    result = msg.body.get("result")
    tools = result.get("tools") if isinstance(result, dict) else None
    return tools if isinstance(tools, list) else None


def _verdict_record(verdict: Verdict) -> dict[str, Any]:
    record: dict[str, Any] = {
        "check": verdict.check,
        "action": verdict.action.value,
        "rule": verdict.rule,
        "severity": verdict.severity.value,
        "reason": verdict.reason,
    }
    if verdict.evidence is not None:
        record["evidence"] = verdict.evidence
    return record
