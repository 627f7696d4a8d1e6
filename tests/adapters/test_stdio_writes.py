"""The relay's writes go through the one full-write helper (``state.paths.write_all``), under
real faults: signals that cut a blocked write short (EINTR and short writes on a real pipe), a
reader that went away (EPIPE), a write that takes nothing, and a signal handler that raises
mid-frame. A frame arrives whole and in order, or the side breaks for good with at most the
start of that frame sent."""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ztmcp.adapters import stdio
from ztmcp.state import paths

BIG = b'{"jsonrpc":"2.0","id":7,"result":{"text":"' + b"y" * 2_000_000 + b'"}}'


class _Interrupted(Exception):
    """Raised by the test's signal handler, as a KeyboardInterrupt would be."""


def _queued(fd: int) -> int:
    """Bytes waiting in a pipe (FIONREAD)."""
    out = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return int.from_bytes(out, sys.byteorder)


def _drain(fd: int, pause: float = 0.0) -> bytes:
    out = bytearray()
    while chunk := os.read(fd, 1 << 14):
        out += chunk
        if pause:
            time.sleep(pause)
    return bytes(out)


Signals = Callable[..., list[int]]


@pytest.fixture
def signals() -> Iterator[Signals]:
    """Sends SIGUSR1 to the main thread (the one writing) every ``every`` seconds with the
    given handler, once ``ready()`` says so, until the test ends; returns the list the
    handler's calls are counted in."""
    main = threading.get_ident()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    previous = signal.getsignal(signal.SIGUSR1)

    def start(
        handler: Callable[[int, Any], None],
        every: float,
        ready: Callable[[], bool] = lambda: True,
    ) -> list[int]:
        seen: list[int] = []

        def counted(signum: int, frame: Any) -> None:
            seen.append(signum)
            handler(signum, frame)

        signal.signal(signal.SIGUSR1, counted)

        def send() -> None:
            while not stop.wait(every):
                if ready():
                    signal.pthread_kill(main, signal.SIGUSR1)

        thread = threading.Thread(target=send, daemon=True)
        threads.append(thread)
        thread.start()
        return seen

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    signal.signal(signal.SIGUSR1, previous)


def test_signals_during_a_blocked_write_leave_the_frame_whole(
    signals: Signals,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A frame of many pipe buffers, a slow reader, a signal every half millisecond: the
    kernel cuts the write short (or fails it with EINTR, which Python retries) again and
    again, and the reader still gets the frame and its newline, once, then the next."""
    read_end, write_end = os.pipe()
    real_write = os.write
    short: list[int] = []

    def recorded(fd: int, data: Any) -> int:
        done = real_write(fd, data)
        if done < len(data):
            short.append(done)
        return done

    monkeypatch.setattr(os, "write", recorded)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(_drain(read_end, 0.001)), daemon=True)
    reader.start()
    seen = signals(lambda *_: None, 0.0005)
    endpoint = stdio._Endpoint(write_end)
    try:
        assert endpoint.write(BIG) and endpoint.write(b"{}")
    finally:
        os.close(write_end)
    reader.join(timeout=30)
    os.close(read_end)
    assert got == [BIG + b"\n{}\n"]
    assert seen and short  # the faults happened: signals arrived, writes were cut short
    assert not endpoint.broken and endpoint.fault is None


def test_a_reader_that_went_away_breaks_the_side_without_a_fault() -> None:
    """EPIPE (SIGPIPE is ignored in Python): the peer is gone, not ztmcp's fault; every later
    frame is refused at once."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    endpoint = stdio._Endpoint(write_end)
    try:
        assert endpoint.write(b'{"jsonrpc":"2.0","id":1,"result":{}}') is False
        assert endpoint.broken and endpoint.fault is None
        assert endpoint.write(b"{}") is False
    finally:
        os.close(write_end)


def test_a_write_that_takes_nothing_breaks_the_side(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write of 0 bytes would loop for ever if it were retried: it is an error (ENOSPC)."""
    read_end, write_end = os.pipe()
    calls: list[int] = []

    def nothing(fd: int, data: Any) -> int:
        calls.append(len(data))
        return 0

    monkeypatch.setattr(paths.os, "write", nothing)
    endpoint = stdio._Endpoint(write_end)
    try:
        assert endpoint.write(b"{}") is False
        assert endpoint.write(b"{}") is False
    finally:
        monkeypatch.undo()
        os.close(write_end)
        os.close(read_end)
    assert calls == [3]  # tried once, then the side stayed broken
    assert endpoint.broken and endpoint.fault is None


def test_a_handler_that_raises_mid_frame_breaks_the_side_and_keeps_the_fault(
    signals: Signals,
) -> None:
    """A signal handler that raises while the frame is half written (nobody reads): the side
    breaks for good, the exception is kept as ztmcp's own fault, and the reader gets at most
    the start of the frame, never its newline."""
    read_end, write_end = os.pipe()

    raised: list[bool] = []

    def boom(*_: object) -> None:
        if not raised:  # once: the later signals find the test past the write
            raised.append(True)
            raise _Interrupted

    endpoint = stdio._Endpoint(write_end)
    capacity = fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ)
    # Only once the pipe is full, so the writer is inside its blocked write (a handler that
    # raised before the write began would fail the test, not the write).
    seen = signals(boom, 0.02, lambda: _queued(read_end) >= capacity)
    try:
        assert endpoint.write(BIG) is False
        assert endpoint.write(b"{}") is False
    finally:
        os.close(write_end)
    got = _drain(read_end)
    os.close(read_end)
    assert seen and raised
    assert endpoint.broken and isinstance(endpoint.fault, _Interrupted)
    assert 0 < len(got) < len(BIG) and BIG.startswith(got) and b"\n" not in got
