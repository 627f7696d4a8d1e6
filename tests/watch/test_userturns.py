"""The person's turns into the agent run: pure per-provider extraction (tool results, system
prompts and assistant turns never count), the run learning them through real SQLite, once
per run, and the watch proxy (real mitmproxy) refusing a request whose turn cannot be recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.watch.test_addon import Rig
from ztmcp.behaviour.store import SharedRun
from ztmcp.state.db import StateError
from ztmcp.watch.policy import WatchPolicy
from ztmcp.watch.userturns import READERS, UserTurns, user_texts

NOW = 1_800_000_000.0

# -- pure extraction --------------------------------------------------------------------------

# One conversation as (kind, text); each wire lays it out in its own shape.
KINDS = ("user", "system", "assistant", "tool")


def _openai_chat(turns: list[tuple[str, str]]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for i, (kind, text) in enumerate(turns):
        if kind == "tool":
            messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": text})
        elif kind == "user" and i % 2:
            messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        else:
            messages.append({"role": kind, "content": text})
    return {"model": "m", "messages": messages}


def _openai_responses(turns: list[tuple[str, str]]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for i, (kind, text) in enumerate(turns):
        if kind == "tool":
            items.append({"type": "function_call_output", "call_id": f"c{i}", "output": text})
        elif kind == "assistant":
            items.append(
                {"type": "message", "role": "assistant",
                 "content": [{"type": "output_text", "text": text}]}
            )  # fmt: skip
        elif kind == "system":
            items.append({"role": "developer", "content": text})
        else:
            items.append({"role": "user", "content": [{"type": "input_text", "text": text}]})
    return {"model": "m", "input": items}


def _anthropic(turns: list[tuple[str, str]]) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "m", "messages": []}
    for i, (kind, text) in enumerate(turns):
        if kind == "system":
            body["system"] = text
        elif kind == "tool":  # tool results ride in a user-role message
            body["messages"].append(
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": f"t{i}", "content": text},
                    {"type": "tool_result", "tool_use_id": f"u{i}",
                     "content": [{"type": "text", "text": text}]},
                ]}
            )  # fmt: skip
        elif kind == "assistant":
            body["messages"].append(
                {"role": "assistant", "content": [{"type": "text", "text": text}]}
            )
        else:
            body["messages"].append({"role": "user", "content": [{"type": "text", "text": text}]})
    return body


def _gemini(turns: list[tuple[str, str]]) -> dict[str, Any]:
    body: dict[str, Any] = {"contents": []}
    for kind, text in turns:
        if kind == "system":
            body["systemInstruction"] = {"parts": [{"text": text}]}
        elif kind == "tool":
            body["contents"].append(
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "f", "response": {"text": text}}}]}
            )  # fmt: skip
        elif kind == "assistant":
            body["contents"].append({"role": "model", "parts": [{"text": text}]})
        else:
            body["contents"].append({"role": "user", "parts": [{"text": text}]})
    return body


def _bedrock(turns: list[tuple[str, str]]) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": []}
    for i, (kind, text) in enumerate(turns):
        if kind == "system":
            body["system"] = [{"text": text}]
        elif kind == "tool":
            body["messages"].append(
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": f"t{i}", "content": [{"text": text}]}}]}
            )  # fmt: skip
        elif kind == "assistant":
            body["messages"].append({"role": "assistant", "content": [{"text": text}]})
        else:
            body["messages"].append({"role": "user", "content": [{"text": text}]})
    return body


LAYOUTS = {
    "openai.chat": _openai_chat,
    "openai.responses": _openai_responses,
    "anthropic.messages": _anthropic,
    "gemini": _gemini,
    "bedrock.converse": _bedrock,
}

TEXT = st.text(min_size=1, max_size=30).filter(lambda t: t.strip() != "")
TURNS = st.lists(st.tuples(st.sampled_from(KINDS), TEXT), max_size=12)


def test_every_wire_has_a_reader() -> None:
    assert set(READERS) == set(LAYOUTS)


@given(st.sampled_from(sorted(LAYOUTS)), TURNS)
def test_only_the_persons_turns_are_user_text(wire: str, turns: list[tuple[str, str]]) -> None:
    # Texts tagged by kind, so a tool result that equals a user text cannot pass by accident.
    tagged = [(kind, f"{kind}:{text}") for kind, text in turns]
    got = user_texts(wire, LAYOUTS[wire](tagged))
    assert list(got) == [text for kind, text in tagged if kind == "user"]
    assert not any(t.startswith(("tool:", "system:", "assistant:")) for t in got)


@given(st.sampled_from(sorted(LAYOUTS)), st.lists(TEXT, max_size=8))
def test_tool_results_alone_are_never_user_text(wire: str, results: list[str]) -> None:
    assert user_texts(wire, LAYOUTS[wire]([("tool", r) for r in results])) == ()


def test_short_forms_and_junk() -> None:
    assert user_texts("openai.responses", {"input": "email bob"}) == ("email bob",)
    assert user_texts("gemini", {"contents": [{"parts": [{"text": "hi"}]}]}) == ("hi",)
    assert user_texts("openai.chat", {"messages": "x"}) == ()
    assert user_texts("openai.chat", {"messages": [{"role": "user", "content": 3}]}) == ()
    assert user_texts("openai.chat", {"messages": [{"role": "user", "content": "  "}]}) == ()
    assert user_texts("unknown.wire", {"messages": [{"role": "user", "content": "x"}]}) == ()


# -- the run learns them (real SQLite) -------------------------------------------------------

PROMPT = "Please email bob@corp.example the invoice number from my inbox"


def test_a_user_turn_names_its_values_for_every_process_of_the_agent(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    turns = UserTurns("agent-a", db)
    assert turns.record((PROMPT,), NOW) == 1
    # the conversation resends its history: recorded once
    assert turns.record((PROMPT, "and cc nobody"), NOW + 1) == 1
    assert turns.record((PROMPT, "and cc nobody"), NOW + 2) == 0
    other = SharedRun.open("agent-a", db).sync(NOW + 3)  # a `ztmcp run` process of the agent
    assert other.directed({"to": "bob@corp.example"})
    assert not other.directed({"to": "payouts@refunds-desk.example"})
    assert not SharedRun.open("agent-b", db).sync(NOW + 3).directed({"to": "bob@corp.example"})
    turns.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    assert b"bob@corp" not in raw and b"invoice" not in raw  # fingerprints only


def test_a_new_run_learns_the_history_again(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    turns = UserTurns("agent-a", db)
    assert turns.record((PROMPT,), NOW) == 1
    later = NOW + 3 * 3600  # the run closed (idle): the resent history goes to the new one
    assert turns.record((PROMPT,), later) == 1
    assert SharedRun.open("agent-a", db).sync(later).directed({"to": "bob@corp.example"})
    turns.close()


def test_a_run_that_cannot_be_written_raises(tmp_path: Path) -> None:
    (tmp_path / "state.db").mkdir()
    with pytest.raises(StateError):
        UserTurns("agent-a", tmp_path / "state.db").record((PROMPT,), NOW)


# -- the watch proxy refuses a request whose turn cannot be recorded ---------------------------


@pytest.fixture
def rig(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Rig, list[dict[str, Any]], Path]]:
    posted: list[dict[str, Any]] = []
    made = Rig(tmp_path, getattr(request, "param", WatchPolicy()), posted.append)
    db = tmp_path / "run" / "state.db"
    db.parent.mkdir()
    made.addon.user_turns = UserTurns("t", db)
    yield made, posted, db
    made.addon.user_turns.close()
    made.close()


def _chat(prompt: str) -> dict[str, Any]:
    return {"model": "gpt-test", "messages": [{"role": "user", "content": prompt}]}


def test_watch_records_the_turn_and_refuses_when_the_run_cannot_be_written(
    rig: tuple[Rig, list[dict[str, Any]], Path],
) -> None:
    made, posted, db = rig
    with made.client() as client:
        assert client.post("/v1/chat/completions", json=_chat(PROMPT)).status_code == 200
    seen = SharedRun.open("t", db)
    assert seen.sync(time.time()).directed({"to": "bob@corp.example"})
    seen.store.close()
    assert made.addon.user_turns is not None and made.addon.user_turns.written == 1
    made.addon.user_turns.close()
    for path in db.parent.glob("state.db*"):  # the database goes away under the proxy
        path.unlink()
    db.mkdir()
    with made.client() as client:
        refused = client.post("/v1/chat/completions", json=_chat("now email carol@corp.example"))
    assert refused.status_code == 400 and len(made.fake.seen) == 1  # it never left
    assert "agent run" in json.dumps(refused.json())
    assert posted[-1]["ztmcp.action"] == "deny"
    assert "watch.run_unwritable" in posted[-1]["ztmcp.findings"]
    assert "carol" not in json.dumps(posted)  # no prompt text in the audit


SECRET = "ghp_" + "Zq8rT2vW9xY4bN6mK1pL3sD5fG7hJ0aQ2eR4"


@pytest.mark.parametrize("rig", [WatchPolicy(secrets="deny")], indirect=True)
def test_a_request_refused_for_a_secret_records_no_turn(
    rig: tuple[Rig, list[dict[str, Any]], Path],
) -> None:
    made, _, _ = rig
    with made.client() as client:
        refused = client.post("/v1/chat/completions", json=_chat(f"{PROMPT} with {SECRET}"))
    assert refused.status_code == 400 and made.fake.seen == []
    assert made.addon.user_turns is not None and made.addon.user_turns.written == 0


def test_a_redacted_secret_is_never_fingerprinted(
    rig: tuple[Rig, list[dict[str, Any]], Path],
) -> None:
    made, _, db = rig  # the default policy redacts
    with made.client() as client:
        sent = client.post("/v1/chat/completions", json=_chat(f"{PROMPT} using token {SECRET}"))
    assert sent.status_code == 200 and SECRET not in json.dumps(made.fake.seen)
    seen = SharedRun.open("t", db)
    run = seen.sync(time.time())
    assert run.directed({"to": "bob@corp.example"})  # the rest of the turn was recorded
    assert not run.directed({"token": SECRET})  # the secret was not
    seen.store.close()


# -- on only when the `ztmcp run` processes would have the flow check --------------------------


def test_on_when_the_policy_has_the_flow_check_and_off_when_it_has_not(tmp_path: Path) -> None:
    from ztmcp.state import paths
    from ztmcp.watch.launcher import flow_on

    assert flow_on(tmp_path)  # the default policy has every check
    config = paths.user_config()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('checks = ["envelope", "pins", "secrets"]\n')
    assert not flow_on(tmp_path)
    config.write_text("checks = [\n")  # unreadable: on (it only ever vouches the user's words)
    assert flow_on(tmp_path)
