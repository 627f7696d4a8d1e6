"""The long fuzz run of the stdio relay: millions of hostile frames, both directions.

    python benchmarks/fuzz_long.py [--frames 1000000] [--batch 500] [--segment 50000]
                                   [--seed 1] [--strict]

The same relay, invariants and frame palette as tests/fuzz/test_fuzz_stdio.py, without
hypothesis (a seeded generator, so a failure is reproduced by its seed and batch number), the
relay in this process (tests/fuzz/harness.py) in front of a conduit server. Frames go in
batches, both peers at once; after each batch a double ping through both directions is the
barrier, then every frame of the batch is checked: each frame a peer read was decided by the
Session in the form the checks saw, each refused frame never arrived, each request was
answered, and the relay neither crashed nor hung. Every ``--segment`` frames the relay is
stopped, its audit log verified (chain intact and closed) and removed, and a new one started.

``--strict`` also counts as failures the frames that Go or JavaScript would decode differently
and a hostile answer that is also a request (both need the strict decoder, issue 17 item 1);
without it they are reported as a count. Prints frames/s and every failure; exit 1 on any.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.frames import hostile_answer, seeded_frames  # noqa: E402
from tests.fuzz.harness import Relay  # noqa: E402
from tests.fuzz.invariants import AMBIGUOUS, check  # noqa: E402
from ztmcp.state.audit import verify_file  # noqa: E402

MAX_SHOWN = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000, help="hostile frames in all")
    parser.add_argument("--batch", type=int, default=500, help="frames between two barriers")
    parser.add_argument("--segment", type=int, default=50_000, help="frames per relay run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strict", action="store_true", help="ambiguous frames are failures")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="ztmcp-fuzz-"))
    os.environ["ZTMCP_HOME"] = str(home)
    answer = partial(hostile_answer, ambiguous=args.strict)
    rng = random.Random(args.seed)
    sent = checked = ambiguous = segments = 0
    failures: list[str] = []
    started = time.perf_counter()
    last_report = started
    try:
        while sent < args.frames and not failures:
            work = home / f"segment-{segments}"
            relay = Relay(work, answer_server=answer)
            segments += 1
            in_segment = 0
            try:
                while in_segment < args.segment and sent < args.frames and not failures:
                    batch_no = sent // args.batch
                    count = min(args.batch, args.frames - sent)
                    batch = seeded_frames(rng, count)
                    agent = b"".join(f + b"\n" for to_server, f in batch if to_server)
                    server = b"".join(f + b"\n" for to_server, f in batch if not to_server)
                    relay.send_server(server)
                    relay.send_agent(agent)
                    sent += count
                    in_segment += count
                    if not (relay.sync() and relay.sync()):
                        failures.append(f"batch {batch_no}: no answer to the barrier (hang)")
                        break
                    if not relay.thread.is_alive():
                        failures.append(f"batch {batch_no}: the relay stopped: {relay.said}")
                        break
                    decisions, agent_lines, server_lines = relay.take()
                    checked += len(decisions)
                    for problem in check(
                        decisions, agent_lines, server_lines, check_ambiguity=True
                    ):
                        if problem.startswith(AMBIGUOUS) and not args.strict:
                            ambiguous += 1
                        else:
                            failures.append(f"seed {args.seed} batch {batch_no}: {problem}")
                    now = time.perf_counter()
                    if now - last_report > 10:
                        last_report = now
                        print(
                            f"  {sent:>9} frames, {sent / (now - started):,.0f} frames/s, "
                            f"{len(failures)} failure(s)",
                            flush=True,
                        )
            finally:
                result = relay.stop()
            if result is None or result.exit_code != 0:
                failures.append(f"segment {segments}: the relay ended with {result} {relay.said}")
            verification = verify_file(relay.audit.path)
            if not (verification.ok and verification.closed):
                failures.append(f"segment {segments}: audit log: {verification.error}")
            shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    took = time.perf_counter() - started
    print(
        f"{sent} hostile frames ({checked} decisions incl. answers and barriers) through the "
        f"stdio relay in {took:.1f} s: {sent / took:,.0f} frames/s, {segments} relay run(s), "
        f"audit verified after each"
    )
    if not args.strict:
        print(f"ambiguous frames forwarded (pending the strict decoder): {ambiguous}")
    print(f"failures: {len(failures)}")
    for failure in failures[:MAX_SHOWN]:
        print(f"  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
