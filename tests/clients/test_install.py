"""Install like any Python CLI: build the wheel, install it into a clean venv, run ``ztmcp demo``.

Offline: the dependencies come from the lock (exported as pylock.toml, whose exact wheel URLs
uv's cache already holds), the project itself only from the freshly built wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.e2e.peers import ROOT, _uv

pytestmark = pytest.mark.e2e

# Non-Python files the installed CLI needs, and the demo server `ztmcp demo` starts.
NEEDED = ("ztmcp/py.typed", "ztmcp/tui/ztmcp.tcss", "ztmcp/demo_server.py", "ztmcp/__main__.py")


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=110, check=False, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{cmd[:3]}: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    return done


def test_wheel_installs_into_a_clean_venv_and_runs_the_demo(tmp_path: Path) -> None:
    uv = _uv()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    dist = tmp_path / "dist"
    _run([uv, "build", "--wheel", "--offline", "-q", "--out-dir", str(dist), str(ROOT)], env=env)
    (wheel,) = dist.glob("ztmcp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(NEEDED) <= names, set(NEEDED) - names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ztmcp = " in zipfile.ZipFile(wheel).read(entry).decode()
    lock = tmp_path / "pylock.toml"
    _run(
        [
            uv,
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--format",
            "pylock.toml",
            "-q",
            "-o",
            str(lock),
        ],
        cwd=ROOT,
        env=env,
    )
    venv = tmp_path / "venv"
    _run([uv, "venv", "-q", "-p", sys.executable, str(venv)], env=env)
    _run([uv, "pip", "install", "-q", "--offline", "-p", str(venv), "-r", str(lock)], env=env)
    _run(
        [uv, "pip", "install", "-q", "--offline", "--no-deps", "-p", str(venv), str(wheel)], env=env
    )
    _run([uv, "pip", "check", "-q", "-p", str(venv)], env=env)
    ztmcp = venv / "bin" / "ztmcp"
    clean = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ZTMCP_HOME": str(tmp_path / "state"),
    }
    # Run from elsewhere than the checkout, so nothing is imported from the source tree.
    done = _run([str(ztmcp), "demo", "--json"], cwd=tmp_path, env=clean)
    report = json.loads(done.stdout)
    assert report["poison_reached_agent"] is False
    assert report["aws_key_reached_agent"] is False
    assert report["audit_log"].startswith(str(tmp_path / "state"))
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import ztmcp, sys; print(ztmcp.__file__)"],
        cwd=tmp_path,
        env=clean,
    )
    assert str(venv) in where.stdout
