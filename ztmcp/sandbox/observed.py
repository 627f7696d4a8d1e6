"""What sandboxed servers reached, kept in ztmcp's state: learned profiles and egress drift.

Two kinds of rows in table ``sandbox_observed`` of ``$ZTMCP_HOME/state.db``:

- ``LEARNED``: under ``ztmcp run --sandbox --learn``, every destination the server reached
  through the egress gate (``net``, ``host:port``, and the TLS server name it asked for) and the
  path grants it ran with (``read``/``write``: paths are not observed, see docs/sandbox.md).
  Learning only adds, over as many runs as it takes; ``ztmcp pin NAME`` writes the union into
  the lock (``pinned.PinnedProfile``) and then forgets it.
- ``DRIFT``: a destination a server with a pinned profile tried that the pin does not allow,
  with the pin's digest; ``ztmcp diff NAME`` shows it, ``ztmcp pin`` forgets it.

A repeat only bumps ``seen`` and ``last_seen``. Every failure is a one-line ``StateError``;
readers never create the database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Final

from ztmcp.state.db import StateError, TableStore, transaction

LEARNED: Final = "learned"
DRIFT: Final = "drift"
WHATS: Final = ("net", "read", "write")

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS sandbox_observed (
        server TEXT NOT NULL,
        kind TEXT NOT NULL,          -- learned | drift
        what TEXT NOT NULL,          -- net | read | write
        value TEXT NOT NULL,         -- host:port, or a path grant
        pinned_digest TEXT NOT NULL, -- the pinned profile's digest ('' when none)
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        seen INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (server, kind, what, value, pinned_digest)
    )""",
)


@dataclass(frozen=True, slots=True)
class Seen:
    server: str
    kind: str
    what: str
    value: str
    pinned_digest: str
    first_seen: float
    last_seen: float
    seen: int


class SandboxObservations(TableStore):
    """Learned profiles and egress drift. One per thread (not thread-safe)."""

    SCHEMA = _SCHEMA

    def record(
        self, server: str, kind: str, what: str, value: str, now: float, *, pinned: str = ""
    ) -> None:
        if kind not in (LEARNED, DRIFT) or what not in WHATS:
            raise StateError(f"unknown sandbox observation {kind}/{what}")
        conn = self._connect(create=True)
        assert conn is not None
        try:
            with transaction(conn):
                conn.execute(
                    "INSERT INTO sandbox_observed (server, kind, what, value, pinned_digest, "
                    "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO UPDATE SET last_seen = excluded.last_seen, seen = seen + 1",
                    (server, kind, what, value, pinned, now, now),
                )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None

    def rows(self, server: str, kind: str) -> list[Seen]:
        conn = self._connect(create=False)
        if conn is None:
            return []
        try:
            found = conn.execute(
                "SELECT server, kind, what, value, pinned_digest, first_seen, last_seen, seen "
                "FROM sandbox_observed WHERE server = ? AND kind = ? ORDER BY what, value",
                (server, kind),
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        return [Seen(*row) for row in found]

    def forget(self, server: str) -> int:
        """Forget everything about ``server`` (after ``ztmcp pin``); how many rows went."""
        conn = self._connect(create=False)
        if conn is None:
            return 0
        try:
            with transaction(conn):
                cur = conn.execute("DELETE FROM sandbox_observed WHERE server = ?", (server,))
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        return int(cur.rowcount)
