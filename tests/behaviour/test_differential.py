"""Differential: the run shared through SQLite by two processes' views gives the flow check
exactly the verdicts the in-memory run (``ztmcp eval``'s) gives, call for call, on AgentDojo
traces, with the user's request heard (so named, directed and followed values all occur)."""

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

# Per suite, the traces compared: benign ones the check refuses and passes, and attacks.
PICKED = {
    "banking": ("_0", "_3", "_15", "+injection_task_4"),
    "slack": ("_1", "_7", "_11", "_1+injection_task_3", "_4+injection_task_5"),
}


def _msg(tool: str, arguments: Any) -> Message:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return Message(Direction.TO_SERVER, encode(body), body)


@pytest.fixture(scope="module", params=sorted(PICKED))
def suite(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    name = str(request.param)
    lines = list(suite_traces(name))
    return name, [lines[0]] + [t for t in lines[1:] if t["id"].endswith(PICKED[name])]


@pytest.mark.parametrize("flow", [{}, {"trifecta": "deny"}, {"directed": "private"}])
def test_shared_run_matches_the_in_memory_run(
    suite: tuple[str, list[dict[str, Any]]], flow: dict[str, str], tmp_path: Path
) -> None:
    name, lines = suite
    caps = lines[0]
    check = flow_from_tables(flow, caps["capabilities"])
    compared = refused = passed_sinks = 0
    for n, trace in enumerate(lines[1:]):
        memory = RunState.new("a", 0.0, run_id="m", key=b"d" * 32)
        memory.note_user(trace["user"])
        db = tmp_path / f"{n}.db"
        views = [SharedRun(RunStore(db), f"agent{n}"), SharedRun(RunStore(db), f"agent{n}")]
        views[0].user(trace["user"], 0.0)
        for i, event in enumerate(trace["events"]):
            view = views[i % 2]  # calls alternate between two processes
            state = view.sync(float(i))
            msg = _msg(event["tool"], event["arguments"])
            expected = check.check(msg, Context(name, float(i), extra={"run": memory, "tools": {}}))
            # the shared run has its own key: compare decisions and rules, not fingerprints
            got = check.check(msg, Context(name, float(i), extra={"run": state, "tools": {}}))
            assert (got and (got.action, got.rule)) == (
                expected and (expected.action, expected.rule)
            ), (trace["id"], i)
            compared += 1
            labels = check.labels(name, event["tool"], None)
            refused += expected is not None
            passed_sinks += expected is None and "public_sink" in labels
            ref = memory.note_call(name, event["tool"], float(i))
            memory.note_result(ref, labels, event["result"], event["arguments"])
            shared_ref = view.call(name, event["tool"], float(i))
            view.result(shared_ref, labels, event["result"], event["arguments"])
        for view in views:
            view.store.close()
    assert compared > 15 and 0 < refused < compared and passed_sinks > 0
