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
