"""Pin status and the drift view for the Servers tab, without Textual.

Inputs are the project's ``ztmcp.lock`` (the pins), the observed manifests that ``ztmcp run``
stored when the pins check withheld something (``ztmcp.state.observed``), and what the audit
log says. The changes are ``ztmcp.drift``'s, as ``ztmcp diff`` shows them: per field when the
pinned manifest (``ztmcp.manifests/NAME.json``) is next to the lock and still matches the pin,
per item digest otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ztmcp.drift import drift, line
from ztmcp.errors import PinError
from ztmcp.lockfile import Pin
from ztmcp.manifest import Manifest
from ztmcp.pins import read_manifest, stored_path
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
            manifest: Manifest | None = read_manifest(path)
        except PinError:
            manifest = None
        self._cache[path] = (mtime, manifest)
        return manifest


def drift_view(
    pin: Pin | None,
    observed: Observed | None,
    lock_dir: Path | None,
    manifests: PinnedManifests,
) -> list[str]:
    """The drift pane: what changed, observed against pinned (``ztmcp.drift``, one line a
    change), framed by whether there is a pin and an observation at all."""
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
    path = stored_path(lock_dir, pin) if lock_dir is not None else None
    pinned = manifests.get(path) if path is not None else None
    for change in drift(pin, observed.manifest, pinned=pinned, kinds=observed.kinds):
        note = " (no pinned manifest file for a per-field diff)" if change.by_digest else ""
        lines.append(line(change) + note)
    if not lines:
        lines.append("observed and pinned agree")
    return lines
