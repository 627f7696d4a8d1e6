"""Time of one offline ``ztmcp.signing.verify_artifact`` call, in-process, in milliseconds.

Verifies the real production bundle in ``../shared/fixtures/sigstore/`` over the PyPI wheel
rfc8785-0.1.2 (pass its path, or it is fetched with ``pip download`` into a temp dir). Each call
does everything ``ztmcp verify --offline`` does: hash the file, parse the bundle, load the
shipped trust root, verify chain, SCT, Rekor inclusion proof and signature. Goal: median < 50 ms.
The first call (imports, cache set-up) is reported apart. XDG dirs point at a temp dir.

Run:  .venv/bin/python benchmarks/bench_verify.py [--runs 20] [--wheel PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "sigstore"
WHEEL = "rfc8785-0.1.2-py3-none-any.whl"
IDENTITY = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
ISSUER = "https://token.actions.githubusercontent.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--wheel", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ztmcp-bench-verify-"))
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
    os.environ["XDG_DATA_HOME"] = str(tmp / "data")
    bundle = FIXTURES / f"{WHEEL}.sigstore.json"
    if not bundle.is_file():
        sys.exit(f"fixture bundle not found: {bundle}")
    wheel = args.wheel
    if wheel is None:
        pip = [sys.executable, "-m", "pip"]
        if subprocess.run([*pip, "--version"], capture_output=True, check=False).returncode:
            pip = ["pip"]
        subprocess.run(
            [*pip, "download", "--no-deps", "-q", "-d", str(tmp), "rfc8785==0.1.2"], check=True
        )
        wheel = tmp / WHEEL

    from ztmcp.signing import verify_artifact

    def once() -> float:
        start = time.perf_counter()
        verify_artifact(wheel, bundle, IDENTITY, ISSUER, offline=True, trust_config=None)
        return (time.perf_counter() - start) * 1000

    first = once()
    times = [once() for _ in range(args.runs)]
    print(f"first call (imports, cache set-up): {first:.1f} ms")
    print(
        f"offline verify, {args.runs} runs: median {statistics.median(times):.1f} ms, "
        f"min {min(times):.1f}, max {max(times):.1f}  (goal < 50 ms)"
    )


if __name__ == "__main__":
    main()
