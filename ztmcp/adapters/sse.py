"""Incremental framing of HTTP response bodies: ``text/event-stream`` events and JSON messages.

Pure and bounded: a framer takes chunks as they arrive (an event may be split across chunks,
one chunk may hold several events) and returns the complete frames, each with the exact bytes
it came from, so an allowed frame is forwarded byte for byte. Nothing larger than the limit is
held in memory: an oversized event or JSON value is reported once with its first bytes and
the rest is counted and dropped.

SSE follows the WHATWG event-stream rules: a leading UTF-8 BOM is stripped (as the TypeScript
SDK does; the event after it is checked like any other), lines end in CRLF, LF or CR (a CR at
the end of a chunk may be the first half of a CRLF), a blank line ends an event, ``:`` starts a
comment, one space after the colon is dropped, ``data`` lines join with LF, unknown fields are
ignored. An event that a lenient peer could read otherwise (bytes that are not UTF-8, a field
name such as ``Data`` that differs from a known one only in case) is marked ``invalid``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ztmcp.adapters.framing import PREFIX_BYTES

_LINE_END: Final = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One event: its fields as parsed and the exact bytes (terminating blank line included)."""

    raw: bytes
    data: str | None = None  # None: no data field at all (a comment, a bare retry or id)
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    # Why a peer could read this event otherwise than ztmcp (None: it cannot): bytes that are
    # not UTF-8, or a field name that only differs in case from a known one ("Data").
    invalid: str | None = None

    @property
    def kind(self) -> str:
        """The event type as a client dispatches it (``message`` when none is named)."""
        return self.event or "message"


@dataclass(frozen=True, slots=True)
class Oversize:
    """A frame discarded unread because it exceeded the limit."""

    prefix: bytes
    size: int
    suffix: bytes = b""


_FIELDS: Final = frozenset({"data", "event", "id", "retry"})
BOM: Final = b"\xef\xbb\xbf"


def _parse_event(raw: bytes, lines: list[bytes]) -> SseEvent:
    data: list[str] = []
    event = ident = None
    retry = None
    invalid = None
    for line in lines:
        if not line or line.startswith(b":"):
            continue
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        try:
            text = value.decode("utf-8")
            field = name.decode("utf-8")
        except UnicodeDecodeError:
            invalid = "an SSE field that is not UTF-8"
            text = value.decode("utf-8", errors="replace")
            field = name.decode("utf-8", errors="replace")
        if field not in _FIELDS and field.casefold() in _FIELDS:
            invalid = f"an SSE field named {field[:20]!r} (field names are case-sensitive)"
        if field == "data":
            data.append(text)
        elif field == "event":
            event = text
        elif field == "id" and "\0" not in text:
            ident = text
        elif field == "retry" and text.isascii() and text.isdigit():
            retry = int(text)
    return SseEvent(raw, "\n".join(data) if data else None, event, ident, retry, invalid)


class SseFramer:
    """Splits an event stream into events; ``finish`` flushes an unterminated last event."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pending = bytearray()  # bytes of the current event not yet split into lines
        self._event_raw = bytearray()  # the current event's complete lines, as received
        self._lines: list[bytes] = []
        self._discarding = False
        self._prefix = b""
        self._tail = b""
        self._size = 0
        self._at_start = True  # a leading UTF-8 BOM is stripped, as the spec and peers do

    def feed(self, chunk: bytes) -> list[SseEvent | Oversize]:
        frames: list[SseEvent | Oversize] = []
        self._pending += chunk
        if self._at_start:
            if len(self._pending) < len(BOM) and BOM.startswith(self._pending):
                return frames  # maybe the first bytes of a BOM: wait for more
            if self._pending.startswith(BOM):
                del self._pending[: len(BOM)]
            self._at_start = False
        buf = bytes(self._pending)
        start = 0
        for match in _LINE_END.finditer(buf):
            if match.group() == b"\r" and match.end() == len(buf):
                break  # a CR at the very end may be half of a CRLF: wait for the next byte
            line = buf[start : match.start()]
            raw = buf[start : match.end()]
            start = match.end()
            if self._discarding:
                self._count_discarded(raw)
                if not line:
                    frames.append(Oversize(self._prefix, self._size, self._tail))
                    self._discarding = False
                continue
            self._event_raw += raw
            if line:
                self._lines.append(line)
            if not line:
                frames.append(_parse_event(bytes(self._event_raw), self._lines))
                self._event_raw = bytearray()
                self._lines = []
            elif len(self._event_raw) > self.max_bytes:
                self._start_discarding()
        del self._pending[:start]
        if self._discarding:
            self._count_discarded(bytes(self._pending[:-1] if self._ends_cr() else self._pending))
            self._pending = bytearray(b"\r" if self._ends_cr() else b"")
        elif len(self._event_raw) + len(self._pending) > self.max_bytes:
            self._start_discarding()
        return frames

    def _ends_cr(self) -> bool:
        return self._pending.endswith(b"\r")

    def _start_discarding(self) -> None:
        held = bytes(self._event_raw + self._pending)
        self._discarding = True
        self._prefix = held[:PREFIX_BYTES]
        self._tail = held[-PREFIX_BYTES:]
        self._size = len(held)
        self._event_raw = bytearray()
        self._lines = []
        self._pending = bytearray()

    def _count_discarded(self, raw: bytes) -> None:
        self._size += len(raw)
        self._tail = (self._tail + raw[-PREFIX_BYTES:])[-PREFIX_BYTES:]

    def finish(self) -> list[SseEvent | Oversize]:
        """End of stream. Per the spec an unterminated event is not dispatched; it is returned
        here anyway (with ``data`` parsed) so the caller can decide, typically to drop it."""
        if self._discarding:
            self._discarding = False
            return [Oversize(self._prefix, self._size, self._tail)]
        rest = bytes(self._event_raw + self._pending)
        lines = [*self._lines, *([bytes(self._pending)] if self._pending.strip() else [])]
        self._event_raw, self._pending, self._lines = bytearray(), bytearray(), []
        return [_parse_event(rest, lines)] if rest.strip() else []


def encode_event(data: bytes, like: SseEvent | None = None) -> bytes:
    """An event carrying ``data`` (one JSON message), keeping the type and id of ``like``."""
    out = bytearray()
    if like is not None and like.event is not None:
        out += b"event: " + like.event.encode() + b"\n"
    if like is not None and like.id is not None:
        out += b"id: " + like.id.encode() + b"\n"
    for line in _LINE_END.split(data):
        out += b"data: " + line + b"\n"
    return bytes(out + b"\n")


@dataclass(frozen=True, slots=True)
class JsonValue:
    """One top-level JSON value of a stream, exactly as received."""

    raw: bytes


@dataclass(frozen=True, slots=True)
class Gap:
    """Whitespace between values, forwarded as is (keeps a long-lived stream's keep-alives)."""

    raw: bytes


_SPACE: Final = re.compile(rb"[ \t\r\n]*")
_SPACE_CHAR: Final = re.compile(rb"[ \t\r\n]")
_STRUCTURAL: Final = re.compile(rb'["{}\[\]]')
_STRING_BODY: Final = re.compile(rb'(?:[^"\\]|\\.)*', re.DOTALL)


class JsonStreamFramer:
    """Splits concatenated JSON values (one message, or a long-lived chunked stream of them).

    Only objects and arrays are tracked, by depth (strings and escapes respected); any other
    top-level text runs to the next whitespace and is returned as a value for the Session to
    refuse. Regular expressions skip string contents and plain bytes, so a large value costs a
    C-speed scan, and each byte is scanned once.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._pos = 0  # bytes of _buf already scanned
        self._depth = 0
        self._in_string = False
        self._bare = False  # inside a top-level value that is not an object or array
        self._discarding = False
        self._prefix = b""
        self._tail = b""
        self._size = 0  # bytes of the oversized value dropped so far

    def _value(self, raw: bytes) -> JsonValue | Oversize:
        if not self._discarding:
            return JsonValue(raw)
        self._discarding = False
        return Oversize(self._prefix, self._size + len(raw), (self._tail + raw)[-PREFIX_BYTES:])

    def feed(self, chunk: bytes) -> list[JsonValue | Gap | Oversize]:
        frames: list[JsonValue | Gap | Oversize] = []
        buf = self._buf
        buf += chunk
        n = len(buf)
        i = self._pos
        start = 0  # where the current value (or gap) starts in buf
        while i < n:
            if self._in_string:
                j = _STRING_BODY.match(buf, i).end()  # type: ignore[union-attr]
                if j < n and buf[j] == 0x22:
                    self._in_string = False
                    i = j + 1
                else:
                    i = j  # the string goes on (or a backslash waits for its pair)
                    break
            elif self._depth:
                found = _STRUCTURAL.search(buf, i)
                if found is None:
                    i = n
                    break
                i = found.end()
                byte = buf[found.start()]
                if byte == 0x22:
                    self._in_string = True
                elif byte in b"{[":
                    self._depth += 1
                else:
                    self._depth -= 1
                    if self._depth == 0:
                        frames.append(self._value(bytes(buf[start:i])))
                        start = i
            elif self._bare:
                found = _SPACE_CHAR.search(buf, i)
                if found is None:
                    i = n
                    break
                frames.append(self._value(bytes(buf[start : found.start()])))
                self._bare = False
                start = i = found.start()
            else:
                j = _SPACE.match(buf, i).end()  # type: ignore[union-attr]
                if j > i:
                    frames.append(Gap(bytes(buf[i:j])))
                    start = i = j
                    continue
                start = i
                if buf[i] in b"{[":
                    self._depth = 1
                else:
                    self._bare = True  # not an object: no message, the Session refuses it
                i += 1
        del buf[:start]
        self._pos = i - start
        inside = self._depth or self._bare or self._in_string
        if inside and (self._discarding or len(buf) > self.max_bytes):
            if not self._discarding:
                self._discarding = True
                self._prefix = bytes(buf[:PREFIX_BYTES])
                self._tail = b""
                self._size = 0
            # Keep the scanning state (depth, string), drop the bytes already scanned.
            scanned = bytes(buf[: self._pos])
            self._size += len(scanned)
            self._tail = (self._tail + scanned[-PREFIX_BYTES:])[-PREFIX_BYTES:]
            del buf[: self._pos]
            self._pos = 0
        return frames

    def finish(self) -> list[JsonValue | Gap | Oversize]:
        """End of stream: an incomplete value is returned as is (the Session refuses it)."""
        rest = bytes(self._buf)
        frames: list[JsonValue | Gap | Oversize] = []
        if self._discarding:
            frames.append(self._value(rest))
        elif rest.strip():
            frames.append(JsonValue(rest))
        elif rest:
            frames.append(Gap(rest))
        self._buf = bytearray()
        self._pos, self._depth, self._in_string, self._bare = 0, 0, False, False
        return frames
