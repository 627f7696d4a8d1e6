"""The examples are safe to copy: actions pinned by full commit SHA, hash-pinned installs in
any job that can sign, client configs that take the policy from the user's own config."""

from __future__ import annotations

import json
import re
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WORKFLOW = EXAMPLES / "ci" / "release-manifest.yml"


def _jobs(text: str) -> dict[str, str]:
    """The workflow's jobs, each as its text (two-space-indented keys under `jobs:`)."""
    body = text.split("\njobs:\n", 1)[1]
    parts = re.split(r"^  ([A-Za-z0-9_-]+):\n", body, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_action_is_pinned_by_a_full_commit_sha() -> None:
    uses = re.findall(r"uses:\s*(\S+)", WORKFLOW.read_text())
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref


def test_a_job_that_can_sign_installs_only_hash_pinned_wheels() -> None:
    jobs = _jobs(WORKFLOW.read_text())
    signing = [name for name, text in jobs.items() if "id-token: write" in text]
    assert signing == ["sign"]
    assert "\npermissions: {}" in WORKFLOW.read_text()  # nothing by default
    for line in jobs["sign"].splitlines():
        if "pip install" in line:
            command = line + jobs["sign"].split(line, 1)[1].split("\n", 2)[1]
            assert "--require-hashes" in command and "--only-binary :all:" in command, line
    assert "pip install ." not in jobs["sign"] and "ztmcp manifest" not in jobs["sign"]


def test_client_examples_take_the_policy_from_the_users_config() -> None:
    for path in (EXAMPLES / "clients").glob("*.json"):
        data = json.loads(path.read_text())
        servers = data.get("servers") or data.get("mcpServers")
        for server in servers.values():
            assert "--policy" not in server["args"], path.name
