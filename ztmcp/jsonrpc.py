"""JSON-RPC 2.0 messages as ztmcp sees them: parsed once, strictly, with limits, never in batches.

A ``Message`` keeps the exact bytes it was parsed from so that an allowed frame can be forwarded
byte for byte. That is only safe if every peer reads those bytes as ztmcp did, so ``parse`` is
the one strict decoder every adapter uses: it accepts only what Python's ``json``, JavaScript's
``JSON.parse``, Go's ``encoding/json`` and pydantic read the same way and refuses the rest
(batches, invalid UTF-8, a BOM, lone surrogates, NaN/Infinity and overflowing numbers, integers
beyond ±(2**53-1), duplicate keys including case-folded ones, case variants of protocol field
names, frames that are both a request and a response, oversized or deeply nested input).
docs/decoder.md says what each peer would do otherwise.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import orjson

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


_set_field: Final = object.__setattr__  # how a frozen dataclass sets its own fields


@dataclass(frozen=True, slots=True, init=False)
class Message:
    """One parsed JSON-RPC object, its direction and the exact bytes it came from.

    ``kind``, ``method`` and ``params`` are derived once here: every check reads them. (The
    constructor is written out: one per frame, it costs less than the generated one and a
    ``__post_init__``; ``dataclasses.replace`` still passes only the first three.)
    """

    direction: Direction
    raw: bytes
    body: dict[str, Any]
    kind: Kind = field(init=False)
    method: str | None = field(init=False)
    params: dict[str, Any] = field(init=False)

    def __init__(self, direction: Direction, raw: bytes, body: dict[str, Any]) -> None:
        method = body.get("method")
        if "method" in body:
            kind = Kind.REQUEST if "id" in body else Kind.NOTIFICATION
        elif "id" in body and ("result" in body or "error" in body):
            kind = Kind.RESPONSE
        else:
            kind = Kind.INVALID
        params = body.get("params")
        _set_field(self, "direction", direction)
        _set_field(self, "raw", raw)
        _set_field(self, "body", body)
        _set_field(self, "kind", kind)
        _set_field(self, "method", method if isinstance(method, str) else None)
        _set_field(self, "params", params if isinstance(params, dict) else {})

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


class _Refused(ValueError):
    """Raised from inside the decoder's hooks: a refusal with its rule, not a syntax error."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


# The largest integer every peer reads exactly: JavaScript numbers and Go's ``any`` are IEEE
# doubles, and the canonical form pins and manifests use (RFC 8785) cannot carry more.
MAX_SAFE_INTEGER: Final = 2**53 - 1
_SAFE_DIGITS: Final = len(str(MAX_SAFE_INTEGER))

# Non-ASCII letters that Go's encoding/json matches to an ASCII letter when it binds an object
# key to a struct field: simple case folding (U+212A KELVIN SIGN, U+017F LONG S; Go <= 1.20) and
# ToUpper(ToLower(r)) (also U+0131 DOTLESS I and U+0130 CAPITAL I WITH DOT; Go >= 1.21).
_GO_ASCII_FOLD: Final = str.maketrans({"\u212a": "k", "\u017f": "s", "\u0131": "i", "\u0130": "i"})


def _strict_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    value = int(text) if digits <= _SAFE_DIGITS else MAX_SAFE_INTEGER + 1
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise _Refused(
        "json.integer_range",
        f"integer {text[:24]}{'…' if len(text) > 24 else ''} is beyond ±(2**53-1), which"
        " JavaScript and Go peers would round",
    )


def _strict_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise _Refused("json.nonfinite", f"number {text[:24]} overflows to infinity")
    return value


def _refuse_constant(text: str) -> Any:
    raise _Refused("json.nonfinite", f"{text} is not JSON (peers reject or read it differently)")


def _go_fold(key: str) -> str:
    return key.translate(_GO_ASCII_FOLD).casefold()


def _upper_lower(key: str) -> str:
    return key.translate(_GO_ASCII_FOLD).lower().upper()


def _first_repeat(keys: Iterable[str]) -> str:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return ""


def _first_collision(keys: Iterable[str], fold: Callable[[str], str]) -> tuple[str, str]:
    first: dict[str, str] = {}
    for key in keys:
        other = first.setdefault(fold(key), key)
        if other != key:
            return other, key
    raise AssertionError("no collision")  # pragma: no cover - only called after one was seen


_SAFE_KEY_SETS: Final[set[str]] = set()
_SAFE_KEY_SETS_MAX: Final = 4096


def _remember_safe(joined: str) -> None:
    if len(_SAFE_KEY_SETS) >= _SAFE_KEY_SETS_MAX:
        _SAFE_KEY_SETS.clear()
    if len(joined) <= 512:
        _SAFE_KEY_SETS.add(joined)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Every JSON object: refuse keys that some peer would read as the same key."""
    obj = dict(pairs)
    count = len(pairs)
    if len(obj) != count:
        dup = _first_repeat(key for key, _ in pairs)
        raise _Refused(
            "json.duplicate_key", f"duplicate key {dup[:80]!r} (peers disagree on which one counts)"
        )
    if count > 1:
        # Messages repeat the same few key sets: each is judged once (a bounded memo of key sets
        # known to be safe). Otherwise one C-speed pass: ASCII keys all in lower case cannot
        # collide; other ASCII keys collide only if their lower-case forms do.
        joined = "\0".join(obj)
        if joined in _SAFE_KEY_SETS:
            return obj
        if joined.isascii():
            lowered = joined.lower()
            folds: tuple[Callable[[str], str], ...] = (str.lower,)
            keys = lowered.split("\0")
            if lowered == joined or (len(keys) == count and len(set(keys)) == count):
                _remember_safe(joined)
                return obj
        else:
            folds = (_go_fold, _upper_lower)
        for fold in folds:
            if len({fold(key) for key in obj}) != count:
                one, other = _first_collision(obj, fold)
                raise _Refused(
                    "json.duplicate_key",
                    f"keys {one[:80]!r} and {other[:80]!r} are one key to peers that match keys"
                    " case-insensitively (Go's encoding/json)",
                )
        # Sound even if a key holds "\0": the folds keep "\0" and make no new one, so any other
        # split of the same joined text into keys is collision-free too.
        _remember_safe(joined)
    return obj


# One decoder for every message: json.loads(..., object_pairs_hook=...) builds a new one per call.
_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_int=_strict_int,
    parse_float=_strict_float,
    parse_constant=_refuse_constant,
)


# The fast path: orjson reads the frame, and its reading is used only where it is provably the
# strict decoder's (docs/decoder.md, "The fast path"); every other frame goes to the strict
# decoder, which alone decides what to refuse and says why. tests/test_jsonrpc_fast.py checks
# the two agree on every frame (the same body, or the same refusal).
# A run of 16 digits, found as 16 zeros once every digit is a zero and every other byte a
# space (one C-speed pass): without one, every integer literal is below 10**15 (no range
# refusal, and orjson reads it as an int, never a float). A float may still hold more than 15
# significant digits (``123456789012345.123456789012345``: two runs): its value is orjson's
# correctly rounded reading, the same as ``float``'s (the differential test's examples).
_DIGITS_AS_ZEROS: Final = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS: Final = b"0" * 16
# Frames up to this size only: the tests above are passes over the bytes that cost more than
# the strict decoder saves on a long text (benchmarks/bench_decoder.py; docs/decoder.md).
_FAST_MAX_BYTES: Final = 1024


def _fast_decode(raw: bytes) -> Any:
    """The frame as orjson reads it when that is exactly what the strict decoder returns; None
    when that cannot be shown cheaply (the caller then runs the strict decoder).

    Only for short ASCII frames without ``\\u`` escapes (the usual frame): every key is then
    ASCII as written. orjson accepts a subset of what Python's decoder accepts and reads it to
    the same values (the differential test checks both on every frame); no 16-digit run means
    no integer out of range (above). What orjson cannot say is whether an object held keys
    that are one key to some peer (it keeps the last duplicate silently). For ASCII keys the
    folds of ``_object`` all come down to ASCII lower case, and ``bytes.lower`` lowers exactly
    the ASCII letters, keys included, so the frame is read once more lowered: each member
    writes one ``:`` outside strings, and the colons orjson writes back for the lowered
    reading (one per member kept, plus those inside the strings kept) reach the frame's
    colons only when no member was dropped, that is when no two keys of one object share a
    lower-case form.
    """
    if (
        len(raw) > _FAST_MAX_BYTES
        or not raw.isascii()
        or b"\\u" in raw
        or _LONG_DIGITS in raw.translate(_DIGITS_AS_ZEROS)
    ):
        return None
    try:
        body = orjson.loads(raw)
        if type(body) is not dict:
            return None
        lowered = raw.lower()  # the frame itself when it has no upper-case letter
        written = orjson.dumps(body if lowered == raw else orjson.loads(lowered)).count(b":")
    except Exception:  # orjson's refusals and anything else: the strict decoder decides
        return None
    return body if written >= raw.count(b":") else None


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


# JSON-RPC and MCP field names at the levels ztmcp routes and decides on. Go peers bind an
# object key to a struct field case-insensitively, so a lone "Params" or "nAme" is params or
# name to them and absent to every other reader: such spellings are refused at these levels.
# Free-form maps below them (arguments, _meta, structuredContent, schemas) are maps to the
# SDKs, decoded without folding, so their keys are left alone. tests/test_jsonrpc.py checks
# that these sets hold every field of the MCP SDK's *Params, *Result, Tool and ErrorData.
_ENVELOPE_FIELDS: Final = frozenset({"jsonrpc", "id", "method", "params", "result", "error"})
_PARAMS_FIELDS: Final = frozenset(
    {
        "_meta", "name", "arguments", "task", "cursor", "uri", "protocolVersion", "capabilities",
        "clientInfo", "level", "ref", "argument", "context", "requestId", "reason",
        "progressToken", "progress", "total", "message", "logger", "data", "messages",
        "modelPreferences", "systemPrompt", "includeContext", "temperature", "maxTokens",
        "stopSequences", "metadata", "tools", "toolChoice", "mode", "requestedSchema", "url",
        "elicitationId", "taskId", "status", "statusMessage", "createdAt", "lastUpdatedAt",
        "ttl", "pollInterval", "inputResponses", "notifications", "requestState",
    }
)  # fmt: skip
_RESULT_FIELDS: Final = frozenset(
    {
        "_meta", "content", "structuredContent", "isError", "tools", "nextCursor", "resources",
        "resourceTemplates", "contents", "prompts", "description", "messages", "completion",
        "protocolVersion", "capabilities", "serverInfo", "instructions", "roots", "model",
        "role", "stopReason", "action", "task", "taskId", "status", "resultType", "ttl",
        "ttlMs", "tasks", "statusMessage", "createdAt", "lastUpdatedAt", "pollInterval",
        "cacheScope", "inputRequests", "requestState", "supportedVersions",
    }
)  # fmt: skip
_ERROR_FIELDS: Final = frozenset({"code", "message", "data"})
_ANNOTATION_FIELDS: Final = frozenset(
    {"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
)
_TOOL_FIELDS: Final = frozenset(
    {"name", "title", "description", "inputSchema", "outputSchema", "annotations", "icons",
     "_meta", "execution"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Spelling:
    """The field names of one level: exactly, as Go folds them, and as pydantic also binds them.

    The Python SDK's models are ``populate_by_name``: a lone ``input_schema`` or ``meta`` is
    ``inputSchema`` or ``_meta`` to them (the camelCase alias wins when both are present).
    """

    exact: frozenset[str]
    folded: Mapping[str, str]
    by_name: Mapping[str, str]


def _python_name(field: str) -> str:
    """The attribute name pydantic's ``to_camel`` alias generator maps to ``field``."""
    if field == "_meta":
        return "meta"
    return re.sub("([A-Z])", lambda m: "_" + m.group(1).lower(), field)


def _folded(fields: frozenset[str]) -> _Spelling:
    by_name = {_python_name(name): name for name in fields}
    return _Spelling(
        fields,
        {name.lower(): name for name in fields},
        {python: name for python, name in by_name.items() if python != name},
    )


_SPELLINGS: Final = (
    ("params", _folded(_PARAMS_FIELDS)),
    ("result", _folded(_RESULT_FIELDS)),
    ("error", _folded(_ERROR_FIELDS)),
)
_ENVELOPE_SPELLING: Final = _folded(_ENVELOPE_FIELDS)
_TOOL_SPELLING: Final = _folded(_TOOL_FIELDS)
_ANNOTATIONS_SPELLING: Final = _folded(_ANNOTATION_FIELDS)


def _check_spelling(obj: dict[str, Any], spelling: _Spelling, where: str) -> None:
    for key in obj:
        if key in spelling.exact:
            continue
        name = spelling.folded.get(key.translate(_GO_ASCII_FOLD).lower())
        if name is not None:
            raise ProtocolError(
                f"{where} key {key[:80]!r} is {name!r} to Go peers and absent to others",
                code=INVALID_REQUEST,
                rule="jsonrpc.case_variant",
            )
        name = spelling.by_name.get(key)
        if name is not None:  # refused even beside the alias: which one wins is pydantic's call
            raise ProtocolError(
                f"{where} key {key[:80]!r} is {name!r} to the Python SDK and absent to others",
                code=INVALID_REQUEST,
                rule="jsonrpc.field_alias",
            )


def _check_shape(body: dict[str, Any]) -> None:
    """Refuse envelopes peers would route differently; the envelope check judges the rest."""
    if "method" in body and ("result" in body or "error" in body):
        raise ProtocolError(
            'a message with "method" and "result" or "error" is a request to some peers and a'
            " response to others",
            code=INVALID_REQUEST,
            rule="jsonrpc.ambiguous_kind",
        )
    # issuperset walks the keys at C speed: the usual message has only exact field names.
    if not _ENVELOPE_SPELLING.exact.issuperset(body):
        _check_spelling(body, _ENVELOPE_SPELLING, "top-level")
    for member, spelling in _SPELLINGS:
        value = body.get(member)
        if isinstance(value, dict) and not spelling.exact.issuperset(value):
            _check_spelling(value, spelling, member)
    result = body.get("result")
    tools = result.get("tools") if isinstance(result, dict) else None
    if isinstance(tools, list):
        for tool in tools:
            if not isinstance(tool, dict):
                continue
            if not _TOOL_SPELLING.exact.issuperset(tool):
                _check_spelling(tool, _TOOL_SPELLING, "tool")
            notes = tool.get("annotations")
            if isinstance(notes, dict) and not _ANNOTATIONS_SPELLING.exact.issuperset(notes):
                _check_spelling(notes, _ANNOTATIONS_SPELLING, "tool annotations")


# Python's decoder makes a lone surrogate only from a \ud800-\udfff escape (encoded surrogates
# are invalid UTF-8, refused before), and joins a high escape directly followed by a low one.
# Frames without such an escape skip the precise check: one regex pass that reads the escapes
# of the (already valid) JSON text in order and stops at the first lone surrogate escape.
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")
_UNTIL_LONE_SURROGATE: Final = re.compile(
    rb"(?:[^\\]++"  # a run without escapes
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a surrogate pair
    rb"|\\u(?![dD][89a-fA-F])"  # any other \u escape (its hex digits follow as a run)
    rb"|\\[^u])*+"  # any other escape, an escaped backslash included
)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def loads_document(text: str | bytes) -> Any:
    """``json.loads`` of a document read from a file (a manifest, a corpus or trace line),
    refusing, as the strict decoder does, a lone surrogate: no peer's UTF-8 can carry one, and
    the detectors' byte views cannot hold it. Raises ``json.JSONDecodeError`` (a
    ``ValueError``), so every caller's one-line error for bad JSON covers it too; so are the
    decoder's own limits, which Python raises as other errors: nesting past the interpreter's
    recursion limit (``RecursionError``) and an integer of more than 4300 digits (a plain
    ``ValueError``)."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):  # bad UTF-8 bytes: their callers say so
        raise
    except RecursionError:
        raise _document_error("nesting too deep", text) from None
    except ValueError as exc:  # int_max_str_digits: the one other ValueError json.loads raises
        raise _document_error(str(exc).split(":")[0], text) from None
    if isinstance(text, str):
        found = _SURROGATE.search(text)
        if found is not None:
            raise json.JSONDecodeError("a lone surrogate", text, found.start())
        raw = text.encode("utf-8")
    else:
        raw = text
    at = _lone_surrogate_at(raw)
    if at is not None:
        doc = raw.decode("utf-8", "replace")
        pos = len(raw[:at].decode("utf-8", "replace"))
        raise json.JSONDecodeError("a lone surrogate escape", doc, pos)
    return value


def _document_error(reason: str, text: str | bytes) -> json.JSONDecodeError:
    """A decoder limit as the ``JSONDecodeError`` every reader of documents already handles."""
    doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return json.JSONDecodeError(reason, doc, 0)


def _lone_surrogate_at(raw: bytes) -> int | None:
    """The offset of the first lone surrogate escape in valid JSON text, if any."""
    if not _SURROGATE_ESCAPE.search(raw):
        return None
    end = _UNTIL_LONE_SURROGATE.match(raw)
    return None if end is None or end.end() == len(raw) else end.end()


_BOM: Final = b"\xef\xbb\xbf"


def _strict_decode(raw: bytes, limits: Limits) -> Any:
    """The strict decoder's reading of ``raw``, or its refusal (``ProtocolError``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"message is not valid UTF-8 (byte {exc.start})", code=PARSE_ERROR, rule="json.utf8"
        ) from None
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ProtocolError(
            f"message nesting exceeds the limit of {limits.max_depth}",
            code=INVALID_REQUEST,
            rule="limits.depth",
        ) from None
    except _Refused as exc:
        raise ProtocolError(
            f"message refused: {exc.reason}", code=INVALID_REQUEST, rule=exc.rule
        ) from None
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            raise ProtocolError(
                f"message has data after the JSON value (byte {exc.pos})",
                code=PARSE_ERROR,
                rule="json.trailing",
            ) from None
        raise ProtocolError(
            f"message is not valid JSON ({exc.msg})", code=PARSE_ERROR, rule="json.syntax"
        ) from None
    except Exception as exc:  # a boundary: any decoder failure refuses the frame
        raise ProtocolError(
            f"message could not be decoded ({type(exc).__name__})",
            code=PARSE_ERROR,
            rule="json.syntax",
        ) from None


def parse(raw: bytes, direction: Direction, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Parse one framed message strictly. Raises ``ProtocolError`` with the code to answer with.

    Never raises anything else: an unexpected failure inside the decoder refuses the frame.
    """
    return _parse(raw, direction, limits, fast=True)


def _parse(raw: bytes, direction: Direction, limits: Limits, *, fast: bool) -> Message:
    """``parse``; ``fast=False`` always runs the strict decoder (the tests' reference)."""
    if len(raw) > limits.max_bytes:
        raise ProtocolError(
            f"message of {len(raw)} bytes exceeds the limit of {limits.max_bytes} bytes",
            code=INVALID_REQUEST,
            rule="limits.size",
        )
    if raw.startswith(_BOM):
        raise ProtocolError(
            "message starts with a UTF-8 byte order mark (some peers strip it, others refuse)",
            code=PARSE_ERROR,
            rule="json.bom",
        )
    # Each '{' or '[' opens at most one level, so their count bounds the depth: the exact
    # walk below is only needed for messages that could be too deep.
    openers = raw.count(b"{") + raw.count(b"[")
    # A frame that could be too deep always takes the strict decoder (its own refusal). A
    # frame the fast path reads is ASCII (so valid UTF-8) without a "\u" (so without a
    # surrogate escape): the checks for those are the strict path's.
    body = _fast_decode(raw) if fast and openers <= limits.max_depth else None
    strict = body is None
    if strict:
        body = _strict_decode(raw, limits)
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
    if strict and (at := _lone_surrogate_at(raw)) is not None:
        raise ProtocolError(
            f"message holds a lone UTF-16 surrogate escape at byte {at}"
            f" ({raw[at : at + 6].decode('ascii', 'replace')}; peers replace, keep or refuse it)",
            code=INVALID_REQUEST,
            rule="json.surrogate",
        )
    _check_shape(body)
    return Message(direction, raw, body)


# A top-level "id" that appears before any nested object or array, or as the very last member
# (TypeScript SDK peers write {"result":…,"jsonrpc":"2.0","id":N}): enough to address an error
# reply to a message whose body cannot be used. Best effort, used only on refused input; from
# the server side, the Session answers a recovered id only if that request is waiting.
_ID_VALUE = rb'(-?\d{1,16}|"(?:[^"\\]|\\.){0,200}")'
# A refused frame may start with a BOM (refused as ``json.bom``): its id still addresses the
# answer.
_ID_PREFIX = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\{[^{}\[\]]*?"id"\s*:\s*' + _ID_VALUE)
_ID_SUFFIX = re.compile(rb'[,{]\s*"id"\s*:\s*' + _ID_VALUE + rb"\s*\}\s*$")


_ID_AFTER_COLON = re.compile(rb"\s*:\s*" + _ID_VALUE)


def _top_level_id(data: bytes) -> bytes | None:
    """The raw value of a top-level ``"id"`` member that follows nested members (``"params":
    {…}, "id": 7``), found by walking strings and brackets in ``data`` (bounded by its
    length); None when the bytes read do not reach one."""
    depth, i, n = 0, 0, len(data)
    while i < n:
        c = data[i]
        if c == 0x22:  # a string: find its end, skipping escapes
            j = i + 1
            while j < n and data[j] != 0x22:
                j += 2 if data[j] == 0x5C else 1
            if j >= n:
                return None
            if depth == 1 and data[i : j + 1] == b'"id"':
                member = _ID_AFTER_COLON.match(data, j + 1)
                if member is not None:
                    return member.group(1)
            i = j + 1
            continue
        if c in b"{[":
            depth += 1
        elif c in b"}]":
            depth -= 1
        i += 1
    return None


def recover_id(prefix: bytes, suffix: bytes = b"") -> str | int | None:
    """The request id of an unusable message, when its first or last bytes reveal one.

    Only an id ``parse`` itself would accept: valid UTF-8, no lone surrogate, a safe integer.
    """
    match = _ID_PREFIX.match(prefix[:4096]) or _ID_SUFFIX.search((suffix or prefix)[-4096:])
    found = match.group(1) if match else _top_level_id(prefix[:4096])
    if found is None:
        return None
    try:
        value = _DECODER.decode(found.decode("utf-8"))
    except ValueError:  # invalid UTF-8 or JSON, or an integer beyond the safe range
        return None
    if isinstance(value, str):
        return None if _SURROGATE.search(value) else value
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# What ``encode`` writes when even a sanitised body cannot be serialised.
_ENCODE_FAILED: Final = (
    b'{"jsonrpc":"2.0","id":null,"error":{"code":-32603,'
    b'"message":"ztmcp: internal error while encoding a reply"}}'
)
_SANITISE_DEPTH: Final = 256


def _sanitise(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy: lone surrogates become U+FFFD, non-finite floats null, others text."""
    if depth > _SANITISE_DEPTH:
        return None
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {
            _sanitise(k if isinstance(k, str) else str(k)): _sanitise(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_sanitise(v, depth + 1) for v in value]
    return _sanitise(str(value))


def encode(body: dict[str, Any]) -> bytes:
    """Serialise a message ztmcp itself writes (replies, substitutes): compact, UTF-8.

    Never raises: a body that cannot be written as is (a lone surrogate, NaN, a foreign type,
    a cycle) is written sanitised, and failing that as a bare internal error.
    """
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except Exception:  # must never raise
        pass
    try:
        return json.dumps(
            _sanitise(body), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    except Exception:  # must never raise
        return _ENCODE_FAILED


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
