"""JSON-RPC 2.0 messages as ztmcp sees them: parsed once, with limits, never in batches.

A ``Message`` keeps the exact bytes it was parsed from so that an allowed frame can be forwarded
byte for byte. Parsing refuses what could smuggle a call past per-message checks: batches,
duplicate keys (parsers disagree on which one wins), invalid UTF-8, oversized or deeply nested
input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from ztmcp.errors import ProtocolError

# JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification#error_object).
PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
# Implementation-defined server errors (-32000 … -32099).
SERVER_GONE: Final = -32000
DENIED: Final = -32001

MODERN_VERSION_KEY: Final = "io.modelcontextprotocol/protocolVersion"


class Direction(StrEnum):
    """Which way a message travels."""

    TO_SERVER = "to_server"  # agent → server
    TO_CLIENT = "to_client"  # server → agent

    @property
    def reverse(self) -> Direction:
        return Direction.TO_CLIENT if self is Direction.TO_SERVER else Direction.TO_SERVER


class Kind(StrEnum):
    REQUEST = "request"
    NOTIFICATION = "notification"
    RESPONSE = "response"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Limits:
    """Parsing limits. 16 MiB holds a large tool result with images; depth 64 holds real schemas."""

    max_bytes: int = 16 * 1024 * 1024
    max_depth: int = 64


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class Message:
    """One parsed JSON-RPC object, its direction and the exact bytes it came from.

    ``kind``, ``method`` and ``params`` are derived once here: every check reads them.
    """

    direction: Direction
    raw: bytes
    body: dict[str, Any]
    kind: Kind = field(init=False)
    method: str | None = field(init=False)
    params: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        body = self.body
        method = body.get("method")
        if "method" in body:
            kind = Kind.REQUEST if "id" in body else Kind.NOTIFICATION
        elif "id" in body and ("result" in body or "error" in body):
            kind = Kind.RESPONSE
        else:
            kind = Kind.INVALID
        params = body.get("params")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "method", method if isinstance(method, str) else None)
        object.__setattr__(self, "params", params if isinstance(params, dict) else {})

    @property
    def id(self) -> Any:
        return self.body.get("id")

    @property
    def tool_name(self) -> str | None:
        """The tool a ``tools/call`` request names, if any."""
        if self.method != "tools/call":
            return None
        name = self.params.get("name")
        return name if isinstance(name, str) else None

    @property
    def is_modern(self) -> bool:
        """True when the message carries the 2026-07-28 per-request protocol version."""
        meta = self.params.get("_meta")
        return isinstance(meta, dict) and MODERN_VERSION_KEY in meta


class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        counts: dict[str, int] = {}
        for key, _ in pairs:
            counts[key] = counts.get(key, 0) + 1
        dup = next(key for key, n in counts.items() if n > 1)
        raise _DuplicateKeyError(f"duplicate key {dup!r}")
    return obj


# One decoder for every message: json.loads(..., object_pairs_hook=...) builds a new one per call.
_DECODER: Final = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed value, walked iteratively; stops counting past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return deepest


def parse(raw: bytes, direction: Direction, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Parse one framed message. Raises ``ProtocolError`` with the code to answer with."""
    if len(raw) > limits.max_bytes:
        raise ProtocolError(
            f"message of {len(raw)} bytes exceeds the limit of {limits.max_bytes} bytes",
            code=INVALID_REQUEST,
            rule="limits.size",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"message is not valid UTF-8 (byte {exc.start})", code=PARSE_ERROR, rule="json.utf8"
        ) from None
    # Each '{' or '[' opens at most one level, so their count bounds the depth: the exact
    # walk below is only needed for messages that could be too deep.
    openers = raw.count(b"{") + raw.count(b"[")
    try:
        body = _DECODER.decode(text)
    except RecursionError:
        raise ProtocolError(
            f"message nesting exceeds the limit of {limits.max_depth}",
            code=INVALID_REQUEST,
            rule="limits.depth",
        ) from None
    except _DuplicateKeyError as exc:
        raise ProtocolError(
            f"message has a {exc} (parsers disagree on which one counts)",
            code=INVALID_REQUEST,
            rule="json.duplicate_key",
        ) from None
    except ValueError as exc:
        reason = str(exc).split(":")[0] if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ProtocolError(
            f"message is not valid JSON ({reason})", code=PARSE_ERROR, rule="json.syntax"
        ) from None
    if isinstance(body, list):
        raise ProtocolError(
            "JSON-RPC batches are refused (they would carry calls past per-message checks)",
            code=INVALID_REQUEST,
            rule="jsonrpc.batch",
        )
    if not isinstance(body, dict):
        raise ProtocolError(
            "a JSON-RPC message must be a JSON object", code=INVALID_REQUEST, rule="jsonrpc.shape"
        )
    if openers > limits.max_depth and _depth(body, limits.max_depth) > limits.max_depth:
        raise ProtocolError(
            f"message nesting exceeds the limit of {limits.max_depth}",
            code=INVALID_REQUEST,
            rule="limits.depth",
        )
    return Message(direction, raw, body)


# A top-level "id" that appears before any nested object or array, or as the very last member
# (TypeScript SDK peers write {"result":…,"jsonrpc":"2.0","id":N}): enough to address an error
# reply to a message whose body cannot be used. Best effort, used only on refused input; from
# the server side, the Session answers a recovered id only if that request is waiting.
_ID_VALUE = rb'(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")'
_ID_PREFIX = re.compile(rb'^\s*\{[^{}\[\]]*?"id"\s*:\s*' + _ID_VALUE)
_ID_SUFFIX = re.compile(rb'[,{]\s*"id"\s*:\s*' + _ID_VALUE + rb'\s*\}\s*$')


def recover_id(prefix: bytes, suffix: bytes = b"") -> str | int | None:
    """The request id of an unusable message, when its first or last bytes reveal one."""
    match = _ID_PREFIX.match(prefix[:4096]) or _ID_SUFFIX.search((suffix or prefix)[-4096:])
    if not match:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def encode(body: dict[str, Any]) -> bytes:
    """Serialise a message ztmcp itself writes (replies, substitutes): compact, UTF-8."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_response(
    msg_id: Any, code: int, message: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": msg_id, "error": error}


def tool_error_result(msg_id: Any, text: str, *, modern: bool) -> dict[str, Any]:
    """A ``tools/call`` answer that the model reads as a failed tool, not as an outage."""
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": True}
    if modern:
        result["resultType"] = "complete"
    return {"jsonrpc": "2.0", "id": msg_id, "result": result}
