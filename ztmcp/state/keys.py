"""The per-user state key: it authenticates audit records and grant rows (HMAC-SHA256).

One random 32-byte master key per state directory. Two keys are derived from it, one per use
(``audit``, ``grants``), so a MAC of one kind can never stand in for the other. The master key
lives in the OS keyring when one is available (service ``ztmcp``, entry ``audit-key-<id>``),
else in ``$ZTMCP_HOME/audit-key.json`` itself (0600). That file always exists: it names the
store and the key id, so every later process uses the same key and never silently makes a
second one (a process that cannot reach the keyring fails instead of writing records no
verifier can check).

Trade-off (docs/audit.md): whoever can read the key can forge records and grants. With the
key file, that is any process running as the user that can read ``$ZTMCP_HOME``; with the
keyring, only processes the keyring hands the secret to (on macOS the Keychain asks; a
sandboxed agent with file access but no keyring access cannot forge).

Choosing the store imports ``keyring`` (slow to start) only where a keyring can exist: on Linux
without a session bus (``DBUS_SESSION_BUS_ADDRESS``) or ``PYTHON_KEYRING_BACKEND`` there is
none, and the key file is used at once. ``ZTMCP_KEY_STORE=file`` or ``=keyring`` decides
instead (``keyring``: no fallback to a file when the keyring fails).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.documents import read_file
from ztmcp.errors import ZtmcpError
from ztmcp.state import paths

KEY_FILE: Final = "audit-key.json"
SERVICE: Final = "ztmcp"
FILE: Final = "file"
KEYRING: Final = "keyring"
_RESTORE: Final = "restore it from a backup"


class StateKeyError(ZtmcpError):
    """The state key cannot be read or created."""


@dataclass(frozen=True, slots=True)
class Keys:
    """The derived keys and how to name the master key (never the key itself)."""

    id: str  # 16 hex digits: HMAC(master, "id"), safe to print and to record
    store: str  # FILE or KEYRING
    audit: bytes  # session records
    index: bytes  # the audit index (sessions opened, checkpointed, closed)
    grants: bytes  # grant rows in state.db


def derive(master: bytes, store: str) -> Keys:
    def sub(label: str) -> bytes:
        return hmac.digest(master, b"ztmcp/" + label.encode(), hashlib.sha256)

    return Keys(
        id=sub("id").hex()[:16],
        store=store,
        audit=sub("audit/v2"),
        index=sub("audit-index/v1"),
        grants=sub("grants/v1"),
    )


_cache: dict[Path, Keys] = {}
_lock = threading.Lock()


def key_path(home: Path | None = None) -> Path:
    return (home or paths.home()) / KEY_FILE


def load(home: Path | None = None, *, create: bool = True) -> Keys | None:
    """The keys of this state directory; created on first use when ``create``.

    ``None`` only when ``create`` is false and no key was ever made here. Raises ``StateKeyError``
    when the key exists but cannot be read (keyring locked or gone, file damaged).
    """
    home = home or paths.home()
    with _lock:
        cached = _cache.get(home)
        if cached is not None:
            return cached
        marker = home / KEY_FILE
        keys = _read(marker)
        if keys is None:
            if not create:
                return None
            keys = _create(home, marker)
        _cache[home] = keys
        return keys


def forget() -> None:
    """Drop cached keys (after a test swaps the keyring, or the key file was replaced)."""
    with _lock:
        _cache.clear()


def _read(marker: Path) -> Keys | None:
    try:
        data = json.loads(read_file(marker))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        raise StateKeyError(
            f"cannot read the state key {marker}: {getattr(exc, 'strerror', None) or exc}",
            hint="restore the file from a backup; a new key cannot verify earlier records",
        ) from None
    if not isinstance(data, dict) or data.get("store") not in (FILE, KEYRING):
        raise StateKeyError(
            f"{marker} is not a ztmcp state key file", hint="restore it from a backup"
        )
    store = str(data["store"])
    if store == FILE:
        master = _hex(data.get("key"), marker)
    else:
        found = _keyring("read", lambda kr: kr.get_password(SERVICE, _entry(data.get("id"))))
        if found is None:
            raise StateKeyError(
                f"the state key {data.get('id')!r} named by {marker} is not in the keyring",
                hint="unlock or restore the keyring; this process cannot write verifiable records",
            )
        master = _hex(found, marker)
    keys = derive(master, store)
    if data.get("id") != keys.id:
        raise StateKeyError(
            f"{marker}: the key does not match its id {data.get('id')!r}",
            hint="the key file or keyring entry was replaced; restore it from a backup",
        )
    return keys


def _hex(value: Any, marker: Path) -> bytes:
    try:
        master = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        master = b""
    if len(master) != 32:
        raise StateKeyError(f"{marker}: the state key is damaged", hint="restore it from a backup")
    return master


def _entry(key_id: object) -> str:
    if not isinstance(key_id, str) or not key_id.isalnum():
        raise StateKeyError(
            "the state key file names no valid key id", hint="restore it from a backup"
        )
    return f"audit-key-{key_id}"


def _create(home: Path, marker: Path) -> Keys:
    master = secrets.token_bytes(32)
    store = KEYRING if _keyring_usable() else FILE
    if store == FILE and os.environ.get("ZTMCP_KEY_STORE") == KEYRING:
        raise StateKeyError(
            "ZTMCP_KEY_STORE=keyring, but no keyring backend is available",
            hint="install or unlock a keyring backend, or unset ZTMCP_KEY_STORE to use a "
            "0600 key file",
        )
    keys = derive(master, store)
    if store == KEYRING:
        try:
            _keyring("store", lambda kr: kr.set_password(SERVICE, _entry(keys.id), master.hex()))
        except StateKeyError:
            if os.environ.get("ZTMCP_KEY_STORE") == KEYRING:
                raise  # insisted on: no quiet fallback to a file
            store = FILE
            keys = derive(master, store)
    record: dict[str, Any] = {"version": 1, "store": store, "id": keys.id}
    if store == FILE:
        record["key"] = master.hex()
    paths.private_dir(home)
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use that key
        won = _read(marker)
        if won is None:  # pragma: no cover - created and deleted in between
            raise StateKeyError(f"{marker} vanished while being created") from None
        return won
    except OSError as exc:
        raise StateKeyError(
            f"cannot create the state key {marker}: {exc.strerror}",
            hint="set ZTMCP_HOME to a writable directory",
        ) from None
    try:
        paths.write_all(fd, (json.dumps(record) + "\n").encode())
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        marker.unlink(missing_ok=True)
        raise StateKeyError(f"cannot write the state key {marker}: {exc.strerror}") from None
    os.close(fd)
    return keys


def _keyring_usable() -> bool:
    """Whether a real keyring backend is there (``keyring`` is imported only when it may be).

    ``ZTMCP_KEY_STORE=file`` forces the key file (test suites, machines where the keyring
    would prompt); ``=keyring`` insists on the keyring.
    """
    forced = os.environ.get("ZTMCP_KEY_STORE")
    if forced == FILE:
        return False
    if (
        forced != KEYRING
        and sys.platform == "linux"
        and not os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        and not os.environ.get("PYTHON_KEYRING_BACKEND")
        and "keyring" not in sys.modules
    ):
        return False
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # a broken backend is no backend
        return False
    return not isinstance(backend, fail.Keyring)


def _keyring(what: str, call: Any) -> Any:
    try:
        import keyring

        return call(keyring)
    except Exception as exc:  # NoKeyringError, KeyringError, a backend's own failure
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StateKeyError(
            f"cannot {what} the state key in the keyring ({reason})",
            hint="unlock the keyring, or pick another backend with PYTHON_KEYRING_BACKEND",
        ) from None
