"""Verify audit logs against the key and the index; tell tampering from a crash.

Each log gets one ``Status``:

- ``CLOSED``: every record's MAC verifies, the chain is whole, it ends with ``session.end``,
  and it agrees with what the index saw (checkpoints, close).
- ``LIVE``: a writer still holds it open; everything written so far verifies.
- ``CUT_OFF``: it stops early the way a crash or a full disk stops it: no ``session.end``, no
  writer, nothing missing that the index had seen (the records after the last checkpoint, at
  most ``CHECKPOINT_SECONDS`` or ``CHECKPOINT_RECORDS`` of them, may be lost), at most one
  partial last line. The index's ``fail`` entry, if the writer could still write it, says why.
- ``UNKEYED``: a version-1 log (SHA-256 chain, no key) written before keyed audit began: its
  chain is whole, but anyone could have recomputed it.
- ``EMPTY``: a log no record reached (the process ended before its first record).
- ``TAMPERED``: a MAC that does not verify, a record removed, added or moved, fewer records
  than the index saw, a closed session without its end, a log the index does not know, an
  unkeyed log newer than the index, a broken index.
- ``MISSING``: the index names a log that is not there (deleted).
- ``NO_KEY``: a keyed log, but this user's key is not available, so nothing can be said.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final

from ztmcp.documents import read_file
from ztmcp.state import audit_index, keys, records

GENESIS: Final = "0" * 64


class Status(Enum):
    CLOSED = "ok"
    LIVE = "live"
    CUT_OFF = "cut off"
    UNKEYED = "unkeyed"
    EMPTY = "empty"
    TAMPERED = "TAMPERED"
    MISSING = "MISSING"
    NO_KEY = "no key"

    @property
    def failed(self) -> bool:
        """Whether ``audit verify`` exits non-zero for it."""
        return self in (Status.TAMPERED, Status.MISSING, Status.NO_KEY)


@dataclass(frozen=True, slots=True)
class Verification:
    path: Path
    records: int  # records whose chain verified
    closed: bool  # ends with a consistent session.end record
    error: str | None = None  # for a failure: the first break ("line N: why")
    line: int | None = None
    status: Status = Status.CLOSED
    detail: str = ""  # one line for the user: what was found and what it means

    @property
    def ok(self) -> bool:
        return not self.status.failed


@dataclass(frozen=True, slots=True)
class DirVerification:
    directory: Path
    logs: list[Verification] = field(default_factory=list)
    index_problem: str | None = None  # the index itself is broken or missing (tampering)
    index_note: str | None = None  # e.g. its last entry was cut off by a crash

    @property
    def ok(self) -> bool:
        return self.index_problem is None and all(v.ok for v in self.logs)


def verify_dir(directory: Path) -> DirVerification:
    """Every log in ``directory`` and every log the index names."""
    key, key_problem = _keys()
    index = audit_index.read(directory, key.index if key else None)
    files = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    logs = [_verify(path, key, key_problem, index) for path in files]
    present = {path.name for path in files}
    for name, seen in sorted(index.sessions.items()):
        if name not in present and index.broken is None:
            why = (
                f"deleted: the index saw session {seen.session} "
                f"{'closed' if seen.closed else 'open'}, and its log is gone"
            )
            logs.append(
                Verification(directory / name, 0, False, why, status=Status.MISSING, detail=why)
            )
    problem = None
    if index.broken is not None:
        problem = f"the audit index is broken: {index.broken}"
    elif not index.exists and any(v.records and v.status is not Status.UNKEYED for v in logs):
        problem = "the audit index is missing (deleted), but keyed logs exist"
    note = "the index's last entry was cut off (a crash or a full disk)" if index.cut_off else None
    return DirVerification(directory, logs, problem, note)


def verify_file(path: Path) -> Verification:
    """One log, against the key and its directory's index."""
    key, key_problem = _keys()
    index = audit_index.read(path.parent, key.index if key else None)
    return _verify(path, key, key_problem, index)


def _keys() -> tuple[keys.Keys | None, str | None]:
    try:
        return keys.load(create=False), None
    except keys.StateKeyError as exc:
        return None, exc.message


@dataclass(slots=True)
class _Walk:
    records: int = 0
    last: str = GENESIS
    closed: bool = False
    session: str | None = None
    partial: bool = False
    want: int = 0  # the record count the index checkpointed last
    mac_at_want: str | None = None


def _verify(
    path: Path, key: keys.Keys | None, key_problem: str | None, index: audit_index.Index
) -> Verification:
    try:
        data = read_file(path)
    except OSError as exc:
        return Verification(
            path,
            0,
            False,
            f"cannot read: {exc.strerror}",
            status=Status.TAMPERED,
            detail=f"cannot read it: {exc.strerror}",
        )
    live = audit_index.is_live(path)
    seen = index.sessions.get(path.name)
    if not data:
        if seen is not None and seen.checkpoint is not None:
            return _tampered(
                path, _Walk(), 1, f"emptied: the index saw {seen.checkpoint[0]} records"
            )
        status = Status.LIVE if live else (Status.CUT_OFF if seen else Status.EMPTY)
        return Verification(path, 0, False, status=status, detail=_plain(status, 0, seen))
    lines = data.split(b"\n")
    if _legacy(lines[0]):
        return _verify_legacy(path, lines, seen, index)
    if key is None:
        why: str = key_problem or "no state key on this machine (ZTMCP_HOME/audit-key.json)"
        return Verification(
            path, 0, False, why, status=Status.NO_KEY, detail=f"cannot authenticate: {why}"
        )
    walk = _Walk(want=seen.checkpoint[0] if seen and seen.checkpoint else 0)
    mac = records.Hmac(key.audit)
    tail = lines[-1]
    for number, raw in enumerate(lines[:-1], start=1):
        if walk.closed:
            return _tampered(path, walk, number, "a record after session.end")
        broken = _step(walk, raw + b"\n", mac)
        if broken is not None:
            return _tampered(path, walk, number, broken)
    if tail:
        if walk.closed:
            return _tampered(path, walk, len(lines), "bytes after session.end")
        walk.partial = True  # a write cut short: a crash or a full disk (never a whole record)
    return _against_index(path, walk, seen, index, live, len(lines))


def _step(walk: _Walk, raw: bytes, key: records.Hmac) -> str | None:
    """Check one complete line; the reason it breaks the chain, or ``None``."""
    parts = records.authentic(raw, key)
    if parts is None:
        return "its MAC does not verify (changed, or written without the key)"
    record: Any = json.loads(parts[0])
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("seq") != walk.records:
        return (
            f"seq is {record.get('seq')!r}, expected {walk.records} "
            "(a record was deleted, inserted or moved)"
        )
    if record.get("prev") != walk.last:
        return "prev does not match the previous record's MAC"
    session = record.get("mcp.session.id")
    if walk.session is None:
        walk.session = session
    elif session != walk.session:
        return "a record of another session"
    walk.records += 1
    walk.last = parts[1]
    if walk.records == walk.want:
        walk.mac_at_want = parts[1]
    if record.get("event") == "session.end":
        if record.get("records") != walk.records:
            return "session.end counts a different number of records"
        walk.closed = True
    return None


def _against_index(
    path: Path,
    walk: _Walk,
    seen: audit_index.Session | None,
    index: audit_index.Index,
    live: bool,
    lines: int,
) -> Verification:
    if index.broken is not None:
        return _tampered(path, walk, None, f"cannot be checked: {index.broken}")
    if seen is None:
        return _tampered(
            path,
            walk,
            None,
            "the audit index does not know this log (planted, or the index was rewritten)",
        )
    if seen.session != walk.session:
        return _tampered(path, walk, 1, "its session id differs from the index's")
    if seen.checkpoint is not None:
        count, last = seen.checkpoint
        if walk.records < count:
            return _tampered(
                path,
                walk,
                walk.records + 1,
                f"truncated: {walk.records} records, the index saw {count}",
            )
        if walk.mac_at_want != last:
            return _tampered(path, walk, count, "differs from what the index saw")
    if seen.closed is not None and not walk.closed:
        return _tampered(
            path,
            walk,
            walk.records + 1,
            f"truncated: session.end is gone (the index saw {seen.closed[0]} records, closed)",
        )
    if walk.closed:
        return Verification(path, walk.records, True)
    if live:
        return Verification(
            path,
            walk.records,
            False,
            status=Status.LIVE,
            detail=f"{walk.records} records so far, still being written",
        )
    return Verification(
        path,
        walk.records,
        False,
        line=lines if walk.partial else None,
        status=Status.CUT_OFF,
        detail=_cut(walk, seen),
    )


def _cut(walk: _Walk, seen: audit_index.Session) -> str:
    how = "its last line is incomplete" if walk.partial else "no session.end"
    why = f"the writer stopped: {seen.failure}" if seen.failure else "a crash or a full disk"
    return (
        f"after {walk.records} records, {how} ({why}; not tampering: nothing the index had "
        "seen is missing, records after its last checkpoint may be lost)"
    )


def _plain(status: Status, count: int, seen: audit_index.Session | None) -> str:
    if status is Status.LIVE:
        return f"{count} records so far, still being written"
    if status is Status.CUT_OFF and seen is not None:
        return _cut(_Walk(), seen)
    return "no record was written (the process ended before its first record)"


def _tampered(path: Path, walk: _Walk, line: int | None, why: str) -> Verification:
    where = f"line {line}: " if line is not None else ""
    return Verification(
        path,
        walk.records,
        False,
        f"{where}{why}",
        line,
        Status.TAMPERED,
        f"{where}{why}",
    )


# -- version 1 -------------------------------------------------------------------------------


def _legacy(first: bytes) -> bool:
    return records.split(first + b"\n") is None and b'"hash":' in first


def _verify_legacy(
    path: Path,
    lines: list[bytes],
    seen: audit_index.Session | None,
    index: audit_index.Index,
) -> Verification:
    walk = _Walk()
    if seen is not None:
        return _tampered(path, walk, 1, "a keyed session rewritten as an unkeyed chain")
    stamp = path.name[:16]
    if (
        index.genesis_ts is not None
        and stamp >= index.genesis_ts.replace("-", "").replace(":", "")[:15] + "Z"
    ):
        return _tampered(path, walk, 1, "an unkeyed log newer than keyed audit (not ours)")
    for number, raw in enumerate(lines, start=1):
        if not raw:
            continue
        if walk.closed:
            return _tampered(path, walk, number, "record after session.end")
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nesting 1000+ deep
            return _tampered(path, walk, number, "not a JSON record (bytes changed)")
        if not isinstance(record, dict) or record.get("seq") != walk.records:
            return _tampered(path, walk, number, "seq out of order (a record was removed)")
        if record.get("prev") != walk.last or record.get("hash") != records.record_hash(record):
            return _tampered(path, walk, number, "hash chain broken (content changed)")
        walk.last = str(record["hash"])
        walk.records += 1
        if record.get("event") == "session.end":
            walk.closed = record.get("records") == walk.records
    return Verification(
        path,
        walk.records,
        walk.closed,
        status=Status.UNKEYED,
        detail=f"{walk.records} records in an unkeyed (version 1) chain written before keyed "
        "audit: consistent, but anyone could have recomputed it",
    )
