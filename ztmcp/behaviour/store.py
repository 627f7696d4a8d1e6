"""The agent run shared between ``ztmcp run`` processes through the state database.

Each MCP server runs in its own ``ztmcp run`` process, but one agent run spans all of them, so
the run lives in ``$ZTMCP_HOME/state.db`` (``ztmcp.state.db`` conventions): table
``behaviour_runs`` (one row a run: agent, key, start, last activity) and ``behaviour_events``
(what each process learned, in order: user turns, calls, result fingerprints with the
tool's labels). ``SharedRun`` is one process's view: before each check it reads the events
other processes appended since its last read (one indexed query) into its ``RunState``.
Only keyed fingerprints, labels and tool names are stored, never content. A failure to read
or write raises ``StateError``: the caller refuses the message in hand (fail closed).
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ztmcp.behaviour.capabilities import Label
from ztmcp.behaviour.elicited import ELICIT, person_prints
from ztmcp.behaviour.run import IDLE_GAP, CallRef, RunState
from ztmcp.state.db import StateError, TableStore, transaction

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS behaviour_runs (
        run_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        key BLOB NOT NULL,          -- the run's fingerprint key (state.db is private, 0600)
        started REAL NOT NULL,
        last REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS behaviour_runs_agent ON behaviour_runs (agent, last)",
    """CREATE TABLE IF NOT EXISTS behaviour_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        at REAL NOT NULL,
        kind TEXT NOT NULL,         -- "user" | "call" | "result" (a "user" event with a
                                    -- server: that server's elicitation, answered)
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        labels TEXT NOT NULL,       -- comma-separated capability labels (results)
        call_seq INTEGER,           -- for a result: the seq of its call
        directed INTEGER NOT NULL DEFAULT 0,
        prints BLOB NOT NULL        -- 8-byte big-endian keyed fingerprints
    )""",
    "CREATE INDEX IF NOT EXISTS behaviour_events_run ON behaviour_events (run_id, seq)",
)


def _pack(prints: Iterable[int]) -> bytes:
    return b"".join(p.to_bytes(8, "big") for p in prints)


def _unpack(blob: bytes) -> list[int]:
    return [int.from_bytes(blob[i : i + 8], "big") for i in range(0, len(blob), 8)]


class RunStore(TableStore):
    SCHEMA = _SCHEMA

    def _db(self) -> sqlite3.Connection:
        conn = self._connect(create=True)
        assert conn is not None
        return conn

    _LATEST: Final = (
        "SELECT run_id, key, started, last FROM behaviour_runs WHERE agent = ? "
        "ORDER BY last DESC LIMIT 1"
    )

    def current(self, agent: str, now: float, gap: float = IDLE_GAP) -> tuple[str, bytes, float]:
        """The agent's open run (its last call within ``gap``), or a new one. A read while
        the run is open (the check's path); a write transaction only to open a new run."""
        try:
            row = self._db().execute(self._LATEST, (agent,)).fetchone()
            if row is not None and now - float(row[3]) <= gap:
                return str(row[0]), bytes(row[1]), float(row[2])
            with transaction(self._db()) as conn:
                row = conn.execute(self._LATEST, (agent,)).fetchone()  # another process first?
                if row is not None and now - float(row[3]) <= gap:
                    return str(row[0]), bytes(row[1]), float(row[2])
                run_id, key = secrets.token_hex(8), secrets.token_bytes(32)
                conn.execute(
                    "INSERT INTO behaviour_runs VALUES (?, ?, ?, ?, ?)",
                    (run_id, agent, key, now, now),
                )
                return run_id, key, now
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None

    def append(
        self,
        run_id: str,
        at: float,
        kind: str,
        server: str,
        tool: str,
        *,
        labels: Iterable[Label] = (),
        call_seq: int | None = None,
        directed: bool = False,
        prints: Iterable[int] = (),
    ) -> int:
        try:
            with transaction(self._db()) as conn:
                cur = conn.execute(
                    "INSERT INTO behaviour_events (run_id, at, kind, server, tool, labels, "
                    "call_seq, directed, prints) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        at,
                        kind,
                        server,
                        tool,
                        ",".join(sorted(labels)),
                        call_seq,
                        int(directed),
                        _pack(prints),
                    ),
                )
                seq = cur.lastrowid
                if kind == "call":  # a call keeps the run open
                    conn.execute(
                        "UPDATE behaviour_runs SET last = MAX(last, ?) WHERE run_id = ?",
                        (at, run_id),
                    )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        if seq is None:
            raise StateError("state: the run event was not recorded")
        return int(seq)

    def events(self, run_id: str, after: int) -> list[tuple[Any, ...]]:
        try:
            return (
                self._db()
                .execute(
                    "SELECT seq, at, kind, server, tool, labels, call_seq, directed, prints "
                    "FROM behaviour_events WHERE run_id = ? AND seq > ? ORDER BY seq",
                    (run_id, after),
                )
                .fetchall()
            )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None


@dataclass(slots=True)
class SharedRun:
    """One process's view of its agent's current run (see the module docstring)."""

    store: RunStore
    agent: str
    gap: float = IDLE_GAP
    state: RunState | None = None
    cursor: int = 0
    # The run's calls by their event seq (results name their call by it); a CallRef's index
    # is its position in the run, across every process and server, as in ``RunState``.
    by_seq: dict[int, CallRef] = field(default_factory=dict)

    @classmethod
    def open(cls, agent: str, path: Path | None = None, gap: float = IDLE_GAP) -> SharedRun:
        return cls(RunStore(path), agent, gap)

    def sync(self, now: float) -> RunState:
        """The current run, with everything every process recorded in it so far."""
        run_id, key, started = self.store.current(self.agent, now, self.gap)
        if self.state is None or self.state.run_id != run_id:
            self.state, self.cursor = RunState.new(self.agent, started, run_id, key), 0
            self.by_seq = {}
        state, calls = self.state, self.by_seq
        for seq, at, kind, server, tool, labels, call_seq, directed, blob in self.store.events(
            run_id, self.cursor
        ):
            prints = _unpack(bytes(blob))
            if kind == "user":
                state.learn_named(prints)
            elif kind == "call":
                ref = state.note_call(str(server), str(tool), float(at))
                calls[int(seq)] = ref
            elif kind == "result":
                ref = calls.get(int(call_seq)) or CallRef(0, str(server), str(tool), float(at))
                found = frozenset(Label(x) for x in str(labels).split(",") if x)
                state.learn(ref, found, prints, directed=bool(directed))
            self.cursor = int(seq)
        return state

    def user(self, text: str, now: float) -> None:
        state = self.sync(now)
        self.store.append(state.run_id, now, "user", "", "", prints=state.user_prints(text))
        self.sync(now)

    def elicited(
        self, server: str, request: Any, result: Any, now: float, also: Sequence[Any] = ()
    ) -> int:
        """An elicitation answer from ``server``'s form: the person's words in it
        (``RunState.note_elicited``; ``also``: other forms it may answer) appended as a user
        event naming the eliciting server; how many fingerprints (none: nothing written)."""
        state = self.sync(now)
        prints = person_prints(state.hasher, request, result, also=also)
        if prints:
            self.store.append(state.run_id, now, "user", server, ELICIT, prints=prints)
            self.sync(now)
        return len(prints)

    def call(self, server: str, tool: str, now: float) -> CallRef:
        state = self.sync(now)
        seq = self.store.append(state.run_id, now, "call", server, tool)
        self.sync(now)
        ref = self.by_seq.get(seq)
        if ref is None or self.state is not state:
            raise StateError("state: the call was recorded in another run (the run rotated)")
        return ref

    def _seq(self, ref: CallRef) -> int:
        for seq in reversed(self.by_seq):  # the newest calls first: results follow their calls
            if self.by_seq[seq] is ref:
                return seq
        raise StateError(f"state: call {ref.describe()} is not in the current run")

    def result(
        self,
        ref: CallRef,
        labels: frozenset[Label],
        result: Any,
        arguments: Any = None,
    ) -> None:
        state = self.sync(ref.at)
        directed = state.directed(arguments)
        self.store.append(
            state.run_id,
            ref.at,
            "result",
            ref.server,
            ref.tool,
            labels=labels,
            call_seq=self._seq(ref),
            directed=directed,
            prints=state.result_prints(result, arguments),
        )
        self.sync(ref.at)
