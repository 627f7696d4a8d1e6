"""Just-in-time grants: time-boxed access to one tool, in SQLite at ``$ZTMCP_HOME/state.db``.

The database is the only channel between ``ztmcp run`` processes, the CLI and (later) the TUI:
WAL mode (readers never wait for a writer), a busy timeout, short ``BEGIN IMMEDIATE``
transactions and a schema version table. Writers are ``GrantStore`` (CLI, TUI); proxies hold a
``GrantLookup``, which only reads (``PRAGMA query_only``), on every call that needs a grant, so a
revocation or an expiry takes effect on the next call in every process.

A grant names a server and a tool, is bound to the digest of the tool's definition as listed
(``tool_digest``; ``None`` means "any version", only when asked for explicitly), optionally
limits one string argument to a path prefix, and expires at a fixed time. Anything wrong with
the database (corrupt, locked too long, a newer schema) is a ``StateError`` with one line of
text: callers fail closed.

Every row carries ``mac``: HMAC-SHA256 over all of its access-relevant columns (everything but
the ``expiry_logged`` bookkeeping) under the grants key derived from the per-user state key
(``ztmcp.state.keys``). Each write here recomputes it; a row whose MAC does not verify (inserted
or edited with ``sqlite3`` by hand, by the agent, or written by a ztmcp before version 3) is
never honoured: lookups and listings leave it out and report it (``forged``). What a MAC
cannot stop: restoring an older authentic copy of a row (or of the whole database), such as
a grant as it was before its revocation (docs/audit.md).
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import posixpath
import secrets
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Required, TypedDict, Unpack

from ztmcp.durations import spoken
from ztmcp.state import keys as state_keys
from ztmcp.state.db import DB_NAME as DB_NAME
from ztmcp.state.db import StateError as StateError
from ztmcp.state.db import Wording, connect, setting_up
from ztmcp.state.db import db_path as db_path
from ztmcp.state.db import transaction as transaction

SCHEMA_VERSION: Final = 4
MAX_SECONDS: Final = 30 * 86400  # no grant lasts longer than 30 days
MAX_RENEWED: Final = 8 * 3600.0  # default hard cap for sliding renewal: 8 h after the grant
CLOCK_SKEW: Final = 5.0  # seconds a record may be dated ahead of this clock (hosts, NTP steps)
_CACHE_SLACK: Final = 3600.0  # cached rows include grants expired this recently (clock steps)

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS grants (
        id TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        digest TEXT,                 -- sha256 of the tool definition; NULL: any version
        arg TEXT,                    -- the constrained argument, if any
        prefix TEXT,                 -- the path prefix that argument must stay under
        who TEXT NOT NULL,
        why TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        expires REAL NOT NULL,       -- current expiry, epoch seconds (renewal moves it)
        renew REAL,                  -- sliding renewal: each allowed call, expiry >= now+renew
        revoked REAL,                -- when it was revoked, epoch seconds
        expiry_logged INTEGER NOT NULL DEFAULT 0,
        cap REAL,                    -- renewal never moves the expiry past this
        mac TEXT                     -- HMAC of the row: a row without a valid one is ignored
    )""",
    "CREATE INDEX IF NOT EXISTS grants_by_tool ON grants (server, tool)",
    """CREATE TABLE IF NOT EXISTS approvals (
        id TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        digest TEXT,
        session TEXT NOT NULL,
        requested REAL NOT NULL,
        deadline REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        grant_id TEXT,
        decided_by TEXT,
        decided REAL,
        detail TEXT                  -- JSON: what a person needs to judge the call (masked)
    )""",
    "CREATE INDEX IF NOT EXISTS approvals_by_state ON approvals (state, requested)",
    "CREATE TABLE IF NOT EXISTS watchers (who TEXT PRIMARY KEY, seen REAL NOT NULL)",
)
# Applied in order to a database of version N-1 (index 0: version 1 -> 2).
_MIGRATIONS: Final = (
    ("ALTER TABLE grants ADD COLUMN cap REAL",),
    # Rows from before version 3 have no MAC and are not honoured: a migration that signed
    # them would bless whatever had been inserted by hand until then.
    ("ALTER TABLE grants ADD COLUMN mac TEXT",),
    # What the approval screen shows (description, masked argument preview, agent, reason).
    ("ALTER TABLE approvals ADD COLUMN detail TEXT",),
)
_COLUMNS: Final = (
    "id, server, tool, digest, arg, prefix, who, why, created, expires, renew, revoked, cap"
)
_SELECT: Final = _COLUMNS + ", mac"
_REALS: Final = frozenset({8, 9, 10, 11, 12})  # created … cap: SQLite REAL, MACed as floats


_WORDING: Final = Wording(
    "state database", "move {path} away (its grants are lost) and grant again"
)
_one_line: Final = _WORDING.sqlite


def tool_digest(tool: Mapping[str, Any]) -> str:
    """SHA-256 of the tool definition exactly as listed, as canonical JSON."""
    body = json.dumps(tool, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def under_prefix(value: str, prefix: str) -> bool:
    """True when the path ``value`` stays under ``prefix`` after ``..`` and ``.`` are resolved.

    Lexical only: the server resolves symlinks, ztmcp cannot see them.
    """
    if "\0" in value or not value:
        return False
    norm = posixpath.normpath(value)
    base = posixpath.normpath(prefix)
    if base == "/":
        return norm.startswith("/")
    return norm == base or norm.startswith(base + "/")


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    server: str
    tool: str
    digest: str | None
    arg: str | None
    prefix: str | None
    who: str
    why: str
    created: float
    expires: float
    renew: float | None = None  # sliding renewal window, seconds
    revoked: float | None = None
    cap: float | None = None  # the latest expiry renewal may reach (epoch seconds)

    def live(self, now: float) -> bool:
        return self.revoked is None and now < self.expires and not self.future(now)

    def future(self, now: float) -> bool:
        """Dated ahead of ``now``: the clock moved back (or another host's runs ahead)."""
        return self.created > now + CLOCK_SKEW

    def allows(self, arguments: Mapping[str, Any]) -> bool:
        """Whether the call's arguments satisfy the grant's constraint (if it has one)."""
        if self.arg is None or self.prefix is None:
            return True
        value = arguments.get(self.arg)
        return isinstance(value, str) and under_prefix(value, self.prefix)

    def renewed(self, now: float) -> float | None:
        """The expiry a call allowed at ``now`` slides this grant to, if that moves it."""
        if self.renew is None:
            return None
        target = now + self.renew
        if self.cap is not None:
            target = min(target, self.cap)
        return target if target > self.expires else None

    @property
    def constraint(self) -> str | None:
        return None if self.arg is None else f"{self.arg} under {self.prefix}"

    def status(self, now: float) -> str:
        if self.revoked is not None:
            return "revoked"
        if self.future(now):
            return "future"
        return "live" if now < self.expires else "expired"

    def as_event(self) -> dict[str, Any]:
        """The grant as audit fields (no secrets: names, digest, times)."""
        event = {
            "grant.id": self.id,
            "server": self.server,
            "gen_ai.tool.name": self.tool,
            "tool.sha256": self.digest,
            "grant.constraint": self.constraint,
            "user.name": self.who,
            "reason": self.why,
            "grant.expires": self.expires,
        }
        if self.renew is not None:
            event["grant.renew"] = self.renew
            event["grant.cap"] = self.cap
        return event


class GrantTerms(TypedDict, total=False):
    """A grant's terms besides server, tool and duration, as ``new_grant`` takes (and checks)
    them: the digest it is bound to (``None``: any version), the reason, an argument
    constraint (``arg`` under ``prefix``), who grants, a sliding renewal window and its cap."""

    digest: Required[str | None]
    why: str
    arg: str | None
    prefix: str | None
    who: str | None
    renew: float | None
    cap: float | None


def _values(row: tuple[Any, ...]) -> list[Any]:
    return [
        float(v) if i in _REALS and isinstance(v, (int, float)) else v for i, v in enumerate(row)
    ]


def row_mac(key: bytes, values: tuple[Any, ...] | list[Any]) -> str:
    """The MAC of a grant row (its ``_COLUMNS`` values, in order)."""
    try:
        body = json.dumps(
            ["ztmcp-grant/v1", *_values(tuple(values))],
            ensure_ascii=True,
            allow_nan=False,
            separators=(",", ":"),
        )
    except (TypeError, ValueError):  # a value no grant writer produces: cannot be authentic
        return ""
    return hmac.digest(key, body.encode("ascii"), hashlib.sha256).hex()


def _grant_values(grant: Grant) -> tuple[Any, ...]:
    return (
        grant.id,
        grant.server,
        grant.tool,
        grant.digest,
        grant.arg,
        grant.prefix,
        grant.who,
        grant.why,
        grant.created,
        grant.expires,
        grant.renew,
        grant.revoked,
        grant.cap,
    )


def _authentic(row: tuple[Any, ...], key: bytes | None) -> Grant | None:
    """The grant of a ``_SELECT`` row whose MAC verifies, else ``None``."""
    *values, mac = row
    if key is None or not isinstance(mac, str) or not mac:
        return None
    if not hmac.compare_digest(row_mac(key, values), mac):
        return None
    return Grant(*values)


def _grant_key(*, create: bool) -> bytes | None:
    """The grants key; ``StateError`` when it exists but cannot be read."""
    try:
        found = state_keys.load(create=create)
    except state_keys.StateKeyError as exc:
        raise StateError(exc.message, hint=exc.hint) from None
    return None if found is None else found.grants


@dataclass(frozen=True, slots=True)
class Forged:
    """A grant row whose MAC does not verify: never honoured, reported."""

    id: str
    server: str
    tool: str

    def describe(self, path: Path) -> str:
        return (
            f"ignoring grant {self.id!r} for {self.server}/{self.tool} in {path}: its MAC "
            "does not verify (inserted or edited outside ztmcp, or from before ztmcp "
            "authenticated grants); grant again if it was yours"
        )


def _forged(row: tuple[Any, ...]) -> Forged:
    return Forged(str(row[0]), str(row[1]), str(row[2]))


def _version(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return None if row is None else row[0]


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    version = _version(conn)
    if version != SCHEMA_VERSION:
        raise _WORDING.error(
            path,
            f"schema version {version}, this ztmcp knows {SCHEMA_VERSION}",
            hint="upgrade ztmcp, or move the file away and grant again",
        )


def _ready(conn: sqlite3.Connection) -> bool:
    """Whether this version's schema is all there (every table, the version row)."""
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"schema_version", "grants", "approvals", "watchers"} <= names:
        return False
    return _version(conn) == SCHEMA_VERSION


def _migrate(conn: sqlite3.Connection, statement: str) -> None:
    """One migration statement; an ``ALTER TABLE t ADD COLUMN c`` is skipped when table ``t``
    does not exist yet (an old database without it: created whole afterwards)."""
    words = statement.split()
    if words[:2] == ["ALTER", "TABLE"]:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (words[2],)
        ).fetchone()
        if found is None:
            return
    conn.execute(statement)


def open_writer(path: Path, *, busy_ms: int = 5000) -> sqlite3.Connection:
    """A read-write connection in WAL mode with the schema created or migrated.

    Shared by every writer (grants, approvals); usable from any thread, one at a time.
    """
    conn = connect(path, _WORDING, busy_ms=busy_ms)
    with setting_up(conn, path, _WORDING):
        if _ready(conn):
            return conn  # the usual case: no write transaction just to open
        with transaction(conn):
            fresh = (
                conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grants'"
                ).fetchone()
                is None
            )
            for statement in _SCHEMA[:1]:
                conn.execute(statement)
            version = None if fresh else _version(conn)
            if version is not None and 0 < version < SCHEMA_VERSION:
                for step in _MIGRATIONS[version - 1 :]:
                    for statement in step:
                        _migrate(conn, statement)
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            for statement in _SCHEMA[1:]:
                conn.execute(statement)
            if conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 0:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        _check_version(conn, path)
    return conn


class GrantStore:
    """Read-write access for the CLI and the TUI. Not thread-safe: one per thread."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
        busy_ms: int = 5000,
    ) -> None:
        self.path = path or db_path()
        self._clock = clock
        self._key = _grant_key(create=True)
        self._conn = open_writer(self.path, busy_ms=busy_ms)

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> GrantStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, server: str, tool: str, seconds: float, **terms: Unpack[GrantTerms]) -> Grant:
        """A new grant for ``seconds``; with ``renew``, each allowed call slides the expiry to
        at least now+renew, never past ``cap`` seconds from now (default: ``MAX_RENEWED``)."""
        while True:
            grant = new_grant(server, tool, seconds, now=self._clock(), **terms)
            try:
                with self._tx() as conn:
                    insert(conn, grant, self._key)
            except sqlite3.IntegrityError:  # an id collision (2^-32): draw another id
                continue
            except sqlite3.Error as exc:
                raise _one_line(self.path, exc) from None
            return grant

    def resolve(self, given: str) -> str:
        """The full id of the one grant whose id starts with ``given`` (ids are shown in full,
        typed in part); ``StateError`` when none does or several do."""
        cleaned = given.strip().lower()
        if not cleaned:
            raise StateError("name a grant id", hint="see the ids with `ztmcp grants --all`")
        try:
            rows = self._conn.execute(
                "SELECT id FROM grants WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
                (len(cleaned), cleaned),
            ).fetchall()
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        ids = [str(r[0]) for r in rows]
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise StateError(f"no grant {given!r}", hint="see the ids with `ztmcp grants --all`")
        shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
        raise StateError(
            f"{given!r} is the start of several grant ids ({shown})",
            hint="type more of the id",
        )

    def get(self, grant_id: str) -> Grant | None:
        """The grant, if there is one with a valid MAC."""
        try:
            row = self._conn.execute(
                f"SELECT {_SELECT} FROM grants WHERE id = ?", (grant_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return None if row is None else _authentic(row, self._key)

    def _update(self, conn: sqlite3.Connection, grant_id: str, **changes: Any) -> bool:
        """Change an authentic grant's columns and its MAC together (inside ``conn``'s
        transaction); a row that is not authentic stays as it is, and ignored."""
        row = conn.execute(f"SELECT {_SELECT} FROM grants WHERE id = ?", (grant_id,)).fetchone()
        grant = None if row is None else _authentic(row, self._key)
        if grant is None:
            return False
        values = list(_grant_values(grant))
        names = _COLUMNS.split(", ")
        for name, value in changes.items():
            values[names.index(name)] = value
        assert self._key is not None
        sets = ", ".join(f"{name} = ?" for name in changes)
        conn.execute(
            f"UPDATE grants SET {sets}, mac = ? WHERE id = ?",
            (*changes.values(), row_mac(self._key, values), grant_id),
        )
        return True

    def forged(self) -> list[Forged]:
        """Rows whose MAC does not verify (never honoured), for ``ztmcp grants`` to report."""
        try:
            rows = self._conn.execute(f"SELECT {_SELECT} FROM grants").fetchall()
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return [_forged(r) for r in rows if _authentic(r, self._key) is None]

    def revoke(self, grant_id: str) -> Grant | None:
        """Revoke one grant; ``None`` when there is no such grant or it was already revoked."""
        now = self._clock()
        try:
            with self._tx() as conn:
                current = self.get(grant_id)
                changed = (
                    current is not None
                    and current.revoked is None
                    and self._update(conn, grant_id, revoked=now)
                )
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return self.get(grant_id) if changed else None

    def revoke_all(self) -> list[Grant]:
        """Revoke every grant that is still live."""
        now = self._clock()
        try:
            with self._tx() as conn:
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM grants WHERE revoked IS NULL AND expires > ?", (now,)
                    )
                ]
                ids = [i for i in ids if self._update(conn, i, revoked=now)]
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return [g for g in (self.get(i) for i in ids) if g is not None]

    def grants(
        self, *, include_inactive: bool = False, ended_after: float | None = None
    ) -> list[Grant]:
        """Grants, newest first: only live ones unless ``include_inactive``; with
        ``ended_after``, of the inactive ones only those that expired or were revoked after
        it (so a view of recent grants does not read the whole history)."""
        query = f"SELECT {_SELECT} FROM grants"
        args: tuple[Any, ...] = ()
        now = self._clock()
        if not include_inactive:
            query += " WHERE revoked IS NULL AND expires > ?"
            args = (now,)
        elif ended_after is not None:
            query += " WHERE min(expires, coalesce(revoked, expires)) > ?"
            args = (ended_after,)
        try:
            found = [
                _authentic(r, self._key)
                for r in self._conn.execute(query + " ORDER BY created DESC", args)
            ]
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        rows = [g for g in found if g is not None]
        return rows if include_inactive else [g for g in rows if not g.future(now)]

    def renew(self, grant_id: str, allowed_at: float) -> Grant | None:
        """Slide a grant's expiry after a call it allowed at ``allowed_at`` (never past its
        cap, never reviving a revoked or expired grant); the grant when it moved."""
        try:
            with self._tx() as conn:
                row = conn.execute(
                    f"SELECT {_SELECT} FROM grants WHERE id = ? AND expiry_logged = 0",
                    (grant_id,),  # once a sweep logged the expiry, a renewal must not revive it
                ).fetchone()
                grant = None if row is None else _authentic(row, self._key)
                target = None
                if grant is not None and grant.revoked is None and grant.expires > allowed_at:
                    target = grant.renewed(allowed_at)
                moved = target is not None and self._update(conn, grant_id, expires=target)
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return self.get(grant_id) if moved else None

    def sweep_expired(self) -> list[Grant]:
        """Grants that expired (unrevoked) and were not reported yet; marks them reported.

        The CLI writes a ``grant.expire`` audit event for each: expiry itself needs no
        writer (every lookup compares ``expires`` with the call's time).
        """
        now = self._clock()
        try:
            with self._tx() as conn:
                rows = conn.execute(
                    f"SELECT {_SELECT} FROM grants WHERE revoked IS NULL AND expires <= ? "
                    "AND expiry_logged = 0",
                    (now,),
                ).fetchall()
                conn.executemany(
                    "UPDATE grants SET expiry_logged = 1 WHERE id = ?", [(r[0],) for r in rows]
                )
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        found = (_authentic(r, self._key) for r in rows)
        return [g for g in found if g is not None]


def new_grant(
    server: str,
    tool: str,
    seconds: float,
    *,
    now: float,
    digest: str | None,
    why: str = "",
    arg: str | None = None,
    prefix: str | None = None,
    who: str | None = None,
    renew: float | None = None,
    cap: float | None = None,
) -> Grant:
    """A validated grant starting at ``now`` (``StateError`` on a bad duration or window)."""
    if not server or not tool:
        raise StateError("a grant needs a server and a tool name")
    if not (0 < seconds <= MAX_SECONDS):
        raise StateError(
            f"a grant lasts between 1s and {spoken(MAX_SECONDS)}, not {spoken(seconds)}",
            hint=f"grant for {spoken(MAX_SECONDS)} at most, and again when it runs out",
        )
    if (arg is None) != (prefix is None):
        raise StateError("an argument constraint needs both the argument and the prefix")
    if renew is None and cap is not None:
        raise StateError("a cap only limits sliding renewal: give a renewal window too")
    if renew is not None:
        cap = MAX_RENEWED if cap is None else cap
        if not (0 < renew <= cap):
            raise StateError(
                f"the renewal window ({spoken(renew)}) must be positive and within the cap "
                f"({spoken(cap)})"
            )
        if cap < seconds or cap > MAX_SECONDS:
            raise StateError(
                f"the cap ({spoken(cap)}) must be at least the duration ({spoken(seconds)}) "
                f"and at most {spoken(MAX_SECONDS)}"
            )
    return Grant(
        id=secrets.token_hex(4),
        server=server,
        tool=tool,
        digest=digest,
        arg=arg,
        prefix=prefix,
        who=who or _user(),
        why=why,
        created=now,
        expires=now + seconds,
        renew=renew,
        cap=None if cap is None else now + cap,
    )


def insert(conn: sqlite3.Connection, grant: Grant, key: bytes | None = None) -> None:
    """Write one grant, with its MAC, inside the caller's transaction."""
    if key is None:
        key = _grant_key(create=True)
        assert key is not None
    values = _grant_values(grant)
    conn.execute(
        f"INSERT INTO grants ({_SELECT}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (*values, row_mac(key, values)),
    )


class GrantLookup:
    """Read-only lookups for the ``access`` check; thread-safe, opened lazily.

    Every call asks the database whether anything changed (``PRAGMA data_version``, a few
    microseconds) and re-reads the grants (one indexed SELECT) only when another connection
    committed, so a revocation from any process counts on the next call. Expiry is compared
    with the call's time on every call. No database yet means no grants.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        busy_ms: int = 1000,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path or db_path()
        self._busy_ms = busy_ms
        self._say = say or _stderr
        self._key: bytes | None = None
        self.forged: dict[str, Forged] = {}  # rows ignored so far, each reported once
        self._verified: dict[tuple[Any, ...], Grant] = {}  # whole rows whose MAC verified
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._seen: dict[str, Grant] = {}
        self._cache: dict[tuple[str, str], tuple[Grant, ...]] = {}
        self._version: int | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if not self.path.exists():
            return None
        conn = connect(self.path, _WORDING, busy_ms=self._busy_ms, reader=True)
        with setting_up(conn, self.path, _WORDING):
            ready = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if ready is None:  # a writer is creating the database right now: no grants yet
                conn.close()
                return None
            version = _version(conn)
            if isinstance(version, int) and 0 < version < SCHEMA_VERSION:
                conn.close()  # written by an older ztmcp: migrate once, then read
                open_writer(self.path, busy_ms=self._busy_ms).close()
                return self._connect()
            _check_version(conn, self.path)
            self._key = _grant_key(create=False)  # no key yet: no row can be authentic
        self._conn = conn
        return conn

    def live(self, server: str, tool: str, now: float) -> list[Grant]:
        """Unrevoked grants for ``server``/``tool`` that have not expired at ``now``.

        Grants dated in the future (``Grant.future``) are included so the caller can say why
        it refuses them.
        """
        with self._lock:
            conn = self._connect()
            if conn is None:
                return []
            try:
                # data_version changes whenever another connection commits: until then, the
                # unrevoked grants read last time are still exactly what the database holds.
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != self._version:
                    self._version = version
                    self._cache.clear()
                    self._seen.clear()
                key = (server, tool)
                unrevoked = self._cache.get(key)
                if unrevoked is None:
                    rows = conn.execute(
                        f"SELECT {_SELECT} FROM grants WHERE server = ? AND tool = ? "
                        "AND revoked IS NULL AND expires > ?",
                        (server, tool, now - _CACHE_SLACK),
                    ).fetchall()
                    unrevoked = self._honoured(rows)
                    if len(self._cache) >= 1024:
                        self._cache.clear()
                        self._seen.clear()
                    self._cache[key] = unrevoked
                    self._seen.update((g.id, g) for g in unrevoked if g.renew is not None)
            except sqlite3.Error as exc:
                raise _one_line(self.path, exc) from None
        return [g for g in unrevoked if now < g.expires]

    def _honoured(self, rows: list[tuple[Any, ...]]) -> tuple[Grant, ...]:
        """The rows whose MAC verifies; the others are reported once each and left out."""
        kept = []
        if self._key is None and rows:  # the key may have been made since we connected
            self._key = _grant_key(create=False)
        for row in rows:
            grant = self._verified.get(row)  # the same bytes verified before: no HMAC again
            if grant is None:
                grant = _authentic(row, self._key)
                if grant is not None:
                    if len(self._verified) >= 4096:
                        self._verified.clear()
                    self._verified[row] = grant
            if grant is not None:
                kept.append(grant)
            elif str(row[0]) not in self.forged:
                forged = self.forged[str(row[0])] = _forged(row)
                self._say(forged.describe(self.path))
        return tuple(kept)

    def watched(self, now: float, within: float) -> bool:
        """Whether a watcher (the TUI) sent a heartbeat in the last ``within`` seconds; the
        read-only twin of ``ApprovalStore.attached``, so the proxy's reading thread never
        waits for a writer."""
        with self._lock:
            conn = self._connect()
            if conn is None:
                return False
            try:
                row = conn.execute(
                    "SELECT 1 FROM watchers WHERE seen > ? AND seen <= ? LIMIT 1",
                    (now - within, now + CLOCK_SKEW),
                ).fetchone()
            except sqlite3.Error as exc:
                raise _one_line(self.path, exc) from None
        return row is not None

    def seen(self, grant_id: str) -> Grant | None:
        """A renewable grant as the last lookup read it (the renewal edge needs no query)."""
        return self._seen.get(grant_id)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _stderr(text: str) -> None:
    print(f"ztmcp: {text}", file=sys.stderr)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # pragma: no cover - no passwd entry
        return "unknown"
