"""The canonical description of an MCP server's surface and its digests (how two differ:
``ztmcp.drift``).

A ``Manifest`` holds what a server shows the model before any call is made: its name, version
and instructions, and every tool, prompt and resource template. Each item is reduced to the
fields that define it (below), with ``_meta``, ``icons``, unknown extension fields and ``null``
values left out, and hashed as RFC 8785 canonical JSON (``rfc8785.dumps``) with SHA-256. The
whole-manifest digest covers the digest of the server fields (name, version, instructions) and
every item digest, so it can be recomputed from ``ztmcp.lock`` alone (``whole_digest``): a
hand-edited per-item digest that no longer adds up is caught. Order never matters (items are
keyed and sorted by name).

The same per-item function (``item_digest``) is used on the wire by the ``pins`` check and on
the SDK client's parsed listing by ``extract``, so a pin taken with the SDK matches the bytes a
server sends through ``ztmcp run``.

Pure: the MCP SDK is imported only inside ``extract``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final, TypedDict

import orjson

from ztmcp.errors import PinError
from ztmcp.jsonrpc import loads_document

FORMAT: Final = "ztmcp.manifest/1"

# The list key of each kind (as in MCP list results) and the fields that define its items.
KINDS: Final[Mapping[str, tuple[str, ...]]] = {
    "tools": ("name", "title", "description", "inputSchema", "outputSchema", "annotations"),
    "prompts": ("name", "title", "description", "arguments"),
    "resourceTemplates": (
        "name",
        "title",
        "uriTemplate",
        "description",
        "mimeType",
        "annotations",
    ),
}
# Singular nouns for messages.
NOUNS: Final[Mapping[str, str]] = {
    "tools": "tool",
    "prompts": "prompt",
    "resourceTemplates": "resource template",
}
# Sub-objects whose keys are fixed by the MCP schema: only those keys are pinned, so the SDK's
# parsed models (which drop unknown keys) and the raw wire JSON agree.
_ANNOTATION_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "tools": frozenset(
        {"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
    ),
    "resourceTemplates": frozenset({"audience", "priority", "lastModified"}),
}
_ARGUMENT_KEYS: Final = frozenset({"name", "title", "description", "required"})
SERVER_KEYS: Final = ("name", "version", "instructions")
# What a first-seen pin calls its server fields when it lists the kinds it has learned.
SERVER_KIND: Final = "server"


def _known(value: Any, keys: frozenset[str]) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {k: v for k, v in value.items() if k in keys and v is not None}


def canonical_item(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The pinned fields of one listed item (a tool, prompt or resource template)."""
    fields = KINDS[kind]
    out: dict[str, Any] = {}
    for key in fields:
        value = item.get(key)
        if value is None:
            continue
        if key == "annotations":
            value = _known(value, _ANNOTATION_KEYS[kind])
        elif key == "arguments" and isinstance(value, list):
            value = [_known(arg, _ARGUMENT_KEYS) for arg in value]
        out[key] = value
    return out


_SAFE_INT: Final = 2**53 - 1


def _plain(value: Any, *, fractions: bool = False) -> bool:
    """Whether compact, key-sorted ``json.dumps`` output is exactly RFC 8785 for ``value``.

    True for what tool listings hold: strings (JSON escaping is the same), integers within
    ±(2**53 - 1), booleans, null, lists, and objects with ASCII keys (so code-point order equals
    the UTF-16 order RFC 8785 sorts by). Floats (ECMAScript number formatting), non-ASCII keys
    and anything else go to ``rfc8785``. Iterative: no recursion limit to hit.

    ``fractions``: also true for floats with a fraction and 1e-4 <= |x| < 1e16, which Python's
    ``repr`` (the json encoder's spelling, and orjson's) and ECMAScript both write as the
    shortest digits that read back, in plain decimal notation (``_whole_floats``).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            for key, sub in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                stack.append(sub)
        elif kind is list:
            stack.extend(item)
        elif kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:
                return False
        elif kind is float and fractions:
            if item.is_integer() or not _FIXED_FRACTION <= abs(item) < _FIXED_LIMIT:
                return False
        else:
            return False
    return True


# Where Python's repr writes a float in plain decimal notation (ECMAScript: 1e-6 <= |x| < 1e21).
_FIXED_FRACTION: Final = 1e-4
_FIXED_LIMIT: Final = 1e16


def _whole_floats(value: Any) -> Any:
    """``value`` with each float that holds a whole number within ±(2**53 - 1) as that int:
    ECMAScript writes such a float as the integer's digits (``1.0`` is ``1``, ``-0.0`` is
    ``0``), as RFC 8785 does the int. Other values are kept (``_plain`` judges them);
    ``RecursionError`` on absurd nesting (the caller then takes the reference path)."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() and -_SAFE_INT <= value <= _SAFE_INT else value
    if kind is dict:
        return {key: _whole_floats(sub) for key, sub in value.items()}
    if kind is list:
        return [_whole_floats(sub) for sub in value]
    return value


def _with_floats(value: Any) -> bytes | None:
    """``canonical_json`` by orjson for a value whose floats all have a spelling every encoder
    shares (``_whole_floats``, ``_plain(fractions=True)``); None for any other value.
    tests/test_canonical_floats.py holds it to ``rfc8785.dumps``."""
    try:
        whole = _whole_floats(value)
    except RecursionError:
        return None
    if not _plain(whole, fractions=True):
        return None
    try:
        return orjson.dumps(whole, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # past its depth limit: the reference decides
        return None


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value`` (UTF-8).

    ``rfc8785.dumps`` is pure Python (about 300 µs for a typical tool); for the values a tool
    listing holds (``_plain``) the C ``json`` encoder gives the same bytes about six times
    faster (tests/test_manifest.py checks the two agree); so are values whose floats are whole
    numbers or plain fractions (``_with_floats``: a tool call's arguments, recorded on every
    call); everything else goes to ``rfc8785``.
    """
    if _plain(value):
        try:
            # orjson writes the same bytes for these values (tests/test_canonical_fast.py),
            # several times faster; past its depth limit the json path below decides.
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
        try:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return text.encode("utf-8")
        except (UnicodeEncodeError, RecursionError, ValueError):
            pass  # a lone surrogate, absurd depth: rfc8785 gives the error
    else:
        fast = _with_floats(value)
        if fast is not None:
            return fast
    import rfc8785  # on first use: `ztmcp run` without pins never imports it

    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise PinError(f"cannot canonicalise manifest data ({exc})") from None


def _digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def item_digest(kind: str, item: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical item: the unit the ``pins`` check compares."""
    return _digest(canonical_item(kind, item))


def server_fields(name: Any, version: Any, instructions: Any) -> dict[str, Any]:
    """The pinned server fields: name, version and instructions, absent (or empty
    instructions) left out, exactly as a ``Manifest`` holds them."""
    values = (name, version, instructions or None)
    return {k: v for k, v in zip(SERVER_KEYS, values, strict=True) if v is not None}


class ServerArgs(TypedDict):
    server_name: str | None
    server_version: str | None
    instructions: str | None


def server_args(fields: Mapping[str, Any]) -> ServerArgs:
    """Observed server fields as ``Manifest`` arguments: a value that is not a string (or empty
    instructions) is left out, so it reads as drift against any pin."""
    values = (fields.get(k) for k in SERVER_KEYS)
    name, version, text = (v if isinstance(v, str) else None for v in values)
    return ServerArgs(server_name=name, server_version=version, instructions=text or None)


def server_fields_digest(fields: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of ``server_fields(…)``: the lock's ``server_digest``, which the
    ``pins`` check compares with a live ``initialize`` / ``server/discover`` result."""
    return _digest(dict(fields))


def whole_digest(server_digest: str, items: Mapping[str, Mapping[str, str]]) -> str:
    """The whole-manifest digest from the server-fields digest and per-kind name → digest maps.

    ``Manifest.digest`` is this function of its own parts; ``ztmcp.lock`` stores exactly these
    parts, so a lock whose digests do not add up is detected without the manifest.
    """
    doc: dict[str, Any] = {"format": FORMAT, "server": server_digest}
    for kind in KINDS:
        doc[kind] = dict(sorted(items.get(kind, {}).items()))
    return _digest(doc)


@dataclass(frozen=True)
class Manifest:
    """A server's pinned surface. Items are canonical and keyed by name."""

    server_name: str | None = None
    server_version: str | None = None
    instructions: str | None = None
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    prompts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    resource_templates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_lists(
        cls,
        *,
        server_name: str | None = None,
        server_version: str | None = None,
        instructions: str | None = None,
        tools: Sequence[Mapping[str, Any]] = (),
        prompts: Sequence[Mapping[str, Any]] = (),
        resource_templates: Sequence[Mapping[str, Any]] = (),
    ) -> Manifest:
        """From listed items as JSON objects (wire form: ``inputSchema``, not ``input_schema``)."""
        manifest = cls(
            server_name=server_name,
            server_version=server_version,
            instructions=instructions or None,
            tools=_keyed("tools", tools),
            prompts=_keyed("prompts", prompts),
            resource_templates=_keyed("resourceTemplates", resource_templates),
        )
        manifest._item_digests  # noqa: B018 - unrepresentable values (NaN, huge ints) fail here
        return manifest

    def items(self, kind: str) -> Mapping[str, Mapping[str, Any]]:
        return {
            "tools": self.tools,
            "prompts": self.prompts,
            "resourceTemplates": self.resource_templates,
        }[kind]

    # -- digests ------------------------------------------------------------------------

    def server(self) -> dict[str, str]:
        return server_fields(self.server_name, self.server_version, self.instructions)

    @cached_property
    def _item_digests(self) -> dict[str, dict[str, str]]:
        return {
            kind: {name: _digest(item) for name, item in sorted(self.items(kind).items())}
            for kind in KINDS
        }

    def item_digests(self, kind: str) -> dict[str, str]:
        """Name → digest for one kind, sorted by name (computed once per manifest)."""
        return dict(self._item_digests[kind])

    @property
    def server_digest(self) -> str:
        """Digest of the server fields (name, version, instructions) as one canonical object."""
        return server_fields_digest(self.server())

    @cached_property
    def digest(self) -> str:
        """The whole-manifest digest: the server-fields digest and every item digest."""
        return whole_digest(self.server_digest, {k: self.item_digests(k) for k in KINDS})

    # -- serialisation ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"format": FORMAT, "server": self.server()}
        for kind in KINDS:
            doc[kind] = [dict(item) for _, item in sorted(self.items(kind).items())]
        return doc

    def to_json(self) -> str:
        """Readable, stable JSON (sorted keys, two-space indent, trailing newline)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, origin: str = "manifest") -> Manifest:
        """Parse and validate a manifest written by ``to_json`` (or edited by hand)."""
        try:
            data = loads_document(text)
        except (ValueError, UnicodeDecodeError) as exc:
            reason = str(exc).split(":")[0]
            raise PinError(f"{origin}: not valid JSON ({reason})") from None
        if not isinstance(data, dict):
            raise PinError(f"{origin}: a manifest must be a JSON object")
        unknown = sorted(set(data) - {"format", "server", *KINDS})
        if unknown:
            raise PinError(f"{origin}: unknown key {unknown[0]!r}")
        if data.get("format") != FORMAT:
            raise PinError(
                f"{origin}: format must be {FORMAT!r}, got {data.get('format')!r}",
                hint="write it with `ztmcp manifest`",
            )
        server = data.get("server", {})
        if not isinstance(server, dict):
            raise PinError(f"{origin}: server must be an object")
        for key, value in server.items():
            if key not in SERVER_KEYS:
                raise PinError(f"{origin}: unknown key {key!r} in server")
            if not isinstance(value, str):
                raise PinError(f"{origin}: server.{key} must be a string")
        lists: dict[str, list[Mapping[str, Any]]] = {}
        for kind in KINDS:
            items = data.get(kind, [])
            if not isinstance(items, list):
                raise PinError(f"{origin}: {kind} must be a list")
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise PinError(f"{origin}: {kind}[{i}] must be an object")
                if not isinstance(item.get("name"), str) or not item["name"]:
                    raise PinError(f"{origin}: {kind}[{i}].name must be a non-empty string")
                extra = sorted(set(item) - set(KINDS[kind]))
                if extra:
                    raise PinError(f"{origin}: unknown key {extra[0]!r} in {kind}[{i}]")
            lists[kind] = items
        try:
            return cls.from_lists(
                server_name=server.get("name"),
                server_version=server.get("version"),
                instructions=server.get("instructions"),
                tools=lists["tools"],
                prompts=lists["prompts"],
                resource_templates=lists["resourceTemplates"],
            )
        except PinError as exc:
            raise PinError(f"{origin}: {exc.message}") from None


def _keyed(kind: str, items: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for item in items:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise PinError(f"a listed {NOUNS[kind]} has no name")
        if name in out:
            raise PinError(f"{NOUNS[kind]} {name!r} is listed twice")
        out[name] = canonical_item(kind, item)
    return dict(sorted(out.items()))


# -- extraction with the official SDK client ----------------------------------------------

MAX_PAGES: Final = 1000


def _dump(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data


async def all_pages(fetch: Callable[[str | None], Any], key: str) -> list[dict[str, Any]]:
    """Every item of a paginated SDK listing, following ``next_cursor`` (bounded, loop-safe)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = await fetch(cursor)
        items.extend(_dump(item) for item in getattr(page, key))
        cursor = page.next_cursor
        if cursor is None:
            return items
        if cursor in seen:
            raise PinError(f"the server repeated the {key} cursor {cursor[:40]!r}")
        seen.add(cursor)
    raise PinError(f"the server's {key} listing has more than {MAX_PAGES} pages")


async def extract(
    target: str | Sequence[str],
    *,
    mode: str = "auto",
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    progress: Callable[[str], None] | None = None,
    capable: bool = True,
) -> Manifest:
    """Connect with the official SDK client to a URL or a stdio command and read its surface.

    Follows pagination to the end for tools, prompts and resource templates (each only when the
    server declares the capability). With ``capable``, the client declares sampling and
    elicitation (and refuses any actual request): some servers register tools only for clients
    that can serve them, and the pin should cover every tool any agent may be shown.
    """
    import mcp_types as types
    from mcp import Client, StdioServerParameters

    async def refuse(_context: Any, _params: Any) -> types.ErrorData:
        return types.ErrorData(code=-32601, message="ztmcp is only reading the manifest")

    say = progress or (lambda _text: None)
    server: Any
    if isinstance(target, str):
        server = target
    else:
        argv = list(target)
        if not argv:
            raise PinError("no server command to extract a manifest from")
        server = StdioServerParameters(
            command=argv[0], args=argv[1:], env=dict(env) if env is not None else None, cwd=cwd
        )
    callbacks: dict[str, Any] = (
        {"sampling_callback": refuse, "elicitation_callback": refuse} if capable else {}
    )
    async with Client(server, mode=mode, cache=None, **callbacks) as client:
        info = client.server_info
        caps = client.server_capabilities
        say(f"connected ({client.protocol_version})")
        tools: list[dict[str, Any]] = []
        prompts: list[dict[str, Any]] = []
        templates: list[dict[str, Any]] = []
        if caps.tools is not None:
            tools = await all_pages(lambda c: client.list_tools(cursor=c), "tools")
            say(f"{len(tools)} tool(s)")
        if caps.prompts is not None:
            prompts = await all_pages(lambda c: client.list_prompts(cursor=c), "prompts")
            say(f"{len(prompts)} prompt(s)")
        if caps.resources is not None:
            templates = await all_pages(
                lambda c: client.list_resource_templates(cursor=c), "resource_templates"
            )
            say(f"{len(templates)} resource template(s)")
        instructions = client.instructions
    return Manifest.from_lists(
        server_name=info.name if info is not None else None,
        server_version=info.version if info is not None else None,
        instructions=instructions,
        tools=tools,
        prompts=prompts,
        resource_templates=templates,
    )
