from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fifo import unwritten_fifo
from tests.keyring_backends import MemoryKeyring, memory_keyring, no_keyring
from ztmcp.errors import AuditError
from ztmcp.state import audit_index, keys, paths, records
from ztmcp.state.audit import (
    AuditLog,
    Status,
    read_records,
    session_files,
    verify_dir,
    verify_file,
)

__all__ = ["memory_keyring", "no_keyring"]  # fixtures used by name below


def _log(tmp_path: Path, n: int = 5, close: bool = True, checkpoint_records: int = 0) -> Path:
    if checkpoint_records:
        session = os.urandom(8).hex()
        name = tmp_path / "audit" / f"20260101T000000Z-srv-{session}.jsonl"
        log = AuditLog(name, session, checkpoint_records=checkpoint_records)
    else:
        log = AuditLog.create(tmp_path / "audit", "srv/with odd:name")
    for i in range(n):
        log.append({"event": "message", "server": "srv", "n": i, "text": "é✓"})
    if close:
        log.close(reason="test")
    else:
        if checkpoint_records:
            log.checkpoint()  # the helper thread's checkpoints, made certain before the crash
        _crash(log)
    return log.path


def _crash(log: AuditLog) -> None:
    """The process dies: the descriptor (and its live lock) goes, nothing more is written."""
    os.close(log._fd)
    log._closed = True


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_chain_verifies_and_records_are_readable(tmp_path: Path) -> None:
    path = _log(tmp_path)
    assert "/" not in path.name[len("20260101T000000Z-") :]  # server name sanitised
    result = verify_file(path)
    assert result.ok and result.closed and result.records == 6
    assert result.status is Status.CLOSED
    records_ = list(read_records(session_files(tmp_path / "audit")))
    assert [r["seq"] for r in records_] == list(range(6))
    assert records_[-1]["event"] == "session.end"
    assert all(len(r["mac"]) == 64 and "hash" not in r for r in records_)
    assert records_[0]["text"] == "é✓"
    assert path.read_bytes().isascii()  # \u escapes: encoding can never fail


def test_state_files_are_private(tmp_path: Path) -> None:
    path = _log(tmp_path)
    for file in (path, audit_index.index_path(path.parent), keys.key_path()):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_one_changed_byte_is_tampering(tmp_path: Path) -> None:
    path = _log(tmp_path)
    data = bytearray(path.read_bytes())
    target = data.index(b'"n":3')
    data[target + 4] = ord("4")
    path.write_bytes(bytes(data))
    result = verify_file(path)
    assert result.status is Status.TAMPERED and result.line == 4
    assert "MAC" in (result.error or "")


def test_deleted_record_is_tampering(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    path.write_bytes(b"".join(lines[:2] + lines[3:]))
    result = verify_file(path)
    assert result.status is Status.TAMPERED and result.line == 3 and "seq" in (result.error or "")


def test_swapped_records_are_tampering(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))
    result = verify_file(path)
    assert result.status is Status.TAMPERED and result.line == 3


def _rechain(lines: list[bytes], mac: object) -> bytes:
    """Rewrite every record's seq/prev/mac the way an attacker without the key can."""
    out = []
    prev = "0" * 64
    for seq, raw in enumerate(lines):
        record = json.loads(raw)
        record.pop("mac")
        record["seq"], record["prev"] = seq, prev
        body = records.body(record)
        prev = mac(body)  # type: ignore[operator]
        out.append(body[:-1] + f',"mac":"{prev}"}}\n'.encode())
    return b"".join(out)


def test_records_dropped_and_chain_recomputed_without_the_key(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    kept = lines[:1] + lines[3:]  # two records gone, session.end's count fixed up below
    end = json.loads(kept[-1])
    end["records"] = len(kept)
    kept[-1] = json.dumps(end).encode() + b"\n"
    for forge in (
        lambda body: hashlib.sha256(body).hexdigest(),  # the old unkeyed way
        lambda body: records.mac(os.urandom(32), body),  # a key of the attacker's own
    ):
        path.write_bytes(_rechain(kept, forge))
        result = verify_file(path)
        assert result.status is Status.TAMPERED and result.line == 1, result


def test_edited_and_recomputed_as_a_version_1_chain(tmp_path: Path) -> None:
    path = _log(tmp_path)
    out, prev = [], "0" * 64
    for raw in _lines(path):
        record = json.loads(raw)
        record.pop("mac")
        record["prev"] = prev
        if record.get("n") == 2:
            record["text"] = "nothing happened"
        record["hash"] = prev = records.record_hash(record)
        out.append(json.dumps(record).encode() + b"\n")
    path.write_bytes(b"".join(out))
    result = verify_file(path)
    assert result.status is Status.TAMPERED
    assert "rewritten as an unkeyed chain" in (result.error or "")


def test_truncated_tail_of_a_closed_session_is_tampering(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    for keep in (len(lines) - 1, 2, 0):
        path.write_bytes(b"".join(lines[:keep]))
        result = verify_file(path)
        assert result.status is Status.TAMPERED and not result.ok, keep
        assert "truncated" in (result.error or "") or "emptied" in (result.error or "")


def test_truncation_below_a_checkpoint_of_an_unclosed_session_is_tampering(
    tmp_path: Path,
) -> None:
    path = _log(tmp_path, n=6, close=False, checkpoint_records=2)
    lines = _lines(path)
    path.write_bytes(b"".join(lines[:3]))  # the index saw 6 (checkpoints at 2, 4, 6)
    result = verify_file(path)
    assert result.status is Status.TAMPERED and "the index saw 6" in (result.error or "")


def test_deleted_session_file_is_missing(tmp_path: Path) -> None:
    first = _log(tmp_path)
    second = _log(tmp_path, n=2)
    assert verify_dir(first.parent).ok
    second.unlink()
    report = verify_dir(first.parent)
    assert not report.ok
    (gone,) = [v for v in report.logs if v.status is Status.MISSING]
    assert gone.path.name == second.name


def test_a_planted_log_is_tampering(tmp_path: Path) -> None:
    real = _log(tmp_path)
    planted = real.with_name("20991231T000000Z-fake-0000000000000000.jsonl")
    planted.write_bytes(real.read_bytes())
    assert verify_file(planted).status is Status.TAMPERED


def test_a_deleted_or_edited_index_is_reported(tmp_path: Path) -> None:
    path = _log(tmp_path)
    index = audit_index.index_path(path.parent)
    data = index.read_bytes()
    index.write_bytes(data.replace(b'"records":6', b'"records":9'))
    report = verify_dir(path.parent)
    assert not report.ok and "MAC does not verify" in (report.index_problem or "")
    index.unlink()
    report = verify_dir(path.parent)
    assert not report.ok and "index is missing" in (report.index_problem or "")


def test_a_live_session_is_not_broken(tmp_path: Path) -> None:
    log = AuditLog.create(tmp_path / "audit", "s")
    log.append({"event": "message"})
    result = verify_file(log.path)
    assert result.ok and result.status is Status.LIVE and result.records == 1
    assert verify_dir(log.path.parent).ok
    log.close()
    assert verify_file(log.path).status is Status.CLOSED


def test_a_crash_is_a_cut_off_tail_not_tampering(tmp_path: Path) -> None:
    path = _log(tmp_path, n=4, close=False)
    result = verify_file(path)
    assert result.ok and result.status is Status.CUT_OFF and result.records == 4
    assert "not tampering" in result.detail
    with path.open("ab") as handle:  # a record half written when the process died
        handle.write(b'{"seq":4,"ts":"2026')
    result = verify_file(path)
    assert result.status is Status.CUT_OFF and "incomplete" in result.detail
    assert verify_dir(path.parent).ok


def test_unkeyed_version_1_logs_are_reported_as_such(tmp_path: Path) -> None:
    directory = tmp_path / "old"
    directory.mkdir()
    path = directory / "20250101T000000Z-srv-00000000000000aa.jsonl"
    prev, out = "0" * 64, []
    for seq, event in enumerate(({"event": "session.start"}, {"event": "session.end"})):
        record = {"seq": seq, "ts": "2025-01-01T00:00:00.000000Z", **event, "prev": prev}
        if event["event"] == "session.end":
            record["records"] = 2
        record["hash"] = prev = records.record_hash(record)
        out.append(json.dumps(record) + "\n")
    path.write_text("".join(out))
    result = verify_file(path)
    assert result.ok and result.status is Status.UNKEYED and result.records == 2
    assert "anyone could have recomputed it" in result.detail
    # Once keyed audit began in that directory, a newer unkeyed log is not ours.
    _log_in(directory)
    newer = directory / "20990101T000000Z-srv-00000000000000bb.jsonl"
    newer.write_text(path.read_text())
    assert verify_file(newer).status is Status.TAMPERED
    assert verify_file(path).status is Status.UNKEYED


@pytest.mark.parametrize("deep", [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"}" * 10_000])
def test_a_record_replaced_by_deeply_nested_json_is_tampering(tmp_path: Path, deep: bytes) -> None:
    # The readers skip a line nested past the decoder's recursion limit (audit show, export,
    # the TUI); verify must never: the line is tampering wherever it stands, keyed or not.
    path = _log(tmp_path)
    lines = _lines(path)
    for at in (1, len(lines) - 1):
        changed = [*lines[:at], deep + b"\n", *lines[at + 1 :]]
        path.write_bytes(b"".join(changed))
        result = verify_file(path)
        assert result.status is Status.TAMPERED and result.line == at + 1, (at, result)
        assert len(list(read_records([path]))) == len(lines) - 1  # skipped there, not here
    legacy = tmp_path / "old" / "20250101T000000Z-srv-00000000000000aa.jsonl"
    legacy.parent.mkdir()
    prev, out = "0" * 64, []
    for seq, event in enumerate(
        ({"event": "session.start"}, {"event": "m"}, {"event": "session.end"})
    ):
        record = {"seq": seq, "ts": "2025-01-01T00:00:00.000000Z", **event, "prev": prev}
        if event["event"] == "session.end":
            record["records"] = 3
        record["hash"] = prev = records.record_hash(record)
        out.append(json.dumps(record).encode() + b"\n")
    for at in (1, 2):
        legacy.write_bytes(b"".join([*out[:at], deep + b"\n", *out[at + 1 :]]))
        result = verify_file(legacy)
        assert result.status is Status.TAMPERED and result.line == at + 1, (at, result)


def _log_in(directory: Path) -> Path:
    log = AuditLog.create(directory, "x")
    log.append({"event": "session.start"})
    log.close()
    return log.path


def test_without_the_key_nothing_verifies(tmp_path: Path) -> None:
    path = _log(tmp_path)
    keys.key_path().unlink()
    keys.forget()
    result = verify_file(path)
    assert result.status is Status.NO_KEY and not result.ok


def test_key_in_the_keyring_when_one_exists(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTMCP_KEY_STORE", "keyring")  # the suite forces the file otherwise
    path = _log(tmp_path)
    stored = json.loads(keys.key_path().read_text())
    assert stored["store"] == "keyring" and "key" not in stored
    assert verify_file(path).status is Status.CLOSED
    keys.forget()  # a new process: the key comes back from the keyring
    assert verify_file(path).status is Status.CLOSED
    memory_keyring.entries.clear()  # the keyring lost it: nothing can be authenticated
    keys.forget()
    result = verify_file(path)
    assert result.status is Status.NO_KEY and "not in the keyring" in (result.error or "")


def test_insisting_on_the_keyring_without_one_fails_instead_of_a_file(
    tmp_path: Path, no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTMCP_KEY_STORE", "keyring")
    log = AuditLog.create(tmp_path / "audit", "s")
    with pytest.raises(AuditError, match="keyring"):
        log.append({"event": "message"})
    assert not keys.key_path().exists()


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


def test_reserved_fields_cannot_be_overridden_by_an_event(tmp_path: Path) -> None:
    log = AuditLog.create(tmp_path / "audit", "s")
    log.append({"event": "x", "seq": 99, "mac": "f" * 64, "prev": "a", "ts": "then"})
    log.close()
    (first, _) = read_records([log.path])
    assert first["seq"] == 0 and first["event.seq"] == 99 and first["event.mac"] == "f" * 64
    assert verify_file(log.path).status is Status.CLOSED


def test_post_writes_the_record_before_it_returns_from_any_thread(tmp_path: Path) -> None:
    """An adapter forwards a frame only after its record is written: ``post`` returns only
    once every byte is in the file, in post order, whichever thread posts (an event loop's
    thread included: the proxy posts from its hooks)."""
    import asyncio

    log = AuditLog.create(tmp_path / "audit", "s")
    log.post({"event": "before", "n": 0})
    assert verify_file(log.path).records == 1

    async def main() -> None:
        log.post({"event": "loop", "n": 1})
        assert verify_file(log.path).records == 2
        worker = threading.Thread(target=log.post, args=({"event": "thread", "n": 2},))
        worker.start()
        worker.join()
        assert verify_file(log.path).records == 3

    asyncio.run(main())
    log.close(reason="test")
    result = verify_file(log.path)
    assert result.ok and result.closed and result.records == 4
    assert [r.get("n") for r in read_records([log.path])] == [0, 1, 2, None]


def test_a_write_failure_raises_from_that_post(tmp_path: Path) -> None:
    log = AuditLog.create(tmp_path / "audit", "s")
    log.post({"event": "message"})
    os.close(log._fd)  # the disk goes away under the log
    log._fd = os.open(os.devnull, os.O_RDONLY)  # writes now fail with EBADF
    with pytest.raises(AuditError, match="cannot write audit log"):
        log.post({"event": "message"})
    with pytest.raises(AuditError, match="cannot write audit log"):
        log.post({"event": "message"})


def test_a_key_failure_while_preparing_is_raised_by_the_first_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise keys.StateKeyError("cannot read the state key", hint="restore it")

    monkeypatch.setattr(keys, "load", broken)
    log = AuditLog.create(tmp_path / "audit", "s")  # reads the key on a thread
    with pytest.raises(AuditError, match="cannot read the state key"):
        log.post({"event": "session.start"})
    assert log.path.read_bytes() == b""


def test_idle_records_are_checkpointed_by_the_idle_thread(tmp_path: Path) -> None:

    log = AuditLog(tmp_path / "audit" / "20260101T000000Z-s-01.jsonl", "s", checkpoint_seconds=0.05)
    log.post({"event": "message"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        index = audit_index.read(log.path.parent, keys.load().index)  # type: ignore[union-attr]
        seen = index.sessions.get(log.path.name)
        if seen is not None and seen.checkpoint is not None:
            assert seen.checkpoint == (1, _lines(log.path)[0][-67:-3].decode())
            break
        time.sleep(0.02)
    else:
        pytest.fail("no checkpoint while idle")
    _crash(log)
    log.path.write_bytes(b"")  # emptied after the checkpoint: not a crash
    assert verify_file(log.path).status is Status.TAMPERED


def test_paths_private_dir_creates_each_missing_level_0700(tmp_path: Path) -> None:
    target = paths.private_dir(tmp_path / "a" / "b")
    for directory in (tmp_path / "a", target):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


_mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("drop"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("repeat"), st.integers(0, 10**6), st.just(0)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=_mutations)
def test_no_change_to_a_closed_log_verifies_as_closed(mutation: tuple[str, int, int]) -> None:
    import shutil
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="ztmcp-audit-"))
    try:
        log = AuditLog(directory / "20260101T000000Z-s-0a.jsonl", "0a")
        for n in range(4):
            log.append({"event": "message", "n": n, "text": "é\ud800"})
        log.close()
        data = log.path.read_bytes()
        lines = data.splitlines(keepends=True)
        kind, where, value = mutation
        if kind == "flip":
            at = where % len(data)
            data = data[:at] + bytes([data[at] ^ value]) + data[at + 1 :]
        elif kind == "cut":
            data = data[: where % len(data)]
        elif kind == "drop":
            del lines[where % len(lines)]
            data = b"".join(lines)
        else:
            at = where % len(lines)
            data = b"".join(lines[: at + 1] + lines[at:])
        log.path.write_bytes(data)
        result = verify_file(log.path)
        assert result.status is Status.TAMPERED and not result.ok, (mutation, result)
        assert not verify_dir(directory).ok
    finally:
        shutil.rmtree(directory)


def test_is_live_does_not_wait_on_a_fifo(tmp_path: Path) -> None:
    # verify reads the log through documents.read_file (a FIFO is refused), then asks whether
    # a writer holds it: a FIFO swapped in between blocked that open until a writer came.
    with unwritten_fifo(tmp_path / "20260101T000000Z-s-0f.jsonl") as fifo:
        audit_index.is_live(fifo)


def test_a_session_before_its_first_record_is_live_not_a_missing_index(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit" / "20260101T000000Z-s-0b.jsonl", "0b")  # no key, no index
    report = verify_dir(log.path.parent)
    assert report.ok and [v.status for v in report.logs] == [Status.LIVE]
    _crash(log)
    assert [v.status for v in verify_dir(log.path.parent).logs] == [Status.EMPTY]


def test_a_prepared_session_before_its_first_record_is_live_then_cut_off(tmp_path: Path) -> None:
    """``create`` opens the session in the index on a thread: with no record yet, the log is
    live and, once its process is gone, cut off with no records (a crash, never tampering)."""

    log = AuditLog.create(tmp_path / "audit", "s")
    deadline = time.monotonic() + 10
    while log._keys is None and time.monotonic() < deadline:
        time.sleep(0.01)
    report = verify_dir(log.path.parent)
    assert report.ok and [v.status for v in report.logs] == [Status.LIVE]
    _crash(log)
    after = verify_dir(log.path.parent)
    assert after.ok and [(v.status, v.records) for v in after.logs] == [(Status.CUT_OFF, 0)]


def test_many_writers_share_one_index(tmp_path: Path) -> None:

    directory = tmp_path / "audit"
    logs = [
        AuditLog(directory / f"20260101T000000Z-s-{i:02d}.jsonl", f"{i:02d}", checkpoint_records=1)
        for i in range(6)
    ]

    def write(log: AuditLog) -> None:
        for n in range(20):
            log.append({"event": "message", "n": n})
        log.close()

    threads = [threading.Thread(target=write, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    report = verify_dir(directory)
    assert report.ok and report.index_problem is None
    assert [v.status for v in report.logs] == [Status.CLOSED] * 6
    index = audit_index.read(directory, keys.load().index)  # type: ignore[union-attr]
    # genesis; per log: open, the helper thread's checkpoints (up to 21: it may batch), close
    assert 1 + 6 * 2 <= index.entries <= 1 + 6 * (1 + 21 + 1)


def test_an_index_entry_cut_by_a_crash_is_noted_then_repaired_by_the_next_writer(
    tmp_path: Path,
) -> None:
    first = _log(tmp_path, n=2)
    index = audit_index.index_path(first.parent)
    with index.open("ab") as handle:
        handle.write(b'{"n":99,"ts":"2026')  # a writer died mid-entry
    report = verify_dir(first.parent)
    assert report.ok and "cut off" in (report.index_note or "")
    _log(tmp_path, n=2)  # the next writer drops the partial line, then chains on
    report = verify_dir(first.parent)
    assert report.ok and report.index_note is None
    assert [v.status for v in report.logs] == [Status.CLOSED, Status.CLOSED]


def test_an_index_ending_in_garbage_stops_the_next_writer(tmp_path: Path) -> None:
    first = _log(tmp_path, n=1)
    with audit_index.index_path(first.parent).open("ab") as handle:
        handle.write(b"garbage\n")
    log = AuditLog.create(first.parent, "s")
    with pytest.raises(AuditError, match="not an index entry"):
        log.append({"event": "message"})
    assert not verify_dir(first.parent).ok
