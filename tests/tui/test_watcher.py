"""The audit tail and the row formatting, without Textual."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.tui.conftest import T0, call
from ztmcp.state.audit import AuditLog
from ztmcp.tui.watcher import AuditTail, Entry, Recent, countdown, findings, traffic_row


def _log(directory: Path, name: str = "20270115T080000Z-s-0000000000000001.jsonl") -> AuditLog:
    return AuditLog(directory / name, "01" * 8)


def test_follows_appends_across_files_and_reads_only_new_bytes(tmp_path: Path) -> None:
    tail = AuditTail(tmp_path)
    assert tail.poll().entries == []
    first = _log(tmp_path)
    first.append(call("a"))
    assert [e.record["gen_ai.tool.name"] for e in tail.poll().entries] == ["a"]
    assert tail.poll().entries == []  # nothing new: nothing returned
    second = _log(tmp_path, "20270115T080001Z-s-0000000000000002.jsonl")
    second.append(call("b"))
    first.append(call("c"))
    batch = tail.poll()
    assert sorted(e.record["gen_ai.tool.name"] for e in batch.entries) == ["b", "c"]
    assert len({e.key for e in batch.entries}) == 2
    first.close()
    second.close()


def test_a_torn_line_waits_and_a_corrupt_one_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"event":"message"')
    tail = AuditTail(tmp_path)
    assert tail.poll().entries == []
    with path.open("ab") as out:
        out.write(b'}\nnot json\n[1,2]\n{"event":"ping"}\n')
    batch = tail.poll()
    assert [e.record["event"] for e in batch.entries] == ["message", "ping"]
    assert batch.corrupt == ["x.jsonl:2", "x.jsonl:3"]
    assert [e.key for e in batch.entries] == ["x.jsonl:1", "x.jsonl:4"]


def test_a_replaced_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"n":1}\n{"n":2}\n')
    tail = AuditTail(tmp_path)
    assert len(tail.poll().entries) == 2
    path.write_bytes(b'{"n":3}\n')
    batch = tail.poll()
    assert [e.record["n"] for e in batch.entries] == [3] and "shrank" in batch.errors[0]


def test_since_skips_old_records_and_old_files(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append(call("old"), ts=T0 - 7200)
    log.append(call("new"), ts=T0 - 60)
    os.utime(log.path, (T0 - 60, T0 - 60))
    stale = tmp_path / "20270101T000000Z-s-00000000000000ff.jsonl"
    stale.write_bytes(b'{"ts":"2027-01-15T07:59:00.000000Z","n":1}\n')
    os.utime(stale, (T0 - 86400, T0 - 86400))
    tail = AuditTail(tmp_path, since=T0 - 3600)
    assert [e.record.get("gen_ai.tool.name") for e in tail.poll().entries] == ["new"]
    with stale.open("ab") as out:  # an old file that is written again is followed from its end
        out.write(b'{"ts":"2027-01-15T08:00:00.000000Z","n":2}\n')
    assert [e.record["n"] for e in tail.poll().entries] == [2]
    log.close()


def test_the_first_poll_keeps_only_the_newest_cap(tmp_path: Path) -> None:
    log = _log(tmp_path)
    for i in range(30):
        log.append(call(f"t{i}"))
    tail = AuditTail(tmp_path, cap=10)
    entries = tail.poll().entries
    assert [e.record["gen_ai.tool.name"] for e in entries] == [f"t{i}" for i in range(20, 30)]
    log.close()


def test_recent_drops_the_oldest() -> None:
    recent = Recent(cap=2)
    assert recent.add([Entry("a", {}), Entry("b", {})]) == []
    assert recent.add([Entry("c", {"x": 1})]) == ["a"]
    assert recent.keys() == ["b", "c"] and recent.get("a") is None and recent.get("c") == {"x": 1}


def test_rows_are_plain_text_and_findings_show_evidence() -> None:
    record = call(
        "[bold]x[/]",
        "denied",
        ts="2027-01-15T08:00:00.123456Z",
        verdicts=[
            {
                "check": "secrets",
                "action": "rewrite",
                "rule": "secrets.aws",
                "severity": "high",
                "reason": "redacted an AWS key",
                "evidence": "AKIA…(redacted)",
            },
            {
                "check": "access",
                "action": "deny",
                "rule": "access.denied",
                "severity": "high",
                "reason": "policy denies tool",
            },
        ],
    )
    assert traffic_row(record) == (
        "08:00:00.123",
        "everything",
        "→ tools/call",
        "[bold]x[/]",
        "22",
        "denied secrets.aws +1",
    )
    assert findings(record) == [
        "high rewrite secrets.aws: redacted an AWS key\n    evidence: AKIA…(redacted)",
        "high deny access.denied: policy denies tool",
    ]
    grant = {
        "event": "grant.create",
        "server": "everything",
        "gen_ai.tool.name": "get-sum",
        "grant.id": "abcd1234",
        "ts": "2027-01-15T08:00:00.000000Z",
    }
    assert traffic_row(grant)[2:] == ("· grant.create", "get-sum", "", "abcd1234")
    assert traffic_row({"garbage": True})[2] == "· ?"


def test_countdown_rounds_up_and_stops_at_zero() -> None:
    now = time.time()
    assert countdown(now + 0.2, now) == "1s"
    assert countdown(now + 90, now) == "1m30s"
    assert countdown(now, now) == "0s" and countdown(now - 5, now) == "0s"
