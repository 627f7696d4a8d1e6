"""Where ztmcp keeps user state: ``$ZTMCP_HOME``, else the platform's per-user state dir."""

from __future__ import annotations

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
