"""What ztmcp run / proxy tell a person instead of silence or a wrong hint (issue 22)."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from ztmcp.adapters import http_rules
from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.cli import hints
from ztmcp.cli.run_cmd import build_parser
from ztmcp.jsonrpc import Direction, parse
from ztmcp.session import Decision, Outcome
from ztmcp.testing import context


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_run_on_a_terminal_says_it_waits_for_a_client() -> None:
    err = io.StringIO()
    hints.say_waiting(Tty(), err, "time")
    assert "waiting for an MCP client on stdin (server time)" in err.getvalue()
    assert "ztmcp demo" in err.getvalue()
    quiet = io.StringIO()
    hints.say_waiting(io.StringIO(), quiet, "time")  # a client's pipe: nothing said
    assert quiet.getvalue() == ""


def test_run_on_a_real_pseudo_terminal_is_detected() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        with os.fdopen(os.dup(follower), "r") as stdin:
            err = io.StringIO()
            hints.say_waiting(stdin, err, "x")
        assert "waiting for an MCP client" in err.getvalue()
    finally:
        os.close(leader)
        os.close(follower)


def test_a_client_method_from_the_server_means_no_mcp_server() -> None:
    """`cat` echoes the client's initialize: the envelope check refuses it as an unknown
    server method (its hint: allow_methods); the run says the server does not speak MCP."""
    echoed = b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}'
    msg = parse(echoed, Direction.TO_CLIENT)
    verdict = EnvelopeCheck().check(msg, context())
    assert verdict is not None and verdict.rule == "envelope.unknown_method"
    assert "does not speak MCP" in verdict.reason and verdict.hint is None  # no allow_methods
    said = hints.not_mcp(msg.method, True, ["cat"])
    assert said is not None and "cat sent 'initialize'" in said and "does not speak MCP" in said
    assert "allow_methods" not in said
    assert hints.not_mcp("vendor/custom", True) is None  # a real unknown method: allow_methods
    assert hints.not_mcp("initialize", False) is None  # from the client it is normal


def test_run_of_cat_says_the_server_does_not_speak_mcp(tmp_path: Path) -> None:
    """A real `ztmcp run -- cat` with a real initialize on stdin: cat echoes it; stderr says
    once that cat does not speak MCP, and the error the client gets says so too, with no
    advice to allow the method."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    env = {**os.environ, "ZTMCP_HOME": str(tmp_path / "home")}
    child = subprocess.Popen(
        [sys.executable, "-m", "ztmcp", "run", "--", "cat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(initialize).encode() + b"\n")
        child.stdin.flush()
        answer = json.loads(child.stdout.readline())  # bounded: pytest-timeout
        child.stdin.close()  # the agent hangs up: ztmcp and cat end
        child.wait(timeout=30)
        assert child.stderr is not None
        err = child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert answer["id"] == 0 and "does not speak MCP" in answer["error"]["message"]
    assert "allow_methods" not in answer["error"]["message"]
    said = [line for line in err.decode().splitlines() if "does not speak MCP" in line]
    assert said == [
        "ztmcp: cat sent 'initialize', a request only an MCP client sends: it does not speak "
        "MCP on stdio (did it echo its input?); check the command after `--`"
    ]
    assert "allow_methods" not in err.decode()


def test_run_of_a_program_that_prints_text_says_it_does_not_speak_mcp(tmp_path: Path) -> None:
    """A real `ztmcp run -- sh -c 'echo …'`: a line that is not JSON on stdout is refused, and
    stderr says once why (it is no MCP server, or it logs to stdout), never the line itself."""
    env = {**os.environ, "ZTMCP_HOME": str(tmp_path / "home")}
    script = "read line; echo listening on port $((8000 + 80)); echo second line"
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", "run", "--", "sh", "-c", script],
        input=b'{"jsonrpc":"2.0","id":0,"method":"ping"}\n',
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    err = done.stderr.decode()
    said = [line for line in err.splitlines() if "not JSON" in line]
    assert len(said) == 1 and said[0].startswith("ztmcp: sh -c read line;"), err
    assert "logs to stdout" in said[0] and "port 8080" not in err  # the line is not shown
    answer = json.loads(done.stdout.splitlines()[0])  # the pending ping: answered, not hung
    assert answer["id"] == 0 and "error" in answer
    assert b"port 8080" not in done.stdout


def test_the_not_mcp_watch_speaks_once_and_only_for_client_methods() -> None:
    check = EnvelopeCheck()
    err = io.StringIO()
    watch = hints.NotMcpWatch(["my-server", "--flag"], err)
    frames = [
        b'{"jsonrpc":"2.0","id":1,"method":"vendor/custom"}',  # a real unknown method
        b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}',
        b'{"jsonrpc":"2.0","id":3,"method":"tools/list"}',
    ]
    for raw in frames:
        verdict = check.check(parse(raw, Direction.TO_CLIENT), context())
        assert verdict is not None
        decision = Decision(Outcome.DENIED, verdicts=(verdict,))
        watch(Direction.TO_SERVER, raw, decision)  # the client's side: never
        watch(Direction.TO_CLIENT, raw, decision)
    assert err.getvalue().count("does not speak MCP") == 1
    assert "my-server --flag sent 'tools/call'" in err.getvalue()


def test_proxy_to_a_down_upstream_says_so_and_answers_502_json_rpc() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mcp"  # nobody listens there now
    reason = hints.probe(url, timeout=1.0)
    assert reason is not None and "refused" in reason.lower()
    line = hints.upstream_down(url, reason)
    assert url in line and "502" in line
    status, body = http_rules.failure_answer(f"[Errno 111] {reason}", url, request_id=7)
    doc = json.loads(body)
    assert status == 502 and doc["jsonrpc"] == "2.0" and doc["id"] == 7
    assert doc["error"]["code"] == -32000 and url in doc["error"]["message"]
    assert json.loads(http_rules.failure_answer(reason, url, True)[1])["id"] is None
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert hints.probe(f"http://127.0.0.1:{server.getsockname()[1]}/mcp") is None
    assert hints.probe("http:///mcp") == "the URL names no host"


def test_run_help_is_drawn_like_every_other_command() -> None:
    out = io.StringIO()
    hints.print_run_help(build_parser(), out)
    text = out.getvalue()
    assert "Usage: ztmcp run [OPTIONS] -- CMD ARGS…" in text
    assert "╭─ Options" in text and "--policy" in text and "FILE" in text
    assert "--monitor" in text and "examples:" in text
    assert "usage: ztmcp run" not in text  # not argparse's own format


def test_ztmcp_run_help_still_starts_without_typer() -> None:
    code = "import sys; import ztmcp.cli.hints; print('typer' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"
