"""A FIFO nobody writes to, for the tests that a reader never waits on one, bounded in time."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def unwritten_fifo(path: Path, seconds: float = 5) -> Iterator[Path]:
    """Make a FIFO at ``path`` with no writer. If the body blocks on it anyway, a writer comes
    after ``seconds`` and goes, so the body returns and the test fails (the time is asserted
    when the body ends) instead of hanging until pytest's timeout."""
    os.mkfifo(path)

    def release() -> None:
        with contextlib.suppress(OSError):  # no reader waiting: nothing to release
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    timer = threading.Timer(seconds, release)
    timer.start()
    started = time.monotonic()
    try:
        yield path
    finally:
        timer.cancel()
    assert time.monotonic() - started < seconds, f"blocked on the FIFO {path.name}"
