"""ztmcp.documents: the one reader of named documents (regular files only; TOML whose every
refusal is a TOMLDecodeError)."""

from __future__ import annotations

import errno
import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fifo import unwritten_fifo
from ztmcp.documents import NOT_A_FILE, loads_toml, read_file


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=6_000),
    st.sampled_from(["[", "{b = "]),
    st.integers(min_value=1, max_value=6_000),
)
def test_loads_toml_turns_every_parser_limit_into_a_decode_error(
    depth: int, opener: str, digits: int
) -> None:
    # Differential against tomllib: whatever it reads reads the same; whatever it refuses,
    # with any exception, is a TOMLDecodeError (RecursionError and the integer-digits
    # ValueError printed tracebacks from every command reading a policy or a lock).
    closer = "]" if opener == "[" else "}"
    text = "a = " + opener * depth + "1" * digits + closer * depth
    try:
        expected = tomllib.loads(text)
    except (RecursionError, ValueError):
        with pytest.raises(tomllib.TOMLDecodeError):
            loads_toml(text)
    else:
        assert loads_toml(text) == expected


def test_read_file_reads_a_regular_file_and_refuses_anything_else(tmp_path: Path) -> None:
    regular = tmp_path / "policy.toml"
    regular.write_bytes(b"mode = 'enforce'\n" * 100_000)
    assert read_file(regular) == regular.read_bytes()
    link = tmp_path / "link.toml"  # a dotfile manager's symlink to a regular file is one
    link.symlink_to(regular)
    assert read_file(link) == regular.read_bytes()
    with unwritten_fifo(tmp_path / "fifo") as fifo, pytest.raises(OSError) as refused:
        read_file(fifo)
    assert refused.value.strerror == NOT_A_FILE
    with pytest.raises(IsADirectoryError):
        read_file(tmp_path)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OSError):
        read_file(loop)
    with pytest.raises(FileNotFoundError):
        read_file(tmp_path / "missing")


def test_read_file_without_the_posix_only_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on Windows: no O_NONBLOCK, O_CLOEXEC or O_NOCTTY in os (every read was an
    # AttributeError there), and os.set_blocking refuses anything but a pipe.
    monkeypatch.delattr(os, "O_NONBLOCK")
    monkeypatch.delattr(os, "O_CLOEXEC")
    monkeypatch.delattr(os, "O_NOCTTY")

    def pipes_only(fd: int, blocking: bool) -> None:
        raise OSError(errno.EINVAL, "not a pipe")

    monkeypatch.setattr(os, "set_blocking", pipes_only)
    document = tmp_path / "config.json"
    document.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n')
    assert read_file(document) == b'\xef\xbb\xbf{"a": 1}\r\n'
    with pytest.raises(IsADirectoryError):
        read_file(tmp_path)


# Run in a new session (no controlling terminal): read the pty path, then say whether the
# process has a controlling terminal now ("/dev/tty" opens only when it has one).
_NO_CTTY_CHILD = """
import os, sys
from ztmcp.documents import NOT_A_FILE, read_file
try:
    read_file(sys.argv[1])
except OSError as exc:
    print("refused:", exc.strerror)
else:
    print("read")
try:
    os.close(os.open("/dev/tty", os.O_RDONLY))
except OSError:
    print("no controlling terminal")
else:
    print("controlling terminal")
"""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals here")
def test_a_terminal_path_is_refused_and_never_becomes_the_controlling_terminal() -> None:
    # Opened without O_NOCTTY, a tty path given as a document became the controlling
    # terminal of a session leader that had none (the person's terminal signals, job
    # control and /dev/tty then went to whoever holds the pty's other end).
    import subprocess
    import sys

    master, replica = os.openpty()
    try:
        name = os.ttyname(replica)
        os.close(replica)  # only the master stays open: the path is all the child gets
        done = subprocess.run(
            [sys.executable, "-c", _NO_CTTY_CHILD, name],
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,  # setsid: a session leader without a controlling tty
            cwd=Path(__file__).resolve().parents[1],
            check=False,
        )
    finally:
        os.close(master)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"refused: {NOT_A_FILE}", "no controlling terminal"]
