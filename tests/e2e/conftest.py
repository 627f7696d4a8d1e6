"""Fixtures for end-to-end tests: real servers, the real SDK client, a real ``ztmcp run``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.peers import Peers, install


@pytest.fixture(scope="session")
def peers() -> Peers:
    return install()


@pytest.fixture()
def ztmcp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private state dir; ``child_env`` passes it to spawned processes."""
    home = tmp_path / "ztmcp-home"
    monkeypatch.setenv("ZTMCP_HOME", str(home))
    yield home


@pytest.fixture()
def child_env(ztmcp_home: Path) -> dict[str, str]:
    """The environment for ``ztmcp run`` children (the SDK passes only a few variables)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env["ZTMCP_HOME"] = str(ztmcp_home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session")
def ztmcp_argv() -> list[str]:
    """How to start ztmcp: the interpreter running the tests, so no install step is assumed."""
    return [sys.executable, "-m", "ztmcp"]
