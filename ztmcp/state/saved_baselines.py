"""The learned baselines saved in ``state.db``, so the relay judges calls without re-reading
weeks of audit log (docs/behaviour.md, "Anomalies in the relay").

``ztmcp baseline --save`` (and the TUI when it learns) writes, per (agent, server, tool),
what the relay's judge needs of a ``Baseline``: the calls it rests on, the most calls in any
window, the largest argument and result sizes and the UTC hours of activity; and once, when
it was learned (the time of the newest record learned from). A save replaces the whole set
in one transaction: a reader sees the old set or the new one, never a mix.

The table is a state file, so it is read as untrusted input: every row is checked (types,
ranges, lengths, how many); one bad row makes ``load`` raise ``StateError`` with one line
saying what and how to repair it, never a partial set. No table, or no save yet: ``None``
(nothing learned).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ztmcp.state.baselines import Baseline, Key, Learned
from ztmcp.state.db import TABLES, StateError, TableStore, transaction

VERSION: Final = 1
MAX_ROWS: Final = 100_000  # (agent, server, tool) baselines kept; a larger set is refused
MAX_NAME: Final = 400  # characters of an agent, server or tool name
MAX_COUNT: Final = 2**53  # a count or size read back (an integer a float can hold)
HOURS: Final = (1 << 24) - 1  # the hours of activity as a 24-bit mask
_REPAIR: Final = "run `ztmcp baseline --save` to learn it again"


@dataclass(frozen=True, slots=True)
class Saved:
    learned: Learned
    learned_at: float  # the newest record it was learned from (seconds)
    saved_at: float


def _mask(hours: set[int]) -> int:
    return sum(1 << h for h in hours if 0 <= h < 24)


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < MAX_COUNT:
        raise ValueError(f"{what} is not a count")
    return value


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise ValueError(f"{what} is not a name")
    return value


def _time(value: Any, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{what} is not a time")
    if not math.isfinite(value) or not 0 <= value < 253_402_300_800:
        raise ValueError(f"{what} is not a time")
    return float(value)


class BaselineStore(TableStore):
    """The saved baselines (one set per state database)."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS baseline_meta ("
        " id INTEGER PRIMARY KEY CHECK (id = 1),"
        " version INTEGER NOT NULL, learned_at REAL NOT NULL, saved_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS baselines ("
        " agent TEXT NOT NULL, server TEXT NOT NULL, tool TEXT NOT NULL,"
        " calls INTEGER NOT NULL, max_rate INTEGER NOT NULL, max_args INTEGER NOT NULL,"
        " max_result INTEGER NOT NULL, hours INTEGER NOT NULL,"
        " PRIMARY KEY (agent, server, tool))",
    )

    def save(self, tools: Mapping[Key, Baseline], learned_at: float, now: float) -> int:
        """Replace the saved set with ``tools``; how many were saved. More than ``MAX_ROWS``
        is refused (a limit refuses, never saves a part)."""
        if len(tools) > MAX_ROWS:
            raise StateError(
                f"baselines: {len(tools)} (agent, server, tool) baselines, at most {MAX_ROWS} "
                "are saved",
                hint="learn from fewer audit logs (ztmcp baseline --dir)",
            )
        rows = [
            (
                k[0][:MAX_NAME],
                k[1][:MAX_NAME],
                k[2][:MAX_NAME],
                min(b.calls, MAX_COUNT - 1),
                min(b.max_rate, MAX_COUNT - 1),
                min(b.max_args, MAX_COUNT - 1),
                min(b.max_result, MAX_COUNT - 1),
                _mask(b.hours),
            )
            for k, b in tools.items()
        ]
        conn = self._connect(create=True)
        assert conn is not None
        try:
            with transaction(conn):
                conn.execute("DELETE FROM baselines")
                conn.executemany(
                    "INSERT OR REPLACE INTO baselines VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
                conn.execute(
                    "INSERT OR REPLACE INTO baseline_meta VALUES (1, ?, ?, ?)",
                    (VERSION, learned_at, now),
                )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        return len(rows)

    def saved_at(self) -> float | None:
        """When the set was last saved (one small read: has it changed?); None: never."""
        try:
            conn = self._connect(create=False)
            if conn is None:
                return None
            row = conn.execute("SELECT saved_at FROM baseline_meta WHERE id = 1").fetchone()
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        except UnicodeDecodeError:  # as in ``load``: a damaged file, said in one line
            raise TABLES.damaged(self.path) from None
        if row is None:
            return None
        try:
            return _time(row[0], "saved_at")
        except ValueError as exc:
            raise TABLES.error(self.path, f"saved baselines: {exc}", hint=_REPAIR) from None

    def load(self) -> Saved | None:
        """The saved set, checked row by row; None when nothing was saved."""
        try:
            conn = self._connect(create=False)
            if conn is None:
                return None
            meta = conn.execute(
                "SELECT version, learned_at, saved_at FROM baseline_meta WHERE id = 1"
            ).fetchall()
            if not meta:
                return None
            rows = conn.execute(
                "SELECT agent, server, tool, calls, max_rate, max_args, max_result, hours "
                "FROM baselines LIMIT ?",
                (MAX_ROWS + 1,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        except UnicodeDecodeError:
            raise TABLES.damaged(self.path) from None
        try:
            return _parse(meta[0], rows)
        except ValueError as exc:
            raise TABLES.error(self.path, f"saved baselines: {exc}", hint=_REPAIR) from None


def _parse(meta: tuple[Any, ...], rows: list[tuple[Any, ...]]) -> Saved:
    version, learned_at, saved_at = meta
    if version != VERSION:
        raise ValueError(f"version {version!r}, this ztmcp reads {VERSION}")
    if len(rows) > MAX_ROWS:
        raise ValueError(f"more than {MAX_ROWS} rows")
    learned = Learned()
    for n, row in enumerate(rows, 1):
        agent, server, tool = (_name(v, f"row {n}: a name") for v in row[:3])
        calls, rate, args, result, hours = (
            _count(v, f"row {n}: {what}")
            for v, what in zip(
                row[3:], ("calls", "max_rate", "max_args", "max_result", "hours"), strict=True
            )
        )
        if hours > HOURS or rate > calls:
            raise ValueError(f"row {n}: hours or rate out of range")
        learned.tools[(agent, server, tool)] = Baseline(
            calls=calls,
            max_rate=rate,
            max_args=args,
            max_result=result,
            hours={h for h in range(24) if hours >> h & 1},
        )
    return Saved(learned, _time(learned_at, "learned_at"), _time(saved_at, "saved_at"))
