"""``ztmcp demo`` end to end (a real ``ztmcp run`` child, the SDK client, the demo server) and
its report logic on synthetic audit records, so the report stays honest as checks land."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ztmcp.demo import SCRIPT, Received, analyse
from ztmcp.policy import CHECK_ORDER
from ztmcp.state.audit import read_records

BLOCKED = "ztmcp blocked this"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("demo-home")
    env = {**os.environ, "ZTMCP_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert Path(data["ztmcp_home"]) == home
    return data


def _steps(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in report["steps"]}


def _answer_text(step: dict[str, Any]) -> str:
    if step["error"] is not None:
        return str(step["error"]["message"])
    result = step["result"] or {}
    return " ".join(c.get("text", "") for c in result.get("content", []) if result.get("isError"))


def test_every_action_ran_and_the_honest_tool_passed(report: dict[str, Any]) -> None:
    steps = _steps(report)
    assert list(steps) == [a.key for a in SCRIPT]
    weather = steps["get_weather"]
    assert weather["status"] == "passed" and weather["error"] is None
    assert weather["result"]["structuredContent"] == {
        "city": "Berlin",
        "temperature_c": 21.5,
        "conditions": "sunny",
    }
    assert report["checks"] and set(report["checks"]) <= set(CHECK_ORDER)
    assert report["mode"] == "enforce"
    assert report["summary"]["unknown"] == 0


def test_every_denial_the_agent_saw_is_in_the_audit(report: dict[str, Any]) -> None:
    records = list(read_records([Path(report["audit_log"])]))
    denied = [r for r in records if r.get("outcome") == "denied"]
    answers = [s for s in report["steps"] if BLOCKED in _answer_text(s)]
    assert len(denied) == len(answers) >= 1  # the unknown method, at least
    for step in answers:
        assert step["status"] == "stopped"
        assert step["by"]["rule"] in _answer_text(step)
        assert any(r["outcome"] == "denied" and r["verdicts"] for r in step["audit"])
    for step in report["steps"]:  # and no status claims more than the audit shows
        if step["status"] not in ("passed", "granted"):
            assert step["by"] is not None and any(r["verdicts"] for r in step["audit"])
        if step["status"] == "passed" and step["note"]:
            assert all(not r["verdicts"] for r in step["audit"])


def test_unknown_method_is_stopped_by_the_envelope(report: dict[str, Any]) -> None:
    step = _steps(report)["unknown_method"]
    assert step["status"] == "stopped"
    assert step["by"]["rule"] == "envelope.unknown_method"
    assert step["error"]["code"] == -32601


def test_audit_verifies_and_holds_no_secret(report: dict[str, Any]) -> None:
    assert report["verify"] == {
        "ok": True,
        "records": report["verify"]["records"],
        "closed": True,
        "error": None,
    }
    assert report["secrets_in_audit"] == []


def test_poisoned_tool_is_filtered_when_the_check_exists(report: dict[str, Any]) -> None:
    step = _steps(report)["list_tools"]
    if "poisoning" in CHECK_ORDER:
        assert "add" in report["tools_filtered"] or not report["poison_reached_agent"]
        assert step["status"] in ("changed", "stopped")
    else:
        assert report["poison_reached_agent"] and step["status"] == "passed"
        assert step["note"] == "no poisoning check enabled in this build"


def test_secrets_are_stopped_when_the_check_exists(report: dict[str, Any]) -> None:
    steps = _steps(report)
    if "secrets" in CHECK_ORDER:
        assert not report["aws_key_reached_agent"]
        assert steps["get_deploy_config"]["status"] in ("changed", "stopped")
        assert report["private_key_request"] == "denied"
        assert steps["add_with_key"]["status"] == "stopped"
    else:
        assert report["aws_key_reached_agent"]
        for key in ("get_deploy_config", "add_with_key"):
            if "poisoning" not in CHECK_ORDER:
                assert steps[key]["status"] == "passed"
                assert steps[key]["note"] == "no secrets check enabled in this build"


# -- the report logic on synthetic records: statuses follow the audit, never the script ------


def _msg(
    seq: int,
    direction: str,
    kind: str,
    rid: int,
    method: str,
    tool: str | None,
    outcome: str,
    *verdicts: tuple[str, str, str],
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "seq": seq,
        "event": "message",
        "direction": direction,
        "kind": kind,
        "jsonrpc.request.id": rid,
        "mcp.method.name": method,
        "outcome": outcome,
        "verdicts": [
            {"check": c, "action": a, "rule": r, "reason": f"{r} happened"} for c, a, r in verdicts
        ],
    }
    if tool is not None:
        record["gen_ai.tool.name"] = tool
    return record


def test_analysis_reports_what_the_records_say() -> None:
    records: list[dict[str, Any]] = [
        {
            "seq": 0,
            "event": "session.start",
            "mode": "enforce",
            "checks": ["envelope", "poisoning", "secrets"],
        }
    ]
    seq = 1
    for rid, action in enumerate(SCRIPT, start=1):
        request = "forwarded"
        response = "forwarded"
        verdicts: tuple[tuple[str, str, str], ...] = ()
        if action.key == "add_with_key":
            request, verdicts = "denied", (("secrets", "deny", "secrets.private_key"),)
        if action.key == "list_tools":
            response, verdicts = "rewritten", (("poisoning", "rewrite", "poisoning.filtered"),)
        records.append(
            _msg(
                seq,
                "to_server",
                "request",
                rid,
                action.method,
                action.tool,
                request,
                *(verdicts if request != "forwarded" else ()),
            )
        )
        seq += 1
        if request == "forwarded":
            records.append(
                _msg(
                    seq,
                    "to_client",
                    "response",
                    rid,
                    action.method,
                    action.tool,
                    response,
                    *(verdicts if response != "forwarded" else ()),
                )
            )
            seq += 1
    received = {
        a.key: Received(result={"content": [], "structuredContent": {"ok": 1}}) for a in SCRIPT
    }
    received["list_tools"] = Received(
        result={"tools": [{"name": "get_weather"}, {"name": "get_deploy_config"}]}
    )
    report = analyse(records, received, "2026-07-28")
    steps = {s.key: s for s in report.steps}
    assert steps["list_tools"].status == "changed"
    assert steps["list_tools"].by == {
        "check": "poisoning",
        "rule": "poisoning.filtered",
        "reason": "poisoning.filtered happened",
    }
    assert report.tools_filtered == ["add"] and not report.poison_reached_agent
    assert steps["add_with_key"].status == "stopped"
    assert report.private_key_request == "denied"
    assert steps["add"].status == "passed" and steps["add"].note == ""
    # secrets is active but let the AWS key through: the note says exactly that
    assert steps["get_deploy_config"].note == "the secrets check let it through"
    assert steps["unknown_method"].note == "the envelope check let it through"
    assert steps["grant"].status == "granted"  # the developer's step: no MCP traffic
    assert report.summary == {"stopped": 1, "changed": 1, "flagged": 0, "passed": 5, "unknown": 0}


def test_just_in_time_grant_opens_the_tool(report: dict[str, Any]) -> None:
    steps = _steps(report)
    if "access" not in CHECK_ORDER:
        pytest.skip("this build has no access check")
    before, grant, after = steps["deploy_ungranted"], steps["grant"], steps["get_deploy_config"]
    assert before["status"] == "stopped" and before["by"]["rule"] == "access.grant_required"
    assert "a person must approve" in _answer_text(before)
    assert grant["status"] == "granted" and grant["detail"].startswith("granted ")
    assert after["status"] in ("passed", "changed")  # through access; secrets may redact
    assert not any(
        v["check"] == "access" and v["action"] == "deny"
        for r in after["audit"]
        for v in r["verdicts"]
    )


def test_analysis_without_records_claims_nothing() -> None:
    report = analyse([], {}, None)
    assert {s.status for s in report.steps} == {"unknown"}
    assert report.summary["unknown"] == len(SCRIPT)


def test_example_policy_loads_and_documents_every_key() -> None:
    import re

    from ztmcp import policy

    example = Path(__file__).resolve().parents[1] / "examples" / "ztmcp.toml"
    loaded = policy.load_policy(example, cwd=example.parent, user_config=example / "none")
    default = policy.parse_policy({}, "default")
    for name in ("mode", "checks", "limits", "allow_methods"):  # the example shows defaults
        assert getattr(loaded, name) == getattr(default, name), name
    built = policy.build_checks(loaded)
    assert [_state(c) for c in built] == [_state(c) for c in policy.build_checks(default)]
    text = example.read_text(encoding="utf-8")
    keys = set(policy._TOP_KEYS) | {k for ks in policy.table_keys().values() for k in ks}
    for key in keys - set(policy.table_keys()):
        # a value (`key = …`), or a table of its own module's (`[sandbox]`)
        shown = rf"^#? ?({key} = |\[{key}\])"
        assert re.search(shown, text, re.M), f"examples/ztmcp.toml lacks {key}"
    for table in policy.table_keys():
        assert f"[{table}]" in text, f"examples/ztmcp.toml lacks [{table}]"
    for check in policy.CHECK_ORDER:
        assert f"#   {check} " in text, f"examples/ztmcp.toml does not describe check {check}"


def _state(check: object) -> dict[str, Any]:
    """A check's configuration: its attributes, without its caches and its live state (the
    elicitation forms awaiting an answer, the anomaly judge's windows)."""
    from ztmcp.behaviour.anomaly import AnomalyJudge
    from ztmcp.behaviour.elicited import AskedForms
    from ztmcp.checks.base import IdentityMemo

    names = getattr(check, "__slots__", None) or vars(check)
    values = {name: getattr(check, name) for name in names}
    live = (IdentityMemo, AskedForms, AnomalyJudge)
    return {k: v for k, v in values.items() if not isinstance(v, live)}


def test_a_second_run_in_the_same_home_starts_without_a_grant(
    tmp_path: Path,
) -> None:
    # The first run's 5-minute grant would otherwise let "no grant yet" through: the demo
    # revokes what it granted before, and (TOFU) the second session enforces the first's pins.
    env = {**os.environ, "ZTMCP_HOME": str(tmp_path)}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "ztmcp", "demo", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        steps = _steps(json.loads(done.stdout))
        assert steps["deploy_ungranted"]["status"] == "stopped"
        assert steps["deploy_ungranted"]["by"]["rule"] == "access.grant_required"
        assert steps["get_weather"]["status"] == "passed"
