"""The audit index: one keyed chain per audit directory that says which sessions exist.

A session log can prove that its records were not changed; it cannot prove that it still has
all of them, or that it exists at all. The index (``sessions.index``, beside the logs) does:
every writer appends, under an exclusive lock, ``open`` before its first record,
``checkpoint`` (record count and the last record's MAC, after an ``fsync`` of the log) every
``CHECKPOINT_RECORDS`` records or ``CHECKPOINT_SECONDS``, ``close`` after ``session.end``, and
``fail`` when it stopped on an error. Each entry carries the previous entry's MAC and its own
(HMAC-SHA256 under the index key). The first entry is ``genesis``: logs without a MAC that are
newer than it were not written by this ztmcp.

A partial last line (a crash or a full disk mid-write) is never chained on: the next writer
cuts it off first, under the lock, since it was never a complete entry.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ztmcp.documents import open_file
from ztmcp.errors import AuditError
from ztmcp.state import paths, records

INDEX_NAME: Final = "sessions.index"
GENESIS: Final = "0" * 64
CHECKPOINT_RECORDS: Final = 1000
CHECKPOINT_SECONDS: Final = 1.0
_TAIL: Final = 64 * 1024

if sys.platform != "win32":
    import fcntl

    def _flock(fd: int, *, exclusive: bool, wait: bool = True) -> bool:
        flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, flags if wait else flags | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
else:  # pragma: no cover - platform branch: no advisory locks, no live detection

    def _flock(fd: int, *, exclusive: bool, wait: bool = True) -> bool:
        return True


def lock_live(fd: int) -> None:
    """Mark a session log as being written (held until its descriptor is closed)."""
    _flock(fd, exclusive=True, wait=False)


def is_live(path: Path) -> bool:
    """Whether a writer still holds ``path`` open (a live session is not a broken one)."""
    try:  # not blocking: a FIFO put there after verify read the log would hang it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        return not _flock(fd, exclusive=False, wait=False)
    finally:
        os.close(fd)


def index_path(directory: Path) -> Path:
    return directory / INDEX_NAME


def append(directory: Path, key: bytes, key_id: str, entry: dict[str, Any], ts: str) -> None:
    """Append ``entry`` to the index, chained and keyed, and ``fsync`` it (``OSError`` or
    ``AuditError`` when it cannot be written)."""
    path = index_path(directory)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        _flock(fd, exclusive=True)
        n, prev = _tail(fd, path)
        data = b""
        if n == 0:
            genesis: dict[str, Any] = {"n": 0, "ts": ts, "kind": "genesis", "key": key_id}
            line, prev = records.line({**genesis, "prev": GENESIS}, key)
            data, n = line, 1
        line, _ = records.line({"n": n, "ts": ts, **entry, "prev": prev}, key)
        paths.write_all(fd, data + line)
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock


def _tail(fd: int, path: Path) -> tuple[int, str]:
    """The next entry number and the last entry's MAC; a partial last line is cut off."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, GENESIS
    start = max(0, size - _TAIL)
    os.lseek(fd, start, os.SEEK_SET)  # writes still go to the end: the file is O_APPEND
    data = _read_all(fd)
    end = data.rfind(b"\n") + 1
    if end < len(data):  # a write that never finished: it was never an entry
        os.ftruncate(fd, start + end)
        data = data[:end]
    if not data:
        return 0, GENESIS
    last = data[data.rfind(b"\n", 0, len(data) - 1) + 1 :]
    parts = records.split(last)
    try:
        n = json.loads(last)["n"] if parts is not None else None
    except (ValueError, KeyError, TypeError):
        n = None
    if parts is None or not isinstance(n, int):
        raise AuditError(
            f"the audit index {path} ends in a line that is not an index entry",
            hint="run `ztmcp audit verify`; move the index away to start a new one "
            "(verify then reports every earlier session as not indexed)",
        )
    return n + 1, parts[1]


@contextmanager
def _shared(path: Path) -> Iterator[bytes | None]:
    try:
        handle = open_file(path)  # a regular file: a FIFO there would block for ever
    except FileNotFoundError:
        yield None
        return
    with handle:
        _flock(handle.fileno(), exclusive=False)
        yield _read_all(handle.fileno())


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(slots=True)
class Session:
    """What the index says about one session log."""

    session: str | None = None
    key: str | None = None
    checkpoint: tuple[int, str] | None = None  # the latest: (records, last record's MAC)
    closed: tuple[int, str] | None = None
    failure: str | None = None


@dataclass(slots=True)
class Index:
    exists: bool
    entries: int = 0
    broken: str | None = None  # the first break in the index chain: "entry N: why"
    cut_off: bool = False  # a partial last line (a crash or a full disk mid-write)
    genesis_ts: str | None = None
    key: str | None = None
    sessions: dict[str, Session] = field(default_factory=dict)


def read(directory: Path, key: bytes | None) -> Index:
    """Walk the index chain (under a shared lock, so no writer is mid-entry)."""
    path = index_path(directory)
    try:
        with _shared(path) as data:
            if data is None:
                return Index(exists=False)
    except OSError as exc:  # a directory, a FIFO, a link loop where the index should be
        return Index(exists=True, broken=f"cannot read the index {path} ({exc.strerror or exc})")
    index = Index(exists=True)
    lines = data.split(b"\n")
    if lines[-1]:
        index.cut_off = True
    prev = GENESIS
    for number, raw in enumerate(lines[:-1]):
        where = f"index entry {number + 1}"
        parts = records.split(raw + b"\n")
        if key is None:
            index.broken = "no state key to check the index with"
            return index
        if parts is None or records.authentic(raw + b"\n", key) is None:
            index.broken = f"{where}: its MAC does not verify (changed, or written without the key)"
            return index
        entry = json.loads(parts[0])
        if entry.get("n") != number or entry.get("prev") != prev:
            index.broken = f"{where}: out of sequence (entries were removed or reordered)"
            return index
        prev = parts[1]
        index.entries += 1
        _note(index, entry)
    return index


def _note(index: Index, entry: dict[str, Any]) -> None:
    kind = entry.get("kind")
    if kind == "genesis":
        index.genesis_ts = str(entry.get("ts"))
        index.key = str(entry.get("key"))
        return
    name = str(entry.get("file"))
    session = index.sessions.setdefault(name, Session())
    if kind == "open":
        session.session = entry.get("mcp.session.id")
        session.key = entry.get("key")
    elif kind == "checkpoint":
        session.checkpoint = (int(entry.get("records", 0)), str(entry.get("last")))
    elif kind == "close":
        session.closed = (int(entry.get("records", 0)), str(entry.get("last")))
        session.checkpoint = session.closed
    elif kind == "fail":
        session.failure = str(entry.get("reason"))
