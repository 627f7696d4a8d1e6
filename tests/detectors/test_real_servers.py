"""The pinned list of ``real_servers`` and the samples it writes (no install, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.detectors import real_servers as rs
from ztmcp.evaluation import evaluate

# shared/ beside the checkout (CI), or the workplace's
DEVS = (
    Path(rs.__file__).resolve().parents[3] / "shared/eval/dev/tool_descriptions.jsonl",
    Path("/work/shared/eval/dev/tool_descriptions.jsonl"),
)


def test_each_server_is_pinned_once_and_placed_in_one_batch() -> None:
    packages = [s.package for s in rs.SERVERS]
    assert len(packages) == len(set(packages))
    assert all(s.version and s.eco in ("npm", "pypi") for s in rs.SERVERS)
    halves = {s.half for s in rs.SERVERS}
    assert halves == {"tune", "heldout", "fresh", "late"}
    # the split is by name alone: the same package lands in the same half whatever its version
    for s in rs.SERVERS:
        if not (s.fresh or s.late):
            moved = rs.Server(s.eco, s.package, "0.0.0")
            assert moved.half == s.half


def test_no_server_is_in_dev() -> None:
    dev = set().union(*(rs.dev_sources(p) for p in DEVS))
    if not dev:
        pytest.skip("the dev corpus is not on this machine")
    assert len(dev) >= 40
    assert not {s.package for s in rs.SERVERS} & dev


def test_samples_are_what_ztmcp_eval_reads(tmp_path: Path) -> None:
    server = rs.SERVERS[0]
    tools = [
        {
            "name": "list_items",
            "description": "Lists the items.",
            "inputSchema": {"type": "object"},
        },
        {
            "name": "get_item",
            "description": "Gets one item by id.",
            "inputSchema": {"type": "object"},
        },
    ]
    rows = list(rs.samples(server, tools))
    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = evaluate([path])
    counts = report.kinds["tool_description"]
    assert (counts.tn, counts.fp, counts.tp, counts.fn) == (2, 0, 0, 0)
    assert {r["source"] for r in rows} == {server.source}
    assert len({r["id"] for r in rows}) == 2
    assert rs.report([path]).splitlines()[-1].startswith("| all (1 servers) | 2 | 0 (0.0 %)")


def test_a_server_gets_no_environment_of_the_caller(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ZTMCP_TEST_SECRET", "s3cr3t")
    monkeypatch.setattr(rs, "CACHE", tmp_path)
    env = rs._environment(rs.SERVERS[0])
    assert "ZTMCP_TEST_SECRET" not in env
    assert set(env) >= {"HOME", "PATH"} and set(rs.SERVERS[0].env) <= set(env)
