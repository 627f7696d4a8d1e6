"""The wire readers: a streamed response read in any chunking gives what the whole one gives."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.watch.fake_llm import (
    anthropic_message,
    anthropic_stream,
    openai_chat,
    openai_stream,
)
from ztmcp.adapters.sse import SseEvent, SseFramer
from ztmcp.identity import ENV, from_env, observe
from ztmcp.watch import providers
from ztmcp.watch.addon import _redact_value, _secret_findings
from ztmcp.watch.launcher import parse_resolve

ASK = {
    "model": "m",
    "tools": [{"type": "function", "function": {"name": "get_weather"}}],
    "messages": [{"role": "user", "content": "hi"}],
}
ASK_ANTHROPIC = {
    "model": "m",
    "tools": [{"name": "get_weather"}],
    "messages": [{"role": "user", "content": "hi"}],
}


def _read_stream(wire: providers.Wire, data: bytes, cuts: list[int]) -> providers.Response:
    acc = providers.Accumulator(wire)
    framer = SseFramer(1 << 20)
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(points)]
    for piece in [*pieces, b""]:
        for event in framer.feed(piece) if piece else framer.finish():
            assert isinstance(event, SseEvent)
            if event.data and event.data != "[DONE]":
                acc.event(json.loads(event.data))
    return acc.finish()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_streamed_equals_whole_in_any_chunking(cuts: list[int]) -> None:
    for wire, body, stream, whole in (
        (providers.CHAT, ASK, openai_stream, openai_chat),
        (providers.MESSAGES, ASK_ANTHROPIC, anthropic_stream, anthropic_message),
    ):
        got = _read_stream(wire, b"".join(stream(body)), cuts)
        expected = wire.response(whole(body))
        assert got.tool_calls == expected.tool_calls and got.tool_calls
        assert (got.model, got.input_tokens, got.output_tokens) == (
            expected.model,
            expected.input_tokens,
            expected.output_tokens,
        )


def test_routes_name_the_provider_and_model() -> None:
    cases = {
        ("api.openai.com", "/v1/chat/completions"): ("openai", None),
        ("api.anthropic.com", "/v1/messages"): ("anthropic", None),
        ("x.openai.azure.com", "/openai/deployments/gpt4o/chat/completions?api-version=1"): (
            "azure.ai.openai",
            "gpt4o",
        ),
        ("bedrock-runtime.us-east-1.amazonaws.com", "/model/anthropic.claude-v2/converse"): (
            "aws.bedrock",
            "anthropic.claude-v2",
        ),
        (
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-2.0:streamGenerateContent?alt=sse",
        ): ("gcp.gemini", "gemini-2.0"),
    }
    for (host, path), (provider, model) in cases.items():
        found = providers.match(providers.ROUTES, host, path)
        assert found is not None and (found.route.provider, found.path_model) == (provider, model)
    assert providers.match(providers.ROUTES, "api.openai.com.evil", "/v1/chat/completions") is None
    assert providers.match(providers.ROUTES, "llm.corp", "/v1/chat/completions") is None
    extra = providers.compatible_routes(("llm.corp:8443",))
    assert providers.match(extra, "llm.corp", "/gw/v1/chat/completions") is not None


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_redaction_removes_every_secret_and_keeps_the_rest(before: str, after: str) -> None:
    secret = "ghp_" + "Zq8rT2vW9xY4bN6mK1pL3sD5fG7hJ0aQ2eR4"
    hits: list[str] = []
    value = {"messages": [{"content": f"{before} {secret} {after}"}], "n": 1}
    out = _redact_value(value, _secret_findings, hits, [1000])
    assert secret not in json.dumps(out) and hits and out["n"] == 1


def test_identity_round_trips_through_the_environment() -> None:
    agent = observe(["python3"], "bot")
    assert from_env({ENV: agent.to_env()}) == agent.fields()
    assert from_env({}) == {}
    assert "ztmcp.agent.invalid" in from_env({ENV: "{}"})
    assert "ztmcp.agent.invalid" in from_env({ENV: "x" * 5000})


def test_resolve_specs() -> None:
    r = parse_resolve("api.openai.com:443:127.0.0.1:8443")
    assert (r.host, r.port, r.address, r.to_port) == ("api.openai.com", 443, "127.0.0.1", 8443)
    assert parse_resolve("h:443:[::1]").address == "::1"
    for bad in ("h:443", "h:99999:1.2.3.4", "h:x:1.2.3.4"):
        try:
            parse_resolve(bad)
        except Exception as exc:
            assert "HOST:PORT:ADDRESS" in str(exc)
        else:
            raise AssertionError(bad)


ARGS = {"city": "Paris"}


def test_responses_gemini_and_bedrock_shapes() -> None:
    responses = providers.RESPONSES.response(
        {
            "model": "gpt-4o-2024",
            "usage": {"input_tokens": 3, "output_tokens": 4},
            "output": [
                {"type": "message", "content": []},
                {
                    "type": "function_call",
                    "call_id": "fc_1",
                    "name": "w",
                    "arguments": json.dumps(ARGS),
                },
            ],
        }
    )
    assert (responses.model, responses.input_tokens, responses.output_tokens) == (
        "gpt-4o-2024",
        3,
        4,
    )
    assert responses.tool_calls == [providers.ToolCall("fc_1", "w", providers.digest(ARGS))]
    request = providers.RESPONSES.request(
        {
            "model": "m",
            "tools": [{"type": "function", "name": "w"}],
            "stream": True,
            "input": [{"type": "function_call_output", "call_id": "fc_1", "output": "sunny"}],
        }
    )
    assert request.stream and request.tools[0][0] == "w" and request.tool_results == ("sunny",)

    chunk = {
        "modelVersion": "gemini-2.0-flash-001",
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 6},
        "candidates": [{"content": {"parts": [{"functionCall": {"name": "w", "args": ARGS}}]}}],
    }
    acc = providers.Accumulator(providers.GEMINI)
    acc.event({"candidates": [{"content": {"parts": [{"text": "…"}]}}]})
    acc.event(chunk)
    streamed = acc.finish()
    assert streamed.tool_calls == providers.GEMINI.response(chunk).tool_calls
    assert (streamed.model, streamed.input_tokens, streamed.output_tokens) == (
        "gemini-2.0-flash-001",
        5,
        6,
    )
    gemini_request = providers.GEMINI.request(
        {
            "tools": [{"functionDeclarations": [{"name": "w"}]}],
            "contents": [{"parts": [{"functionResponse": {"name": "w", "response": {"t": 1}}}]}],
        }
    )
    assert gemini_request.tools[0][0] == "w" and gemini_request.tool_results == ('{"t": 1}',)

    bedrock = providers.CONVERSE.response(
        {
            "usage": {"inputTokens": 7, "outputTokens": 8},
            "output": {
                "message": {
                    "content": [{"toolUse": {"toolUseId": "t1", "name": "w", "input": ARGS}}]
                }
            },
        }
    )
    assert bedrock.tool_calls == [providers.ToolCall("t1", "w", providers.digest(ARGS))]
    assert (bedrock.input_tokens, bedrock.output_tokens) == (7, 8)
    bedrock_request = providers.CONVERSE.request(
        {
            "toolConfig": {"tools": [{"toolSpec": {"name": "w"}}]},
            "messages": [{"content": [{"toolResult": {"content": [{"text": "sunny"}]}}]}],
        }
    )
    assert bedrock_request.tools[0][0] == "w" and bedrock_request.tool_results == ("sunny",)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_readers_are_total_over_any_json(value: object) -> None:
    """Whatever a body holds, reading it never raises (a reader that raises would refuse or
    lose the record of a call that is otherwise fine)."""
    for wire in (
        providers.CHAT,
        providers.RESPONSES,
        providers.MESSAGES,
        providers.GEMINI,
        providers.CONVERSE,
    ):
        for body in (
            value,
            {
                "messages": value,
                "tools": value,
                "choices": value,
                "content": value,
                "output": value,
                "candidates": value,
                "input": value,
                "contents": value,
                "usage": value,
            },
        ):
            if isinstance(body, dict):
                wire.request(body)
                wire.response(body)
                acc = providers.Accumulator(wire)
                acc.event(body)
                acc.event(
                    {
                        "type": "content_block_start",
                        "content_block": value,
                        "delta": value,
                        "message": value,
                        "response": value,
                    }
                )
                acc.finish()
