"""An AWS event-stream encoder for the tests, written from the format, not from the decoder:
``frame(headers, payload)`` gives one frame's bytes; ``converse_stream`` a Bedrock
ConverseStream answer as the service frames it."""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from typing import Any


def _header(name: str, value: Any, kind: int | None = None) -> bytes:
    key = name.encode()
    head = struct.pack(">B", len(key)) + key
    if isinstance(value, bool):
        return head + struct.pack(">B", 0 if value else 1)
    if isinstance(value, uuid.UUID):
        return head + struct.pack(">B", 9) + value.bytes
    if isinstance(value, int):
        kind = kind or 4
        fmt = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}[kind]
        return head + struct.pack(">B", kind) + struct.pack(fmt, value)
    data = value if isinstance(value, bytes) else value.encode()
    return head + struct.pack(">BH", 6 if isinstance(value, bytes) else 7, len(data)) + data


def frame(headers: dict[str, Any], payload: bytes, kinds: dict[str, int] | None = None) -> bytes:
    """One frame; ``kinds`` picks an integer header's width (2 byte … 5 long, 8 timestamp)."""
    block = b"".join(_header(k, v, (kinds or {}).get(k)) for k, v in headers.items())
    total = 12 + len(block) + len(payload) + 4
    prelude = struct.pack(">II", total, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + block + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(kind: str, payload: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": kind,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return frame(headers, json.dumps({**payload, "p": "abcdefgh"}).encode())


def converse_stream(ask_tool: bool, tool_input: dict[str, Any]) -> list[bytes]:
    """What ConverseStream sends: a tool use (its input in two pieces) or text, then usage."""
    frames = [event("messageStart", {"role": "assistant"})]
    if ask_tool:
        text = json.dumps(tool_input)
        frames.append(
            event(
                "contentBlockStart",
                {
                    "contentBlockIndex": 0,
                    "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}},
                },
            )
        )
        for piece in (text[:5], text[5:]):
            frames.append(
                event(
                    "contentBlockDelta",
                    {"contentBlockIndex": 0, "delta": {"toolUse": {"input": piece}}},
                )
            )
    else:
        for word in ("It", " is", " sunny"):
            frames.append(
                event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word}})
            )
    frames.append(event("contentBlockStop", {"contentBlockIndex": 0}))
    frames.append(event("messageStop", {"stopReason": "tool_use" if ask_tool else "end_turn"}))
    frames.append(
        event(
            "metadata",
            {
                "usage": {"inputTokens": 17, "outputTokens": 9, "totalTokens": 26},
                "metrics": {"latencyMs": 5},
            },
        )
    )
    return frames
