"""Every benchmark, one after the other (``./dev bench``); each prints its own report.

    python benchmarks/run_all.py [NAME…]     # e.g. run_all.py http detectors

Run on a quiet machine: the scripts compare setups measured in the same run, but a parallel
test run on the 2-core reference box can double every number.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALL = ("stdio", "http", "startup", "detectors", "access", "verify", "manifest", "tui")


def main(argv: list[str]) -> int:
    chosen = argv or list(ALL)
    unknown = [name for name in chosen if name not in ALL]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(ALL)}")
        return 2
    failed = []
    for name in chosen:
        script = HERE / f"bench_{name}.py"
        print(f"==> {script.name}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(script)])
        print(f"    ({time.monotonic() - started:.0f} s)\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
