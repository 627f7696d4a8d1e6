"""The audit writer's lines, byte for byte those of the writer it replaced.

``AuditLog`` spells its own members (``seq``, ``ts``, ``mcp.session.id``, ``prev``) ahead of
time and splices the encoded event between them (``records.chained_line``). The reference
below is the writer before that change, written out: the timestamp by ``strftime``, the event
by the json encoder alone (``records._json_body``, no orjson), the head and the ``prev``
member by ``%`` formatting, the MAC by the standard ``hmac``. For arbitrary events (hostile
keys and values, reserved names, large and nested ones) and timestamps, every line matches.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.state.test_records_fast import KEYS, RECORDS, VALUES
from ztmcp.state import records
from ztmcp.state.audit import GENESIS, AuditLog, Status, utc_iso, verify_file

_RESERVED = frozenset({"seq", "ts", "mcp.session.id", "prev", "mac", "hash"})


def _reference_iso(ts: float) -> str:
    second = int(ts)
    text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    micros = min(int((ts - second) * 1_000_000), 999_999)
    return f"{text}.{micros:06d}Z"


def _reference_line(
    seq: int, ts: float, session: str, event: dict[Any, Any], prev: str, key: bytes
) -> tuple[bytes, str]:
    """The line the writer wrote before ``chained_line`` (ztmcp at b29c1f3)."""
    if not _RESERVED.isdisjoint(event):
        event = {(f"event.{k}" if k in _RESERVED else k): v for k, v in event.items()}
    session_json = records._json_body({"": session})[4:-1]
    head = b'"seq":%d,"ts":"%s","mcp.session.id":%s' % (
        seq,
        _reference_iso(ts).encode(),
        session_json,
    )
    fields = records._json_body(event)[1:-1]
    data = b'{%s%s%s,"prev":"%s"}' % (head, b"," if fields else b"", fields, prev.encode())
    digest = hmac.new(key, data, hashlib.sha256).hexdigest()
    return b'%s,"mac":"%s"}\n' % (data[:-1], digest.encode()), digest


TIMES = st.floats(min_value=0.0, max_value=4_102_444_800.0)  # 1970 to 2100
RESERVED_EVENTS = st.dictionaries(KEYS | st.sampled_from(sorted(_RESERVED)), VALUES, max_size=6)
SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(st.lists(st.tuples(RECORDS | RESERVED_EVENTS, TIMES), min_size=1, max_size=4))
@example([({}, 0.0)])
@example([({"event": "message", "check_us": 12.3, "client": None}, 1_765_000_000.999_999_9)])
@example([({"seq": 1, "mac": "x", "ts": None}, 1.5)])
@example([({"a": [0] * 129, "b": "x" * 1600}, 2.0)])  # bounded alone, not with the chain fields
def test_lines_are_the_previous_writers_bytes(items: list[tuple[dict[Any, Any], float]]) -> None:
    directory = Path(tempfile.mkdtemp(prefix="ztmcp-lines-"))
    try:
        log = AuditLog(directory / "20260101T000000Z-s-0123456789abcdef.jsonl", "0123456789abcdef")
        for event, ts in items:
            log.append(event, ts)
        assert log._keys is not None
        key = log._keys.audit
        log.close()
        lines = log.path.read_bytes().splitlines(keepends=True)
        prev = GENESIS
        for seq, (event, ts) in enumerate(items):
            expected, prev = _reference_line(seq, ts, log.session_id, event, prev, key)
            assert lines[seq] == expected
        assert verify_file(log.path).status is Status.CLOSED
    finally:
        shutil.rmtree(directory)


@settings(max_examples=300, deadline=None, database=None)
@given(TIMES)
@example(1_765_000_000.999_999_9)
@example(0.0)
def test_the_timestamp_is_the_strftime_one(ts: float) -> None:
    assert utc_iso(ts) == _reference_iso(ts)


def test_append_returns_the_record_as_written(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "20260101T000000Z-s-0123456789abcdef.jsonl", "0123456789abcdef")
    first = log.append({"event": "one", "seq": 9}, 1_765_000_000.25)
    second = log.append({"event": "two"}, 1_765_000_001.5)
    log.close()
    assert first["ts"] == "2025-12-06T05:46:40.250000Z"
    assert first["prev"] == GENESIS and first["event.seq"] == 9
    assert second["prev"] == first["mac"] and second["seq"] == 1
    assert records.split(log.path.read_bytes().splitlines(keepends=True)[1]) is not None
