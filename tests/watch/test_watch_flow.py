"""``[flow] directed = "named"`` live: the real openai SDK under ``ztmcp watch`` (its LLM calls
to the fake server), a real MCP server behind ``ztmcp run`` started by the agent, one agent run
shared through the real state database. The person's prompt names Bob: a send of private data
to Bob passes; a send to the address only the fetched page held is denied, although that page
went back to the model as a tool result (a tool result is never the person's words). The same
agent whose prompt names no one is denied the send to Bob."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.flow_server import CAPABILITIES
from tests.watch.fake_llm import FakeLLM, make_ca
from ztmcp.state.audit import read_records

pytestmark = pytest.mark.e2e

AGENT = Path(__file__).with_name("flow_agent.py")
POLICY = (
    """\
[flow]
directed = "named"

"""
    + CAPABILITIES
)


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeLLM, Path]]:
    ca, cert, key = make_ca(tmp_path_factory.mktemp("ca"))
    with FakeLLM(cert, key) as server:
        yield server, ca


def _watched(
    fake: tuple[FakeLLM, Path], tmp_path: Path, name: str, prompt: str
) -> list[tuple[bool, str]]:
    server, ca = fake
    policy = tmp_path / "ztmcp.toml"
    policy.write_text(POLICY)
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.pop("OPENAI_BASE_URL", None)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    command = [
        *(sys.executable, "-m", "ztmcp", "watch", "--name", name),
        *("--resolve", f"api.openai.com:443:127.0.0.1:{server.port}", "--upstream-ca", str(ca)),
        *("--", sys.executable, str(AGENT), prompt, str(policy)),
    ]
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    return [(bool(e), str(t)) for e, t in json.loads(done.stdout)]


def test_a_destination_the_person_named_passes_and_the_pages_does_not(
    fake: tuple[FakeLLM, Path], tmp_path: Path
) -> None:
    home = Path(os.environ["ZTMCP_HOME"])
    named = _watched(
        fake, tmp_path, "named-agent", "Email bob@corp.example the invoice number from my inbox"
    )
    (to_bob, bob_text), (to_page, page_text) = named
    assert not to_bob and "sent 11 characters to bob@corp.example" in bob_text, bob_text
    assert to_page and "[flow.untrusted_value]" in page_text, page_text
    unnamed = _watched(fake, tmp_path, "unnamed-agent", "Summarize my inbox and the notes page")
    (to_bob, bob_text), (to_page, page_text) = unnamed
    assert to_bob and "[flow.private_to_unnamed]" in bob_text, bob_text
    assert to_page and "[flow.untrusted_value]" in page_text, page_text
    raw = b"".join(p.read_bytes() for p in home.glob("state.db*"))
    assert raw and b"bob@corp" not in raw and b"invoice number" not in raw  # fingerprints only
    records = list(read_records(sorted((home / "audit").glob("*.jsonl"))))
    starts = [r for r in records if r.get("event") == "watch.start"]
    assert len(starts) == 2 and all(r["ztmcp.user_turns"] is True for r in starts)
    # two requests each, the prompt resent in the second: one text recorded per agent
    ends = [r["ztmcp.user_turns_recorded"] for r in records if "ztmcp.user_turns_recorded" in r]
    assert ends == [1, 1]
    audit = b"".join(p.read_bytes() for p in (home / "audit").glob("*.jsonl"))
    assert b"invoice number" not in audit and b"Summarize" not in audit  # no prompt text
