"""Time of one offline ``ztmcp.signing.verify_artifact`` call, in-process, in milliseconds.

1. The real production bundle in ``../shared/fixtures/sigstore/`` over the PyPI wheel
   rfc8785-0.1.2 (pass its path, or it is fetched with ``pip download`` into a temp dir). Each
   call does everything ``ztmcp verify --offline`` does: hash the file, parse the bundle, load
   the shipped trust root, verify chain, SCT, Rekor inclusion proof and signature.
2. A DSSE manifest attestation written by ``ztmcp.signing.sign_manifest`` against the local
   Sigstore instance (tests/sigstore_local, on 127.0.0.1), verified against that instance's
   trust root: the same steps plus the in-toto subject, predicate and manifest digest checks.

Each is printed with the ratio to a direct sigstore-python call in the same process (bundle
parse, Verifier, verify) over the same material. Goal: median < 50 ms. The first call
(imports, cache set-up) is reported apart. XDG dirs point at a temp dir.

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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.sigstore_local

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "sigstore"
WHEEL = "rfc8785-0.1.2-py3-none-any.whl"
IDENTITY = (
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
)
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

    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity
    from sigstore_models.common.v1 import HashAlgorithm

    from ztmcp.signing import _embedded_production_root, verify_artifact

    def timed(call: Callable[[], object]) -> float:
        start = time.perf_counter()
        call()
        return (time.perf_counter() - start) * 1000

    def report(label: str, ours: Callable[[], object], direct: Callable[[], object]) -> None:
        first = timed(ours)
        timed(direct)
        times = [timed(ours) for _ in range(args.runs)]
        base = [timed(direct) for _ in range(args.runs)]
        median, direct_median = statistics.median(times), statistics.median(base)
        print(f"{label}: first call {first:.1f} ms")
        print(
            f"{label}, {args.runs} runs: median {median:.1f} ms, min {min(times):.1f}, "
            f"max {max(times):.1f}  (goal < 50 ms); direct sigstore {direct_median:.1f} ms, "
            f"ratio {median / direct_median:.2f}x"
        )

    import hashlib

    def direct_production() -> None:
        digest = hashlib.sha256(wheel.read_bytes()).digest()
        loaded = Bundle.from_json(bundle.read_bytes())
        Verifier(trusted_root=_embedded_production_root()).verify_artifact(
            Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest),
            loaded,
            Identity(identity=IDENTITY, issuer=ISSUER),
        )

    report(
        "offline verify, production bundle",
        lambda: verify_artifact(wheel, bundle, IDENTITY, ISSUER, offline=True, trust_config=None),
        direct_production,
    )

    from tests.sigstore_local import LocalSigstore, mint_token
    from ztmcp.manifest import Manifest
    from ztmcp.signing import sign_manifest

    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    with LocalSigstore() as local:
        trust = local.write_trust_config(tmp / "trust.json")
        manifest = tmp / "manifest.json"
        tools = [
            {"name": f"tool_{i}", "description": f"Tool {i}.", "inputSchema": {"type": "object"}}
            for i in range(20)
        ]
        manifest.write_text(
            Manifest.from_lists(server_name="bench", server_version="1", tools=tools).to_json()
        )
        dsse_bundle = tmp / "manifest.json.sigstore.json"
        sign_manifest(manifest, dsse_bundle, token=mint_token(), trust_config=trust)
    # The instance is stopped: verification is offline by construction.
    email, issuer = "signer@example.com", "https://oauth2.sigstore.dev/auth"

    def direct_dsse() -> None:
        loaded = Bundle.from_json(dsse_bundle.read_bytes())
        root = TrustedRoot.from_file(str(tmp / "root.json"))
        Verifier(trusted_root=root).verify_dsse(loaded, Identity(identity=email, issuer=issuer))

    import json

    (tmp / "root.json").write_text(json.dumps(json.loads(trust.read_text())["trustedRoot"]))
    report(
        "DSSE manifest attestation, local trust root",
        lambda: verify_artifact(
            manifest, dsse_bundle, email, issuer, offline=True, trust_config=trust
        ),
        direct_dsse,
    )


if __name__ == "__main__":
    main()
