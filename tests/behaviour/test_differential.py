"""Differential: the run shared through SQLite by two processes' views gives the flow check
exactly the verdicts the in-memory run gives, call for call, on AgentDojo traces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.behaviour.agentdojo_traces import suite_traces
from ztmcp.behaviour.run import RunState
from ztmcp.behaviour.store import RunStore, SharedRun
from ztmcp.checks.base import Context
from ztmcp.jsonrpc import Direction, Message, encode
from ztmcp.policy import flow_from_tables


def _msg(tool: str, arguments: Any) -> Message:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return Message(Direction.TO_SERVER, encode(body), body)


@pytest.fixture(scope="module")
def banking() -> list[dict[str, Any]]:
    lines = list(suite_traces("banking"))
    return [lines[0]] + [
        t for t in lines[1:] if t["id"].endswith(("_0", "_3", "+injection_task_4"))
    ]


def test_shared_run_matches_the_in_memory_run(
    banking: list[dict[str, Any]], tmp_path: Path
) -> None:
    caps = banking[0]
    flow = flow_from_tables({"trifecta": "deny"}, caps["capabilities"])
    compared = refused = 0
    for n, trace in enumerate(banking[1:]):
        key = b"d" * 32
        memory = RunState.new("a", 0.0, run_id="m", key=key)
        db = tmp_path / f"{n}.db"
        views = [SharedRun(RunStore(db), f"agent{n}"), SharedRun(RunStore(db), f"agent{n}")]
        for i, event in enumerate(trace["events"]):
            view = views[i % 2]  # calls alternate between two processes
            state = view.sync(float(i))
            msg = _msg(event["tool"], event["arguments"])
            expected = flow.check(
                msg, Context("banking", float(i), extra={"run": memory, "tools": {}})
            )
            # the shared run has its own key: compare decisions and rules, not fingerprints
            got = flow.check(msg, Context("banking", float(i), extra={"run": state, "tools": {}}))
            assert (got and (got.action, got.rule)) == (
                expected and (expected.action, expected.rule)
            )
            compared += 1
            refused += expected is not None
            labels = flow.labels("banking", event["tool"], None)
            ref = memory.note_call("banking", event["tool"], float(i))
            memory.note_result(ref, labels, event["result"])
            shared_ref = view.call("banking", event["tool"], float(i))
            view.result(shared_ref, labels, event["result"])
    assert compared > 20 and 0 < refused < compared
