"""LLM provider wire formats as data: where each API lives, and what ztmcp reads from it.

A ``Route`` names a provider (its OpenTelemetry ``gen_ai.provider.name``), the hosts and the
request paths of one API operation, and the ``Wire`` that reads it. A ``Wire`` is three pure
functions of JSON: what a request offers (model, streaming, tools, the texts leaving for the
model, the tool results fed back), what a whole response says (model, usage, tool calls), and
an accumulator that reads a streamed response one event at a time (no event is kept). Adding a
provider is adding a row to ``ROUTES``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from ztmcp.tool_arguments import arguments_digest, digest

MAX_ARGUMENT_CHARS: Final = 1 << 20  # streamed tool-call arguments kept to digest, per call
MAX_TOOL_CALLS: Final = 256


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str | None
    name: str
    arguments_sha256: str | None  # None: the arguments went over MAX_ARGUMENT_CHARS

    def fields(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments_sha256": self.arguments_sha256}


@dataclass(frozen=True, slots=True)
class Request:
    model: str | None
    stream: bool
    tools: tuple[tuple[str, str], ...]  # (name, digest of the definition)
    tool_results: tuple[str, ...]  # texts of tool results fed back to the model


@dataclass(slots=True)
class Response:
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    oversize: bool = False  # a tool call's arguments went over the limit (digest not taken)


def _key(key: Any) -> Any:
    """A stream's index as a dict key: what JSON gives may be a list or an object."""
    if isinstance(key, tuple):
        return tuple(_key(k) for k in key)
    return key if isinstance(key, (int, str, type(None))) else f"?{type(key).__name__}"


class Accumulator:
    """Reads one streamed response, event by event; keeps only what the record needs."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.response = Response()
        self.calls: dict[Any, dict[str, Any]] = {}  # index -> id, name, argument text

    def event(self, data: Any) -> None:
        if isinstance(data, dict):
            self.wire.stream_event(self, data)

    def call(self, key: Any, *, id: str | None = None, name: str | None = None) -> None:
        key = _key(key)
        if key not in self.calls and len(self.calls) < MAX_TOOL_CALLS:
            self.calls[key] = {"id": None, "name": "", "args": "", "value": None}
        slot = self.calls.get(key)
        if slot is not None:
            slot["id"] = id or slot["id"]
            slot["name"] = name or slot["name"]

    def arguments(self, key: Any, text: str) -> None:
        slot = self.calls.get(_key(key))
        if slot is None or slot["args"] is None:
            return
        if len(slot["args"]) + len(text) > MAX_ARGUMENT_CHARS:
            slot["args"] = None
            self.response.oversize = True
        else:
            slot["args"] += text

    def finish(self) -> Response:
        for slot in self.calls.values():
            if slot["value"] is not None:
                sha: str | None = digest(slot["value"])
            else:
                sha = None if slot["args"] is None else arguments_digest(slot["args"])
            self.response.tool_calls.append(ToolCall(slot["id"], slot["name"], sha))
        self.calls = {}
        return self.response


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text_of(content: Any) -> Iterator[str]:
    """The text in a message or tool-result content: a string or a list of text parts."""
    if isinstance(content, str):
        yield content
    for part in _list(content):
        if isinstance(part, str):
            yield part
        elif isinstance(part, dict):
            for key in ("text", "content", "output"):
                yield from _text_of(part.get(key))
            if isinstance(part.get("json"), (dict, list)):
                yield json.dumps(part["json"], ensure_ascii=False)


def _tools(
    items: list[Any], name_of: Callable[[dict[str, Any]], str | None]
) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, dict):
            name = name_of(item)
            if name:
                found.append((name, digest(item)))
    return tuple(found)


# -- OpenAI chat completions (and Azure OpenAI, and OpenAI-compatible endpoints) --


def _chat_request(body: dict[str, Any]) -> Request:
    results = [
        text
        for m in _list(body.get("messages"))
        if isinstance(m, dict) and m.get("role") == "tool"
        for text in _text_of(m.get("content"))
    ]
    tools = _tools(_list(body.get("tools")), lambda t: _str(_dict(t.get("function")).get("name")))
    return Request(_str(body.get("model")), body.get("stream") is True, tools, tuple(results))


def _chat_usage(response: Response, usage: Any) -> None:
    usage = _dict(usage)
    response.input_tokens = _int(usage.get("prompt_tokens")) or response.input_tokens
    response.output_tokens = _int(usage.get("completion_tokens")) or response.output_tokens


def _chat_response(body: dict[str, Any]) -> Response:
    response = Response(model=_str(body.get("model")))
    _chat_usage(response, body.get("usage"))
    for choice in _list(body.get("choices")):
        for call in _list(_dict(_dict(choice).get("message")).get("tool_calls"))[:MAX_TOOL_CALLS]:
            function = _dict(_dict(call).get("function"))
            response.tool_calls.append(
                ToolCall(
                    _str(_dict(call).get("id")),
                    _str(function.get("name")) or "",
                    arguments_digest(function.get("arguments")),
                )
            )
    return response


def _chat_event(acc: Accumulator, data: dict[str, Any]) -> None:
    acc.response.model = _str(data.get("model")) or acc.response.model
    _chat_usage(acc.response, data.get("usage"))
    for choice in _list(data.get("choices")):
        choice = _dict(choice)
        for call in _list(_dict(choice.get("delta")).get("tool_calls")):
            call = _dict(call)
            key = (choice.get("index"), call.get("index"))
            function = _dict(call.get("function"))
            acc.call(key, id=_str(call.get("id")), name=_str(function.get("name")))
            acc.arguments(key, _str(function.get("arguments")) or "")


# -- OpenAI responses --


def _responses_request(body: dict[str, Any]) -> Request:
    results = [
        text
        for item in _list(body.get("input"))
        if isinstance(item, dict) and item.get("type") == "function_call_output"
        for text in _text_of(item.get("output"))
    ]
    tools = _tools(_list(body.get("tools")), lambda t: _str(t.get("name")) or _str(t.get("type")))
    return Request(_str(body.get("model")), body.get("stream") is True, tools, tuple(results))


def _responses_response(body: dict[str, Any]) -> Response:
    usage = _dict(body.get("usage"))
    response = Response(
        model=_str(body.get("model")),
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
    )
    for item in _list(body.get("output"))[:MAX_TOOL_CALLS]:
        item = _dict(item)
        if item.get("type") == "function_call":
            response.tool_calls.append(
                ToolCall(
                    _str(item.get("call_id")),
                    _str(item.get("name")) or "",
                    arguments_digest(item.get("arguments")),
                )
            )
    return response


def _responses_event(acc: Accumulator, data: dict[str, Any]) -> None:
    kind = data.get("type")
    whole = _dict(data.get("response"))
    if kind in ("response.completed", "response.incomplete", "response.failed"):
        done = _responses_response(whole)
        acc.response.model = done.model or acc.response.model
        acc.response.input_tokens = done.input_tokens
        acc.response.output_tokens = done.output_tokens
        acc.calls = {}
        acc.response.tool_calls = done.tool_calls
    elif whole:
        acc.response.model = _str(whole.get("model")) or acc.response.model


# -- Anthropic messages --


def _anthropic_request(body: dict[str, Any]) -> Request:
    results = [
        text
        for m in _list(body.get("messages"))
        for block in _list(_dict(m).get("content"))
        if isinstance(block, dict) and block.get("type") == "tool_result"
        for text in _text_of(block.get("content"))
    ]
    tools = _tools(_list(body.get("tools")), lambda t: _str(t.get("name")))
    return Request(_str(body.get("model")), body.get("stream") is True, tools, tuple(results))


def _anthropic_usage(response: Response, usage: Any) -> None:
    usage = _dict(usage)
    response.input_tokens = _int(usage.get("input_tokens")) or response.input_tokens
    response.output_tokens = _int(usage.get("output_tokens")) or response.output_tokens


def _anthropic_response(body: dict[str, Any]) -> Response:
    response = Response(model=_str(body.get("model")))
    _anthropic_usage(response, body.get("usage"))
    for block in _list(body.get("content"))[:MAX_TOOL_CALLS]:
        block = _dict(block)
        if block.get("type") == "tool_use":
            response.tool_calls.append(
                ToolCall(
                    _str(block.get("id")), _str(block.get("name")) or "", digest(block.get("input"))
                )
            )
    return response


def _anthropic_event(acc: Accumulator, data: dict[str, Any]) -> None:
    kind = data.get("type")
    if kind == "message_start":
        message = _dict(data.get("message"))
        acc.response.model = _str(message.get("model"))
        _anthropic_usage(acc.response, message.get("usage"))
    elif kind == "content_block_start":
        block = _dict(data.get("content_block"))
        if block.get("type") == "tool_use":
            key = data.get("index")
            acc.call(key, id=_str(block.get("id")), name=_str(block.get("name")))
            if block.get("input"):
                slot = acc.calls.get(_key(key))
                if slot is not None:
                    slot["value"] = block.get("input")
    elif kind == "content_block_delta":
        delta = _dict(data.get("delta"))
        if delta.get("type") == "input_json_delta":
            acc.arguments(data.get("index"), _str(delta.get("partial_json")) or "")
    elif kind == "message_delta":
        _anthropic_usage(acc.response, data.get("usage"))


# -- Google Gemini (generateContent, streamGenerateContent?alt=sse) --


def _gemini_request(body: dict[str, Any]) -> Request:
    results = [
        json.dumps(part["functionResponse"].get("response"), ensure_ascii=False)
        for c in _list(body.get("contents"))
        for part in _list(_dict(c).get("parts"))
        if isinstance(part, dict) and isinstance(part.get("functionResponse"), dict)
    ]
    declared = [
        d for t in _list(body.get("tools")) for d in _list(_dict(t).get("functionDeclarations"))
    ]
    tools = _tools(declared, lambda t: _str(t.get("name")))
    return Request(None, False, tools, tuple(results))


def _gemini_into(response: Response, body: dict[str, Any]) -> None:
    response.model = _str(body.get("modelVersion")) or response.model
    usage = _dict(body.get("usageMetadata"))
    response.input_tokens = _int(usage.get("promptTokenCount")) or response.input_tokens
    response.output_tokens = _int(usage.get("candidatesTokenCount")) or response.output_tokens
    for candidate in _list(body.get("candidates")):
        for part in _list(_dict(_dict(candidate).get("content")).get("parts")):
            call = _dict(_dict(part).get("functionCall"))
            if call and len(response.tool_calls) < MAX_TOOL_CALLS:
                response.tool_calls.append(
                    ToolCall(
                        _str(call.get("id")),
                        _str(call.get("name")) or "",
                        digest(call.get("args") or {}),
                    )
                )


def _gemini_response(body: dict[str, Any]) -> Response:
    response = Response()
    _gemini_into(response, body)
    return response


def _gemini_event(acc: Accumulator, data: dict[str, Any]) -> None:
    _gemini_into(acc.response, data)


# -- Amazon Bedrock (Converse) --


def _bedrock_request(body: dict[str, Any]) -> Request:
    results = [
        text
        for m in _list(body.get("messages"))
        for block in _list(_dict(m).get("content"))
        if isinstance(block, dict) and isinstance(block.get("toolResult"), dict)
        for text in _text_of(block["toolResult"].get("content"))
    ]
    specs = [_dict(t).get("toolSpec") for t in _list(_dict(body.get("toolConfig")).get("tools"))]
    tools = _tools([s for s in specs if isinstance(s, dict)], lambda t: _str(t.get("name")))
    return Request(None, False, tools, tuple(results))


def _bedrock_response(body: dict[str, Any]) -> Response:
    usage = _dict(body.get("usage"))
    response = Response(
        input_tokens=_int(usage.get("inputTokens")), output_tokens=_int(usage.get("outputTokens"))
    )
    message = _dict(_dict(body.get("output")).get("message"))
    for block in _list(message.get("content"))[:MAX_TOOL_CALLS]:
        use = _dict(_dict(block).get("toolUse"))
        if use:
            response.tool_calls.append(
                ToolCall(
                    _str(use.get("toolUseId")),
                    _str(use.get("name")) or "",
                    digest(use.get("input")),
                )
            )
    return response


def _bedrock_event(acc: Accumulator, data: dict[str, Any]) -> None:
    """One ConverseStream event, shaped as the AWS SDKs give it: ``{event type: payload}``
    (the type is the frame's ``:event-type`` header; ``watch.eventstream`` decodes frames)."""
    for kind, body in data.items():
        event = _dict(body)
        index = event.get("contentBlockIndex")
        if kind == "contentBlockStart":
            use = _dict(_dict(event.get("start")).get("toolUse"))
            if use:
                acc.call(index, id=_str(use.get("toolUseId")), name=_str(use.get("name")))
        elif kind == "contentBlockDelta":
            use = _dict(_dict(event.get("delta")).get("toolUse"))
            if isinstance(use.get("input"), str):
                acc.arguments(index, use["input"])
        elif kind == "metadata":
            usage = _dict(event.get("usage"))
            acc.response.input_tokens = _int(usage.get("inputTokens"))
            acc.response.output_tokens = _int(usage.get("outputTokens"))


@dataclass(frozen=True, slots=True)
class Wire:
    name: str
    request: Callable[[dict[str, Any]], Request]
    response: Callable[[dict[str, Any]], Response]
    stream_event: Callable[[Accumulator, dict[str, Any]], None]
    error_shape: str  # how a refusal is answered: see ztmcp.watch.refusal


CHAT: Final = Wire("openai.chat", _chat_request, _chat_response, _chat_event, "openai")
RESPONSES: Final = Wire(
    "openai.responses", _responses_request, _responses_response, _responses_event, "openai"
)
MESSAGES: Final = Wire(
    "anthropic.messages", _anthropic_request, _anthropic_response, _anthropic_event, "anthropic"
)
GEMINI: Final = Wire("gemini", _gemini_request, _gemini_response, _gemini_event, "gemini")
CONVERSE: Final = Wire(
    "bedrock.converse", _bedrock_request, _bedrock_response, _bedrock_event, "bedrock"
)


@dataclass(frozen=True, slots=True)
class Route:
    provider: str  # gen_ai.provider.name
    operation: str  # gen_ai.operation.name
    host: re.Pattern[str]
    path: re.Pattern[str]  # a "model" group, where the path names the model or deployment
    wire: Wire


def _host(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_OPENAI_PATHS: Final = (
    ("chat", re.compile(r"(?:/v1)?/chat/completions$"), CHAT),
    ("generate_content", re.compile(r"(?:/v1)?/responses$"), RESPONSES),
)

ROUTES: Final[tuple[Route, ...]] = (
    *(Route("openai", op, _host(r"api\.openai\.com"), p, w) for op, p, w in _OPENAI_PATHS),
    Route(
        "anthropic", "chat", _host(r"api\.anthropic\.com"), re.compile(r"/v1/messages$"), MESSAGES
    ),
    Route(
        "azure.ai.openai",
        "chat",
        _host(r"[a-z0-9-]+\.(?:openai\.azure\.com|cognitiveservices\.azure\.com)"),
        re.compile(r"/openai/deployments/(?P<model>[^/]+)/chat/completions$"),
        CHAT,
    ),
    Route(
        "azure.ai.openai",
        "generate_content",
        _host(r"[a-z0-9-]+\.(?:openai\.azure\.com|cognitiveservices\.azure\.com)"),
        re.compile(r"/openai(?:/v1)?/responses$"),
        RESPONSES,
    ),
    Route(
        "aws.bedrock",
        "chat",
        _host(r"bedrock-runtime(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com"),
        re.compile(r"/model/(?P<model>[^/]+)/converse(?:-stream)?$"),
        CONVERSE,
    ),
    Route(
        "gcp.gemini",
        "generate_content",
        _host(r"generativelanguage\.googleapis\.com"),
        re.compile(r"/v1(?:beta|alpha)?/models/(?P<model>[^/:]+):(?:stream)?[gG]enerateContent$"),
        GEMINI,
    ),
)


def compatible_routes(hosts: tuple[str, ...]) -> tuple[Route, ...]:
    """Routes for the OpenAI-compatible endpoints a policy names (``host`` or ``host:port``;
    the port is matched by the caller's Host, the path like OpenAI's, under any prefix)."""
    routes: list[Route] = []
    for host in hosts:
        name = re.escape(host.split(":")[0])
        for op, _, wire in _OPENAI_PATHS:
            tail = "chat/completions" if wire is CHAT else "responses"
            routes.append(
                Route("openai", op, _host(name), re.compile(rf"(?:/[^?]*)?/{tail}$"), wire)
            )
    return tuple(routes)


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    path_model: str | None


def match(routes: tuple[Route, ...], host: str, path: str) -> Match | None:
    bare = path.split("?", 1)[0]
    for route in routes:
        if route.host.fullmatch(host.rstrip(".")):
            found = route.path.search(bare)
            if found:
                model = found.groupdict().get("model")
                return Match(route, model)
    return None
