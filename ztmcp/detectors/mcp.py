"""Where the model-readable text sits in MCP messages, and how to rewrite it in place.

The checks use these helpers so that they agree on what "content" means: text blocks and
embedded resource text of a ``tools/call`` result, every string of ``structuredContent``,
``resources/read`` contents, ``prompts/get`` messages, sampling messages and system prompt,
elicitation messages. Paths are tuples of keys and indexes from the message body.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, Final

from ztmcp.detectors import MAX_CHARS, MAX_DEPTH, MAX_STRINGS

Path = tuple[str | int, ...]

# Responses whose result lists definitions the model reads, and the key of that list.
LISTS: Final[Mapping[str, str]] = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
}
# Responses that carry server instructions for the model.
HANDSHAKES: Final = frozenset({"initialize", "server/discover"})
# Requests a server sends whose text reaches the model or the user.
SERVER_PROMPTS: Final = frozenset({"sampling/createMessage", "elicitation/create"})


def _content_blocks(blocks: Any, base: Path) -> Iterator[tuple[Path, str]]:
    if not isinstance(blocks, list):
        return
    for i, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            continue
        if isinstance(block.get("text"), str):
            yield (*base, i, "text"), block["text"]
        resource = block.get("resource")
        if isinstance(resource, Mapping) and isinstance(resource.get("text"), str):
            yield (*base, i, "resource", "text"), resource["text"]


def _structured(value: Any, base: Path) -> Iterator[tuple[Path, str]]:
    """Every string in a JSON value with its exact path (keys may contain '/')."""
    stack: list[tuple[Path, Any]] = [(base, value)]
    count = 0
    while stack and count < MAX_STRINGS:
        path, node = stack.pop()
        count += 1
        if len(path) - len(base) > MAX_DEPTH:
            continue
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, Mapping):
            stack.extend(((*path, k), v) for k, v in reversed(list(node.items()))
                         if isinstance(k, str))
        elif isinstance(node, list):
            stack.extend(((*path, i), node[i]) for i in range(len(node) - 1, -1, -1))


def result_texts(method: str | None, result: Any) -> Iterator[tuple[Path, str]]:
    """Model-readable strings of a response ``result`` to ``method``, capped in total size."""
    if not isinstance(result, Mapping):
        return
    total = 0
    for path, text in _result_texts(method, result):
        total += len(text)
        if total > MAX_CHARS:
            return
        yield ("result", *path), text


def _result_texts(method: str | None, result: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    if method == "tools/call":
        yield from _content_blocks(result.get("content"), ("content",))
        if "structuredContent" in result:
            yield from _structured(result["structuredContent"], ("structuredContent",))
    elif method == "resources/read":
        contents = result.get("contents")
        if isinstance(contents, list):
            for i, item in enumerate(contents):
                if isinstance(item, Mapping) and isinstance(item.get("text"), str):
                    yield ("contents", i, "text"), item["text"]
    elif method == "prompts/get":
        if isinstance(result.get("description"), str):
            yield ("description",), result["description"]
        messages = result.get("messages")
        if isinstance(messages, list):
            for i, message in enumerate(messages):
                if isinstance(message, Mapping):
                    content = message.get("content")
                    if isinstance(content, Mapping) and isinstance(content.get("text"), str):
                        yield ("messages", i, "content", "text"), content["text"]
                    elif isinstance(content, list):
                        yield from _content_blocks(content, ("messages", i, "content"))


def request_texts(method: str | None, params: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Strings of a server→client request that a model or a user will read."""
    if method == "sampling/createMessage":
        if isinstance(params.get("systemPrompt"), str):
            yield ("params", "systemPrompt"), params["systemPrompt"]
        messages = params.get("messages")
        if isinstance(messages, list):
            for i, message in enumerate(messages):
                content = message.get("content") if isinstance(message, Mapping) else None
                if isinstance(content, Mapping) and isinstance(content.get("text"), str):
                    yield ("params", "messages", i, "content", "text"), content["text"]
                elif isinstance(content, list):
                    yield from _content_blocks(content, ("params", "messages", i, "content"))
    elif method == "elicitation/create" and isinstance(params.get("message"), str):
        yield ("params", "message"), params["message"]


def replace_strings(body: Mapping[str, Any], edits: Mapping[Path, str]) -> dict[str, Any]:
    """A deep copy of ``body`` with the string at each path replaced."""
    out: dict[str, Any] = copy.deepcopy(dict(body))
    for path, text in edits.items():
        node: Any = out
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = text
    return out
