"""Property-based fuzzing of the real stdio relay: hostile frames from both peers at once.

The relay, Session, checks and audit log are ``ztmcp run``'s own (tests/fuzz/harness.py); the
test plays a hostile agent and a hostile server (which answers every request it is sent with a
hostile or malformed answer). After each batch a ping through both directions proves the relay
neither crashed nor hung; at the end, every frame each peer read is checked against the
Session's decisions, every request against its answer, and the audit log is verified
(tests/fuzz/invariants.py). The long run is ``benchmarks/fuzz_long.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.frames import batches, hostile_answer
from tests.fuzz.harness import Relay, RunProcess
from tests.fuzz.invariants import AMBIGUOUS, check_by_audit, violations
from ztmcp.state.audit import verify_file

EXAMPLES = int(os.environ.get("ZTMCP_FUZZ_EXAMPLES", "40"))  # a few hundred frames, seconds


def _fuzz(relay: Relay) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(batch=batches())
    def run(batch: list[tuple[bool, bytes]]) -> None:
        for from_agent, frame in batch:
            (relay.send_agent if from_agent else relay.send_server)(frame + b"\n")
        # Twice: the second ping follows, through the same pipes, whatever the relay wrote to
        # either peer before the first came back.
        assert relay.sync() and relay.sync(), f"the relay did not answer after {batch!r}"
        assert relay.thread.is_alive(), f"the relay stopped: {relay.relay._stop_reason}"
        problems = [p for p in violations(relay) if not p.startswith(AMBIGUOUS)]
        assert not problems, (batch, problems)

    run()


def test_the_stdio_relay_under_hostile_peers(tmp_path: Path) -> None:
    relay = Relay(tmp_path, answer_server=hostile_answer)
    try:
        _fuzz(relay)
        assert relay.sync() and relay.sync()  # the last answers have arrived
    finally:
        result = relay.stop()
    assert result is not None and result.exit_code == 0, relay.said
    assert not [p for p in violations(relay, ended=True) if not p.startswith(AMBIGUOUS)]
    assert len(relay.seen.decisions) >= EXAMPLES  # it did relay something
    verification = verify_file(relay.audit.path)
    assert verification.ok and verification.closed, verification.error


def test_the_stdio_relay_forwards_only_unambiguous_frames(tmp_path: Path) -> None:
    relay = Relay(tmp_path, answer_server=partial(hostile_answer, ambiguous=True))
    try:
        _fuzz(relay)
        relay.sync()
    finally:
        relay.stop()
    assert not violations(relay, check_ambiguity=True, ended=True)


@pytest.mark.e2e
def test_ztmcp_run_itself_under_hostile_peers(tmp_path: Path) -> None:
    """The same, through ``ztmcp run`` as a client starts it: the CLI's own assembly, with the
    pin and access edges; checked from its audit log, which ``ztmcp audit verify`` accepts."""
    run = RunProcess(tmp_path, answer_server=hostile_answer)
    try:

        @settings(max_examples=max(EXAMPLES // 2, 1), deadline=None, database=None)
        @given(batch=batches())
        def fuzz(batch: list[tuple[bool, bytes]]) -> None:
            for from_agent, frame in batch:
                (run.send_agent if from_agent else run.send_server)(frame + b"\n")
            assert run.sync() and run.sync(), f"ztmcp run did not answer after {batch!r}"
            assert run.proc.poll() is None, "ztmcp run exited"

        fuzz()
    finally:
        code = run.stop()
    assert code == 0, run.stderr
    problems = check_by_audit(
        run.audit_records(),
        run.sent_by_agent,
        run.sent_by_server,
        run.agent.lines,
        run.server.lines,
    )
    assert not [p for p in problems if not p.startswith(AMBIGUOUS)]
    theirs = set(run.sent_by_agent)  # it did relay the agent's frames, checked
    assert sum(line in theirs for line in run.server.lines) >= EXAMPLES // 2
    verify = subprocess.run(
        [sys.executable, "-m", "ztmcp", "audit", "verify"],
        env={**os.environ, "ZTMCP_HOME": str(run.home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, (verify.stdout, verify.stderr)
