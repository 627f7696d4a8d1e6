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
    # As on Windows: no O_NONBLOCK or O_CLOEXEC in os (every read was an AttributeError
    # there), and os.set_blocking refuses anything but a pipe.
    monkeypatch.delattr(os, "O_NONBLOCK")
    monkeypatch.delattr(os, "O_CLOEXEC")

    def pipes_only(fd: int, blocking: bool) -> None:
        raise OSError(errno.EINVAL, "not a pipe")

    monkeypatch.setattr(os, "set_blocking", pipes_only)
    document = tmp_path / "config.json"
    document.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n')
    assert read_file(document) == b'\xef\xbb\xbf{"a": 1}\r\n'
    with pytest.raises(IsADirectoryError):
        read_file(tmp_path)
