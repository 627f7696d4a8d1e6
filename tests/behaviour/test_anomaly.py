"""Anomalies judged in the relay (issue 21, item 5): a real Session with the policy's checks,
the flow edge over real SQLite, the real audit log, the baselines saved in ``state.db`` as
``ztmcp baseline --save`` saves them, and ``ztmcp grants`` read through the typer app."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.behaviour.histories import DAY, LEARN_DAYS, START, incidents, normal, write
from tests.behaviour.test_wiring import Agent, agent
from ztmcp.behaviour.anomaly import KINDS, AnomalyJudge, NotJudged
from ztmcp.checks.flow import APPROVAL_REQUIRED, FlowCheck
from ztmcp.cli.app import app
from ztmcp.jsonrpc import Direction, Message, encode
from ztmcp.policy import PolicyError, build_checks, parse_policy
from ztmcp.session import Outcome
from ztmcp.state import paths
from ztmcp.state.audit import read_records, session_files
from ztmcp.state.baselines import WINDOW, Anomaly, Baseline, Call, Reader, judge, learn, timed
from ztmcp.state.grants import GrantStore
from ztmcp.state.saved_baselines import BaselineStore

ME = "test-agent/1"


def save(db: Path, **tools: Baseline) -> None:
    with BaselineStore(db) as store:
        store.save({(ME, "mail", tool): b for tool, b in tools.items()}, 1.0, 2.0)


def usual(calls: int = 200, rate: int = 2, args: int = 200) -> Baseline:
    return Baseline(calls=calls, max_rate=rate, max_args=args, max_result=500, hours={9})


def on(tmp_path: Path, flow: dict[str, Any] | None = None, **tools: Baseline) -> Agent:
    db = paths.home() / "state.db"  # the user's state: what `ztmcp grants` reads
    save(db, **tools)
    return agent(tmp_path, flow=flow, db=db)


def anomaly_rules(decision: Any) -> list[str]:
    return [v.rule for v in decision.verdicts if v.check == "flow"]


def test_a_burst_is_flagged_in_the_audit_log_in_words(tmp_path: Path) -> None:
    a = on(tmp_path, echo=usual())
    decisions = [a.call("echo", text="hi") for _ in range(7)]
    # at most max(rate_floor 5, 2 x usual 2) calls in the window: the 6th and 7th are a burst
    assert [anomaly_rules(d) for d in decisions] == [[]] * 5 + [["anomaly"]] * 2
    assert all(d.outcome is not Outcome.DENIED for d in decisions)  # flagged by default
    flagged = [
        v
        for r in a.records()
        if r.get("gen_ai.tool.name") == "echo"
        for v in r.get("verdicts", [])
        if v.get("rule") == "anomaly"
    ]
    assert len(flagged) == 2
    assert "`echo` called 6 times in 60 s; usual at most 2" in flagged[0]["reason"]
    a.session.close("over")


def test_a_denied_anomaly_revokes_the_runs_grants(tmp_path: Path) -> None:
    a = on(tmp_path, {"anomaly": "deny", "revoke": True}, echo=usual())
    with GrantStore(a.db) as grants:
        mine = grants.add("mail", "send_email", 600, digest=None)
        other = grants.add("calendar", "add_event", 600, digest=None)
    decisions = [a.call("echo", text="hi") for _ in range(7)]
    assert [d.outcome is Outcome.DENIED for d in decisions] == [False] * 5 + [True] * 2
    revoked = [r for r in a.records() if r.get("event") == "flow.revoke"]
    assert revoked[0]["rule"] == "anomaly" and revoked[0]["grant.ids"] == [mine.id]
    shown = CliRunner().invoke(app, ["grants", "--json"])
    assert shown.exit_code == 0, shown.output
    assert [g["grant.id"] for g in json.loads(shown.output)] == [other.id]
    a.session.close("over")


def test_without_revoke_a_denied_anomaly_leaves_the_grants(tmp_path: Path) -> None:
    a = on(tmp_path, {"anomaly": "deny"}, echo=usual())
    with GrantStore(a.db) as grants:
        mine = grants.add("mail", "send_email", 600, digest=None)
    assert [a.call("echo").outcome for _ in range(6)][-1] is Outcome.DENIED
    with GrantStore(a.db) as grants:
        assert [g.id for g in grants.grants()] == [mine.id]
    a.session.close("over")


def test_a_new_tool_and_oversized_arguments(tmp_path: Path) -> None:
    a = on(tmp_path, {"anomaly": "hold"}, echo=usual(calls=60, args=300))
    new = a.call("read_channel", channel="general")
    assert anomaly_rules(new) == [APPROVAL_REQUIRED] and new.outcome is Outcome.DENIED
    assert "never called by test-agent/1 on mail in 60 earlier calls" in new.verdicts[-1].reason
    big = a.call("echo", text="x" * 8000)
    assert big.outcome is Outcome.DENIED and "bytes of arguments; usual at most 300" in (
        big.verdicts[-1].reason
    )
    assert a.call("echo", text="small").outcome is Outcome.FORWARDED
    a.session.close("over")


def test_a_stronger_flow_finding_wins_over_a_flagged_anomaly(tmp_path: Path) -> None:
    from tests.behaviour.test_wiring import INBOX, PAGE

    a = on(tmp_path, None, read_inbox=usual(), fetch_page=usual(), send_email=usual(rate=0))
    a.call("read_inbox", INBOX)
    a.call("fetch_page", PAGE, url="https://blog.example/")
    sent = a.call("send_email", to="payouts@refunds-desk.example")
    assert sent.outcome is Outcome.DENIED and anomaly_rules(sent) == ["flow.untrusted_value"]
    a.session.close("over")


@pytest.mark.parametrize("empty_save", [False, True])
def test_nothing_saved_is_said_once_and_judges_nothing(tmp_path: Path, empty_save: bool) -> None:
    if empty_save:  # `ztmcp baseline --save` over an empty audit log
        with BaselineStore(tmp_path / "state.db") as store:
            store.save({}, 0.0, 1.0)
    a = agent(tmp_path, db=tmp_path / "state.db")
    check = next(c for c in a.session.checks if isinstance(c, FlowCheck))
    assert check.judge is not None
    said: list[str] = []
    check.judge.say = said.append
    assert all(anomaly_rules(a.call("echo")) == [] for _ in range(12))
    assert len(said) == 1 and "ztmcp baseline --save" in said[0]
    a.session.close("over")


@pytest.mark.parametrize(
    "statement",
    ["UPDATE baselines SET calls = 'many'", "UPDATE baseline_meta SET version = 7"],
)
def test_a_corrupt_saved_table_stops_the_flow_until_it_is_saved_again(
    tmp_path: Path, statement: str
) -> None:
    a = on(tmp_path, echo=usual())
    conn = sqlite3.connect(a.db)
    conn.execute(statement)
    conn.commit()
    conn.close()
    refused = a.call("echo")
    assert refused.outcome is Outcome.DENIED and refused.forward is None
    assert [v.rule for v in refused.verdicts] == ["session.fault"]
    assert a.call("echo").outcome is Outcome.DENIED  # every call, not only the first
    save(a.db, echo=usual())  # repaired: the judge loads it on the next call
    assert a.call("echo").outcome is Outcome.FORWARDED
    a.session.close("over")


def test_a_corrupt_table_is_no_matter_when_the_judge_is_off(tmp_path: Path) -> None:
    a = on(tmp_path, {"anomaly": "off"}, echo=usual())
    conn = sqlite3.connect(a.db)
    conn.execute("UPDATE baselines SET calls = 'many'")
    conn.commit()
    conn.close()
    assert a.call("echo").outcome is Outcome.FORWARDED
    a.session.close("over")


def test_the_policy_key_is_checked() -> None:
    with pytest.raises(PolicyError, match="anomaly"):
        parse_policy({"checks": ["flow"], "flow": {"anomaly": "loud"}}, "test policy")
    for action in ("flag", "hold", "deny", "off"):
        policy = parse_policy({"checks": ["flow"], "flow": {"anomaly": action}}, "test policy")
        (check,) = build_checks(policy)
        assert isinstance(check, FlowCheck) and (check.judge is None) == (action == "off")


def _call(tool: str, rid: int) -> Message:
    body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": tool}}
    return Message(Direction.TO_SERVER, encode(body), body)


def test_a_call_the_wired_judge_never_saw_is_refused(tmp_path: Path) -> None:
    judge_ = AnomalyJudge(tmp_path / "state.db")
    judge_.wired = True
    msg = _call("echo", 1)
    with pytest.raises(NotJudged):
        judge_.judged("mail", msg)
    judge_.observe(ME, "mail", msg, len(msg.raw), 0.0)
    assert judge_.judged("mail", msg) is None
    with pytest.raises(NotJudged):  # each judgement is read once
        judge_.judged("mail", msg)


def test_sessions_side_by_side_with_the_same_request_id_keep_their_own_judgements(
    tmp_path: Path,
) -> None:
    """One judge serves every Session of a pipeline, whose clients all count ids from 1: a
    benign call judged in another thread between a new tool's judgement and its check must
    not take the new tool's place (it would pass, and the benign one be refused)."""
    from concurrent.futures import ThreadPoolExecutor

    db = tmp_path / "state.db"
    save(db, echo=usual())
    judge_ = AnomalyJudge(db, say=lambda _: None)
    judge_.wired = True
    new, usual_call = _call("read_channel", 1), _call("echo", 1)
    judge_.observe(ME, "mail", new, 100, 1000.0)
    with ThreadPoolExecutor(1) as other:
        other.submit(judge_.observe, ME, "mail", usual_call, 100, 1000.0).result(timeout=10)
        assert other.submit(judge_.judged, "mail", usual_call).result(timeout=10) is None
    found = judge_.judged("mail", new)
    assert found is not None and found.kind == "new_tool"


# -- differential: the relay judges replayed histories as `ztmcp baseline` does ---------------


def _fold(found: list[Anomaly]) -> list[Anomaly]:
    """``Detector.observe``'s folding: one anomaly per kind and key per window."""
    last: dict[tuple[str, Any], float] = {}
    out = []
    for a in found:
        before = last.get((a.kind, a.key))
        if before is None or a.at - before > WINDOW:
            out.append(a)
        last[(a.kind, a.key)] = a.at
    return out


def _on_calls(a: Anomaly) -> bool:
    return a.kind in ("burst", "new_tool") or (a.kind == "size" and " sent " in a.explanation)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_relay_flags_what_ztmcp_baseline_flags_on_replayed_histories(
    seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    cutoff = START + LEARN_DAYS * DAY
    history = normal(rng, LEARN_DAYS + 2, START)
    injected, _ = incidents(rng, cutoff)
    write(tmp_path / "audit", history + injected, START, LEARN_DAYS + 2)
    stamped = timed(read_records(session_files(tmp_path / "audit")))
    _, expected = judge(stamped, cutoff)
    # The relay: the baselines saved and loaded back, each later call judged as it comes.
    db = tmp_path / "state.db"
    with BaselineStore(db) as store:
        store.save(learn(r for at, r in stamped if at <= cutoff).tools, cutoff, cutoff)
    relay = AnomalyJudge(db, say=lambda _: None)
    reader, found, rid = Reader(), [], 0
    for at, record in stamped:
        for event in reader.feed(record):
            if at <= cutoff or not isinstance(event, Call):
                continue
            rid += 1
            msg = _call(event.key[2], rid)
            relay.observe(event.key[0], event.key[1], msg, event.args, event.at)
            judged = relay.judged(event.key[1], msg)
            if judged is not None:
                found.append(judged)
    assert {a.kind for a in found} <= KINDS
    expected_calls = [a for a in expected if _on_calls(a)]
    assert {a.kind for a in expected_calls} == {"burst", "new_tool", "size"}  # all exercised
    assert _fold(found) == expected_calls


# -- what saves the table: `ztmcp baseline --save` and the TUI when it learns ---------------


def _history(days: int, start: float, agent_name: str | None = None) -> None:
    plan = [p for p in normal(random.Random(4), days, start) if p.server == "mail"]
    write(paths.audit_dir(), plan, start, days, agent=agent_name)


def test_baseline_save_writes_what_the_relay_loads() -> None:
    _history(2, START)
    result = CliRunner().invoke(app, ["baseline", "--save", "--server", "nothing-matches"])
    assert result.exit_code == 0, result.output
    with BaselineStore(paths.home() / "state.db") as store:
        saved = store.load()
    assert saved is not None and saved.learned_at > START
    stamped = timed(read_records(session_files(paths.audit_dir())))
    learned = learn(r for _, r in stamped).tools  # every baseline, not only those printed
    assert set(saved.learned.tools) == set(learned) and learned
    assert "saved" in result.output and f"{len(learned)} baseline(s)" in result.output


def test_baseline_save_into_a_damaged_state_db_is_one_line() -> None:
    _history(2, START)
    (paths.home() / "state.db").write_bytes(b"garbage, not SQLite")
    result = CliRunner().invoke(app, ["baseline", "--save"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # an exit, not an uncaught error
    assert "Traceback" not in result.output
    assert "ztmcp: error: state" in result.output and "not a database" in result.output


@pytest.mark.anyio
async def test_the_tui_saves_the_baselines_it_learned() -> None:
    from tests.tui.conftest import T0, make, settle, tick_until
    from tests.tui.conftest import Clock as TuiClock
    from ztmcp.tui.timeline import TimelinePane

    _history(2, T0 - 2 * DAY - 8 * 3600, agent_name="release-bot")
    db = paths.home() / "state.db"

    def saved() -> Any:
        if not db.exists():
            return None
        with BaselineStore(db) as store:
            return store.load()

    app_ = make(TuiClock(), heartbeat=False, since=T0 - 3600)
    async with app_.run_test(size=(160, 45)) as pilot:
        await settle(app_, pilot)
        await tick_until(app_, pilot, lambda: saved() is not None)
        pane = app_.query_one(TimelinePane)
        assert pane.detector is not None
        loaded = saved()
        assert set(loaded.learned.tools) == set(pane.detector.learned.tools)
        assert loaded.learned_at == pane.learned_until
        assert all(k[0] == "release-bot" for k in loaded.learned.tools)


def test_a_clock_stepping_back_does_not_count_every_call_as_a_burst(tmp_path: Path) -> None:
    """The windows follow the wall clock; one stepped back (NTP) starts them again rather than
    counting each call until it catches up (an hour of false bursts under `deny`)."""
    db = tmp_path / "state.db"
    save(db, echo=usual())
    relay = AnomalyJudge(db)
    found = []
    for n, at in enumerate([*range(1000, 1100, 20), *range(0, 100, 20)]):
        msg = _call("echo", n)
        relay.observe(ME, "mail", msg, 100, float(at))
        found.append(relay.judged("mail", msg))
    assert found == [None] * 10
    for n in range(6):  # a real burst is still one
        msg = _call("echo", 100 + n)
        relay.observe(ME, "mail", msg, 100, 200.0 + n)
        last = relay.judged("mail", msg)
    assert last is not None and last.kind == "burst"


def test_a_held_anomaly_is_allowed_once_by_a_person(tmp_path: Path) -> None:
    """`anomaly = "hold"` with a TUI attached: the new tool's call waits for a person, who
    allows it once; the call is judged again on release (the same rule, now allowed once)."""
    import time

    from tests.behaviour.test_wiring import allow_held_once
    from ztmcp.state.approvals import ApprovalStore

    a = on(tmp_path, {"anomaly": "hold"}, echo=usual(calls=60))
    store = ApprovalStore(a.db)
    store.heartbeat("tui:test", time.time())
    detail, released = allow_held_once(a.session, store, "read_channel", channel="general")
    assert "never called by test-agent/1 on mail" in detail
    assert released.outcome is Outcome.FLAGGED and released.forward is not None
    assert "flow.allowed_once" in anomaly_rules(released)
    store.detach("tui:test")
    store.close()
    a.session.close("over")


@pytest.mark.parametrize("named", [None, "plain-name", "{not json"])
def test_the_relay_judges_a_call_as_the_agent_ztmcp_baseline_learned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: str | None
) -> None:
    """Differential on identity: the agent the Reader reads from a real Session's audit log is
    the one the relay looks its baselines up under (a plain ZTMCP_AGENT names the flow run but
    never reaches the log, so it must not name the baselines either)."""
    from ztmcp.behaviour.anomaly import reader_agent

    if named is not None:
        monkeypatch.setenv("ZTMCP_AGENT", named)
    a = agent(tmp_path, db=tmp_path / "state.db")
    a.call("echo")
    learned = learn(read_records([a.log]))
    assert [k[0] for k in learned.tools] == [reader_agent(a.session.client)] == [ME]
    a.session.close("over")


def test_a_watch_identity_names_the_agent() -> None:
    from ztmcp.behaviour.anomaly import reader_agent

    identity = {
        "gen_ai.agent.name": "release-bot",
        "process.executable.path": "/usr/bin/bot",
        "ztmcp.agent.executable.sha256": None,
        "ztmcp.agent.parents": [],
        "user.name": "ci",
    }
    assert reader_agent("x/1", {"ZTMCP_AGENT": json.dumps(identity)}) == "release-bot"
    assert reader_agent(None, {}) == "unknown"


def test_a_new_save_is_read_within_a_minute_and_the_windows_carry_over(tmp_path: Path) -> None:
    """A `ztmcp run` lives for hours: the judge looks at the saved set's time once a minute and
    loads it when it was saved anew (the TUI saves whenever it learns), counting on from the
    calls it already counted."""
    db = tmp_path / "state.db"
    with BaselineStore(db) as store:
        store.save({(ME, "mail", "echo"): usual(rate=10)}, 1.0, 2.0)
    relay = AnomalyJudge(db)

    def at(n: int, t: float) -> Anomaly | None:
        msg = _call("echo", n)
        relay.observe(ME, "mail", msg, 100, t)
        return relay.judged("mail", msg)

    assert [at(n, float(n)) for n in range(6)] == [None] * 6  # at most 20 a minute: no burst
    with BaselineStore(db) as store:
        store.save({(ME, "mail", "echo"): usual(rate=2)}, 1.0, 3.0)
    assert at(6, 30.0) is None  # looked at t=0: the old set until a minute has passed
    found = at(7, 61.0)  # loaded anew; the window still holds the calls at 2-5, 30 and 61
    assert found is not None and "called 6 times in 60 s; usual at most 2" in found.explanation
    assert relay.saved is not None and relay.saved.saved_at == 3.0
