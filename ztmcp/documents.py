"""One way to read a document a person names (a policy, a lock, a manifest, a corpus): the bytes
of a regular file, and TOML whose every failure is the one error its readers handle.

- ``open_file`` / ``read_file``: a FIFO with no writer blocked ``ztmcp run --policy FIFO``
  for ever, and a directory or device is no document either; anything but a regular file
  is an ``OSError`` with a readable ``strerror``, which every reader already turns into its
  one-line error. The file is opened without blocking and checked on the open descriptor
  (no race between a check and the open).
- ``loads_toml``: ``tomllib`` refuses nesting past the interpreter's recursion limit with
  ``RecursionError`` and an integer of more than 4300 digits with a plain ``ValueError``;
  both arrive as ``tomllib.TOMLDecodeError``, like any syntax error (the JSON counterpart is
  ``jsonrpc.loads_document``).

Standard library only, imported lazily where it costs: ``ztmcp run`` reads its policy here.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path
from typing import Any, BinaryIO

NOT_A_FILE = "not a regular file (a FIFO, socket or device)"


def open_file(path: Path | str) -> BinaryIO:
    """The regular file at ``path``, open for reading in binary; ``OSError`` for anything else."""
    # Windows has no O_NONBLOCK (and no FIFO in its file system to block on) and no
    # O_CLOEXEC (os.open's descriptors are not inherited anyway), and needs O_BINARY for the
    # bytes as stored, CRLF and all; its os.set_blocking takes pipes only. O_NOCTTY: a
    # terminal given as a document (refused below) must not become the controlling terminal
    # of a process that has none (a session leader: an MCP client's child, a daemon).
    nonblock = getattr(os, "O_NONBLOCK", 0)
    flags = os.O_RDONLY | nonblock | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, NOT_A_FILE, str(path))
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_file(path: Path | str) -> bytes:
    """The bytes of the regular file at ``path``; ``OSError`` for anything else."""
    with open_file(path) as handle:
        return handle.read()


def loads_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, every refusal a ``tomllib.TOMLDecodeError``."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise _toml_error("nesting too deep", text) from None
    except ValueError as exc:  # int_max_str_digits: the one other ValueError tomllib raises
        raise _toml_error(str(exc).split(":")[0], text) from None


def _toml_error(reason: str, text: str) -> Exception:
    import tomllib

    if sys.version_info >= (3, 14):  # pragma: no cover - the free-form form is deprecated there
        return tomllib.TOMLDecodeError(reason, text, 0)
    return tomllib.TOMLDecodeError(reason)
