"""First-seen (TOFU) pins: what a server not in ``ztmcp.lock`` listed the first time it ran.

Under ``[pins] mode = "tofu"``, ``ztmcp run`` learns a server's items in the first session that
sees them and enforces them from the next session on (see docs/pins.md for why these live in
the user state and not in the project lock). Keyed by the server name *and* the SHA-256 of its
launch command (the audit log's ``server.argv_sha256``): two servers started under the same
default name (``npx``) never share a pin, and the command itself (it may hold tokens) is not
stored. Learning only adds: an item already learned is never replaced, so a changed definition
stays drift until someone pins or forgets it (``ztmcp unpin NAME``).

Table ``first_seen_pins`` in ``$ZTMCP_HOME/state.db`` (same conventions as the grant store).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from ztmcp.state.db import TABLES, StateError, TableStore, transaction

if TYPE_CHECKING:
    from ztmcp.lockfile import Pin
    from ztmcp.manifest import Manifest

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS first_seen_pins (
        server TEXT NOT NULL,
        argv_sha256 TEXT NOT NULL,
        first_seen REAL NOT NULL,
        updated REAL NOT NULL,
        kinds TEXT NOT NULL,        -- JSON list: the lists learned so far
        manifest TEXT NOT NULL,     -- ztmcp.manifest JSON of the learned items
        PRIMARY KEY (server, argv_sha256)
    )""",
)


@dataclass(frozen=True)
class FirstSeen:
    server: str
    argv_sha256: str
    first_seen: float
    updated: float
    kinds: frozenset[str]
    manifest: Manifest

    def server_fields(self) -> dict[str, Any] | None:
        """The learned server fields, or None when no handshake has been learned yet."""
        from ztmcp.manifest import SERVER_KIND, server_fields

        if SERVER_KIND not in self.kinds:
            return None
        m = self.manifest
        return server_fields(m.server_name, m.server_version, m.instructions)

    def pin(self) -> Pin:
        """The pin ``ztmcp run`` enforces (``source = "tofu"``; it is not in any lock)."""
        from ztmcp.lockfile import Pin

        m = self.manifest
        return Pin(
            name=self.server,
            digest=m.digest,
            server_digest=m.server_digest,
            tools=m.item_digests("tools"),
            prompts=m.item_digests("prompts"),
            resource_templates=m.item_digests("resourceTemplates"),
            source="tofu",
            pinned_at=datetime.fromtimestamp(self.first_seen, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


def _merge(
    old: Manifest | None, kind: str, items: Iterable[Mapping[str, Any]]
) -> tuple[Manifest, int]:
    """``old`` plus the items of ``kind`` it does not hold yet; how many were added."""
    from ztmcp.manifest import KINDS, Manifest

    lists: dict[str, dict[str, Mapping[str, Any]]] = {
        k: dict(old.items(k)) if old is not None else {} for k in KINDS
    }
    added = 0
    for item in items:
        name = item.get("name")
        if isinstance(name, str) and name and name not in lists[kind]:
            lists[kind][name] = item
            added += 1
    merged = Manifest.from_lists(
        server_name=old.server_name if old is not None else None,  # learned apart, kept
        server_version=old.server_version if old is not None else None,
        instructions=old.instructions if old is not None else None,
        tools=list(lists["tools"].values()),
        prompts=list(lists["prompts"].values()),
        resource_templates=list(lists["resourceTemplates"].values()),
    )
    return merged, added


class FirstSeenStore(TableStore):
    """First-seen pins in the state database. One per thread."""

    SCHEMA = _SCHEMA

    def _row(self, row: tuple[Any, ...]) -> FirstSeen:
        from ztmcp.errors import PinError
        from ztmcp.manifest import Manifest

        try:
            manifest = Manifest.from_json(row[5], f"first-seen pin of {row[0]!r}")
            kinds = frozenset(json.loads(row[4]))
        except (PinError, ValueError, TypeError) as exc:
            raise TABLES.error(
                self.path,
                f"the first-seen pin of {row[0]!r} is corrupt ({exc})",
                hint=f"forget it with `ztmcp unpin {row[0]}`",
            ) from None
        return FirstSeen(row[0], row[1], row[2], row[3], kinds, manifest)

    def _lookup(self, conn: sqlite3.Connection, server: str, argv_sha256: str) -> FirstSeen | None:
        row = conn.execute(
            "SELECT server, argv_sha256, first_seen, updated, kinds, manifest "
            "FROM first_seen_pins WHERE server = ? AND argv_sha256 = ?",
            (server, argv_sha256),
        ).fetchone()
        return None if row is None else self._row(row)

    def get(self, server: str, argv_sha256: str) -> FirstSeen | None:
        conn = self._connect(create=False)
        if conn is None:
            return None
        try:
            return self._lookup(conn, server, argv_sha256)
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None

    def all(self) -> list[FirstSeen]:
        conn = self._connect(create=False)
        if conn is None:
            return []
        try:
            rows = conn.execute(
                "SELECT server, argv_sha256, first_seen, updated, kinds, manifest "
                "FROM first_seen_pins ORDER BY server, first_seen"
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        return [self._row(r) for r in rows]

    def learn(
        self,
        server: str,
        argv_sha256: str,
        kind: str,
        items: Iterable[Mapping[str, Any]],
        now: float,
    ) -> FirstSeen:
        """Add the items of ``kind`` not learned yet (atomically, whoever else learns too)."""
        from ztmcp.manifest import KINDS

        if kind not in KINDS:
            raise StateError(f"unknown manifest kind {kind!r}")
        listed = list(items)
        conn = self._connect(create=True)
        assert conn is not None
        try:
            with transaction(conn):
                old = self._lookup(conn, server, argv_sha256)
                merged, added = _merge(old.manifest if old else None, kind, listed)
                kinds = sorted((old.kinds if old else frozenset()) | {kind})
                if old is None:
                    conn.execute(
                        "INSERT INTO first_seen_pins VALUES (?, ?, ?, ?, ?, ?)",
                        (server, argv_sha256, now, now, json.dumps(kinds), merged.to_json()),
                    )
                elif added or kind not in old.kinds:
                    conn.execute(
                        "UPDATE first_seen_pins SET updated = ?, kinds = ?, manifest = ? "
                        "WHERE server = ? AND argv_sha256 = ?",
                        (now, json.dumps(kinds), merged.to_json(), server, argv_sha256),
                    )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        learned = self.get(server, argv_sha256)
        assert learned is not None
        return learned

    def learn_server(
        self, server: str, argv_sha256: str, fields: Mapping[str, Any], now: float
    ) -> FirstSeen:
        """Record the server fields (name, version, instructions) the first time they are seen.

        Like items, they are learned once and never replaced: changed instructions in a later
        session are drift until someone pins or forgets the server.
        """
        from ztmcp.manifest import SERVER_KIND, Manifest, server_args

        conn = self._connect(create=True)
        assert conn is not None
        try:
            with transaction(conn):
                old = self._lookup(conn, server, argv_sha256)
                if old is None or SERVER_KIND not in old.kinds:
                    # Only what a manifest can hold; anything else reads as drift next time.
                    learned = dataclasses.replace(
                        old.manifest if old is not None else Manifest(), **server_args(fields)
                    )
                    kinds = json.dumps(sorted((old.kinds if old else frozenset()) | {SERVER_KIND}))
                    if old is None:
                        conn.execute(
                            "INSERT INTO first_seen_pins VALUES (?, ?, ?, ?, ?, ?)",
                            (server, argv_sha256, now, now, kinds, learned.to_json()),
                        )
                    else:
                        conn.execute(
                            "UPDATE first_seen_pins SET updated = ?, kinds = ?, manifest = ? "
                            "WHERE server = ? AND argv_sha256 = ?",
                            (now, kinds, learned.to_json(), server, argv_sha256),
                        )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
        got = self.get(server, argv_sha256)
        assert got is not None
        return got

    def forget(self, server: str) -> int:
        """Drop every first-seen pin of ``server`` (all launch commands); how many there were."""
        conn = self._connect(create=False)
        if conn is None:
            return 0
        try:
            with transaction(conn):
                return conn.execute(
                    "DELETE FROM first_seen_pins WHERE server = ?", (server,)
                ).rowcount
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
