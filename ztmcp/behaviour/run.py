"""The agent run: the unit the behaviour layer watches (docs/behaviour.md).

The 2026-07-28 protocol has no session, so a run is defined in ztmcp's terms: one **agent
identity** over one **period of activity**, across every MCP server it uses. The identity is
``ZTMCP_AGENT`` when set, else the client's name and version from the handshake; the servers
are not part of it, because one agent run spans all of them (each ``ztmcp run`` process sees
one server and shares the run through the state database, ``ztmcp.behaviour.store``). A run
closes after ``IDLE_GAP`` seconds without a call from that identity; the next call opens a
new run with a new fingerprint key.

``RunState`` is plain data, written only by the tracker (an edge) and read by the flow check
through ``ctx.extra["run"]``; it keeps fingerprints, labels and call names, never content.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ztmcp.behaviour.capabilities import Label
from ztmcp.behaviour.elicited import person_prints
from ztmcp.behaviour.fingerprint import Keyed

IDLE_GAP: Final = 30 * 60.0  # seconds without a call that close a run
AGENT_ENV: Final = "ZTMCP_AGENT"
MAX_FINGERPRINTS: Final = 1 << 20  # per run; beyond that the run refuses to learn (fail closed)

# How a fingerprint was seen (bit flags).
UNTRUSTED: Final = 1  # in the result of an untrusted_content tool
PRIVATE: Final = 2  # in the result of a private_data tool
VOUCHED: Final = 4  # in the result of a labelled tool that is not untrusted_content
NAMED: Final = 8  # in the user's own words (a user turn, when the LLM edge reports one)
# In the untrusted result of a call the user pointed at (every argument in the user's words:
# "read bill-december.txt", "visit www.dora-website.com"): the user asked for this content.
DIRECTED: Final = 16


def agent_identity(
    client: str | None, version: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """``ZTMCP_AGENT`` if set, else ``client/version`` from the handshake (``unknown``)."""
    named = (env if env is not None else os.environ).get(AGENT_ENV, "").strip()
    if named:
        return named
    if not client:
        return "unknown"
    return f"{client}/{version}" if version else client


@dataclass(frozen=True, slots=True)
class CallRef:
    index: int  # position in the run, from 1
    server: str
    tool: str
    at: float

    def describe(self) -> str:
        return f"#{self.index} {self.server}/{self.tool}"


class RunFull(Exception):
    """The run cannot learn more: the caller refuses what it cannot record."""


@dataclass(slots=True)
class RunState:
    run_id: str
    agent: str
    key: bytes
    started: float
    last: float
    calls: list[CallRef] = field(default_factory=list)
    first_private: CallRef | None = None
    first_untrusted: CallRef | None = None
    seen: dict[int, int] = field(default_factory=dict)  # fingerprint -> flags
    came_from: dict[int, CallRef] = field(default_factory=dict)  # first untrusted/private call
    _hasher: Keyed | None = None

    @classmethod
    def new(
        cls, agent: str, now: float, run_id: str | None = None, key: bytes | None = None
    ) -> RunState:
        return cls(run_id or secrets.token_hex(8), agent, key or secrets.token_bytes(32), now, now)

    @property
    def hasher(self) -> Keyed:
        if self._hasher is None:
            self._hasher = Keyed(self.key)
        return self._hasher

    def idle(self, now: float, gap: float = IDLE_GAP) -> bool:
        return now - self.last > gap

    # -- learning (the tracker's side) ----------------------------------------------------

    def note_user(self, text: str) -> None:
        """A user turn: the values and the words the user named themself."""
        self.learn_named(self.user_prints(text))

    def user_prints(self, text: str) -> frozenset[int]:
        return self.hasher.of((text,)) | self.hasher.words(text)

    def learn_named(self, prints: Iterable[int]) -> None:
        self._learn(prints, NAMED, None)

    def note_elicited(self, request: Any, result: Any, also: Iterable[Any] = ()) -> frozenset[int]:
        """An answer to an elicitation (``request``: ``{"method", "params"}`` as the server
        sent it): what the person typed into the form, less everything the server said in its
        request (and in ``also``), is learned as the user's own words
        (``ztmcp.behaviour.elicited``)."""
        prints = person_prints(self.hasher, request, result, also=also)
        self.learn_named(prints)
        return prints

    def note_call(self, server: str, tool: str, now: float) -> CallRef:
        ref = CallRef(len(self.calls) + 1, server, tool, now)
        self.calls.append(ref)
        self.last = max(self.last, now)
        return ref

    def note_result(
        self, ref: CallRef, labels: Iterable[Label], result: Any, arguments: Any = None
    ) -> None:
        directed = self.directed(arguments)
        self.learn(ref, frozenset(labels), self.result_prints(result, arguments), directed=directed)

    def result_prints(self, result: Any, arguments: Any = None) -> frozenset[int]:
        """What a result teaches the run: its distinctive values, less the values of the call's
        own arguments. A source that echoes what it was asked (``fetch(url)`` answering with the
        url) did not write those values; they came from the agent, and marking them as the
        source's would make the agent's next use of its own value look injected. A value the
        run already holds keeps every mark it had: this only stops a new one."""
        prints = self.hasher.of_json(result)
        if arguments is None:
            return prints
        return prints - self.hasher.of_json(arguments)

    def argument_prints(self, arguments: Any) -> frozenset[int]:
        """What a call's arguments are made of: their distinctive values and, for an argument
        that is one plain word (``user = "Bob"``), that word's key."""
        prints = self.hasher.of_json(arguments)
        if isinstance(arguments, Mapping):
            words = {self.hasher.name_key(v) for v in arguments.values()}
            prints |= {w for w in words if w is not None}
        return prints

    def directed(self, arguments: Any) -> bool:
        """The user pointed at this source: the call has arguments and every distinctive
        value or plain-word argument is in the user's own words (``read bill-december.txt``,
        ``read Bob's inbox``, ``visit www.x.com``)."""
        if arguments is None:
            return False
        prints = self.argument_prints(arguments)
        return bool(prints) and all(self.seen.get(fp, 0) & NAMED for fp in prints)

    def learn(
        self,
        ref: CallRef,
        labels: frozenset[Label],
        prints: Iterable[int],
        *,
        directed: bool = False,
    ) -> None:
        if not labels:
            # A tool with no capability label is unknown, not trusted: its result vouches for
            # nothing (zero trust), and so the flow edge need not record it at all.
            return
        flags = 0
        if Label.UNTRUSTED in labels:
            flags |= UNTRUSTED
            if self.first_untrusted is None:
                self.first_untrusted = ref
        if Label.UNTRUSTED not in labels:
            flags |= VOUCHED
        elif directed:
            flags |= DIRECTED
        if Label.PRIVATE in labels:
            flags |= PRIVATE
            if self.first_private is None:
                self.first_private = ref
        self._learn(prints, flags, ref)

    def _learn(self, prints: Iterable[int], flags: int, ref: CallRef | None) -> None:
        seen, came_from = self.seen, self.came_from
        for fp in prints:
            old = seen.get(fp)
            if old is None:
                if len(seen) >= MAX_FINGERPRINTS:
                    raise RunFull(f"run {self.run_id} holds {MAX_FINGERPRINTS} fingerprints")
                seen[fp] = flags
                if ref is not None and flags & (UNTRUSTED | PRIVATE):
                    came_from[fp] = ref
            else:
                seen[fp] = old | flags
                if ref is not None and fp not in came_from and flags & (UNTRUSTED | PRIVATE):
                    came_from[fp] = ref


class RunTracker:
    """The runs of this process, by agent identity; a new run after ``gap`` idle seconds."""

    def __init__(self, gap: float = IDLE_GAP) -> None:
        self.gap = gap
        self._runs: dict[str, RunState] = {}

    def run(self, agent: str, now: float) -> RunState:
        current = self._runs.get(agent)
        if current is None or current.idle(now, self.gap):
            current = RunState.new(agent, now)
            self._runs[agent] = current
        return current
