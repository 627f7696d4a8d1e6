"""The one atomic writer (``paths.write_atomic``): all or nothing, links, no replacing, and no
other writer of its kind anywhere in ``ztmcp/``."""

from __future__ import annotations

import ast
import errno
import os
from pathlib import Path
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.state import paths
from ztmcp.state.paths import write_atomic

ROOT: Final = Path(__file__).resolve().parents[2] / "ztmcp"


def _left(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_new_file_is_private_and_a_rewrite_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_atomic(path, b"one")
    assert path.read_bytes() == b"one" and path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two" and path.stat().st_mode & 0o777 == 0o644
    write_atomic(path, b"three", mode=0o600)
    assert path.stat().st_mode & 0o777 == 0o600
    assert _left(tmp_path) == ["f"]


def test_without_replace_an_existing_file_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "bundle"
    write_atomic(path, b"first", replace=False)
    with pytest.raises(FileExistsError):
        write_atomic(path, b"second", replace=False)
    assert path.read_bytes() == b"first" and _left(tmp_path) == ["bundle"]
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):  # a link, even to nothing, is something there
        write_atomic(dangling, b"x", replace=False, follow_links=False)
    assert not (tmp_path / "nowhere").exists()


def test_links_are_written_through_or_replaced_as_asked(tmp_path: Path) -> None:
    users = tmp_path / "users-file"
    users.write_bytes(b"mine")
    link = tmp_path / "ztmcp.lock"
    link.symlink_to(users)
    write_atomic(link, b"lock", follow_links=False)
    assert users.read_bytes() == b"mine"  # untouched
    assert not link.is_symlink() and link.read_bytes() == b"lock"
    assert link.stat().st_mode & 0o777 == 0o600
    config = tmp_path / "config.json"
    config.symlink_to(users)
    write_atomic(config, b"through")  # a dotfile link: the file it names is the config
    assert config.is_symlink() and users.read_bytes() == b"through"


@pytest.mark.parametrize("step", ["write", "fsync", "replace", "link"])
@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "full"), KeyboardInterrupt()])
def test_a_failure_at_any_step_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, error: BaseException
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"old")

    def fail(*_: object) -> None:
        raise error

    monkeypatch.setattr(paths.os, step, fail)
    with pytest.raises(type(error)):
        write_atomic(path, b"new", replace=step != "link")
    monkeypatch.undo()
    assert path.read_bytes() == b"old" and _left(tmp_path) == ["f"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=2000), min_size=1, max_size=5))
def test_the_last_write_is_what_is_read(contents: list[bytes]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "f"
        for data in contents:
            write_atomic(path, data)
        assert path.read_bytes() == contents[-1]
        assert os.listdir(directory) == ["f"]


# Calls that write a file by rename: only the one writer may make them.
_RENAMES: Final = {
    ("os", "replace"),
    ("os", "rename"),
    ("os", "link"),
    ("tempfile", "mkstemp"),
    ("tempfile", "NamedTemporaryFile"),
}


def _renames(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in _RENAMES
    ]


def test_write_atomic_is_the_only_atomic_writer() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(ROOT.rglob("*.py"))
        if (lines := _renames(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert set(found) == {"state/paths.py"}, found


def test_the_scan_finds_a_second_writer() -> None:
    tree = ast.parse("import os, tempfile\nfd, t = tempfile.mkstemp()\nos.replace(t, 'x')\n")
    assert _renames(tree) == [2, 3]
