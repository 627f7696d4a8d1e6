"""``ztmcp watch`` with the real openai and anthropic SDKs, unchanged, at their default URLs.

Each SDK runs as the agent, a child of ``ztmcp watch``; ``--resolve`` sends api.openai.com and
api.anthropic.com to a local fake LLM server over TLS (a test CA, trusted upstream with
``--upstream-ca``). Every call is in ``ztmcp audit show --json`` with the GenAI fields, and the
client's result equals what it gets talking to the fake server directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.watch.fake_llm import TOOL_ARGS, FakeLLM, make_ca
from ztmcp.watch.providers import digest

CLIENT = Path(__file__).with_name("sdk_client.py")
HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}
BASE_ENV = {"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"}
SECRET = "ghp_" + "Zq8rT2vW9xY4bN6mK1pL3sD5fG7hJ0aQ2eR4"


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeLLM, Path]]:
    ca, cert, key = make_ca(tmp_path_factory.mktemp("ca"))
    with FakeLLM(cert, key) as server:
        yield server, ca


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in BASE_ENV}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def direct(sdk: str, fake: tuple[FakeLLM, Path], *args: str) -> Any:
    server, ca = fake
    env = _env()
    base = f"https://127.0.0.1:{server.port}"
    env["OPENAI_BASE_URL" if sdk == "openai" else "ANTHROPIC_BASE_URL"] = (
        base + "/v1" if sdk == "openai" else base
    )
    env["SSL_CERT_FILE"] = str(ca)
    done = subprocess.run(
        [sys.executable, str(CLIENT), sdk, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def watched(
    sdk: str, fake: tuple[FakeLLM, Path], *args: str, policy: Path | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    server, ca = fake
    command = [
        sys.executable,
        "-m",
        "ztmcp",
        "watch",
        "--name",
        f"{sdk}-agent",
        "--resolve",
        f"{HOSTS[sdk]}:443:127.0.0.1:{server.port}",
        "--upstream-ca",
        str(ca),
        *(["--policy", str(policy)] if policy else []),
        "--",
        sys.executable,
        str(CLIENT),
        sdk,
        *args,
    ]
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "ztmcp", "audit", "show", "--json"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    return json.loads(done.stdout), records


def _calls(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("event") == "llm.call"]


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_sdk_result_unchanged_and_every_call_recorded(sdk: str, fake: tuple[FakeLLM, Path]) -> None:
    expected = direct(sdk, fake)
    got, records = watched(sdk, fake)
    assert got == expected
    calls = _calls(records)
    assert len(calls) == 3
    provider, model = ("openai", "gpt-test") if sdk == "openai" else ("anthropic", "claude-test")
    for call in calls:
        assert call["gen_ai.provider.name"] == provider
        assert call["gen_ai.operation.name"] == "chat"
        assert call["gen_ai.request.model"] == model
        assert call["gen_ai.response.model"] == model + "-2025"
        assert call["http.response.status_code"] == 200
        assert isinstance(call["gen_ai.usage.input_tokens"], int)
        assert isinstance(call["gen_ai.usage.output_tokens"], int)
        assert call["ztmcp.latency_ms"] > 0
        assert [t["name"] for t in call["gen_ai.request.tools"]] == ["get_weather"]
        assert call["gen_ai.agent.name"] == f"{sdk}-agent"
        assert call["process.executable.path"] == str(Path(sys.executable).resolve())
        assert len(call["ztmcp.agent.executable.sha256"]) == 64
    first, second, streamed = calls
    asked = [
        {
            "id": "call_1" if sdk == "openai" else "toolu_1",
            "name": "get_weather",
            "arguments_sha256": digest(TOOL_ARGS),
        }
    ]
    assert first["gen_ai.response.tool_calls"] == asked
    assert second["gen_ai.response.tool_calls"] == []
    assert not first["gen_ai.request.stream"] and streamed["gen_ai.request.stream"]
    assert streamed["gen_ai.response.tool_calls"] == asked  # read from the SSE events
    assert streamed["ztmcp.time_to_first_chunk_ms"] > 0
    assert (streamed["gen_ai.usage.input_tokens"], streamed["gen_ai.usage.output_tokens"]) == (
        (11, 7) if sdk == "openai" else (13, 5)
    )
    # no prompt or completion text by default
    text = json.dumps(records)
    assert "What is the weather" not in text and "sunny" not in text


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_secret_in_prompt_redacted(sdk: str, fake: tuple[FakeLLM, Path]) -> None:
    server, _ = fake
    before = len(server.seen)
    got, records = watched(sdk, fake, f"deploy with token {SECRET} please")
    assert "error" not in got
    sent = json.dumps(server.seen[before:])
    assert SECRET not in sent and "[REDACTED:" in sent
    calls = _calls(records)
    assert calls[0]["ztmcp.action"] == "redact" and calls[0]["ztmcp.findings"]
    assert SECRET not in json.dumps(records)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_secret_in_prompt_denied_in_the_providers_error_shape(
    sdk: str, fake: tuple[FakeLLM, Path], tmp_path: Path
) -> None:
    server, _ = fake
    policy = tmp_path / "watch.toml"
    policy.write_text('[watch]\nsecrets = "deny"\n')
    before = len(server.seen)
    got, records = watched(sdk, fake, f"deploy with token {SECRET} please", policy=policy)
    assert got["error"] == "BadRequestError" and got["status"] == 400
    assert "ztmcp" in got["message"] and SECRET not in got["message"]
    assert len(server.seen) == before  # never left
    calls = _calls(records)
    assert len(calls) == 1 and calls[0]["ztmcp.action"] == "deny"
    assert SECRET not in json.dumps(records)


def test_agent_loop_links_each_mcp_call_to_its_model_turn(fake: tuple[FakeLLM, Path]) -> None:
    """Two turns ask for ``echo`` with different arguments; the agent makes the later turn's
    call first. Each MCP call is linked by its argument digest to the turn that asked for it
    (the name and time order alone would link the first MCP call to the first turn), and a
    third ``echo`` with arguments no turn asked for is unprompted."""
    from tests.e2e.peers import install

    server, ca = fake
    command = [
        sys.executable,
        "-m",
        "ztmcp",
        "watch",
        "--name",
        "loop-agent",
        "--resolve",
        f"api.openai.com:443:127.0.0.1:{server.port}",
        "--upstream-ca",
        str(ca),
        "--",
        sys.executable,
        str(CLIENT.with_name("loop_agent.py")),
        *install().everything,
    ]
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    results = [json.dumps(r) for r in json.loads(done.stdout)]
    assert "say goodbye" in results[0] and "say hello" in results[1]
    assert "nobody asked" in results[2]
    shown = subprocess.run(
        [sys.executable, "-m", "ztmcp", "audit", "show", "--agent", "loop-agent", "--json"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    starts = [r for r in records if r.get("event") == "session.start"]
    assert starts and all(r["gen_ai.agent.name"] == "loop-agent" for r in starts)
    calls = [
        r
        for r in records
        if r.get("mcp.method.name") == "tools/call" and r.get("kind") == "request"
    ]
    llm = [r for r in records if r.get("event") == "llm.call"]
    assert len(llm) == 2 and len(calls) == 3
    assert records.index(llm[1]) < records.index(calls[0])  # one timeline, in time order
    hello, goodbye = (digest({"message": m}) for m in ("say hello", "say goodbye"))
    assert [c["gen_ai.tool.call.arguments_sha256"] for c in calls[:2]] == [goodbye, hello]
    for call, turn in zip(calls[:2], (llm[1], llm[0]), strict=True):
        assert call["ztmcp.link"]["by"] == "name+arguments"
        assert call["ztmcp.link"]["llm.seq"] == turn["seq"]
        assert call["ztmcp.link"]["gen_ai.tool.call.id"] == "call_1"
        assert "ztmcp.unprompted" not in call
    assert calls[2]["gen_ai.tool.name"] == "echo" and calls[2]["ztmcp.unprompted"] is True
    assert "ztmcp.link" not in calls[2]


def test_watch_exports_its_records_over_otlp(fake: tuple[FakeLLM, Path], tmp_path: Path) -> None:
    from tests.watch.test_otlp import Receiver

    receiver = Receiver()
    policy = tmp_path / "watch.toml"
    policy.write_text(f'[export]\notlp_endpoint = "http://127.0.0.1:{receiver.port}"\n')
    try:
        _, records = watched("openai", fake, policy=policy)
    finally:
        receiver.stop()
    sent = {(r["ztmcp.audit.file"], r["ztmcp.audit.seq"]) for r in receiver.records}
    assert len(sent) == len(receiver.records) == len(records)  # each once, none missing
    llm = [r for r in receiver.records if r["event_name"] == "llm.call"]
    assert len(llm) == 3 and llm[0]["gen_ai.provider.name"] == "openai"
    shown = subprocess.run(
        [sys.executable, "-m", "ztmcp", "audit", "show"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "llm.call" in shown.stdout
