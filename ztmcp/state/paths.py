"""Where ztmcp keeps user state: ``$ZTMCP_HOME``, else the platform's per-user state dir."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path


def home() -> Path:
    """The state directory; not created here (writers create what they write)."""
    explicit = os.environ.get("ZTMCP_HOME")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":  # pragma: no cover - platform branch
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":  # pragma: no cover - platform branch
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "ztmcp"


def audit_dir() -> Path:
    return home() / "audit"


def user_config() -> Path:
    """The user-level policy, under the project's ``ztmcp.toml``."""
    return home() / "config.toml"


def private_dir(path: Path) -> Path:
    """``path`` and any missing parents, created 0700 (state holds records, grants and the
    key). An existing directory is left as it is: ``ZTMCP_HOME`` may name one the user shares
    on purpose; the files in it are 0600 either way."""
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=0o700)
    return path


def private_file(path: Path) -> None:
    """Narrow an existing file of ours to 0600 (written by an older ztmcp, or by SQLite)."""
    try:
        info = path.stat()
    except OSError:
        return
    if sys.platform != "win32" and info.st_uid == os.getuid() and info.st_mode & 0o077:
        os.chmod(path, 0o600)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte or raise ``OSError``: ``os.write`` may write less than it was given
    (a full disk, a signal); a write of 0 bytes is treated as a full disk."""
    view: bytes | memoryview = data  # a view only after a short write: most writes are whole
    while view:
        written = os.write(fd, view)
        if written <= 0:
            import errno

            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if written == len(view):
            return
        view = memoryview(view)[written:]


def write_atomic(
    path: Path,
    data: bytes,
    mode: int | None = None,
    *,
    replace: bool = True,
    follow_links: bool = True,
) -> None:
    """Replace ``path`` with ``data`` in one rename (written in full and fsynced first), keeping
    its permissions; a new file is private to the user (0600). The one atomic writer.

    ``replace=False`` never replaces an existing file, even in a race: the file is linked into
    place, and an existing one is ``FileExistsError``. ``follow_links=False`` replaces a link at
    ``path`` instead of writing through it (a lock in a cloned repository may be a link to a
    file of the user's)."""
    link = path.is_symlink()
    target = path.resolve() if link and follow_links else path
    if mode is None:
        try:
            mode = 0o600 if link and not follow_links else target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o600
    import tempfile  # here: `ztmcp run` never writes a file this way, and it costs its start

    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".ztmcp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        write_all(fd, data)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if replace:
            os.replace(temp, target)
        else:
            os.link(temp, target)  # FileExistsError if anything is there, a link included
            os.unlink(temp)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
