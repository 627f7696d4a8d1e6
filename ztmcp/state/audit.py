"""The audit log: one append-only JSONL file per proxy session, each record keyed and chained.

Every record carries ``seq`` (0, 1, …), ``prev`` (the previous record's MAC; zeros for the
first) and ``mac``: HMAC-SHA256 under the per-user audit key (``ztmcp.state.keys``) over the
record's exact bytes (``ztmcp.state.records``). Changing a byte breaks that record's MAC,
deleting one breaks ``seq`` and ``prev``, and without the key no one can recompute the chain.
The audit index (``ztmcp.state.audit_index``) records each session's start, checkpoints and
end, so a truncated, emptied or deleted log is found too; ``ztmcp.state.audit_verify`` walks
both and tells tampering from a crash or a full disk. Records hold digests and redacted
evidence, never content; every field is bounded.

Field names follow what SIEM pipelines know (OpenTelemetry ``mcp.method.name``,
``mcp.session.id``, ``gen_ai.tool.name``; NIST SP 800-53 AU-3 who/what/when/where/outcome).

Durability (docs/audit.md): each record is one ``write`` of the whole line, checked until every
byte is written, before ``post`` returns (so a frame is forwarded only after its record); the
log is ``fsync``-ed at each checkpoint (by a helper thread) and at ``session.end``, so a system
crash loses at most the records since the last checkpoint, and verify says so instead of crying
tampering. Any failure to build, authenticate or write a record is sticky: that ``post`` and
every later ``post``, ``append`` and ``close`` raise ``AuditError``, and the relay stops; a
failed checkpoint fails the log the same way, from the next ``post`` on.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.documents import open_file
from ztmcp.errors import AuditError
from ztmcp.state import audit_index, keys, paths, records
from ztmcp.state.records import canonical as canonical
from ztmcp.state.records import record_hash as record_hash

GENESIS: Final = "0" * 64
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
# Fields the writer sets; an event that carries one keeps it under "event.<name>".
_RESERVED: Final = frozenset({"seq", "ts", "mcp.session.id", "prev", "mac", "hash"})
# The writer's members: the head (seq, ``utc_stamp``, the session id as JSON)
# and the tail (the previous record's MAC), spliced around the event by records.chained_line.
_HEAD: Final = b'{"seq":%d,"ts":"%s","mcp.session.id":%s'
_PREV: Final = b',"prev":"%s"'


_second_cache: tuple[int, bytes] = (-1, b"")


def _second(second: int) -> bytes:
    """``2026-11-25T10:00:00`` as ASCII; the last one is cached (strftime is slow)."""
    global _second_cache
    cached_second, text = _second_cache
    if second != cached_second:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()
        _second_cache = (second, text)
    return text


def utc_stamp(ts: float) -> bytes:
    """``2026-11-25T10:00:00.123456Z`` as ASCII (the records' ``ts``)."""
    second = int(ts)
    return b"%s.%06dZ" % (_second(second), min(int((ts - second) * 1_000_000), 999_999))


def utc_iso(ts: float) -> str:
    """``2026-11-25T10:00:00.123456Z``."""
    return utc_stamp(ts).decode()


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


class AuditLog:
    """Appends chained records to one session file. Thread-safe; each record is one write.

    ``post`` (and ``append``, which also returns the record) writes the record in full to the
    file before it returns, or raises ``AuditError``: an adapter that forwards a frame only
    after its Session decided (and recorded) it never forwards a frame whose record failed.
    Writing in the caller's thread costs no more CPU than the writer thread it replaced, which
    added a queue hand-off per record (docs/audit.md, "Durability").

    Checkpoints (an ``fsync`` of the log, then an index entry) run on a helper thread per log,
    never in ``post``: when ``checkpoint_records`` records or ``checkpoint_seconds`` passed, and
    when the log went idle with records not yet anchored; a failure there fails the log, so
    the next ``post`` raises. ``create`` also reads the key and opens the session in the index
    on a thread, so the start-up path does not wait for the key store and the index's ``fsync``.
    """

    def __init__(
        self,
        path: Path,
        session_id: str,
        *,
        checkpoint_records: int = audit_index.CHECKPOINT_RECORDS,
        checkpoint_seconds: float = audit_index.CHECKPOINT_SECONDS,
    ) -> None:
        self.path = path
        self.session_id = session_id
        self._session_json = records.body({"": session_id})[4:-1]  # the id as a JSON string
        self._lock = threading.Lock()
        self._seq = 0
        self._last = GENESIS.encode()  # the last record's MAC (hex, ASCII)
        self._tail = _PREV % self._last  # the next line's last member
        self._closed = False
        self._failure: AuditError | None = None
        self._keys: keys.Keys | None = None  # read at the first record (or by ``prepare``)
        self._mac: records.Hmac | None = None
        self._every = checkpoint_records
        self._seconds = checkpoint_seconds
        self._checkpointed = 0  # records covered by the last index entry
        self._checkpoint_at = 0.0  # time.monotonic() of it
        # When a record wakes the helper: at this many records, or from this time.monotonic()
        # on (both kept from the last index entry by ``_anchored``).
        self._wake_at = checkpoint_records
        self._wake_by = 0.0
        self._stopping = threading.Event()  # ends the helper thread
        self._due = threading.Event()  # wakes it: a checkpoint is due
        self._closing = False  # close() began: the helper writes no more index entries
        self._index_lock = threading.RLock()  # index entries of this log, in order
        self._idler: threading.Thread | None = None
        try:
            paths.private_dir(path.parent)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except OSError as exc:
            raise AuditError(
                f"cannot create audit log {path}: {exc.strerror}",
                hint="set ZTMCP_HOME to a writable directory",
            ) from None
        audit_index.lock_live(self._fd)

    @classmethod
    def create(cls, directory: Path, server: str) -> AuditLog:
        session_id = secrets.token_hex(8)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = _SAFE_NAME.sub("_", server)[:60] or "server"
        log = cls(directory / f"{stamp}-{name}-{session_id}.jsonl", session_id)
        log.prepare()
        return log

    def prepare(self) -> None:
        """Read the key and open the session in the index on a thread, now: the first record
        then finds them ready (it waits for the thread through the lock; a failure there is
        the log's failure, raised by that record)."""
        threading.Thread(target=self._open_quietly, name="ztmcp-audit-open", daemon=True).start()

    def _open_quietly(self) -> None:
        with self._lock:
            if self._keys is None and self._failure is None and not self._closed:
                try:
                    self._open()
                except BaseException as exc:
                    self._fail(exc)

    def post(self, event: dict[str, Any]) -> None:
        """Write one record now (see ``append``); raises ``AuditError``."""
        self._write(event)

    def _checkpointer(self) -> None:
        """The log's helper thread: checkpoints run here, off the relay's path (an ``fsync``
        can take many milliseconds). It wakes when ``append`` says one is due and every
        ``checkpoint_seconds``, so records written before the log went idle are anchored too."""
        while True:
            self._due.wait(self._seconds)
            self._due.clear()
            if self._stopping.is_set():
                return
            self._background_checkpoint()

    def _background_checkpoint(self) -> None:
        with self._lock:
            if self._failure is not None or self._closing or self._seq == self._checkpointed:
                return
            if (
                self._seq - self._checkpointed < self._every
                and time.monotonic() - self._checkpoint_at < self._seconds
            ):
                return
            count, last = self._seq, self._last.decode()
        try:
            # Outside the lock, so the relay keeps writing: every record up to ``count`` was
            # written before this ``fsync`` began, so the index never claims more than is on disk.
            os.fsync(self._fd)
            with self._index_lock:
                if self._failure is not None or self._closing or count <= self._checkpointed:
                    return  # failed, closing, or a later checkpoint was written meanwhile
                self._index("checkpoint", {"records": count, "last": last})
                self._anchored(count)
        except BaseException as exc:
            with self._lock:
                if self._failure is None and not self._closing:
                    self._fail(exc)

    def append(self, event: dict[str, Any], ts: float | None = None) -> dict[str, Any]:
        """Write one record now; the chain fields are added here. Raises ``AuditError``, and
        after any failure every later call raises it too (the log is stopped). Returns the
        record as written."""
        seq, stamp, fields, prev, digest = self._write(event, ts)
        return {
            "seq": seq,
            "ts": stamp.decode(),
            "mcp.session.id": self.session_id,
            **fields,
            "prev": prev.decode(),
            "mac": digest.decode(),
        }

    def _write(
        self, event: dict[str, Any], ts: float | None = None
    ) -> tuple[int, bytes, dict[str, Any], bytes, bytes]:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._closed:
                raise AuditError(f"audit log {self.path} is closed")
            try:
                if self._keys is None:
                    self._open()
                stamp = utc_stamp(time.time() if ts is None else ts)
                if not _RESERVED.isdisjoint(event):
                    event = {(f"event.{k}" if k in _RESERVED else k): v for k, v in event.items()}
                seq, prev = self._seq, self._last
                assert self._mac is not None  # set with the keys, by _open
                # The writer's own fields are ASCII by construction: one format, no encoder.
                line, mac = records.chained_line(
                    _HEAD % (seq, stamp, self._session_json),
                    event,
                    self._tail,
                    self._mac,
                )
                paths.write_all(self._fd, line)
                self._seq = seq = seq + 1
                self._tail = _PREV % mac
                self._last = mac
                if (seq >= self._wake_at or time.monotonic() >= self._wake_by) and not (
                    self._due.is_set()
                ):
                    self._due.set()  # the helper thread checkpoints
            except BaseException as exc:  # even an interrupt mid-write leaves the chain unsure
                failure = self._fail(exc)
                if isinstance(exc, Exception):
                    raise failure from None
                raise
        return seq - 1, stamp, event, prev, mac

    def _open(self) -> None:
        """Before the first record: read (or make) the key, say in the index that we start."""
        try:
            self._keys = keys.load()
        except keys.StateKeyError as exc:
            raise AuditError(exc.message, hint=exc.hint) from None
        assert self._keys is not None
        self._mac = records.Hmac(self._keys.audit)
        self._index("open", {"key": self._keys.id, "process.pid": os.getpid()})
        self._anchored(0)
        self._idler = threading.Thread(
            target=self._checkpointer, name="ztmcp-audit-checkpoint", daemon=True
        )
        self._idler.start()

    def _index(self, kind: str, fields: dict[str, Any]) -> None:
        assert self._keys is not None
        entry = {"kind": kind, "file": self.path.name, "mcp.session.id": self.session_id}
        with self._index_lock:
            audit_index.append(
                self.path.parent,
                self._keys.index,
                self._keys.id,
                {**entry, **fields},
                utc_iso(time.time()),
            )

    def checkpoint(self) -> None:
        """Make the records so far durable and anchor them in the index now, in this thread
        (the helper thread does this on its own; raises ``AuditError``)."""
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._closed:
                raise AuditError(f"audit log {self.path} is closed")
            try:
                if self._keys is None:
                    self._open()
                self._checkpoint("checkpoint")
            except Exception as exc:
                raise self._fail(exc) from None

    def _checkpoint(self, kind: str) -> None:
        """Make the records so far durable, then say in the index how many there are (with
        the lock held)."""
        os.fsync(self._fd)
        with self._index_lock:
            self._index(kind, {"records": self._seq, "last": self._last.decode()})
            self._anchored(self._seq)

    def _anchored(self, count: int) -> None:
        """The index now covers ``count`` records: the next checkpoint is due ``checkpoint_records``
        records or ``checkpoint_seconds`` from here."""
        self._checkpointed = count
        self._checkpoint_at = now = time.monotonic()
        self._wake_at = count + self._every
        self._wake_by = now + self._seconds

    def _fail(self, exc: BaseException) -> AuditError:
        """Stop the log: keep the failure, and tell the index why if it can still be written."""
        failure = (
            exc
            if isinstance(exc, AuditError)
            else AuditError(
                f"cannot write audit log {self.path}: {_why(exc)}",
                hint="free space or fix permissions under ZTMCP_HOME; nothing is relayed "
                "while the audit log cannot be written",
            )
        )
        self._failure = failure
        self._stopping.set()
        self._due.set()
        if self._keys is not None:
            # The index may be on the same full disk: then verify reads the cut instead.
            with contextlib.suppress(Exception):
                reason = failure.message if exc is failure else _why(exc)
                self._index("fail", {"records": self._seq, "reason": reason[:300]})
        return failure

    @property
    def count(self) -> int:
        return self._seq

    def close(self, **fields: Any) -> None:
        """Write what was posted, then ``session.end`` with the record count, make it
        durable and close the session in the index. Idempotent; raises the failure, if any."""
        if self._closed:
            return
        with self._lock:
            self._closing = True
        self._stopping.set()
        self._due.set()
        if self._idler is not None and self._idler is not threading.current_thread():
            self._idler.join(timeout=30.0)  # bounded: at most one checkpoint in progress
        try:
            if self._failure is not None:
                raise self._failure
            self.append({"event": "session.end", "records": self._seq + 1, **fields})
            with self._lock:
                try:
                    self._checkpoint("close")
                except Exception as exc:
                    raise self._fail(exc) from None
        finally:
            with self._lock:
                self._closed = True
                os.close(self._fd)  # releases the live lock


def session_files(directory: Path) -> list[Path]:
    """Every session log, oldest first (file names start with a UTC timestamp)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl"))


def read_records(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Records of the given logs in file order; unreadable lines are skipped (verify finds them)."""
    for path in paths:
        try:
            with open_file(path) as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except (ValueError, RecursionError):  # RecursionError: nesting 1000+ deep
                        continue
                    if isinstance(record, dict):
                        yield record
        except OSError:
            continue


# Verification is re-exported here, imported at first use: a relay never verifies, and the
# start-up of `ztmcp run` (an MCP client waits for it) should not pay for it.
if TYPE_CHECKING:
    from ztmcp.state.audit_verify import Status as Status
    from ztmcp.state.audit_verify import Verification as Verification
    from ztmcp.state.audit_verify import verify_dir as verify_dir
    from ztmcp.state.audit_verify import verify_file as verify_file

_VERIFY: Final = frozenset({"Status", "Verification", "verify_dir", "verify_file"})


def __getattr__(name: str) -> Any:
    if name in _VERIFY:
        from ztmcp.state import audit_verify

        return getattr(audit_verify, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
