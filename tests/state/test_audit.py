from __future__ import annotations

import json
from pathlib import Path

import pytest

from ztmcp.errors import AuditError
from ztmcp.state.audit import AuditLog, read_records, session_files, verify_file


def _log(tmp_path: Path, n: int = 5, close: bool = True) -> Path:
    log = AuditLog.create(tmp_path / "audit", "srv/with odd:name")
    for i in range(n):
        log.append({"event": "message", "server": "srv", "n": i, "text": "é✓"})
    if close:
        log.close(reason="test")
    return log.path


def test_chain_verifies_and_records_are_readable(tmp_path: Path) -> None:
    path = _log(tmp_path)
    assert "/" not in path.name[len("20260101T000000Z-") :]  # server name sanitised
    result = verify_file(path)
    assert result.ok and result.closed and result.records == 6
    records = list(read_records(session_files(tmp_path / "audit")))
    assert [r["seq"] for r in records] == list(range(6))
    assert records[-1]["event"] == "session.end"
    assert all(len(r["hash"]) == 64 for r in records)


def test_one_changed_byte_is_found(tmp_path: Path) -> None:
    path = _log(tmp_path)
    data = bytearray(path.read_bytes())
    target = data.index(b'"n":3')
    data[target + 4] = ord("4")
    path.write_bytes(bytes(data))
    result = verify_file(path)
    assert not result.ok and result.line == 4
    assert "hash" in (result.error or "")


def test_deleted_record_is_found(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2] + lines[3:]))
    result = verify_file(path)
    assert not result.ok and result.line == 3 and "seq" in (result.error or "")


def test_swapped_records_are_found(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))
    result = verify_file(path)
    assert not result.ok and result.line == 3


def test_rewritten_chain_with_recomputed_hashes_still_fails_on_prev(tmp_path: Path) -> None:
    # An attacker who edits a record and recomputes its own hash breaks the next prev link.
    from ztmcp.state.audit import record_hash

    path = _log(tmp_path)
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    records[2]["n"] = 99
    records[2]["hash"] = record_hash(records[2])
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = verify_file(path)
    assert not result.ok and result.line == 4 and "prev" in (result.error or "")


def test_truncated_tail_is_visible_as_open(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    result = verify_file(path)
    assert result.ok and not result.closed and result.records == 5


def test_empty_and_garbage_logs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert not verify_file(empty).ok
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\xff not json\n")
    assert verify_file(garbage).line == 1


def test_closed_log_refuses_appends(tmp_path: Path) -> None:
    log = AuditLog.create(tmp_path / "audit", "s")
    log.close()
    log.close()  # idempotent
    with pytest.raises(AuditError):
        log.append({"event": "late"})


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AuditError) as info:
        AuditLog.create(blocker / "audit", "s")
    assert "ZTMCP_HOME" in info.value.diagnostics()


def test_deferred_to_a_loop_records_keep_post_order_from_any_thread(tmp_path: Path) -> None:
    """``defer_to``: what the writer thread held goes first, then loop and thread posts in order."""
    import asyncio
    import threading

    log = AuditLog.create(tmp_path / "audit", "s")
    log.post({"event": "before", "n": 0})  # through the writer thread

    async def main() -> None:
        log.defer_to(asyncio.get_running_loop())
        log.post({"event": "loop", "n": 1})
        assert verify_file(log.path).records == 1  # not written yet: after the loop turns
        worker = threading.Thread(target=log.post, args=({"event": "thread", "n": 2},))
        worker.start()
        worker.join()
        for _ in range(10):
            await asyncio.sleep(0)
        assert verify_file(log.path).records == 3
        log.post({"event": "loop", "n": 3})  # still pending when the loop ends

    asyncio.run(main())
    log.close(reason="test")  # writes the pending record, then session.end
    result = verify_file(log.path)
    assert result.ok and result.closed and result.records == 5
    records = list(read_records([log.path]))
    assert [r.get("n") for r in records] == [0, 1, 2, 3, None]


def test_deferred_write_failure_stops_the_next_post(tmp_path: Path) -> None:
    import asyncio
    import os

    log = AuditLog.create(tmp_path / "audit", "s")

    async def main() -> None:
        log.defer_to(asyncio.get_running_loop())
        os.close(log._fd)  # the disk goes away under the log
        log._fd = os.open(os.devnull, os.O_RDONLY)  # writes now fail with EBADF
        log.post({"event": "message"})
        for _ in range(10):
            await asyncio.sleep(0)
        with pytest.raises(AuditError, match="cannot write audit log"):
            log.post({"event": "message"})

    asyncio.run(main())
