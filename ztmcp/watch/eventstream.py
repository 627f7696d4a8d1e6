"""AWS event-stream framing (``application/vnd.amazon.eventstream``), decoded incrementally.

Amazon Bedrock's ConverseStream answers in binary frames, not SSE. Each frame:

    total length (u32) | headers length (u32) | prelude CRC (u32, of the 8 bytes before)
    headers | payload | message CRC (u32, of everything before it)

all big-endian; CRC-32 as zlib computes it; a header is a name (u8 length, UTF-8), a type
byte and a typed value (``_HEADER_TYPES``). ``Decoder.feed`` takes the bytes as they arrive
and returns the frames they complete, each with its exact bytes; at most one frame is held
(the prelude is checked, CRC and lengths, before the rest of a frame is waited for, so a
bogus length never makes it wait for more than ``max_frame_bytes``). Anything wrong (a CRC,
a length, a header that runs past its block, a truncated end) raises ``FrameError``: the
stream is refused from that frame on, never read past in part, and the decoder stays broken
(the good frames a chunk completed before a bad one are returned; the next call raises).
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

PRELUDE: Final = 12
MIN_FRAME: Final = PRELUDE + 4
MAX_HEADERS_BYTES: Final = 128 * 1024  # the service limit

HeaderValue = bool | int | bytes | str | uuid.UUID


class FrameError(ValueError):
    """The stream is not valid event-stream framing; ``reason`` says where, never the data."""


@dataclass(frozen=True, slots=True)
class Frame:
    headers: Mapping[str, HeaderValue]
    payload: bytes
    raw: bytes  # the frame's bytes exactly as received (CRCs verified)

    def text(self, name: str) -> str | None:
        value = self.headers.get(name)
        return value if isinstance(value, str) else None


_FIXED: Final[dict[int, tuple[int, str]]] = {2: (1, ">b"), 3: (2, ">h"), 4: (4, ">i"), 5: (8, ">q")}


def _headers(block: bytes) -> dict[str, HeaderValue]:
    out: dict[str, HeaderValue] = {}
    at, end = 0, len(block)

    def take(count: int) -> bytes:
        nonlocal at
        if count > end - at:
            raise FrameError("a header runs past the header block")
        piece = block[at : at + count]
        at += count
        return piece

    while at < end:
        name_len = take(1)[0]
        if name_len == 0:
            raise FrameError("a header with an empty name")
        try:
            name = take(name_len).decode("utf-8")
        except UnicodeDecodeError:
            raise FrameError("a header name that is not UTF-8") from None
        kind = take(1)[0]
        value: HeaderValue
        if kind in (0, 1):
            value = kind == 0
        elif kind in _FIXED:
            size, fmt = _FIXED[kind]
            value = struct.unpack(fmt, take(size))[0]
        elif kind in (6, 7):
            data = take(struct.unpack(">H", take(2))[0])
            if kind == 6:
                value = data
            else:
                try:
                    value = data.decode("utf-8")
                except UnicodeDecodeError:
                    raise FrameError("a string header that is not UTF-8") from None
        elif kind == 8:
            value = struct.unpack(">q", take(8))[0]  # milliseconds since the epoch
        elif kind == 9:
            value = uuid.UUID(bytes=take(16))
        else:
            raise FrameError(f"unknown header type {kind}")
        out[name] = value
    return out


class Decoder:
    """Frames from a byte stream fed in pieces of any size; see the module docstring."""

    def __init__(self, max_frame_bytes: int) -> None:
        if max_frame_bytes < MIN_FRAME:
            raise ValueError("max_frame_bytes below the smallest frame")
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._need = 0  # the current frame's total length, once its prelude was checked
        self._broken: FrameError | None = None

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[Frame]:
        if self._broken is not None:
            raise self._broken
        self._buffer += chunk
        frames: list[Frame] = []
        try:
            while True:
                if not self._need:
                    if len(self._buffer) < PRELUDE:
                        break
                    self._need = self._prelude(bytes(self._buffer[:PRELUDE]))
                if len(self._buffer) < self._need:
                    break
                raw = bytes(self._buffer[: self._need])
                del self._buffer[: self._need]
                self._need = 0
                frames.append(self._frame(raw))
        except FrameError as exc:
            self._broken = exc
            self._buffer.clear()
            if not frames:
                raise
        return frames  # the good frames before a bad one; the next call raises

    def finish(self) -> None:
        """The stream ended: an incomplete frame left over is an error."""
        if self._broken is not None:
            raise self._broken
        if self._buffer:
            self._broken = FrameError(f"the stream ended inside a frame ({len(self._buffer)} B)")
            self._buffer.clear()
            raise self._broken

    def _prelude(self, prelude: bytes) -> int:
        total, headers_len, crc = struct.unpack(">III", prelude)
        if zlib.crc32(prelude[:8]) != crc:
            raise FrameError("bad prelude CRC")
        if total < MIN_FRAME or headers_len > total - MIN_FRAME:
            raise FrameError("inconsistent frame lengths")
        if total > self.max_frame_bytes or headers_len > MAX_HEADERS_BYTES:
            raise FrameError(f"a frame over the limit ({total} B)")
        return int(total)

    def _frame(self, raw: bytes) -> Frame:
        (crc,) = struct.unpack(">I", raw[-4:])
        if zlib.crc32(raw[:-4]) != crc:
            raise FrameError("bad message CRC")
        (headers_len,) = struct.unpack(">I", raw[4:8])
        headers = _headers(raw[PRELUDE : PRELUDE + headers_len])
        return Frame(headers, raw[PRELUDE + headers_len : -4], raw)
