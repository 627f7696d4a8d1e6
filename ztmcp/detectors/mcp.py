"""Every string of an MCP message, with its exact place, and how to rewrite it in place.

Coverage by construction: ``walk`` yields every string value *and* every object key of a whole
message body, whatever the method (known ones and those let through by ``allow_methods``),
whatever the direction. The checks do not list the places they scan; they take the whole walk
and only decide the *treatment* of a place:

- the items of a listing response (``tools/list``, ``prompts/list``, ``resources/list``,
  ``resources/templates/list``) and the server instructions of a handshake answer are
  definitions: the ``poisoning`` check scans them with the description profile
  (``definition_paths``); every other string server→client goes to ``injection``;
- every string goes to ``secrets`` in its direction.

Binary data: a string under ``data`` or ``blob`` in an object that also carries a
``mimeType`` (image, audio, blob resource contents), and any ``blob``, is base64 the client
decodes. When it is strict base64 whose bytes are not UTF-8 text and whose mimeType is not
text-like, it is a picture or a sound: it is not text the model reads, and is not scanned
(real frames carry megabytes of it). Otherwise it is decoded (a text blob: ``Text.blob``) and
scanned like any other text; a string that is not strict base64 is scanned as it is.

A limit refuses, never skips: past ``MAX_STRINGS`` strings (keys included), ``MAX_CHARS``
characters or ``MAX_DEPTH`` levels the walk raises ``ScanLimit`` and the check that asked
denies the message (rule ``limits.scan``). The limits sit above anything a message accepted by
``jsonrpc.parse`` (16 MiB, depth 64) holds in real traffic.

Paths are tuples of keys and indexes from the message body.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple

Path = tuple[str | int, ...]

# Bounds of one walk. Characters: as large as the default message limit
# (``jsonrpc.Limits.max_bytes``; decoded text is never longer than the raw message), so the
# whole of an accepted message is scanned. Strings: a 16 MiB message of real data (rows of a
# table, a large listing) holds far fewer; past it the message is refused. Depth: the parser's.
MAX_STRINGS: Final = 1_000_000
MAX_CHARS: Final = 16 * 1024 * 1024
MAX_DEPTH: Final = 64
LIMIT_RULE: Final = "limits.scan"
# Redaction scans each string alone to find the ones to replace: past this many strings in a
# message the checks deny instead (a bound on the work, never a partial redaction).
MAX_REDACT_STRINGS: Final = 10_000

# Responses whose result lists definitions the model reads, and the key of that list.
LISTS: Final[Mapping[str, str]] = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
}
# Responses that carry server instructions for the model.
HANDSHAKES: Final = frozenset({"initialize", "server/discover"})

_BINARY_KEYS: Final = frozenset({"data", "blob"})
# Member names of the MCP schema: constants that every message repeats. Their text is known
# to hold nothing any detector finds (``tests/checks/test_coverage.py`` checks each one and
# all of them joined), so the walk does not hand them over again in every message; any other
# key, including every key of arguments, results and schemas' properties, is a text.
PROTOCOL_KEYS: Final = frozenset(
    {
        "jsonrpc",
        "id",
        "method",
        "params",
        "result",
        "error",
        "code",
        "message",
        "data",
        "_meta",
        "name",
        "title",
        "description",
        "arguments",
        "content",
        "type",
        "text",
        "structuredContent",
        "isError",
        "mimeType",
        "uri",
        "blob",
        "resource",
        "annotations",
        "audience",
        "priority",
        "lastModified",
        "tools",
        "prompts",
        "resources",
        "resourceTemplates",
        "uriTemplate",
        "nextCursor",
        "cursor",
        "inputSchema",
        "outputSchema",
        "properties",
        "required",
        "items",
        "enum",
        "default",
        "progressToken",
        "progress",
        "total",
        "level",
        "logger",
        "messages",
        "role",
        "model",
        "stopReason",
        "maxTokens",
        "systemPrompt",
        "contents",
        "capabilities",
        "serverInfo",
        "clientInfo",
        "protocolVersion",
        "version",
        "instructions",
        "requestId",
        "reason",
        "resultType",
        "completion",
        "values",
        "hasMore",
        "ref",
        "argument",
        "value",
        "action",
        "requestedSchema",
        "readOnlyHint",
        "destructiveHint",
        "idempotentHint",
        "openWorldHint",
        "size",
        "icons",
        "src",
        "sizes",
        "roots",
        "toolUseId",
        "input",
    }
)
# The one value of the envelope's top-level ``jsonrpc`` member (any other is denied by the
# envelope check): a constant like the member names above, and left out the same way (a
# frame that holds no other text, such as an answer to ``ping``, then costs no scan).
VERSION: Final = "2.0"
# The method names of the MCP schema (``checks.envelope``'s two lists, checked equal by a
# test): a top-level ``method`` naming one is a protocol constant too, left out the same way
# (a ``ping``, ``tools/list`` or ``notifications/initialized`` frame then holds no text).
PROTOCOL_METHODS: Final = frozenset(
    {
        "completion/complete",
        "elicitation/create",
        "initialize",
        "logging/setLevel",
        "notifications/cancelled",
        "notifications/elicitation/complete",
        "notifications/initialized",
        "notifications/message",
        "notifications/progress",
        "notifications/prompts/list_changed",
        "notifications/resources/list_changed",
        "notifications/resources/updated",
        "notifications/roots/list_changed",
        "notifications/subscriptions/acknowledged",
        "notifications/tasks/status",
        "notifications/tools/list_changed",
        "ping",
        "prompts/get",
        "prompts/list",
        "resources/list",
        "resources/read",
        "resources/subscribe",
        "resources/templates/list",
        "resources/unsubscribe",
        "roots/list",
        "sampling/createMessage",
        "server/discover",
        "subscriptions/listen",
        "tasks/cancel",
        "tasks/get",
        "tasks/list",
        "tasks/result",
        "tools/call",
        "tools/list",
    }
)
_TEXT_TYPES: Final = ("text/",)
_TEXT_SUFFIXES: Final = (
    "json",
    "xml",
    "yaml",
    "yml",
    "javascript",
    "ecmascript",
    "csv",
    "html",
    "markdown",
    "x-sh",
    "toml",
    "sql",
    "graphql",
)


class ScanLimit(Exception):
    """A message too large to scan whole: refused, never partially scanned."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Text(NamedTuple):
    """One string of a message: a value, or (``key``) the key of an object member; ``blob``:
    the text decoded from a base64 value (rewrites encode it back). A named tuple: the walk
    makes one per string of every message, and a tuple is the cheapest object to make."""

    path: Path
    text: str
    key: bool = False
    blob: bool = False

    def raw(self, text: str) -> str:
        """The value to put at ``path`` so that the client reads ``text`` there."""
        return base64.b64encode(text.encode("utf-8")).decode("ascii") if self.blob else text


def text_like(mime: Any) -> bool:
    """A mimeType whose content is text a model reads (text/*, JSON, XML, YAML, scripts …)."""
    if not isinstance(mime, str):
        return False
    base = mime.split(";", 1)[0].strip().lower()
    return base.startswith(_TEXT_TYPES) or base.endswith(_TEXT_SUFFIXES)


_BINARY: Final = object()  # a decoded value that is not text: not scanned


def _decoded(value: str, node: Mapping[str, Any]) -> Any:
    """The text a client reads from a binary-place value, ``_BINARY``, or None (not base64:
    the value is scanned as it is)."""
    try:
        raw = binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if text_like(node.get("mimeType")):
            return raw.decode("utf-8", errors="replace")
        return _BINARY


def walk(value: Any, base: Path = ()) -> list[Text]:
    """Every string and object key below ``value`` in document order (a key right before its
    value), binary data left out as described above. Raises ``ScanLimit``."""
    out: list[Text] = []
    if type(value) is str:
        out.append(_text((base, value, False, False)))
    else:
        _walk(value, base, 0, out)
    if len(out) > MAX_STRINGS:
        raise ScanLimit(f"more than {MAX_STRINGS} strings")
    if sum(len(t.text) for t in out) > MAX_CHARS:
        raise ScanLimit(f"more than {MAX_CHARS} characters of text")
    return out


_text: Final = functools.partial(tuple.__new__, Text)  # Text(...) without its keyword handling


def _walk(node: Any, path: Path, depth: int, out: list[Text]) -> None:
    """Recursive (the depth is bounded by ``MAX_DEPTH``, far below Python's limit): a call
    per container is cheaper than a stack entry per string."""
    kind = type(node)
    if kind is dict or (kind is not list and isinstance(node, Mapping)):
        if depth >= MAX_DEPTH:
            raise ScanLimit(f"nesting deeper than {MAX_DEPTH}")
        if len(out) > MAX_STRINGS:
            raise ScanLimit(f"more than {MAX_STRINGS} strings")
        append = out.append
        binary = "mimeType" in node or "blob" in node
        for k, v in node.items():
            if type(k) is not str:
                continue  # JSON keys are strings; a caller's non-JSON value
            vkind = type(v)
            if k in PROTOCOL_KEYS:
                if vkind in _LEAF_TYPES:
                    continue  # a member name the walk leaves out, and a number, bool or null
                if not path and (
                    (k == "jsonrpc" and v == VERSION)
                    or (k == "method" and vkind is str and v in PROTOCOL_METHODS)
                ):
                    continue  # the envelope's constants hold nothing (tests); others are texts
                sub = (*path, k)
            else:
                sub = (*path, k)
                append(_text((sub, k, True, False)))
            if vkind is str:
                if binary and k in _BINARY_KEYS:
                    decoded = _decoded(v, node)
                    if decoded is _BINARY:
                        continue
                    if decoded is not None:
                        append(_text((sub, decoded, False, True)))
                        continue
                append(_text((sub, v, False, False)))
            elif vkind not in _LEAF_TYPES:
                _walk(v, sub, depth + 1, out)
    elif kind is list or isinstance(node, list):
        if depth >= MAX_DEPTH:
            raise ScanLimit(f"nesting deeper than {MAX_DEPTH}")
        if len(out) > MAX_STRINGS:
            raise ScanLimit(f"more than {MAX_STRINGS} strings")
        append = out.append
        for i, v in enumerate(node):
            vkind = type(v)
            if vkind is str:
                append(_text(((*path, i), v, False, False)))
            elif vkind not in _LEAF_TYPES:
                _walk(v, (*path, i), depth + 1, out)
    elif isinstance(node, str):
        out.append(_text((path, str(node), False, False)))


_LEAF_TYPES: Final = frozenset({int, float, bool, type(None)})


class _Memo:
    """The walk of the last two message bodies: the checks of one message share one walk
    (few, so that no more than two 16 MiB bodies are kept alive). Keyed by identity (the body
    is kept alive while remembered, so its id is not reused). Read without a lock: the
    entries are one immutable tuple, replaced whole; two threads that miss together both
    walk, and one of their entries may be dropped (a later call walks again)."""

    def __init__(self, size: int = 2) -> None:
        self._items: tuple[tuple[object, list[Text] | ScanLimit], ...] = ()
        self._size = size

    def get(self, body: Mapping[str, Any]) -> list[Text]:
        result: list[Text] | ScanLimit | None = None
        for known, walked in self._items:
            if known is body:
                result = walked
                break
        if result is None:
            try:
                result = walk(body)
            except ScanLimit as exc:
                result = exc
            self._items = ((body, result), *self._items[: self._size - 1])
        if type(result) is list:
            return result
        assert isinstance(result, ScanLimit)
        raise result


_MEMO: Final = _Memo()


def message_texts(body: Mapping[str, Any]) -> list[Text]:
    """``walk(body)``, computed once per body for all the checks of a message."""
    return _MEMO.get(body)


def definition_paths(method: str | None, body: Mapping[str, Any]) -> list[Path]:
    """Where a response to ``method`` holds definitions the ``poisoning`` check scans: each
    listed item that is an object, and handshake instructions. Everything else in the
    message is content."""
    result = body.get("result")
    if method is None or not isinstance(result, Mapping):
        return []
    key = LISTS.get(method)
    if key is not None:
        items = result.get(key)
        if not isinstance(items, list):
            return []
        return [("result", key, i) for i, item in enumerate(items) if isinstance(item, Mapping)]
    if method in HANDSHAKES and isinstance(result.get("instructions"), str):
        return [("result", "instructions")]
    return []


def outside(texts: Iterable[Text], prefixes: Sequence[Path]) -> list[Text]:
    """The texts not below any of ``prefixes`` (a key of a prefix's own member counts as
    below it: ``("result", "instructions")`` covers that key too)."""
    if not prefixes:
        return list(texts)
    lengths = {len(p) for p in prefixes}
    wanted = set(prefixes)
    return [t for t in texts if not any(t.path[:n] in wanted for n in lengths)]


def locate[F](
    texts: Sequence[str], findings: Iterable[F], start: Callable[[F], int], end: Callable[[F], int]
) -> dict[int, list[tuple[F, int, int]]]:
    """Map findings on ``"\\n".join(texts)`` to (finding, local start, local end) per text; a
    finding across several texts is clipped to each one it touches."""
    import bisect

    starts: list[int] = []
    pos = 0
    for text in texts:
        starts.append(pos)
        pos += len(text) + 1
    out: dict[int, list[tuple[F, int, int]]] = {}
    for f in findings:
        s, e = start(f), max(end(f), start(f))
        first = max(0, bisect.bisect_right(starts, s) - 1)
        last = max(first, bisect.bisect_right(starts, max(s, e - 1)) - 1)
        for i in range(first, min(last, len(texts) - 1) + 1):
            lo = max(s - starts[i], 0)
            hi = min(e - starts[i], len(texts[i]))
            out.setdefault(i, []).append((f, lo, max(lo, hi)))
    return out


def replace_strings(body: Mapping[str, Any], edits: Mapping[Path, str]) -> dict[str, Any]:
    """A deep copy of ``body`` with the value at each path replaced (never a key)."""
    out: dict[str, Any] = copy.deepcopy(dict(body))
    for path, text in edits.items():
        node: Any = out
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = text
    return out
