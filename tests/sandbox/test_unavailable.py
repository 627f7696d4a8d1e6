"""A machine that refuses user namespaces gets one line saying what to enable, and the server
is never started unsandboxed. Simulated for real: ztmcp runs in a user namespace whose
``user.max_user_namespaces`` is 0, so the kernel refuses bwrap's namespace (ENOSPC)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_no_user_namespaces_refuses_to_start(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("util-linux unshare is not installed")
    marker = tmp_path / "server-started"
    server = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    script = 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"'
    argv = [unshare, "--user", "--map-root-user", "sh", "-c", script, "sh"]
    argv += [sys.executable, "-m", "ztmcp", "run", "--sandbox", "--", *server]
    done = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=dict(os.environ)
    )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert not marker.exists()  # never started, sandboxed or not
    first = err.splitlines()[0]
    assert first.startswith("ztmcp: error: cannot sandbox: this system refuses user namespaces")
    assert "max_user_namespaces" in err and "never runs a server unsandboxed" in err
    assert "Traceback" not in err


def test_without_the_simulation_the_same_server_starts(tmp_path: Path) -> None:
    """The control: the same command, sandboxed with a write grant for the marker, starts."""
    marker = tmp_path / "server-started"
    server = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    argv = [sys.executable, "-m", "ztmcp", "run", "--sandbox", "--allow-write", str(tmp_path)]
    argv += ["--", *server]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert marker.exists()
