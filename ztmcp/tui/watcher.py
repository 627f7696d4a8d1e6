"""What the TUI watches, without Textual: an incremental tail of every audit log, and row
formatting for the tables. Pure reading: it never writes a file and never locks one, so a slow
or absent TUI cannot hold a proxy up.

The tail keeps a byte offset per session file and reads only what was appended since the last
poll (a ``stat`` per file when nothing changed); a line without its newline yet waits for the
next poll. A line that is not a JSON object is counted and reported, never raised.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ztmcp.durations import format_duration
from ztmcp.outcomes import label
from ztmcp.terminal import safe, safe_lines

_OWN_LOGS: Final = frozenset({"ztmcp-cli", "ztmcp-tui"})  # grant/revoke logs, not servers
CAP: Final = 5000  # traffic rows kept in memory and on screen
_MAX_READ: Final = 8 * 1024 * 1024  # bytes read from one file per poll (the rest: next poll)


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit record and where it came from (file name, line number)."""

    key: str
    record: dict[str, Any]


@dataclass(slots=True)
class _File:
    offset: int = 0
    line: int = 0


@dataclass(slots=True)
class Batch:
    """What one poll found."""

    entries: list[Entry] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)  # "file:line" of lines that did not parse
    errors: list[str] = field(default_factory=list)  # unreadable files, one line each


def _cutoff_ts(since: float | None) -> str | None:
    if since is None:
        return None
    return datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stamp(entry: Entry) -> str:
    """An entry's time as it sorts (the record's ISO ``ts``; a record without one counts as
    arriving now, after everything read so far)."""
    ts = entry.record.get("ts")
    return ts if isinstance(ts, str) else "\uffff"


class AuditTail:
    """Follows every ``*.jsonl`` session log in ``directory``, oldest file first.

    ``since`` (epoch seconds) skips older records, and files last written before it are not
    read at all. The first poll returns at most ``cap`` entries (the newest).
    """

    def __init__(self, directory: Path, *, since: float | None = None, cap: int = CAP) -> None:
        self.directory = directory
        self.cap = cap
        self._since = since
        self._cutoff = _cutoff_ts(since)
        self._files: dict[str, _File] = {}
        self._first = True

    def poll(self) -> Batch:
        batch = Batch()
        try:
            names = sorted(
                e.name
                for e in os.scandir(self.directory)
                if e.name.endswith(".jsonl") and e.is_file()
            )
        except FileNotFoundError:
            names = []
        except OSError as exc:
            batch.errors.append(f"cannot list {self.directory}: {exc.strerror}")
            names = []
        for name in names:
            self._read(name, batch)
        # Sessions write at once: file by file is not time order. ISO stamps sort as text.
        batch.entries.sort(key=stamp)
        if self._first:
            self._first = False
            if len(batch.entries) > self.cap:
                batch.entries = batch.entries[-self.cap :]
        return batch

    def _read(self, name: str, batch: Batch) -> None:
        path = self.directory / name
        state = self._files.get(name)
        try:
            st = path.stat()
        except OSError as exc:
            batch.errors.append(f"cannot read {name}: {exc.strerror}")
            return
        if state is None:
            state = self._files[name] = _File()
            if self._since is not None and st.st_mtime < self._since:
                state.offset = st.st_size  # nothing in it is new enough: follow from its end
                return
        if st.st_size < state.offset:  # replaced or truncated: start over
            state.offset = 0
            state.line = 0
            batch.errors.append(f"{name} shrank: read again from its start")
        if st.st_size == state.offset:
            return
        try:
            with path.open("rb") as handle:
                handle.seek(state.offset)
                data = handle.read(min(st.st_size - state.offset, _MAX_READ))
        except OSError as exc:
            batch.errors.append(f"cannot read {name}: {exc.strerror}")
            return
        complete = data.rfind(b"\n") + 1
        state.offset += complete
        for raw in data[:complete].splitlines():
            state.line += 1
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: nesting 1000+ deep
                batch.corrupt.append(f"{name}:{state.line}")
                continue
            if not isinstance(record, dict):
                batch.corrupt.append(f"{name}:{state.line}")
                continue
            if self._cutoff is not None and str(record.get("ts", "")) < self._cutoff:
                continue
            batch.entries.append(Entry(f"{name}:{state.line}", record))


class Recent:
    """The newest ``cap`` entries by key, for the detail pane."""

    def __init__(self, cap: int = CAP) -> None:
        self.cap = cap
        self._order: deque[str] = deque()
        self._by_key: dict[str, dict[str, Any]] = {}

    def add(self, entries: Iterable[Entry]) -> list[str]:
        """Add entries; returns the keys that fell off the front."""
        dropped: list[str] = []
        for entry in entries:
            self._order.append(entry.key)
            self._by_key[entry.key] = entry.record
        while len(self._order) > self.cap:
            key = self._order.popleft()
            self._by_key.pop(key, None)
            dropped.append(key)
        return dropped

    def get(self, key: str) -> dict[str, Any] | None:
        return self._by_key.get(key)

    def keys(self) -> list[str]:
        return list(self._order)

    def __len__(self) -> int:
        return len(self._order)


# -- formatting -----------------------------------------------------------------------------

TRAFFIC_COLUMNS: Final = ("time", "server", "method", "tool", "µs", "outcome")


def traffic_row(record: Mapping[str, Any]) -> tuple[str, ...]:
    """One record as table cells: when, where, which way and what (→ to the server, ← to the
    client, · not a message), the check time in µs, the outcome and the first rule."""
    ts = str(record.get("ts", ""))
    when = ts[11:23] if len(ts) >= 23 else ts
    event = str(record.get("event", "?"))
    server = str(record.get("server") or "")[:24]
    if event in ("egress", "egress.end"):  # the sandbox's egress gate: ztmcp/sandbox/visible.py
        from ztmcp.sandbox.visible import row as egress_row

        return egress_row(record, when)
    if event != "message":
        tool = str(record.get("gen_ai.tool.name") or "")
        detail = str(record.get("grant.id") or record.get("reason") or record.get("mode") or "")
        cells = (when, server, f"· {event}", tool[:40], "", detail[:40])
        return tuple(safe(cell) for cell in cells)
    direction = record.get("direction")
    arrow = "→" if direction == "to_server" else "←" if direction == "to_client" else "?"
    method = str(record.get("mcp.method.name") or record.get("kind") or "?")
    tool = str(record.get("gen_ai.tool.name") or "")
    outcome = label(record)
    verdicts = record.get("verdicts")
    if isinstance(verdicts, list) and verdicts and isinstance(verdicts[0], dict):
        outcome += f" {verdicts[0].get('rule', '')}"
        if len(verdicts) > 1:
            outcome += f" +{len(verdicts) - 1}"
    check_us = record.get("check_us")
    latency = f"{check_us:.0f}" if isinstance(check_us, int | float) else ""
    cells = (when, server, f"{arrow} {method[:40]}", tool[:40], latency, outcome[:48])
    return tuple(safe(cell) for cell in cells)  # records carry what servers and agents sent


def pretty(record: Mapping[str, Any]) -> str:
    return safe_lines(json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True))


def findings(record: Mapping[str, Any]) -> list[str]:
    """The checks' verdicts as lines: severity, check/rule, reason, evidence (redacted)."""
    lines: list[str] = []
    verdicts = record.get("verdicts")
    if not isinstance(verdicts, list):
        return lines
    for verdict in verdicts:
        if not isinstance(verdict, dict):
            continue
        line = (
            f"{verdict.get('severity', '?')} {verdict.get('action', '?')} "
            f"{verdict.get('rule', '?')}: {verdict.get('reason', '')}"
        )
        line = safe(line)
        if verdict.get("evidence"):
            line += f"\n    evidence: {safe(verdict['evidence'])}"
        lines.append(line)
    return lines


def countdown(expires: float, now: float) -> str:
    """Time left in whole seconds, rounded up so it reads 0s only once it is over."""
    left = expires - now
    if left <= 0:
        return "0s"
    return format_duration(int(-(-left // 1)))


@dataclass(slots=True)
class ServerSeen:
    """What the audit log says about one server."""

    sessions: int = 0
    last: str = ""
    pin_findings: int = 0
    last_pin_rule: str = ""
    last_pin_evidence: str = ""


def observe_servers(seen: dict[str, ServerSeen], entries: Iterable[Entry]) -> None:
    """Fold proxy records into per-server facts (sessions, pin findings)."""
    for entry in entries:
        record = entry.record
        server = record.get("server")
        if not isinstance(server, str) or record.get("event") not in ("session.start", "message"):
            continue
        if server in _OWN_LOGS:
            continue
        facts = seen.setdefault(server, ServerSeen())
        facts.last = str(record.get("ts", ""))
        if record.get("event") == "session.start":
            facts.sessions += 1
        verdicts = record.get("verdicts")
        if isinstance(verdicts, list):
            for verdict in verdicts:
                if isinstance(verdict, dict) and verdict.get("check") == "pins":
                    facts.pin_findings += 1
                    facts.last_pin_rule = str(verdict.get("rule", ""))
                    facts.last_pin_evidence = str(verdict.get("evidence") or "")
