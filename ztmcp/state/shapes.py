"""The shape of a ``tools/call`` result, for the behaviour baselines (``state.baselines``).

The Session writes it on each response's audit record (``mcp.result.shape``); a shape is built
from a fixed vocabulary, so no text of the result reaches the log. Kept apart from
``state.baselines`` so that the relay's start-up imports only this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

SHAPE_FIELD: Final = "mcp.result.shape"
SHAPE_ITEMS: Final = 64  # content items read for a shape
CONTENT_TYPES: Final = frozenset({"text", "image", "audio", "resource_link", "resource"})


def result_shape(body: Mapping[str, Any]) -> str:
    """A ``tools/call`` response's shape, in a fixed vocabulary (no text of the result): its
    content types (``text``, ``image``, ``audio``, ``resource_link``, ``resource``, else
    ``other``) and ``structured``, joined by ``+`` (``empty`` for none), prefixed ``error:``
    for a tool error; ``error`` for a JSON-RPC error, ``other`` for anything else. The
    Session writes it on the response's record (``mcp.result.shape``)."""
    if "error" in body:
        return "error"
    result = body.get("result")
    if not isinstance(result, dict):
        return "other"
    parts: set[str] = set()
    content = result.get("content")
    if isinstance(content, list):
        for item in content[:SHAPE_ITEMS]:
            kind = item.get("type") if isinstance(item, dict) else None
            parts.add(kind if isinstance(kind, str) and kind in CONTENT_TYPES else "other")
    if result.get("structuredContent") is not None:
        parts.add("structured")
    shape = "+".join(sorted(parts)) or "empty"
    return f"error:{shape}" if result.get("isError") is True else shape
