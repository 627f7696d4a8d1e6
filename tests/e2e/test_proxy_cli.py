"""``ztmcp proxy`` as a user meets it: one-line errors, a clean stop, and the mitmdump script."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.peers import Peers
from tests.e2e.test_proxy_sdk import (
    START_TIMEOUT,
    audit_records,
    everything_server,
    free_port,
    session,
    stop,
    verify_audit,
)

pytestmark = pytest.mark.e2e


def run_proxy(
    ztmcp_argv: list[str], env: dict[str, str], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ztmcp_argv, "proxy", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com/mcp", "needs http:// or https://"),
        ("http://", "needs http:// or https://"),
        ("http://example.com:99999/mcp", "bad upstream URL"),
        ("https://user:hunter2@example.com/mcp", "holds credentials"),
    ],
)
def test_bad_url_is_a_one_line_error(
    url: str, says: str, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    done = run_proxy(ztmcp_argv, child_env, tmp_path, url)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.startswith("ztmcp: error: ")
    assert "hunter2" not in done.stderr


def test_port_in_use_is_a_one_line_error(
    ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_proxy(
            ztmcp_argv, child_env, tmp_path, "--port", str(port), "http://127.0.0.1:9/"
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ztmcp: error: ")]
    assert len(errors) == 1 and "address already in use" in errors[0]


def test_help_teaches(ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path) -> None:
    done = run_proxy(ztmcp_argv, child_env, tmp_path, "--help")
    assert done.returncode == 0
    for word in ("--port", "--allow-host", "--allow-origin", "--monitor", "127.0.0.1"):
        assert word in done.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_cleanly_and_close_the_audit_log(
    sig: signal.Signals, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    child = subprocess.Popen(
        [*ztmcp_argv, "proxy", "--port", "0", "http://127.0.0.1:9/mcp"],
        env=child_env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert child.stderr is not None
    lines: list[str] = []
    try:
        while not lines or "proxying http://127.0.0.1:" not in lines[-1]:
            line = child.stderr.readline()  # bounded: the process prints a few lines, or exits
            assert line, f"ztmcp proxy exited early: {lines}"
            lines.append(line)
    finally:
        code = stop(child, sig)
    rest = child.stderr.read()
    assert code == 0, rest
    assert "Traceback" not in rest
    records = audit_records(Path(child_env["ZTMCP_HOME"]))
    assert records[0]["event"] == "session.start" and records[-1]["reason"] == "interrupted"
    verify_audit(ztmcp_argv, child_env, tmp_path)


SCRIPT = Path(__file__).resolve().parents[2] / "addons" / "ztmcp_addon.py"
DENY_GET_SUM = '[[access.rule]]\ntool = "get-sum"\naction = "deny"\n'


@contextlib.contextmanager
def with_script(
    tool: str,
    upstream: str,
    port: int,
    extra: list[str],
    env: dict[str, str],
    cwd: Path,
    ports: tuple[int, ...] = (),
) -> Iterator[None]:
    """``mitmdump`` or ``mitmweb -s addons/ztmcp_addon.py`` in reverse mode to ``upstream``,
    until every port in ``(port, *ports)`` listens; a clean stop at the end."""
    argv = [str(Path(sys.executable).parent / tool), "-q", "-s", str(SCRIPT)]
    argv += ["--mode", f"reverse:{upstream.removesuffix('/mcp')}"]
    argv += ["--listen-host", "127.0.0.1", "--listen-port", str(port), *extra]
    argv += ["--set", "ztmcp_name=everything"]
    child = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for listening in (port, *ports):
            while True:
                assert child.poll() is None, f"{tool} exited"
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", listening)),
                ):
                    break
                assert time.monotonic() < deadline, f"{tool} is not listening"
                time.sleep(0.1)
        yield
    finally:
        assert stop(child) == 0


async def _echo_and_denied(client: object, via: str) -> dict[str, object]:
    echo = await client.call_tool("echo", {"message": via})  # type: ignore[attr-defined]
    denied = await client.call_tool("get-sum", {"a": 1, "b": 2})  # type: ignore[attr-defined]
    return {"echo": echo.content[0].text, "denied": denied.is_error}


def test_mitmdump_script_gives_the_same_checks(
    peers: Peers, child_env: dict[str, str], ztmcp_argv: list[str], tmp_path: Path
) -> None:
    (tmp_path / "ztmcp.toml").write_text(DENY_GET_SUM)
    port = free_port()
    with (
        everything_server(peers) as upstream,
        with_script("mitmdump", upstream, port, [], child_env, tmp_path),
    ):
        out, _ = session(
            f"http://127.0.0.1:{port}/mcp", lambda c: _echo_and_denied(c, "via mitmdump")
        )
    assert out == {"echo": "Echo: via mitmdump", "denied": True}
    records = audit_records(Path(child_env["ZTMCP_HOME"]))
    assert any(r.get("gen_ai.tool.name") == "get-sum" and r["outcome"] == "denied" for r in records)


def test_mitmweb_shows_ztmcp_verdicts_on_its_flows(
    peers: Peers, child_env: dict[str, str], tmp_path: Path
) -> None:
    """mitmweb with the addon script: the checks apply, and its flow list (the JSON the web UI
    reads) carries ztmcp's mark and verdict on the denied call."""
    import json
    import urllib.request

    (tmp_path / "ztmcp.toml").write_text(DENY_GET_SUM)
    port, web = free_port(), free_port()
    token = "test-web-token-0123456789"
    extra = ["--web-host", "127.0.0.1", "--web-port", str(web), "--no-web-open-browser"]
    extra += ["--set", f"web_password={token}"]
    with (
        everything_server(peers) as upstream,
        with_script("mitmweb", upstream, port, extra, child_env, tmp_path, ports=(web,)),
    ):
        out, _ = session(
            f"http://127.0.0.1:{port}/mcp", lambda c: _echo_and_denied(c, "via mitmweb")
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{web}/flows", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            flows = json.load(answer)
    assert out == {"echo": "Echo: via mitmweb", "denied": True}
    denied = [f for f in flows if "access" in (f.get("comment") or "")]
    assert denied and denied[0]["marked"] in (":no_entry:", "⛔"), [
        (f.get("marked"), f.get("comment")) for f in flows
    ]
    assert all("via mitmweb" not in (f.get("comment") or "") for f in flows)  # no content
