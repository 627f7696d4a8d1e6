"""Newline-delimited framing with a size limit, pure and incremental.

A line longer than the limit is never held in memory: its first bytes are kept (to recover a
request id for the error answer) and the rest is counted and dropped up to the next newline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PREFIX_BYTES: Final = 4096


@dataclass(frozen=True, slots=True)
class Line:
    data: bytes  # without the newline


@dataclass(frozen=True, slots=True)
class Oversize:
    prefix: bytes  # the first bytes of the line
    size: int  # bytes seen before the newline (or end of stream)
    suffix: bytes = b""  # the last bytes of the line (some peers write "id" last)


Frame = Line | Oversize


class LineFramer:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._discarding = False
        self._prefix = b""
        self._tail = b""
        self._size = 0

    def feed(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        if self._discarding:
            newline = chunk.find(b"\n")
            if newline < 0:
                self._size += len(chunk)
                self._tail = (self._tail + chunk[-PREFIX_BYTES:])[-PREFIX_BYTES:]
                return frames
            self._size += newline
            self._tail = (self._tail + chunk[:newline][-PREFIX_BYTES:])[-PREFIX_BYTES:]
            frames.append(Oversize(self._prefix, self._size, self._tail))
            self._discarding = False
            chunk = chunk[newline + 1 :]
        if b"\n" not in chunk:
            self._buf += chunk
            self._check_overflow()
            return frames
        if self._buf:  # the first line began in an earlier chunk
            self._buf += chunk
            lines = bytes(self._buf).split(b"\n")
        else:  # the usual case, one or more whole lines: split the chunk itself, no copy first
            lines = chunk.split(b"\n")
        self._buf = bytearray(lines.pop())
        for line in lines:
            if len(line) > self.max_bytes:
                frames.append(Oversize(line[:PREFIX_BYTES], len(line), line[-PREFIX_BYTES:]))
            elif line and not line.isspace():  # as ``line.strip()``, without copying the line
                frames.append(Line(line))
        self._check_overflow()
        return frames

    def _check_overflow(self) -> None:
        if len(self._buf) > self.max_bytes:
            self._discarding = True
            self._prefix = bytes(self._buf[:PREFIX_BYTES])
            self._tail = bytes(self._buf[-PREFIX_BYTES:])
            self._size = len(self._buf)
            self._buf = bytearray()

    def finish(self) -> list[Frame]:
        """End of stream: a last line without its newline still counts."""
        if self._discarding:
            self._discarding = False
            return [Oversize(self._prefix, self._size, self._tail)]
        rest, self._buf = bytes(self._buf), bytearray()
        return [Line(rest)] if rest.strip() else []
