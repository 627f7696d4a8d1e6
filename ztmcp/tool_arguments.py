"""One digest of a tool call's arguments, wherever they were seen: in a model's answer or in an
MCP ``tools/call``.

The model gives the arguments as JSON text (OpenAI) or a value (Anthropic, Gemini, Bedrock);
the agent parses them and sends them on to an MCP server, possibly from another language. The
digest is SHA-256 of the RFC 8785 canonical JSON of the value (``manifest.canonical_json``:
key order, spacing, string escapes and number spelling do not matter, so ``1.0`` and ``1`` are
the same argument, as they are to a JavaScript agent). A value that has no canonical form (a
NaN or a 2**60 the lax model-side parse let through; the MCP parser refuses both) is digested
from its Python spelling under a distinct prefix: it never raises and never matches an MCP call.

Small and import-light: ``Session`` records ``mcp_call_fields`` on every ``tools/call``
request; the canonicaliser is imported on first use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Final

from ztmcp.errors import PinError

ARGS_FIELD: Final = "gen_ai.tool.call.arguments_sha256"
_NOT_CANONICAL: Final = b"ztmcp:not-canonical:"


def _first_canonical_json(value: Any) -> bytes:
    """``manifest.canonical_json``, imported at the first call, which binds it for the next."""
    global _canonical_json
    from ztmcp.manifest import canonical_json

    _canonical_json = canonical_json
    return canonical_json(value)


_canonical_json: Callable[[Any], bytes] = _first_canonical_json


def digest(value: Any) -> str:
    """SHA-256 (hex) of a JSON value's RFC 8785 canonical form."""
    try:
        data = _canonical_json(value)
    except (PinError, RecursionError):
        try:
            spelling = repr(value)
        except (ValueError, RecursionError):  # an int over Python's digit limit, deep nesting
            spelling = type(value).__name__
        data = _NOT_CANONICAL + spelling.encode("utf-8", "backslashreplace")
    return hashlib.sha256(data).hexdigest()


def arguments_digest(arguments: Any) -> str:
    """A tool call's arguments, given as a JSON text (OpenAI) or a value (Anthropic, Gemini)."""
    if isinstance(arguments, str):
        try:
            return digest(json.loads(arguments or "{}"))
        except (ValueError, RecursionError):
            return hashlib.sha256(arguments.encode("utf-8", "backslashreplace")).hexdigest()
    return digest(arguments if arguments is not None else {})


def mcp_call_fields(params: Any) -> dict[str, Any]:
    """The field an MCP ``tools/call`` request record carries so it can be linked to the model
    turn that asked for it: the digest of its ``arguments`` (absent arguments are ``{}``)."""
    arguments = params.get("arguments") if isinstance(params, dict) else None
    return {ARGS_FIELD: digest(arguments if arguments is not None else {})}
