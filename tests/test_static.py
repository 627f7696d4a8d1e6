"""The code standards, enforced by the suite: ``ruff check`` clean everywhere, ``mypy --strict``
clean on the package, ``ruff format`` clean everywhere (pyproject.toml holds the configurations)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / tool
    if not exe.exists():
        pytest.skip(f"{tool} is not installed beside {sys.executable} (uv sync installs it)")
    return subprocess.run(
        [str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_ruff_check_is_clean() -> None:
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.mark.timeout(300)
def test_mypy_strict_is_clean_on_the_package() -> None:
    done = _run("mypy", "ztmcp")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success" in done.stdout


def test_ruff_format_is_clean() -> None:
    """Every Python file is as ``ruff format`` writes it (issue 18 item 7)."""
    done = _run("ruff", "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
