"""Which Node versions send fetch through watch, and how an agent is seen to be Node."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ztmcp.watch.node import honours_env_proxy, node_binary, node_version, notice


@pytest.mark.parametrize(
    ("version", "covered"),
    [
        ((20, 19, 2), False),
        ((22, 20, 0), False),
        ((22, 21, 0), True),
        ((22, 23, 3), True),
        ((23, 11, 0), False),
        ((24, 0, 0), True),
        ((26, 1, 0), True),
    ],
)
def test_versions(version: tuple[int, int, int], covered: bool) -> None:
    assert honours_env_proxy(version) is covered


def _exe(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_node_is_found_directly_or_through_a_shebang(tmp_path: Path) -> None:
    fake = _exe(tmp_path / "node", "#!/bin/sh\necho v20.19.2\n")
    env = {"PATH": str(tmp_path)}
    assert node_binary(["node", "x.js"], env) == str(fake)
    _exe(tmp_path / "claude", "#!/usr/bin/env node\nconsole.log(1)\n")
    _exe(tmp_path / "split", "#!/usr/bin/env -S node --no-warnings\n")
    _exe(tmp_path / "direct", f"#!{fake}\n")
    _exe(tmp_path / "py", "#!/usr/bin/env python3\n")
    _exe(tmp_path / "bin", "\x7fELF\x02\x01\x01")
    for name in ("claude", "split", "direct"):
        assert node_binary([name], env) == str(fake), name
    for name in ("py", "bin", "missing"):
        assert node_binary([name], env) is None, name
    assert node_version(str(fake)) == (20, 19, 2)
    line = notice(["claude"], env)
    assert line is not None and "\n" not in line and "v20.19.2" in line and "22.21" in line
    _exe(tmp_path / "node", "#!/bin/sh\necho v24.22.3\n")
    assert notice(["claude"], env) is None
    _exe(tmp_path / "node", "#!/bin/sh\necho garbage\n")
    assert notice(["claude"], env) is None  # an unknown version: nothing to say


def test_the_real_node_answers_its_version() -> None:
    system = shutil.which("node")
    if system is None:
        pytest.skip("no node on PATH")
    version = node_version(system)
    assert version is not None and version[0] >= 18
    assert node_binary(["node"], dict(os.environ)) == system
