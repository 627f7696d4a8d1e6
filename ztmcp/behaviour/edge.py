"""The flow edge: what the Session does for the flow check besides asking it.

The flow check is pure: it reads the agent run from ``ctx.extra["run"]``. This edge is the one
place that run is read and written in a ``ztmcp run`` (or proxy) process:

* before the checks see a ``tools/call`` request, ``context`` syncs the shared run from
  ``state.db`` (``ztmcp.behaviour.store.SharedRun``) and hands it in;
* once the Session decided to forward a ``tools/call`` request, ``decided`` records the call in
  the run *before* the Decision is returned (so no call reaches a server unrecorded); once it
  decided to forward that call's result to the agent, it records the result's fingerprints
  with the tool's capability labels (what the agent was shown: a rewritten result's
  replacement, nothing when the result was refused);
* when the flow check refused a call and ``[flow] revoke = true``, it revokes the run's open
  grants (``ztmcp.behaviour.response``) and returns the audit event saying so;
* once it decided to forward a person's answer to an elicitation (the client's response to
  ``elicitation/create``, or a retried request's ``inputResponses`` for the ``input_required``
  result it forwarded earlier), it learns what the person typed as the user's words
  (``ztmcp.behaviour.elicited``) and returns a ``flow.elicited`` audit event.

Any failure to read or write the run raises (``StateError``); the Session's guard refuses
the frame in hand, so a run that cannot be recorded stops the flow.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.behaviour.anomaly import reader_agent
from ztmcp.behaviour.elicited import (
    ELICIT,
    RETRIED,
    input_requests,
    input_responses,
    request_state,
)
from ztmcp.behaviour.run import AGENT_ENV, CallRef, RunState, agent_identity
from ztmcp.checks.flow import FlowCheck
from ztmcp.jsonrpc import Direction, Kind, Message
from ztmcp.state.db import StateError

if TYPE_CHECKING:
    from ztmcp.behaviour.store import SharedRun
    from ztmcp.checks.base import Verdict
    from ztmcp.session import Decision, ListedPage, Session

MAX_CALLS: Final = 10_000  # calls awaiting their result per session (the Session's own bound)
MAX_REWRITTEN: Final = 256  # rewritten elicitation forms awaiting their answer per session
_FORWARDED: Final = frozenset({"forwarded", "flagged", "rewritten"})


def _is_call(msg: Message) -> bool:
    return (
        msg.kind is Kind.REQUEST
        and msg.direction is Direction.TO_SERVER
        and msg.method == "tools/call"
    )


def run_agent(client: str | None, env: dict[str, str] | None = None) -> str:
    """The run's agent identity: ``ZTMCP_AGENT`` (its name when ``ztmcp watch`` passed its
    JSON identity), else the client's ``name/version`` from the handshake."""
    environ = env if env is not None else dict(os.environ)
    raw = environ.get(AGENT_ENV, "").strip()
    if raw.startswith("{"):
        from ztmcp.identity import from_env

        name = from_env(environ).get("gen_ai.agent.name")
        if isinstance(name, str) and name:
            return name
        environ = {}
    return agent_identity(client, env=environ)


def _id(msg: Message) -> tuple[str, str]:
    return type(msg.id).__name__, str(msg.id)


def _target(msg: Message) -> str:
    """What a retried request names: the tool or prompt, or the resource's uri."""
    target = msg.params.get("name", msg.params.get("uri"))
    return target if isinstance(target, str) else ""


class FlowEdge:
    """One session's side of the agent run (see the module docstring). Also an ``Edge``
    (no holds, nothing on listings) so that the session's ``close`` closes its database."""

    def __init__(self, check: FlowCheck, *, path: Path | None = None) -> None:
        self.check = check
        self.path = path  # the state database (default: $ZTMCP_HOME/state.db)
        self._shared: SharedRun | None = None
        # Calls awaiting their result; ``None`` for a call the run does not record (a tool
        # the flow check cannot care about: ``FlowCheck.relevant``).
        self._calls: dict[int, tuple[Message, CallRef | None]] = {}
        # Elicitation requests a check rewrote before the client saw them, by request id.
        self._rewritten: dict[tuple[str, str], Any] = {}
        self._rewritten_lost = False
        self._agent: tuple[str | None, str] | None = None  # (client, agent) of the last call
        if check.judge is not None:  # the anomaly judge is fed here, before the checks
            check.judge.path = path
            check.judge.wired = True

    @classmethod
    def for_checks(cls, checks: Sequence[object], path: Path | None = None) -> FlowEdge | None:
        """The edge for a pipeline with the flow check; else ``None``."""
        for check in checks:
            if isinstance(check, FlowCheck):
                return cls(check, path=path)
        return None

    def _run(self, session: Session) -> SharedRun:
        agent = run_agent(session.client)  # the Session keeps it as "name/version"
        shared = self._shared
        if shared is None or shared.agent != agent:
            # Here, at the first call: ``ztmcp run``'s first answers need none of the store.
            from ztmcp.behaviour.store import RunStore, SharedRun

            if shared is not None:
                shared.store.close()
            shared = self._shared = SharedRun(RunStore(self.path), agent)
        return shared

    @property
    def shared(self) -> SharedRun | None:
        """This session's view of the run (None before its first call)."""
        return self._shared

    # -- the Session's side ---------------------------------------------------------------

    def context(self, session: Session, msg: Message, now: float) -> RunState | None:
        """The run for the checks of a ``tools/call`` request; None for anything else."""
        if not _is_call(msg):
            return None
        if self.check.judge is not None:  # every call, relevant to a flow or not
            self.check.judge.observe(
                self._agent_of(session), session.server, msg, len(msg.raw), now
            )
        if not self._relevant(session, msg):
            return None
        return self._run(session).sync(now)

    def _agent_of(self, session: Session) -> str:
        cached = self._agent
        if cached is None or cached[0] != session.client:
            cached = self._agent = (session.client, reader_agent(session.client))
        return cached[1]

    def _relevant(self, session: Session, msg: Message) -> bool:
        tool = msg.tool_name or ""
        return self.check.relevant(session.server, tool, session.surface.tools.get(tool))

    def decided(
        self,
        session: Session,
        msg: Message,
        request: Message | None,
        shown: Message,
        decision: Decision,
        now: float,
    ) -> dict[str, Any] | None:
        """Record what the Decision lets through; an audit event when grants were revoked or
        an elicitation answer was learned."""
        outcome = decision.outcome.value
        event = (
            self._elicitation(session, msg, request, shown, now)
            if outcome in _FORWARDED and self.check.elicitation
            else None
        )
        if _is_call(msg):
            if outcome in _FORWARDED:
                tool = msg.tool_name or ""
                ref = (
                    self._run(session).call(session.server, tool, now)
                    if self._relevant(session, msg)
                    else None
                )
                if len(self._calls) >= MAX_CALLS:
                    self._calls.pop(next(iter(self._calls)))
                self._calls[id(msg)] = (msg, ref)
            elif outcome == "denied":
                from ztmcp.behaviour.response import should_revoke  # with the grants store

                if should_revoke(decision.verdicts, self.check.revoke):
                    return self._revoke(session, decision.verdicts, now)
            return event
        if request is None or msg.kind is not Kind.RESPONSE:
            return event
        if not _is_call(request):
            return event
        pending = self._calls.pop(id(request), None)
        if pending is None or pending[0] is not request:
            # Every forwarded call was recorded (or refused): this one was dropped over the
            # bound, and a result the run cannot learn is not shown (a limit refuses).
            raise StateError(f"state: more than {MAX_CALLS} calls awaited their results")
        if outcome not in _FORWARDED:
            return None
        ref = pending[1]
        if ref is None:  # a call the run did not record: nothing to learn from its result
            return None
        result = shown.body.get("result")
        arguments = request.params.get("arguments")
        labels = self.check.labels(session.server, ref.tool, session.surface.tools.get(ref.tool))
        self._run(session).result(ref, labels, result, arguments)
        return event

    def _elicitation(
        self, session: Session, msg: Message, request: Message | None, shown: Message, now: float
    ) -> dict[str, Any] | None:
        """Learn the person's words from a forwarded elicitation answer (both protocol eras);
        remember the elicitations a forwarded ``input_required`` result embeds."""
        answers: list[tuple[list[Any], Any]] = []
        if msg.kind is Kind.REQUEST and msg.method == ELICIT and shown is not msg:
            # A check rewrote the form: the client saw this one (the server's words are both).
            if len(self._rewritten) >= MAX_REWRITTEN:
                # A limit refuses: once a rewritten form was dropped, no handshake-era answer
                # of this session can be told apart from its answer, so none teaches.
                self._rewritten.pop(next(iter(self._rewritten)))
                self._rewritten_lost = True
            self._rewritten[_id(msg)] = shown.body
            return None
        if msg.kind is Kind.RESPONSE and request is not None:
            if msg.direction is Direction.TO_SERVER and request.method == ELICIT:
                # What the server asked (as it sent it, and as a check rewrote it for the
                # client) and what the server is sent back.
                forms = [request.body]
                rewritten = self._rewritten.pop(_id(request), None)
                if rewritten is not None:
                    forms.append(rewritten)
                if rewritten is not None or not self._rewritten_lost:
                    answers.append((forms, shown.body.get("result")))
            elif msg.direction is Direction.TO_CLIENT and request.method in RETRIED:
                result = shown.body.get("result")
                state = request_state(result)
                sent = input_requests(msg.body.get("result"))  # before any check rewrote it
                for key, asked in input_requests(result).items():
                    # Awaiting the retry, in any Session of this pipeline (``AskedForms``);
                    # the server's words are the form as it sent it and as the client saw it.
                    slot = (request.method, _target(request), key, state)
                    self.check.asked.ask(slot, asked)
                    if key in sent and sent[key] != asked:
                        self.check.asked.ask(slot, sent[key])
        elif (
            msg.kind is Kind.REQUEST
            and msg.direction is Direction.TO_SERVER
            and msg.method in RETRIED
            and len(self.check.asked)
        ):
            # Only an answer to an elicitation this server embedded for this very request
            # counts, once: a key the server never asked for is nobody's form.
            state = request_state(shown.params)
            for key, answer in input_responses(shown.params).items():
                forms = self.check.asked.answer((msg.method, _target(msg), key, state))
                if forms:
                    answers.append((forms, answer))
        if not answers:
            return None
        shared = self._run(session)
        learned = sum(
            shared.elicited(session.server, forms[0], answer, now, also=forms[1:])
            for forms, answer in answers
        )
        if not learned:
            return None
        return {"event": "flow.elicited", "agent": shared.agent[:120], "fingerprints": learned}

    def _revoke(self, session: Session, verdicts: Sequence[Verdict], now: float) -> dict[str, Any]:
        from ztmcp.behaviour.response import revoke_run_grants
        from ztmcp.state.grants import GrantStore

        shared = self._run(session)
        store = GrantStore(self.path)
        try:
            revoked = revoke_run_grants(store, shared.sync(now), also=(session.server,))
        finally:
            store.close()
        rule = next(v.rule for v in verdicts if v.check == "flow")
        return {
            "event": "flow.revoke",
            "rule": rule,
            "agent": shared.agent[:120],
            "grant.ids": [g.id for g in revoked],
        }

    # -- as an Edge: nothing to hold, nothing on listings ---------------------------------

    def hold(self, session: Session, msg: Message, denial: Verdict) -> None:
        return None

    def allowed(self, session: Session, verdicts: Sequence[Verdict], now: float) -> None:
        return None

    def listed(self, page: ListedPage) -> None:
        return None

    def close(self) -> None:
        self._calls.clear()
        self._rewritten.clear()
        if self._shared is not None:
            self._shared.store.close()
            self._shared = None
