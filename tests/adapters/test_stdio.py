"""The stdio relay's signal handling (the relay itself is tested end to end in tests/e2e)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from ztmcp.adapters.stdio import StdioRelay
from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.session import Session
from ztmcp.state.audit import AuditLog


def test_the_signal_handler_takes_no_lock(tmp_path: Path) -> None:
    """A handler runs between two bytecodes of the main thread, maybe while that thread holds
    the lock of the very event it would set: it may only note the signal."""
    relay = StdioRelay(Session("t", [EnvelopeCheck()], AuditLog.create(tmp_path, "t")), ["true"])
    held = [relay._done._cond, relay._reason_lock]  # as if the main thread were inside them
    for lock in held:
        lock.acquire()
    try:
        handler = threading.Thread(target=relay._on_signal, args=(signal.SIGTERM, None))
        handler.start()
        handler.join(timeout=2)
        assert not handler.is_alive()
    finally:
        for lock in held:
            lock.release()
    assert relay._signum == signal.SIGTERM and not relay._done.is_set()  # the wait loop stops it
