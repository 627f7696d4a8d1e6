"""Pin status and the drift view for the Servers tab, without Textual.

Inputs are the project's ``ztmcp.lock`` (the pins), the observed manifests that ``ztmcp run``
stored when the pins check withheld something (``ztmcp.state.observed``), and what the audit
log says. Per field when the pinned manifest (``ztmcp.manifests/NAME.json``) is next to the
lock and still matches the pin (``ztmcp.manifest.diff``); per item digest otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ztmcp.errors import ZtmcpError
from ztmcp.lockfile import Pin
from ztmcp.manifest import NOUNS, SERVER_KIND, Manifest, diff
from ztmcp.state.observed import Observed


def status(pin: Pin | None, observed: Observed | None, drift_in_traffic: bool) -> str:
    """One word or two for the table: what a reviewer should look at first."""
    current = observed is not None and pin is not None and observed.pinned_digest == pin.digest
    if pin is None:
        return "not pinned"
    if current and observed is not None and observed.drifted:
        return "DRIFT"
    if current and observed is not None and observed.unpinned:
        return "new items"
    if drift_in_traffic and observed is None:
        return "DRIFT (audit)"
    return "pinned"


@dataclass
class PinnedManifests:
    """Pinned manifests read from disk, cached by path and modification time."""

    _cache: dict[Path, tuple[float, Manifest | None]]

    def __init__(self) -> None:
        self._cache = {}

    def get(self, path: Path) -> Manifest | None:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            manifest: Manifest | None = Manifest.from_json(path.read_bytes(), str(path))
        except (OSError, ZtmcpError, ValueError):
            manifest = None
        self._cache[path] = (mtime, manifest)
        return manifest


def drift_lines(
    pin: Pin | None,
    observed: Observed | None,
    lock_dir: Path | None,
    manifests: PinnedManifests,
) -> list[str]:
    """What changed, observed against pinned, one line per field (or per item)."""
    if observed is None:
        return ["no observed manifest: nothing was withheld from this server's listings"]
    if pin is None:
        labels = ", ".join(observed.unpinned) or "nothing"
        return [f"not pinned; it listed {labels}", "pin it with `ztmcp pin`"]
    lines: list[str] = []
    if observed.pinned_digest != pin.digest:
        lines.append(
            "this observation predates the current pin (re-pinned since): it may be resolved"
        )
    pinned = None
    if pin.manifest and lock_dir is not None:
        candidate = manifests.get(lock_dir / pin.manifest)
        if candidate is not None and candidate.digest == pin.digest:
            pinned = candidate
    server = SERVER_KIND in observed.kinds  # the handshake was observed, not only listings
    kinds = tuple(k for k in observed.kinds if k != SERVER_KIND)
    if pinned is not None:
        prefixes = (*(("server.",) if server else ()), *(f"{NOUNS[k]} " for k in kinds))
        for line in diff(pinned, observed.manifest):
            if line.startswith(prefixes):
                lines.append(line)
    else:
        if server and observed.manifest.server_digest != pin.server_digest:
            lines.append("server name, version or instructions changed (no pinned manifest file)")
        for kind in kinds:
            mine = observed.manifest.item_digests(kind)
            theirs = pin.items(kind)
            for name, digest in mine.items():
                if name not in theirs:
                    lines.append(f"{NOUNS[kind]} {name!r}: added (not pinned)")
                elif theirs[name] != digest:
                    lines.append(
                        f"{NOUNS[kind]} {name!r}: observed {digest[:19]}… pinned "
                        f"{theirs[name][:19]}… (no pinned manifest file for a per-field diff)"
                    )
    if not lines:
        lines.append("observed and pinned agree")
    return lines
