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
- A flow that ends in an error before any answer went out (the upstream is down or went away,
  a body over the limit) is answered with a JSON-RPC error, not mitmproxy's HTML page:
  ``failure_answer`` (HTTP 502, or 413 for a request over the limit; the request's id echoed
  when ztmcp read it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
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


# -- a flow that ended before any answer went out ----------------------------------------------
#
# The upstream refused the connection, went away mid-request, or sent an answer mitmproxy would
# not relay (too large, headers that smuggle): mitmproxy's own answer is an HTML page, which an
# MCP client reports as "Server returned an error response" at best. ztmcp answers with a
# JSON-RPC error instead, the request's id echoed when ztmcp read it.

UPSTREAM_ERROR: Final = -32000  # JSON-RPC's implementation-defined server error
_INVALID_REQUEST: Final = -32600
_REASON_LIMIT: Final = 200


@dataclass(frozen=True, slots=True)
class Failure:
    """How a failed flow is recorded and answered: the audit rule, the HTTP status, the
    JSON-RPC error code, and the text (``{url}`` and ``{reason}`` filled in)."""

    rule: str
    status: int
    code: int
    text: str


# The client went away first: recorded, and nobody reads the answer (499, as nginx logs it).
CLIENT_GONE: Final = Failure(
    "http.client_gone", 499, UPSTREAM_ERROR, "the client went away ({reason})"
)
# The first rule whose marker is in mitmproxy's error message applies; otherwise the upstream
# could not be reached or went away (``UNREACHABLE``).
FAILURES: Final = (
    (
        "Request body exceeds",
        Failure("limits.size", 413, _INVALID_REQUEST, "the request is larger than ztmcp's limit"),
    ),
    (
        "Response body exceeds",
        Failure(
            "limits.size",
            502,
            UPSTREAM_ERROR,
            "the answer of the MCP server at {url} is larger than ztmcp's limit",
        ),
    ),
    (
        "request smuggling",
        Failure(
            "http.response_headers",
            502,
            UPSTREAM_ERROR,
            # (mitmproxy's message goes on to advise turning the validation off: not shown)
            "the answer of the MCP server at {url} has headers that could be read two ways; "
            "refused",
        ),
    ),
    ("Client disconnected", CLIENT_GONE),
    ("Client closed", CLIENT_GONE),
)
UNREACHABLE: Final = Failure(
    "http.upstream", 502, UPSTREAM_ERROR, "the MCP server at {url} is not reachable ({reason})"
)


def failure(message: str) -> Failure:
    """The rule for mitmproxy's error ``message`` (see ``FAILURES``)."""
    for marker, rule in FAILURES:
        if marker in message:
            return rule
    return UNREACHABLE


def _echoed(request_id: object) -> str | int | None:
    """The id a JSON-RPC error may echo: a string (writable as UTF-8) or an integer."""
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        return None
    if isinstance(request_id, str):
        try:
            request_id.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON-RPC's null, as for an unread id
            return None
    return request_id


def _one_line(text: str) -> str:
    """``text`` as one short line of valid UTF-8: no control characters, no lone surrogates."""
    clean = _CONTROL.sub(b" ", text.encode("utf-8", "replace")).decode("utf-8", "replace")
    return " ".join(clean.split())[:_REASON_LIMIT]


def failure_answer(message: str, url: str, request_id: object = None) -> tuple[int, bytes]:
    """HTTP status and JSON-RPC error body for a flow that ended in mitmproxy's error
    ``message`` before any answer went out; ``url`` is the upstream as shown to the user."""
    rule = failure(message)
    shown = _one_line(url) or "(unknown)"
    text = "ztmcp: " + rule.text.format(url=shown, reason=_one_line(message) or "no reason given")
    body = {
        "jsonrpc": "2.0",
        "id": _echoed(request_id),
        "error": {"code": rule.code, "message": text},
    }
    return rule.status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
