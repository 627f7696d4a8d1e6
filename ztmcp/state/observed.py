"""Observed manifests: what a server listed when the pins check withheld part of it.

``ztmcp run`` records one whenever a complete listing (all pages) had tools, prompts or
resource templates withheld by the ``pins`` check: drifted from the pin, not pinned, or a
signed pin that did not verify. ``ztmcp diff NAME --observed`` and the TUI read it to show the
per-field drift without launching the server. Stored in ``$ZTMCP_HOME/state.db`` (SQLite, WAL,
the grant store's database; this module owns only the ``observed_manifests`` table).

API (every value is a frozen dataclass; every failure is a one-line ``StateError``)::

    store = ObservedStore()              # default path: ztmcp.state.grants.db_path()
    store.record(server, manifest, now, pin=pin, kinds=("tools",))  -> Observed
    store.latest(server)                 -> Observed | None      the newest observation
    store.history(server)                -> list[Observed]       newest first, ≤ HISTORY
    store.servers()                      -> list[Observed]       latest per server, by name
    store.close()

``Observed`` fields: ``server``; ``observed_at`` (epoch seconds, first time this exact
observation was made) and ``last_seen`` / ``seen`` (a recurring identical observation bumps
these instead of adding a row); ``digest`` (of the observed manifest); ``pinned_digest`` (the
pin it was compared with, ``None`` when the server had no pin); ``kinds`` (the lists that were
observed: only those are meaningful in ``manifest``); ``drifted`` / ``unpinned`` (labels such
as ``"tool 'cleanup'"``); ``manifest`` (a ``ztmcp.manifest.Manifest`` of the observed items,
canonical). For a drift view, compare ``manifest`` with the pinned manifest
(``ztmcp.drift.drift``); when ``pinned_digest`` differs from the lock's current digest the
server was re-pinned since and the observation is stale.

Readers never create the database: with no ``state.db`` yet, ``latest`` is ``None`` and the
lists are empty.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ztmcp.state.db import TABLES, StateError, TableStore, transaction

if TYPE_CHECKING:
    from ztmcp.lockfile import Pin
    from ztmcp.manifest import Manifest

HISTORY: Final = 20  # observations kept per server (the latest and the 19 before it)
MAX_MANIFEST_BYTES: Final = 4 << 20

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS observed_manifests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        server TEXT NOT NULL,
        observed_at REAL NOT NULL,
        last_seen REAL NOT NULL,
        seen INTEGER NOT NULL DEFAULT 1,
        digest TEXT NOT NULL,
        pinned_digest TEXT,
        kinds TEXT NOT NULL,          -- JSON list: which lists were observed
        drifted TEXT NOT NULL,        -- JSON list of labels
        unpinned TEXT NOT NULL,       -- JSON list of labels
        manifest TEXT NOT NULL        -- ztmcp.manifest JSON of the observed items
    )""",
    "CREATE INDEX IF NOT EXISTS observed_by_server ON observed_manifests (server, id)",
)
_COLUMNS: Final = (
    "server, observed_at, last_seen, seen, digest, pinned_digest, kinds, drifted, unpinned, "
    "manifest"
)


@dataclass(frozen=True)
class Observed:
    server: str
    observed_at: float
    last_seen: float
    seen: int
    digest: str
    pinned_digest: str | None
    kinds: tuple[str, ...]
    drifted: tuple[str, ...]
    unpinned: tuple[str, ...]
    manifest: Manifest


def compare(
    manifest: Manifest, pin: Pin | None, kinds: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Labels of the drifted and of the unpinned items of ``kinds``, against ``pin``
    (``ztmcp.drift`` by digest; what was pinned and not listed is not counted here)."""
    from ztmcp.drift import Kind, Subject, drift
    from ztmcp.lockfile import Pin

    drifted: list[str] = []
    unpinned: list[str] = []
    against = pin if pin is not None else Pin(name="", digest="", server_digest="")
    for change in drift(against, manifest, kinds=kinds):
        if change.subject is Subject.SERVER:  # the handshake's name, version and instructions
            if pin is not None:
                drifted.append("server fields")
        elif change.kind is Kind.ADDED:
            unpinned.append(change.item)
        elif change.kind is Kind.CHANGED:
            drifted.append(change.item)
    return drifted, unpinned


class ObservedStore(TableStore):
    """Observed manifests in the state database. One per thread (not thread-safe)."""

    SCHEMA = _SCHEMA

    def record(
        self,
        server: str,
        manifest: Manifest,
        now: float,
        *,
        pin: Pin | None,
        kinds: Sequence[str] = ("tools",),
    ) -> Observed:
        """Store what ``server`` listed; a repeat of the latest observation only bumps it."""
        from ztmcp.manifest import KINDS, SERVER_KIND

        known = (*KINDS, SERVER_KIND)
        bad = [k for k in kinds if k not in known]
        if bad or not kinds:
            raise StateError(f"unknown manifest kind {bad[0] if bad else '(none)'!r}")
        text = manifest.to_json()
        if len(text.encode()) > MAX_MANIFEST_BYTES:
            raise StateError(
                f"the observed manifest of {server!r} is larger than {MAX_MANIFEST_BYTES} bytes",
                hint="it was not stored; see the audit log for the withheld names",
            )
        drifted, unpinned = compare(manifest, pin, kinds)
        digest, pinned = manifest.digest, (pin.digest if pin is not None else None)
        ordered = [k for k in known if k in kinds]
        conn = self._connect(create=True)
        assert conn is not None
        try:
            with transaction(conn):
                row = conn.execute(
                    "SELECT id, digest, pinned_digest, kinds FROM observed_manifests "
                    "WHERE server = ? ORDER BY id DESC LIMIT 1",
                    (server,),
                ).fetchone()
                if row is not None and (row[1], row[2], json.loads(row[3])) == (
                    digest,
                    pinned,
                    ordered,
                ):
                    conn.execute(
                        "UPDATE observed_manifests SET last_seen = ?, seen = seen + 1 WHERE id = ?",
                        (now, row[0]),
                    )
                else:
                    conn.execute(
                        f"INSERT INTO observed_manifests ({_COLUMNS}) "
                        "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                        (
                            server, now, now, digest, pinned, json.dumps(ordered),
                            json.dumps(drifted), json.dumps(unpinned), text,
                        ),
                    )  # fmt: skip
                    conn.execute(
                        "DELETE FROM observed_manifests WHERE server = ? AND id NOT IN "
                        "(SELECT id FROM observed_manifests WHERE server = ? "
                        "ORDER BY id DESC LIMIT ?)",
                        (server, server, HISTORY),
                    )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        latest = self.latest(server)
        assert latest is not None
        return latest

    def _select(self, where: str, args: tuple[Any, ...]) -> list[Observed]:
        conn = self._connect(create=False)
        if conn is None:
            return []
        try:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM observed_manifests {where}", args
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        return [self._row(r) for r in rows]

    def _row(self, row: tuple[Any, ...]) -> Observed:
        from ztmcp.errors import PinError
        from ztmcp.manifest import KINDS, SERVER_KIND, Manifest

        try:
            manifest = Manifest.from_json(row[9], f"observed manifest of {row[0]!r}")
            kinds, drifted, unpinned = (tuple(json.loads(x)) for x in row[6:9])
            if not kinds or not set(kinds) <= {*KINDS, SERVER_KIND}:  # ztmcp.drift reads them
                raise ValueError(f"unknown manifest kinds {list(kinds)!r}")
        except (PinError, ValueError, TypeError) as exc:
            raise TABLES.error(
                self.path,
                f"a stored observation of {row[0]!r} is corrupt ({exc})",
                hint=f"move {self.path} away",
            ) from None
        return Observed(
            server=row[0],
            observed_at=row[1],
            last_seen=row[2],
            seen=row[3],
            digest=row[4],
            pinned_digest=row[5],
            kinds=kinds,
            drifted=drifted,
            unpinned=unpinned,
            manifest=manifest,
        )

    def latest(self, server: str) -> Observed | None:
        rows = self._select("WHERE server = ? ORDER BY id DESC LIMIT 1", (server,))
        return rows[0] if rows else None

    def history(self, server: str) -> list[Observed]:
        return self._select("WHERE server = ? ORDER BY id DESC", (server,))

    def servers(self) -> list[Observed]:
        return self._select(
            "WHERE id IN (SELECT max(id) FROM observed_manifests GROUP BY server) ORDER BY server",
            (),
        )
