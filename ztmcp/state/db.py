"""How every store opens ``$ZTMCP_HOME/state.db``: one place for the SQLite conventions.

WAL mode (readers never wait for a writer), a busy timeout, ``BEGIN IMMEDIATE`` transactions,
``PRAGMA query_only`` for readers, and every SQLite failure turned into a ``StateError`` with
one line of text, so callers fail closed. The database and its ``-wal``/``-shm`` files are
private to the user (0600, in a 0700 directory when ztmcp creates it). Which tables exist is
each store's business: ``ztmcp.state.grants`` owns the schema version and its migrations;
the other stores (``TableStore``) add their own tables with ``CREATE TABLE IF NOT EXISTS``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final, Self

from ztmcp.errors import ZtmcpError
from ztmcp.state import paths

DB_NAME: Final = "state.db"


class StateError(ZtmcpError):
    """The state database cannot be used (corrupt, locked, unreadable, newer schema)."""


def db_path() -> Path:
    return paths.home() / DB_NAME


@dataclass(frozen=True, slots=True)
class Wording:
    """How one store's errors name the file and what moving a corrupt one away loses."""

    label: str  # the message starts "<label> <path>: "
    corrupt_hint: str  # "{path}" is filled in

    def error(self, path: Path, text: str, *, hint: str | None = None) -> StateError:
        return StateError(f"{self.label} {path}: {text}", hint=hint)

    def sqlite(self, path: Path, exc: sqlite3.Error) -> StateError:
        """One line for any SQLite failure, with what to do about it."""
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "locked" in text or "busy" in text:
            hint = "another ztmcp process holds the database; try again"
        elif "not a database" in text or "malformed" in text or "corrupt" in text:
            hint = self.corrupt_hint.format(path=path)
        else:
            hint = "check the file and its directory's permissions (ZTMCP_HOME)"
        return self.error(path, text, hint=hint)

    def damaged(self, path: Path) -> StateError:
        """A read that returned undecodable text: the file is damaged."""
        return self.error(
            path, "damaged (undecodable text)", hint=self.corrupt_hint.format(path=path)
        )


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: the write lock is taken up front, so no deadlock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def setting_up(
    conn: sqlite3.Connection, path: Path, wording: Wording
) -> Iterator[sqlite3.Connection]:
    """Close ``conn`` when preparing it fails (a SQLite failure becomes one line)."""
    try:
        yield conn
    except sqlite3.Error as exc:
        conn.close()
        raise wording.sqlite(path, exc) from None
    except UnicodeDecodeError:  # a damaged file can make SQLite's own message undecodable
        conn.close()
        raise wording.damaged(path) from None
    except StateError:
        conn.close()
        raise


def _private(path: Path) -> None:
    """The directory 0700 and the database 0600 before SQLite opens it: SQLite gives its
    ``-wal`` and ``-shm`` files the database's own mode, so they are private too."""
    paths.private_dir(path.parent)
    if not path.exists():
        # Only to create it: closing a descriptor of a database file this process has open
        # drops every POSIX lock SQLite holds on it (a second writer connection would let
        # another process reset the WAL under the first, which then reads a stale snapshot).
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        paths.private_file(path.with_name(path.name + suffix))


def connect(
    path: Path, wording: Wording, *, busy_ms: int, reader: bool = False
) -> sqlite3.Connection:
    """A connection with the conventions set; usable from any thread, one at a time.

    A writer creates the directory and the file and switches the file to WAL; a ``reader``
    opens an existing file only, and cannot write to it (``PRAGMA query_only``).
    """
    try:
        if reader:
            conn = sqlite3.connect(
                f"{path.as_uri()}?mode=rw",
                uri=True,
                timeout=busy_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        else:
            _private(path)
            conn = sqlite3.connect(
                path, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False
            )
    except OSError as exc:
        raise wording.error(
            path, str(exc.strerror), hint="set ZTMCP_HOME to a writable directory"
        ) from None
    except sqlite3.Error as exc:
        raise wording.sqlite(path, exc) from None
    with setting_up(conn, path, wording):
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if reader:
            conn.execute("PRAGMA query_only = 1")
        else:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if not mode or str(mode[0]).lower() != "wal":
                raise wording.error(path, "cannot switch to WAL mode")
            conn.execute("PRAGMA synchronous = NORMAL")
    return conn


TABLES: Final = Wording("state", "move {path} away (grants and observations are lost)")


class TableStore:
    """A store that keeps its own tables in the state database, opened on first use.

    Subclasses name their tables in ``SCHEMA`` (``CREATE … IF NOT EXISTS``). Readers open with
    ``create=False``: with no database yet they get ``None`` (nothing stored) and create
    nothing. One per thread (not thread-safe).
    """

    SCHEMA: ClassVar[Sequence[str]] = ()

    def __init__(self, path: Path | None = None, *, busy_ms: int = 5000) -> None:
        self.path = path or db_path()
        self._busy_ms = busy_ms
        self._conn: sqlite3.Connection | None = None

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        if self._conn is None:
            if not create and not self.path.exists():
                return None
            conn = connect(self.path, TABLES, busy_ms=self._busy_ms)
            with setting_up(conn, self.path, TABLES):
                for statement in self.SCHEMA:
                    conn.execute(statement)
            self._conn = conn
        return self._conn

    def _one_line(self, exc: sqlite3.Error) -> StateError:
        return TABLES.sqlite(self.path, exc)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
