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
"""

from __future__ import annotations

import getpass
import hashlib
import json
import posixpath
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.errors import ZtmcpError
from ztmcp.state import paths

SCHEMA_VERSION: Final = 1
DB_NAME: Final = "state.db"

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
        expires REAL NOT NULL,       -- fixed expiry, epoch seconds
        renew REAL,                  -- sliding renewal in seconds (stored; not applied yet)
        revoked REAL,                -- when it was revoked, epoch seconds
        expiry_logged INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS grants_by_tool ON grants (server, tool)",
)
_COLUMNS: Final = (
    "id, server, tool, digest, arg, prefix, who, why, created, expires, renew, revoked"
)


class StateError(ZtmcpError):
    """The state database cannot be used (corrupt, locked, unreadable, newer schema)."""


def db_path() -> Path:
    return paths.home() / DB_NAME


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
    renew: float | None = None
    revoked: float | None = None

    def live(self, now: float) -> bool:
        return self.revoked is None and now < self.expires

    def allows(self, arguments: Mapping[str, Any]) -> bool:
        """Whether the call's arguments satisfy the grant's constraint (if it has one)."""
        if self.arg is None or self.prefix is None:
            return True
        value = arguments.get(self.arg)
        return isinstance(value, str) and under_prefix(value, self.prefix)

    @property
    def constraint(self) -> str | None:
        return None if self.arg is None else f"{self.arg} under {self.prefix}"

    def status(self, now: float) -> str:
        if self.revoked is not None:
            return "revoked"
        return "live" if now < self.expires else "expired"

    def as_event(self) -> dict[str, Any]:
        """The grant as audit fields (no secrets: names, digest, times)."""
        return {
            "grant.id": self.id,
            "server": self.server,
            "gen_ai.tool.name": self.tool,
            "tool.sha256": self.digest,
            "grant.constraint": self.constraint,
            "user.name": self.who,
            "reason": self.why,
            "grant.expires": self.expires,
        }


def _row(row: tuple[Any, ...]) -> Grant:
    return Grant(*row)


def _one_line(path: Path, exc: sqlite3.Error) -> StateError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "locked" in text or "busy" in text:
        hint = "another ztmcp process holds the database; try again"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        hint = f"move {path} away (its grants are lost) and grant again"
    else:
        hint = "check the file and its directory's permissions (ZTMCP_HOME)"
    return StateError(f"grant store {path}: {text}", hint=hint)


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    version = row[0] if row else None
    if version != SCHEMA_VERSION:
        raise StateError(
            f"grant store {path}: schema version {version}, this ztmcp knows {SCHEMA_VERSION}",
            hint="upgrade ztmcp, or move the file away and grant again",
        )


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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._conn = sqlite3.connect(self.path, timeout=busy_ms / 1000, isolation_level=None)
        except OSError as exc:
            raise StateError(
                f"grant store {self.path}: {exc.strerror}",
                hint="set ZTMCP_HOME to a writable directory",
            ) from None
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if not mode or str(mode[0]).lower() != "wal":
                raise StateError(f"grant store {self.path}: cannot switch to WAL mode")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            with self._tx():
                for statement in _SCHEMA:
                    self._conn.execute(statement)
                row = self._conn.execute("SELECT count(*) FROM schema_version").fetchone()
                if row[0] == 0:
                    self._conn.execute(
                        "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                    )
            _check_version(self._conn, self.path)
        except sqlite3.Error as exc:
            self._conn.close()
            raise _one_line(self.path, exc) from None
        except StateError:
            self._conn.close()
            raise

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> GrantStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self,
        server: str,
        tool: str,
        seconds: float,
        *,
        digest: str | None,
        why: str = "",
        arg: str | None = None,
        prefix: str | None = None,
        who: str | None = None,
        renew: float | None = None,
    ) -> Grant:
        if seconds <= 0:
            raise StateError("a grant needs a positive duration")
        if (arg is None) != (prefix is None):
            raise StateError("an argument constraint needs both the argument and the prefix")
        now = self._clock()
        grant = Grant(
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
        )
        try:
            with self._tx() as conn:
                conn.execute(
                    f"INSERT INTO grants ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        grant.id, grant.server, grant.tool, grant.digest, grant.arg, grant.prefix,
                        grant.who, grant.why, grant.created, grant.expires, grant.renew, None,
                    ),
                )
        except sqlite3.IntegrityError:  # an id collision (2^-32): try once more
            return self.add(
                server, tool, seconds, digest=digest, why=why, arg=arg, prefix=prefix,
                who=who, renew=renew,
            )
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return grant

    def get(self, grant_id: str) -> Grant | None:
        try:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM grants WHERE id = ?", (grant_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return None if row is None else _row(row)

    def revoke(self, grant_id: str) -> Grant | None:
        """Revoke one grant; ``None`` when there is no such grant or it was already revoked."""
        now = self._clock()
        try:
            with self._tx() as conn:
                changed = conn.execute(
                    "UPDATE grants SET revoked = ? WHERE id = ? AND revoked IS NULL",
                    (now, grant_id),
                ).rowcount
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
                conn.executemany(
                    "UPDATE grants SET revoked = ? WHERE id = ?", [(now, i) for i in ids]
                )
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return [g for g in (self.get(i) for i in ids) if g is not None]

    def grants(self, *, include_inactive: bool = False) -> list[Grant]:
        """Grants, newest first: only live ones unless ``include_inactive``."""
        query = f"SELECT {_COLUMNS} FROM grants"
        args: tuple[Any, ...] = ()
        if not include_inactive:
            query += " WHERE revoked IS NULL AND expires > ?"
            args = (self._clock(),)
        try:
            return [_row(r) for r in self._conn.execute(query + " ORDER BY created DESC", args)]
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None

    def sweep_expired(self) -> list[Grant]:
        """Grants that expired (unrevoked) and were not reported yet; marks them reported.

        The CLI writes a ``grant.expire`` audit event for each: expiry itself needs no
        writer (every lookup compares ``expires`` with the call's time).
        """
        now = self._clock()
        try:
            with self._tx() as conn:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM grants WHERE revoked IS NULL AND expires <= ? "
                    "AND expiry_logged = 0",
                    (now,),
                ).fetchall()
                conn.executemany(
                    "UPDATE grants SET expiry_logged = 1 WHERE id = ?", [(r[0],) for r in rows]
                )
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        return [_row(r) for r in rows]


class GrantLookup:
    """Read-only lookups for the ``access`` check; thread-safe, opened lazily.

    Every call reads the database (one indexed SELECT, tens of microseconds), so a revocation
    from any process counts on the next call. No database yet means no grants.
    """

    def __init__(self, path: Path | None = None, *, busy_ms: int = 1000) -> None:
        self.path = path or db_path()
        self._busy_ms = busy_ms
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if not self.path.exists():
            return None
        try:
            conn = sqlite3.connect(
                f"{self.path.as_uri()}?mode=rw",
                uri=True,
                timeout=self._busy_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise _one_line(self.path, exc) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_ms)}")
            conn.execute("PRAGMA query_only = 1")
            ready = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if ready is None:  # a writer is creating the database right now: no grants yet
                conn.close()
                return None
            _check_version(conn, self.path)
        except sqlite3.Error as exc:
            conn.close()
            raise _one_line(self.path, exc) from None
        except StateError:
            conn.close()
            raise
        self._conn = conn
        return conn

    def live(self, server: str, tool: str, now: float) -> list[Grant]:
        """Unrevoked grants for ``server``/``tool`` that have not expired at ``now``."""
        with self._lock:
            conn = self._connect()
            if conn is None:
                return []
            try:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM grants WHERE server = ? AND tool = ? "
                    "AND revoked IS NULL AND expires > ?",
                    (server, tool, now),
                ).fetchall()
            except sqlite3.Error as exc:
                raise _one_line(self.path, exc) from None
        return [_row(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # pragma: no cover - no passwd entry
        return "unknown"
