"""MCP-over-HTTP rules: how ztmcp reads the HTTP parts it acts on, the way the peers read them.

Pure functions over header fields as received (``(name, value)`` byte pairs), tested without
mitmproxy. Where ztmcp and a peer could read the same bytes differently, the message is
refused rather than relayed:

- Request headers ztmcp acts on (Host, Origin, Content-Type, Content-Encoding, Mcp-Session-Id,
  MCP-Protocol-Version, Mcp-Method, Mcp-Name, Authorization) appear at most once; no header
  name is anything but an RFC 9110 token and no value holds a control character (an obs-fold
  line continuation, which mitmproxy joins with CRLF, included). A POST body is exactly
  ``application/json`` (charset UTF-8 if any) without a Content-Encoding: ztmcp checks the
  bytes the upstream will parse; no other request has a body.
- A response body on an MCP exchange is checked only as exactly ``application/json`` or
  exactly ``text/event-stream`` (charset UTF-8 if any), not content-encoded. The Python SDK
  client reads any type that starts with ``application/json`` or ``text/event-stream`` as MCP
  and the TypeScript SDK any type that merely contains them; such a type that is not exactly
  one of the two is refused, as are several Content-Type fields, another charset, and a
  Content-Encoding ztmcp does not decode. Other types (a plain-text error page) are not MCP to
  any client and are relayed (redacted when credentials are brokered), except on a 2xx answer,
  which for MCP must be JSON or SSE.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

Fields = Sequence[tuple[bytes, bytes]]

_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# The request headers ztmcp reads or sets: each may appear once.
ACTED_ON: Final = frozenset(
    {
        b"host",
        b"origin",
        b"content-type",
        b"content-encoding",
        b"content-length",
        b"transfer-encoding",
        b"mcp-session-id",
        b"mcp-protocol-version",
        b"mcp-method",
        b"mcp-name",
        b"authorization",
    }
)
_VISIBLE: Final = re.compile(rb"[\x21-\x7e]+")
_ID_HEADERS: Final = (b"mcp-session-id", b"mcp-protocol-version")


class Body(StrEnum):
    """How ztmcp handles a response body."""

    JSON = "json"
    SSE = "sse"
    OTHER = "other"  # not MCP to any client: relayed (redacted when credentials are brokered)
    NONE = "none"  # no body to check (202/204/304, or an empty one)


def _values(fields: Fields, name: bytes) -> list[bytes]:
    return [v for n, v in fields if n.lower() == name]


def _media(value: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
    """``type/subtype`` (lower-case) and its parameters, or None when malformed."""
    kind, *params = value.split(b";")
    parsed = []
    for param in params:
        name, eq, val = param.strip().partition(b"=")
        if not eq or not _TOKEN.fullmatch(name):
            return None
        val = val.strip()
        if len(val) >= 2 and val[:1] == val[-1:] == b'"':
            val = val[1:-1]
        parsed.append((name.lower(), val))
    return kind.strip().lower(), parsed


def _utf8_only(params: list[tuple[bytes, bytes]]) -> bool:
    return all(
        name == b"charset" and value.lower() in (b"utf-8", b"utf8") for name, value in params
    )


def request_refusal(fields: Fields, method: str) -> str | None:
    """Why a request's headers cannot be read the way the upstream reads them, or None."""
    seen: set[bytes] = set()
    for name, value in fields:
        if not _TOKEN.fullmatch(name):
            return f"a header name that is not an HTTP token ({name[:40]!r})"
        if _CONTROL.search(value):
            return f"a control character or line fold in the {name[:40].decode()} header"
        lower = name.lower()
        if lower in ACTED_ON:
            if lower in seen:
                return f"the {name.decode()} header appears more than once"
            seen.add(lower)
    for name in _ID_HEADERS:
        for value in _values(fields, name):
            if not _VISIBLE.fullmatch(value):
                return f"the {name.decode()} header holds other than visible ASCII"
    encoding = [v.strip().lower() for v in _values(fields, b"content-encoding")]
    if encoding and encoding != [b"identity"]:
        return "a content-encoded request body (ztmcp checks the bytes the upstream parses)"
    if method.upper() != "POST":
        # Only a POST carries a message ztmcp checks: a body on anything else would reach the
        # upstream unread.
        length = [v.strip() for v in _values(fields, b"content-length")]
        if _values(fields, b"transfer-encoding") or length not in ([], [b"0"]):
            return f"a body on an HTTP {method[:20]} request (only a POST carries a message)"
    else:
        kind = [_media(v) for v in _values(fields, b"content-type")]
        if not kind or kind[0] is None or kind[0][0] != b"application/json":
            return "a POST body that is not application/json"
        if not _utf8_only(kind[0][1]):
            return "a POST body in another charset than UTF-8, or with unknown parameters"
    return None


def _read_as_mcp(raw: bytes) -> bool:
    """Whether a client SDK reads this (lower-cased) Content-Type as JSON or SSE: the Python SDK
    by prefix, the TypeScript SDK by substring."""
    return b"application/json" in raw or b"text/event-stream" in raw


def response_body(status: int, fields: Fields, method: str = "POST") -> Body | str:
    """How a response body on an MCP exchange is handled, or why it is refused. A 2xx answer
    to a POST (a JSON-RPC message) or a GET (a stream) must be JSON or SSE."""
    types = _values(fields, b"content-type")
    if len(types) > 1:
        return "the response has more than one Content-Type"
    encoding = [v.strip().lower() for v in _values(fields, b"content-encoding")]
    if encoding and encoding != [b"identity"]:
        return "the response is content-encoded (ztmcp checks plain bytes only)"
    if status in (204, 304) or (status == 202 and not types):
        return Body.NONE
    if not types:
        if [v.strip() for v in _values(fields, b"content-length")] == [b"0"]:
            return Body.NONE
        if status >= 300 or method.upper() not in ("POST", "GET"):
            return Body.OTHER
        return "a 2xx MCP answer without a Content-Type"
    parsed = _media(types[0])
    raw = types[0].lower()
    if parsed is not None and parsed[0] in (b"application/json", b"text/event-stream"):
        if not _utf8_only(parsed[1]):
            return "the response's charset is not UTF-8, or its media type has parameters"
        return Body.JSON if parsed[0] == b"application/json" else Body.SSE
    if _read_as_mcp(raw):
        # Read as MCP by a client (by prefix or substring), but not exactly what ztmcp parses.
        return f"the response's media type {types[0][:60].decode('latin-1')!r} is not checkable"
    if 200 <= status < 300 and status != 202 and method.upper() in ("POST", "GET"):
        return f"a 2xx MCP answer of type {types[0][:60].decode('latin-1')!r}"
    return Body.OTHER
