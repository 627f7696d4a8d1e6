from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ztmcp.cli.app import app
from ztmcp.state import paths
from ztmcp.state.audit import AuditLog

runner = CliRunner()


def _write_sessions() -> list[Path]:
    made = []
    for server in ("alpha", "beta"):
        log = AuditLog.create(paths.audit_dir(), server)
        log.append({"event": "session.start", "server": server, "mode": "enforce"})
        log.append(
            {
                "event": "message",
                "server": server,
                "direction": "to_server",
                "mcp.method.name": "tools/call",
                "gen_ai.tool.name": "rm",
                "outcome": "denied",
                "verdicts": [{"rule": "envelope.unknown_method", "reason": "nope"}],
            }
        )
        log.close(reason="agent closed stdin")
        made.append(log.path)
    return made


def test_show_filters_and_prints_json() -> None:
    _write_sessions()
    out = runner.invoke(app, ["audit", "show", "--server", "beta", "--json"])
    assert out.exit_code == 0, out.output
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert records and {r["server"] for r in records if "server" in r} == {"beta"}
    text = runner.invoke(app, ["audit", "show", "--since", "1h"]).stdout
    assert "tools/call rm" in text and "denied" in text and "[envelope.unknown_method]" in text


def test_show_rejects_a_bad_duration() -> None:
    out = runner.invoke(app, ["audit", "show", "--since", "yesterday"])
    assert out.exit_code == 2
    assert "not a duration" in out.output and "Traceback" not in out.output


def test_verify_ok_then_tampered() -> None:
    paths_ = _write_sessions()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "ok: 2 log(s), 6 record(s)" in ok.stdout
    data = paths_[1].read_bytes().replace(b'"outcome":"denied"', b'"outcome":"forwarded"')
    paths_[1].write_bytes(data)
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"BROKEN {paths_[1]}: line 2" in bad.stdout


def test_verify_fails_on_truncation_deletion_and_forgery_and_says_which() -> None:
    first, second = _write_sessions()
    lines = second.read_bytes().splitlines(keepends=True)
    second.write_bytes(b"".join(lines[:-1]))  # session.end of a closed session cut away
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1
    assert f"BROKEN {second}:" in out.stdout and "truncated" in out.stdout
    first.unlink()
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1 and f"BROKEN {first}:" in out.stdout and "deleted" in out.stdout


def test_verify_says_cut_off_and_live_in_one_line_and_exits_0() -> None:
    from ztmcp.state.audit_index import index_path

    cut = AuditLog.create(paths.audit_dir(), "cut")
    cut.append({"event": "session.start", "server": "cut"})
    os.close(cut._fd)  # the process died mid-session
    cut._closed = True
    with cut.path.open("ab") as handle:
        handle.write(b'{"seq":1,"ts"')
    live = AuditLog.create(paths.audit_dir(), "live")
    live.append({"event": "session.start", "server": "live"})
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 0, out.output
    (cut_line,) = [line for line in out.stdout.splitlines() if str(cut.path) in line]
    assert cut_line.startswith("cut off") and "not tampering" in cut_line
    (live_line,) = [line for line in out.stdout.splitlines() if str(live.path) in line]
    assert live_line.startswith("live") and "still being written" in live_line
    assert "ok: 2 log(s), 2 record(s) verified, 1 live, 1 cut off" in out.stdout
    live.close()
    assert index_path(paths.audit_dir()).is_file()


def test_verify_with_no_logs() -> None:
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 0 and "no audit logs" in out.output


def test_tail_follows_new_records(tmp_path: Path) -> None:
    log = AuditLog.create(paths.audit_dir(), "gamma")
    log.append(
        {
            "event": "message",
            "server": "gamma",
            "mcp.method.name": "tools/list",
            "direction": "to_server",
            "outcome": "forwarded",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "ztmcp", "audit", "tail", "--interval", "0.1", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["mcp.method.name"] == "tools/list"
        time.sleep(0.3)
        log.append(
            {
                "event": "message",
                "server": "gamma",
                "mcp.method.name": "tools/call",
                "direction": "to_server",
                "outcome": "denied",
            }
        )
        second = json.loads(proc.stdout.readline())
        assert second["mcp.method.name"] == "tools/call"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_tail_skips_a_log_it_cannot_read_and_follows_the_rest() -> None:
    # A FIFO (or a directory) named like a log was a traceback that ended the tail; it is
    # skipped as audit show skips it (audit verify reports it), at start and while following.
    directory = paths.audit_dir()
    directory.mkdir(parents=True, exist_ok=True)
    os.mkfifo(directory / "20000101T000000Z-fifo-00.jsonl")  # first in order
    log = AuditLog.create(directory, "delta")
    log.append({"event": "message", "server": "delta", "mcp.method.name": "tools/list"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "ztmcp", "audit", "tail", "--interval", "0.1", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # "" when the tail died
        assert first and json.loads(first)["mcp.method.name"] == "tools/list"
        (directory / "20000101T000001Z-dir-01.jsonl").mkdir()
        time.sleep(0.3)
        log.append({"event": "message", "server": "delta", "mcp.method.name": "tools/call"})
        second = proc.stdout.readline()
        assert second and json.loads(second)["mcp.method.name"] == "tools/call"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "Traceback" not in proc.stderr.read()


def test_version_and_help() -> None:
    assert runner.invoke(app, ["--version"]).stdout.strip().startswith("ztmcp ")
    help_text = runner.invoke(app, ["--help"]).stdout
    for command in ("run", "audit"):
        assert command in help_text
    assert "verify" in runner.invoke(app, ["audit", "--help"]).stdout


def test_ztmcp_run_on_a_full_disk_stops_with_one_line_and_verify_says_cut_off(
    tmp_path: Path,
) -> None:
    """The state directory on a 64 KiB tmpfs (root only): the relay stops, it says why in one
    line, and verify calls the log cut off, not tampered with."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    home = tmp_path / "home"
    home.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(home)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    server = Path(__file__).resolve().parents[2] / "benchmarks" / "trivial_server.py"
    env = {**os.environ, "ZTMCP_HOME": str(home)}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ztmcp", "run", "--", sys.executable, str(server)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        deadline = time.monotonic() + 60
        try:
            for i in range(5000):  # each record ~1 KiB: the disk fills long before
                ping = {"jsonrpc": "2.0", "id": i, "method": "ping", "params": {"x": "y" * 900}}
                proc.stdin.write(json.dumps(ping).encode() + b"\n")
                proc.stdin.flush()
                if not proc.stdout.readline() or time.monotonic() > deadline:
                    break
        except BrokenPipeError:
            pass
        assert proc.wait(timeout=30) != 0
        errors = [line for line in proc.stderr.read().decode().splitlines() if "error" in line]
        assert len(errors) == 1 and "No space left on device" in errors[0], errors
        out = runner.invoke(app, ["audit", "verify"], env={"ZTMCP_HOME": str(home)})
        assert out.exit_code == 0, out.output
        (line,) = [line for line in out.stdout.splitlines() if line.startswith("cut off")]
        assert "the writer stopped: No space left on device; not tampering" in line
    finally:
        subprocess.run(["umount", "-l", str(home)], timeout=30, check=False)


def test_show_labels_a_granted_call_granted_not_flagged() -> None:
    log = AuditLog.create(paths.audit_dir(), "fs")
    base = {"event": "message", "server": "fs", "direction": "to_server",
            "mcp.method.name": "tools/call", "outcome": "flagged"}  # fmt: skip
    granted = {"rule": "access.granted", "reason": "allowed by grant g1"}
    once = {"rule": "access.once", "reason": "allowed once by a person"}
    found = {"rule": "secrets.found", "reason": "a token in the arguments"}
    log.append({**base, "gen_ai.tool.name": "write_file", "verdicts": [granted]})
    log.append({**base, "gen_ai.tool.name": "edit_file", "verdicts": [once]})
    log.append({**base, "gen_ai.tool.name": "read_file", "verdicts": [granted, found]})
    log.close()
    lines = runner.invoke(app, ["audit", "show"]).stdout.splitlines()
    (write,) = [line for line in lines if "write_file" in line]
    (edit,) = [line for line in lines if "edit_file" in line]
    (read,) = [line for line in lines if "read_file" in line]
    assert " granted  [access.granted]" in write and "flagged" not in write
    assert " allowed once  [access.once]" in edit
    assert " flagged  [access.granted]" in read  # another finding: still flagged


def test_help_shows_no_bool_placeholders_and_completion_is_available() -> None:
    for args in (["--help"], ["grants", "--help"], ["audit", "show", "--help"], ["tui", "--help"]):
        text = runner.invoke(app, args).stdout
        assert "<bool>" not in text and "BOOLEAN" not in text, (args, text)
    root = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in root and "--show-completion" in root


def test_shell_completion_completes_commands() -> None:
    env = {**os.environ, "_ZTMCP_COMPLETE": "complete_bash", "COMP_WORDS": "ztmcp gra",
           "COMP_CWORD": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["grant", "grants"]
