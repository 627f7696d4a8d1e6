"""Regenerate consumer-ztmcp.lock (and the manifest it pins) with ztmcp's own writers.

``python examples/ci/make_consumer_lock.py [-- SERVER CMD…]``

What a consumer's ``ztmcp pin`` writes after downloading a release's ``manifest.json`` and
``manifest.json.sigstore.json`` (see release-manifest.yml): the manifest kept byte for byte in
``ztmcp.manifests/``, the lock naming the signer. The real release bundle only exists on the
release; this script extracts the manifest from the installed server instead (default:
``uvx mcp-server-time==2026.10.19 --local-timezone UTC``) and writes the same lock with
``ztmcp.lockfile.write``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from ztmcp import lockfile
from ztmcp.manifest import extract

HERE = Path(__file__).resolve().parent
NAME = "time"
VERSION = "2026.10.19"
# mcp-server-time writes the local timezone into its tool schemas: fix it, or the digest (and the
# signature) would depend on the machine that extracts the manifest.
COMMAND = ("uvx", f"mcp-server-time=={VERSION}", "--local-timezone", "UTC")
# The signer a consumer pins: the release workflow of the server's repository, at the tag.
IDENTITY = (
    "https://github.com/example-org/mcp-server-time/.github/workflows/release-manifest.yml"
    f"@refs/tags/v{VERSION}"
)
ISSUER = "https://token.actions.githubusercontent.com"
PINNED_AT = "2026-11-30T12:00:00Z"  # fixed, so a regeneration only changes what changed


def write(manifest_text: str, directory: Path = HERE) -> lockfile.Lockfile:
    """Write the manifest and the lock for ``manifest_text`` (a ``ztmcp manifest`` JSON)."""
    from ztmcp.manifest import Manifest

    manifest = Manifest.from_json(manifest_text)
    stored = directory / "ztmcp.manifests" / f"{NAME}.json"
    stored.parent.mkdir(exist_ok=True)
    stored.write_text(manifest_text, encoding="utf-8")
    pin = lockfile.pin_manifest(
        NAME,
        manifest,
        command=COMMAND,
        pinned_at=PINNED_AT,
        manifest_path=f"ztmcp.manifests/{NAME}.json",
        identity=IDENTITY,
        issuer=ISSUER,
        bundle=f"ztmcp.manifests/{NAME}.sigstore.json",
    )
    lock = lockfile.Lockfile(directory / "consumer-ztmcp.lock", {NAME: pin})
    lockfile.write(lock)
    return lock


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else list(COMMAND)
    manifest = anyio.run(lambda: extract(command))
    lock = write(manifest.to_json())
    print(f"wrote {lock.path} ({manifest.digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
