"""A pin and the files it keeps next to the lock, for ``ztmcp pin``, ``diff`` and the TUI.

``ztmcp pin NAME`` writes the per-item digests to ``ztmcp.lock`` and the full manifest to
``ztmcp.manifests/NAME.json`` beside it (a signed pin: the signed manifest byte for byte, its
Sigstore bundle and a private trust root), so that a later diff says which field changed
(``ztmcp.drift``). What is here decides; the CLI asks, prints and writes:

- ``pin_from``: the pin of a manifest, keeping the launch command or URL of the previous pin
  unless a new one is given;
- ``signed_pin``: everything a signed pin must pass (the bundle verifies over the manifest
  file for the named signer; the live server, when given, lists exactly that manifest) and
  the files it keeps, before anything is written;
- ``stored_manifest``: the pinned manifest a pin names, only from inside the lock's folder;
- ``companions``: the files a pin keeps, for ``unpin`` and for a re-pin that drops them;
- ``require_approved``: a command or URL from a lock nobody approved is never started.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ztmcp.errors import PinError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ztmcp.lockfile import Lockfile, Pin
    from ztmcp.manifest import Manifest

MANIFEST_DIR: Final = "ztmcp.manifests"


def read_manifest(path: Path) -> Manifest:
    """A manifest file; any problem is one ``PinError`` line naming the file."""
    from ztmcp.documents import read_file
    from ztmcp.manifest import Manifest

    try:
        text = read_file(path).decode("utf-8")
    except OSError as exc:
        raise PinError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PinError(f"{path}: not UTF-8 text") from None
    return Manifest.from_json(text, str(path))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pin_from(
    name: str, manifest: Manifest, previous: Pin | None, where: Mapping[str, object] | None = None
) -> Pin:
    """The pin of ``manifest`` under ``name``. ``where`` may hold a new ``command`` (a list)
    and ``url``: given (``None`` clears one), they replace the previous pin's; left out, the
    previous pin's are kept."""
    from ztmcp.lockfile import pin_manifest

    where = where or {}
    command = where.get("command", previous.command if previous else None)
    url = where.get("url", previous.url if previous else None)
    return pin_manifest(
        name,
        manifest,
        command=tuple(command) if isinstance(command, list | tuple) else None,
        url=url if isinstance(url, str) else None,
        pinned_at=_now(),
        manifest_path=f"{MANIFEST_DIR}/{name}.json",
    )


def stored_path(lock_dir: Path, pin: Pin) -> Path | None:
    """Where the pin's manifest is kept: only a file inside the lock's folder, links resolved
    (a cloned lock cannot point ztmcp at a file elsewhere)."""
    if pin.manifest is None:
        return None
    from ztmcp.trust import inside

    path = lock_dir / pin.manifest
    return path if inside(path, lock_dir) and path.is_file() else None


def stored_manifest(lock: Lockfile, pin: Pin) -> Manifest | None:
    """The stored pinned manifest, if readable (whether it is still the pinned one,
    ``ztmcp.drift`` checks against the pin's digest)."""
    path = stored_path(lock.path.parent, pin)
    if path is None:
        return None
    try:
        return read_manifest(path)
    except PinError:
        return None


def diff_summary(pinned: Manifest, observed: Manifest) -> str:
    """A short one-line account of the differences (for an error message)."""
    from ztmcp.drift import compare, lines

    found = lines(compare(pinned, observed))
    first = found[0] if found else "server fields differ"
    more = f", and {len(found) - 1} more" if len(found) > 1 else ""
    return f"{first[:160]}{more}"


def signed_pin(
    name: str,
    lock: Lockfile,
    previous: Pin | None,
    signed: Path,
    *,
    bundle: Path,
    identity: str,
    issuer: str,
    offline: bool,
    trust_config: Path | None,
    live: Callable[[], Manifest] | None,
    progress: Callable[[str], None],
    where: Mapping[str, object],
) -> tuple[Pin, dict[Path, bytes]]:
    """Verify everything about a signed pin; the pin and the files to write. Writes nothing.

    ``live`` reads what the server lists now (when a command or URL was given): it must be
    the signed manifest exactly. ``where`` holds a new ``command`` and ``url``, as for
    ``pin_from``."""
    from ztmcp.signing import verify_artifact

    manifest = read_manifest(signed)
    listed = live() if live is not None else None
    if listed is not None and listed.digest != manifest.digest:
        raise PinError(
            f"the live server does not list what {signed.name} signs "
            f"({diff_summary(manifest, listed)})",
            hint="pin the release that matches the running server, or compare with "
            f"`ztmcp diff {name} --manifest {signed}` after pinning",
        )
    progress(f"verifying {bundle.name} over {signed.name} …")
    verified = verify_artifact(
        signed, bundle, identity, issuer, offline=offline, trust_config=trust_config
    )
    progress(f"verified: {verified.summary()}")
    base = f"{MANIFEST_DIR}/{name}"
    files: dict[Path, bytes] = {}
    for rel, source in (
        (f"{base}.json", signed),
        (f"{base}.sigstore.json", bundle),
        *([(f"{base}.trust.json", trust_config)] if trust_config is not None else []),
    ):
        try:
            files[lock.path.parent / rel] = source.read_bytes()
        except OSError as exc:
            raise PinError(f"{source}: cannot read ({exc.strerror})") from None
    pin = replace(
        pin_from(name, manifest, previous, where),
        source="sigstore",
        identity=identity,
        issuer=issuer,
        bundle=f"{base}.sigstore.json",
        trust_config=f"{base}.trust.json" if trust_config is not None else None,
    )
    return pin, files


def companions(lock: Lockfile, pin: Pin) -> list[Path]:
    """The files a pin keeps next to the lock."""
    rels = (pin.manifest, pin.bundle, pin.trust_config)
    return [lock.path.parent / rel for rel in rels if rel is not None]


def require_approved(lock: Lockfile, name: str) -> None:
    """Refuse to start a command or contact a URL an unapproved lock names."""
    from ztmcp import lockfile as lockmod

    if not lockmod.is_approved(lock):
        raise PinError(
            f"not starting {name!r} from {lock.path}: the lock is not approved, and its "
            "command came with the repository",
            hint=f"review and approve it with `ztmcp trust {lock.path}`, or give the "
            "command yourself after --",
        )
