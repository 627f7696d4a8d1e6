"""The audit writer never dies quietly: hostile values are recorded, every failure stops the log.

Faults are injected at each step a record goes through (key, encoding, MAC, write, fsync,
index); after any of them ``append``, ``post`` and ``close`` raise ``AuditError``, so the relay
stops. A full disk is simulated (ENOSPC, short writes) and real (a 64 KiB tmpfs, as root).
"""

from __future__ import annotations

import errno
import hmac
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztmcp.errors import AuditError
from ztmcp.state import audit_index, keys, paths, records
from ztmcp.state.audit import AuditLog, Status, read_records, verify_dir, verify_file


def _new(directory: Path, **options: Any) -> AuditLog:
    session = os.urandom(8).hex()
    return AuditLog(directory / f"20260101T000000Z-s-{session}.jsonl", session, **options)


def _stopped(log: AuditLog) -> AuditError:
    """The ``AuditError`` that ``post`` raises once the log failed."""
    with pytest.raises(AuditError) as failure:
        log.post({"event": "probe"})
    return failure.value


# -- hostile values are recorded, never a crash ------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**4000, max_value=10**4400)  # past Python's int->str limit
    | st.floats()  # NaN and the infinities included
    | st.text(st.characters(codec=None, exclude_categories=()))  # lone surrogates included
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=()), max_size=6), inner, max_size=6
        )
    ),
    max_leaves=30,
)


def _encoded(encode: Callable[[Any], str], value: Any) -> str:
    try:
        return encode(value)
    except Exception as exc:
        return f"raises {type(exc).__name__}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values)
def test_the_reused_encoder_writes_what_json_writes(value: Any) -> None:
    """Differential: the C encoder made once (``records._encode``) against a ``JSONEncoder``
    with the same options, byte for byte, and the same refusals (NaN, huge integers, bytes)."""
    record = {"event": "message", "value": value}
    assert _encoded(records._encode, record) == _encoded(records._ENCODER.encode, record)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, text=st.text(st.characters(exclude_categories=()), max_size=40))
def test_any_value_is_recorded_and_the_log_verifies(value: Any, text: str) -> None:
    directory = Path(tempfile.mkdtemp(prefix="ztmcp-audit-"))
    try:
        log = _new(directory)
        log.append({"event": "message", "value": value, "gen_ai.tool.name": text})
        log.close()
        raw = log.path.read_bytes()
        assert raw.isascii()
        assert verify_file(log.path).status is Status.CLOSED
        first = next(read_records([log.path]))
        assert first["gen_ai.tool.name"] == text  # short strings, surrogates too, exactly
        for string in _strings(first):
            assert len(string) <= records.MAX_STRING + 40
    finally:
        shutil.rmtree(directory)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_values_json_has_no_form_for_are_named_not_fatal(tmp_path: Path) -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    log = _new(tmp_path)
    log.append(
        {
            "event": "message",
            "nan": math.nan,
            "big": 10**5000,
            "path": Path("/x"),
            "cycle": cycle,
            "bytes": b"\x00\xff",
            "lone": "\ud800",
        }
    )
    log.close()
    first = next(read_records([log.path]))
    assert first["nan"] == "[nan]" and first["big"].startswith("[integer of ")
    assert first["path"] == "[PosixPath]" and first["bytes"] == "[2 bytes]"
    assert first["lone"] == "\ud800"
    assert verify_file(log.path).status is Status.CLOSED


def test_every_field_has_a_size_bound(tmp_path: Path) -> None:
    log = _new(tmp_path)
    long = "A" * 100_000
    log.append({"event": "message", "reason": long, "many": list(range(10_000))})
    log.close()
    first = next(read_records([log.path]))
    assert first["reason"].startswith("A" * records.MAX_STRING)
    assert first["reason"].endswith(f"...[truncated {100_000 - records.MAX_STRING} chars]")
    assert len(first["many"]) == records.MAX_ITEMS + 1 and "more items" in first["many"][-1]
    assert len(log.path.read_bytes().splitlines()[0]) < 4 * records.MAX_STRING


def test_a_lone_surrogate_through_post_keeps_the_relay_going(tmp_path: Path) -> None:
    log = _new(tmp_path)
    log.post({"event": "message", "gen_ai.tool.name": "\ud800evil"})
    log.post({"event": "message", "n": 2})
    log.close()
    assert next(read_records([log.path]))["gen_ai.tool.name"] == "\ud800evil"
    assert verify_file(log.path).status is Status.CLOSED


# -- fault injection: every step ----------------------------------------------------------------


def _boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("injected")


STEPS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "key": lambda mp: mp.setattr(keys, "load", _boom),
    "encode": lambda mp: mp.setattr(records, "body", _boom),
    "mac": lambda mp: mp.setattr(hmac, "digest", _boom),
    "write": lambda mp: mp.setattr(paths, "write_all", _boom),
    "fsync": lambda mp: mp.setattr(os, "fsync", _boom),
    "index": lambda mp: mp.setattr(audit_index, "append", _boom),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_fault_at_any_step_stops_append_post_and_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    log = _new(tmp_path, checkpoint_records=1)  # every record reaches fsync and the index
    with monkeypatch.context() as mp:
        STEPS[step](mp)
        with pytest.raises(AuditError, match=r"cannot write audit log|injected"):
            log.append({"event": "message"})
    # The fault is gone, but the log stays stopped: its chain may be cut mid-way.
    with pytest.raises(AuditError):
        log.append({"event": "message"})
    with pytest.raises(AuditError):
        log.post({"event": "message"})
    with pytest.raises(AuditError):
        log.close()


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_fault_raises_from_the_post_that_hit_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """``post`` writes before it returns: the record that failed is the one that says so (the
    adapter then refuses that frame instead of forwarding it)."""
    log = _new(tmp_path, checkpoint_records=1)
    with monkeypatch.context() as mp:
        STEPS[step](mp)
        with pytest.raises(AuditError) as failure:
            log.post({"event": "message"})
    assert "injected" in failure.value.message
    assert "injected" in _stopped(log).message
    with pytest.raises(AuditError):
        log.close()


def test_a_damaged_key_file_stops_the_log(tmp_path: Path) -> None:
    keys.key_path().parent.mkdir(parents=True, exist_ok=True)
    keys.key_path().write_text('{"store": "file", "id": "00", "key": "zz"}')
    log = _new(tmp_path)
    failure = _stopped(log)
    assert "state key" in failure.message and failure.hint


# -- a full disk -----------------------------------------------------------------------------


def _fail_writes(
    monkeypatch: pytest.MonkeyPatch, log: AuditLog, after: int, *, short: int = 0
) -> None:
    """``os.write`` on the log writes at most ``short`` bytes a call (0: no limit), and hits
    ENOSPC once ``after`` bytes were written."""
    real = os.write
    written = 0

    def write(fd: int, data: Any) -> int:
        nonlocal written
        if fd != log._fd:
            return real(fd, data)
        room = after - written
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        chunk = bytes(data)[: min(room, short or room)]
        written += len(chunk)
        return real(fd, chunk)

    monkeypatch.setattr(os, "write", write)


def test_enospc_mid_record_stops_the_log_and_verify_says_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _new(tmp_path)
    log.append({"event": "message", "n": 0})
    with monkeypatch.context() as mp:
        _fail_writes(mp, log, after=30, short=10)  # the next record half written
        with pytest.raises(AuditError) as raised:
            log.post({"event": "message", "n": 1})
        failure = raised.value
        assert _stopped(log) is failure
        assert "No space left on device" in failure.message
        with pytest.raises(AuditError):
            log.close()
    result = verify_file(log.path)
    assert result.ok and result.status is Status.CUT_OFF and result.records == 1
    assert "No space left on device" in result.detail and "not tampering" in result.detail
    assert verify_dir(tmp_path).ok


def test_short_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _new(tmp_path)
    with monkeypatch.context() as mp:
        _fail_writes(mp, log, after=10**9, short=7)
        for n in range(5):
            log.append({"event": "message", "n": n})
        log.close()
    assert verify_file(log.path).status is Status.CLOSED


def test_a_write_of_nothing_is_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _new(tmp_path)
    log.append({"event": "message"})
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: 0 if fd == log._fd else real(fd, data))
    with pytest.raises(AuditError, match="No space left on device"):
        log.append({"event": "message"})


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, mounted for this test (needs root and mount rights)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], timeout=30, check=False)


def test_a_real_full_disk_stops_the_log_and_verify_says_cut_off(small_disk: Path) -> None:
    directory = small_disk / "audit"
    log = _new(directory)
    deadline = time.monotonic() + 30
    failure = None
    n = 0
    while failure is None and time.monotonic() < deadline:
        try:
            log.post({"event": "message", "n": n, "reason": "x" * 1500})
        except AuditError as exc:
            failure = exc
        n += 1
    assert failure is not None, "the disk never filled"
    assert "No space left on device" in failure.message
    with pytest.raises(AuditError):
        log.close()
    result = verify_file(log.path)
    assert result.ok and result.status is Status.CUT_OFF, result
    assert "not tampering" in result.detail
    report = verify_dir(directory)
    assert report.ok and report.index_problem is None
    # The writer could not fsync what it never wrote: every record the index saw is there.
    assert result.records > 0
    last = json.loads(log.path.read_bytes().split(b"\n")[result.records - 1])
    assert last["seq"] == result.records - 1


@settings(max_examples=200, deadline=None)
@given(key=st.binary(max_size=200), data=st.binary(max_size=300))
def test_the_precomputed_hmac_equals_the_standard_one(key: bytes, data: bytes) -> None:
    assert records.Hmac(key).hex(data) == hmac.digest(key, data, "sha256").hex()


def test_subclasses_that_lie_are_recorded_by_their_value(tmp_path: Path) -> None:
    class Sly(str):
        def __str__(self) -> str:
            raise RuntimeError("no")

        def __getitem__(self, item: Any) -> Any:
            raise RuntimeError("no")

    class Num(int):
        def __int__(self) -> int:
            raise RuntimeError("no")

        def __index__(self) -> int:
            raise RuntimeError("no")

    log = _new(tmp_path)
    log.append({"event": "message", "nan": math.nan, "s": Sly("x" * 5000), Sly("k"): Num(7)})
    log.close()
    first = next(read_records([log.path]))
    assert first["s"].startswith("x" * records.MAX_STRING) and first["k"] == 7
    assert verify_file(log.path).status is Status.CLOSED


def test_a_failed_checkpoint_on_the_helper_thread_stops_the_next_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints run off the relay's path; one that fails (``fsync``: EIO) fails the log,
    so a later ``post`` raises and the relay stops (bounded wait for the helper)."""
    log = _new(tmp_path, checkpoint_records=1)
    log.post({"event": "message", "n": 0})

    def eio(_fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", eio)
    deadline = time.monotonic() + 10
    failure = None
    while failure is None and time.monotonic() < deadline:
        try:
            log.post({"event": "message"})
        except AuditError as exc:
            failure = exc
        time.sleep(0.01)
    assert failure is not None, "the failed checkpoint never stopped the log"
    assert "Input/output error" in failure.message
    with pytest.raises(AuditError):
        log.close()


def test_the_helper_checkpoints_every_n_records_counted_from_the_last_checkpoint(
    tmp_path: Path,
) -> None:
    """A record wakes the helper once ``checkpoint_records`` records passed since the index's
    last entry for the log (the threshold is reset by each checkpoint), and the entry names
    every record written before its ``fsync`` began; by time only after ``checkpoint_seconds``."""
    log = _new(tmp_path, checkpoint_records=3, checkpoint_seconds=3600.0)

    def anchored(at_least: int) -> int:
        deadline = time.monotonic() + 10
        while True:
            assert log._keys is not None
            seen = audit_index.read(tmp_path, log._keys.index).sessions[log.path.name].checkpoint
            count = seen[0] if seen is not None else 0
            if count >= at_least or time.monotonic() > deadline:
                return count
            time.sleep(0.01)

    for n in range(2):
        log.post({"event": "message", "n": n})
    time.sleep(0.2)
    assert anchored(0) == 0  # two records: below the threshold, no entry
    log.post({"event": "message", "n": 2})
    assert anchored(3) == 3
    for n in range(3, 5):
        log.post({"event": "message", "n": n})
    time.sleep(0.2)
    assert anchored(0) == 3  # two more since the last checkpoint: none yet
    log.post({"event": "message", "n": 5})
    assert anchored(6) == 6
    log.close()
    assert verify_file(log.path).status is Status.CLOSED
