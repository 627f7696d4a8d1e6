"""One audit line: a bounded JSON object, then its HMAC-SHA256, on one line.

``line(record, key)`` is total: whatever the record holds (a lone surrogate, NaN, an integer of
ten thousand digits, bytes, a cycle, an object JSON has no form for) becomes JSON that every
reader decodes the same way, so a hostile string from a server is recorded instead of killing
the writer. Output is ASCII only (``\\uXXXX`` escapes), so encoding to bytes cannot fail.

Every field is bounded: a record whose JSON is at most ``MAX_STRING`` characters cannot hold a
longer string, so only larger records are walked, and in them each string is cut at
``MAX_STRING`` characters, each list and object at ``MAX_ITEMS`` entries and the nesting at
``MAX_DEPTH``, with a marker saying how much was cut; the whole record has a budget too.

The MAC covers the exact bytes written (the JSON object before ``"mac"``), so the verifier
never re-serialises and needs no canonical form: ``,"mac":"<64 hex>"}`` closes every line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from binascii import hexlify
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson

MAX_STRING: Final = 2048  # characters per string (and: records shorter than this are not walked)
MAX_ITEMS: Final = 128  # entries per list or object
MAX_DEPTH: Final = 8
MAX_RECORD: Final = 48 * 1024  # characters of strings per record, all fields together
_BIG: Final = 1 << 63

_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=True, allow_nan=False, check_circular=False, separators=(",", ":")
)


def _no_form(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _encoder() -> Callable[[Any], str]:
    """What ``_ENCODER.encode`` does for an object, without building a new C encoder per call
    (``JSONEncoder.encode`` makes one each time): the same arguments, made once."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the pure-Python encoder, same output
        return _ENCODER.encode
    chunks: Callable[[Any, int], Any] = make(
        None, _no_form, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False
    )
    join = "".join

    def encode(value: Any) -> str:
        if not isinstance(value, dict):
            return _ENCODER.encode(value)
        return join(chunks(value, 0))

    return encode


_encode: Final[Callable[[Any], str]] = _encoder()
_MAC_HEAD: Final = b',"mac":"'
SUFFIX_LEN: Final = len(_MAC_HEAD) + 64 + 3  # ,"mac":"<64 hex>"}\n


# orjson writes what the json encoder above writes for plain data (strings, ints, bools, null,
# floats other than tiny ones, lists and dicts of them) as long as the text is ASCII without
# DEL (which it leaves unescaped): ``_fast_body`` uses it only then, several times faster.
# Subclasses, dataclasses and datetimes raise in orjson (json has no form for the latter two,
# and ``bounded`` writes them as markers); tests/state/test_records_fast.py checks the bytes.
_ORJSON_OPTIONS: Final = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_PLAIN_SCALARS: Final = frozenset({str, int, bool, type(None)})
_SMALLEST_PLAIN_FLOAT: Final = 1e-4  # below it (but not 0) json writes 1e-05, orjson 0.00001


def _fast_body(record: Mapping[str, Any]) -> bytes | None:
    """``_encode(record)`` as ASCII bytes when orjson provably writes the same, else None."""
    if type(record) is not dict:
        return None
    scalars = _PLAIN_SCALARS
    # The top level first, without a stack: most records hold no container at all.
    for value in record.values():
        kind = type(value)
        if kind in scalars:
            continue
        if kind is float:  # ``_plain_float``, written out: every message record has one
            if value == 0.0 or _SMALLEST_PLAIN_FLOAT <= abs(value) < math.inf:
                continue
            return None
        if (kind is dict or kind is list) and _plain_tree(record):
            break  # the whole record was walked
        return None
    try:
        out = orjson.dumps(record, option=_ORJSON_OPTIONS)  # non-str keys raise
    except orjson.JSONEncodeError:
        return None
    if len(out) > MAX_STRING or not out.isascii() or b"\x7f" in out:
        return None
    return out


def _plain_float(value: float) -> bool:
    """Whether orjson spells this float as json does (NaN and infinities are not)."""
    return value == 0.0 or _SMALLEST_PLAIN_FLOAT <= abs(value) < math.inf


def _plain_tree(record: dict[Any, Any]) -> bool:
    """Whether every value of the record, at any depth, is one orjson writes as json does."""
    stack: list[Any] = [record]
    pop, push, scalars = stack.pop, stack.append, _PLAIN_SCALARS
    budget = MAX_ITEMS  # containers: a cycle (or a large record) goes to the json path
    while stack:
        budget -= 1
        if budget < 0:
            return False
        node = pop()
        for value in node.values() if type(node) is dict else node:
            kind = type(value)
            if kind in scalars:
                continue
            if kind is dict or kind is list:
                push(value)
            elif kind is not float or not _plain_float(value):
                return False
    return True


def body(record: Mapping[str, Any]) -> bytes:
    """The record as one line of ASCII JSON, every field bounded (total: never raises)."""
    fast = _fast_body(record)
    return fast if fast is not None else _json_body(record)


def _json_body(record: Mapping[str, Any]) -> bytes:
    """``body`` by the json encoder alone (the reference the fast path is tested against)."""
    try:
        text = _encode(record)
    except Exception:  # NaN, a huge integer, a value JSON has no form for, a cycle
        text = None
    if text is None or len(text) > MAX_STRING:
        text = _encode(bounded(record))
    return text.encode("ascii")


class Hmac:
    """HMAC-SHA256 under one key with the padded key states computed once (RFC 2104): per
    message two ``copy`` calls instead of a new HMAC context (less than half the cost)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def hex(self, data: bytes) -> str:
        return self.hex_bytes(data, b"").decode("ascii")

    def hex_bytes(self, data: bytes, end: bytes) -> bytes:
        """``hex(data + end)`` as ASCII bytes, without building ``data + end``."""
        inner = self._inner.copy()
        inner.update(data)
        inner.update(end)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return hexlify(outer.digest())


def mac(key: bytes | Hmac, data: bytes) -> str:
    if isinstance(key, Hmac):
        return key.hex(data)
    return hmac.digest(key, data, hashlib.sha256).hex()


def line(record: Mapping[str, Any], key: bytes | Hmac) -> tuple[bytes, str]:
    """The full line (newline included) and its MAC."""
    data = body(record)
    digest = key.hex(data) if isinstance(key, Hmac) else mac(key, data)
    return data[:-1] + _MAC_HEAD + digest.encode() + b'"}\n', digest


def chained_line(
    head: bytes, event: Mapping[str, Any], tail: bytes, key: Hmac
) -> tuple[bytes, bytes]:
    """The writer's line: ``{<head>, <event's fields>, <tail>}`` and its MAC (ASCII bytes).

    ``head`` is ``{`` and the writer's first members as ASCII JSON (``{"seq":3,"ts":"…",
    "mcp.session.id":"…"``), ``tail`` its last one without the closing brace (``,"prev":
    "<hex>"``); the event is encoded (and bounded) alone and spliced in between, without a
    merged dict, in one format per line (tests/state/test_audit_lines.py holds it to the
    writer it replaced, byte for byte)."""
    fields = body(event)
    data = b"%s,%s%s" % (head, fields[1:-1], tail) if len(fields) > 2 else head + tail
    digest = key.hex_bytes(data, b"}")
    return b'%s,"mac":"%s"}\n' % (data, digest), digest


def split(raw: bytes) -> tuple[bytes, str] | None:
    """``(body, mac)`` of a complete line as ``line`` writes it; ``None`` if it is not one."""
    if len(raw) <= SUFFIX_LEN or not raw.endswith(b'"}\n'):
        return None
    cut = len(raw) - SUFFIX_LEN
    if raw[cut : cut + len(_MAC_HEAD)] != _MAC_HEAD:
        return None
    digest = raw[cut + len(_MAC_HEAD) : -3]
    try:
        text = digest.decode("ascii")
    except UnicodeDecodeError:
        return None
    return raw[:cut] + b"}", text


def authentic(raw: bytes, key: bytes | Hmac) -> tuple[bytes, str] | None:
    """``(body, mac)`` when ``raw`` is a line whose MAC verifies under ``key``."""
    parts = split(raw)
    if parts is None or not hmac.compare_digest(mac(key, parts[0]), parts[1]):
        return None
    return parts


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_RECORD


def bounded(value: Any) -> Any:
    """``value`` as plain JSON data with every string, list, object and the depth bounded."""
    return _bounded(value, 0, _Budget())


def _clip(text: str, budget: _Budget) -> str:
    text = str.__str__(text)  # a str subclass's own methods are never called
    limit = max(0, min(MAX_STRING, budget.left))
    if len(text) > limit:
        text = f"{text[:limit]}...[truncated {len(text) - limit} chars]"
    budget.left -= min(len(text), limit)
    return text


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, int):
        number = int.__index__(key)
        return str(number) if -_BIG < number < _BIG else "[integer]"
    if isinstance(key, float):
        return repr(float.__float__(key))
    return f"[{type(key).__name__}]"


def _bounded(value: Any, depth: int, budget: _Budget) -> Any:
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return _clip(value, budget)
    if isinstance(value, int):
        number = int.__index__(value)
        return number if -_BIG < number < _BIG else f"[integer of {number.bit_length()} bits]"
    if isinstance(value, float):
        real = float.__float__(value)
        return real if math.isfinite(real) else f"[{real!r}]"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"[{len(value)} bytes]"
    if depth >= MAX_DEPTH:
        return "[truncated: nested too deep]"
    if budget.left <= 0:
        return "[truncated: record too large]"
    budget.left -= 1
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index >= MAX_ITEMS:
                out["[truncated]"] = f"{len(value) - MAX_ITEMS} more keys"
                break
            name = _clip(_key(key), budget)
            while name in out:  # two keys that read the same once made strings
                name += "'"
            out[name] = _bounded(item, depth + 1, budget)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        kept = [_bounded(item, depth + 1, budget) for item in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            kept.append(f"[truncated {len(items) - MAX_ITEMS} more items]")
        return kept
    return f"[{type(value).__name__}]"


# -- version 1 (unkeyed SHA-256 chain), read for verification only ------------------------


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    """The version-1 hash of a record: anyone can recompute it, so it proves nothing alone."""
    return hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()
