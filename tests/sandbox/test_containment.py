"""The containment table, measured: a hostile server run by ``ztmcp run --sandbox`` tries every
technique in ``hostile_server.py``; each is blocked, network attempts are audited, and the one
allowed host is reached through the egress gate. Direct sockets (TCP, UDP, DNS), which never
leave the sandbox's own network namespace, are audited by the seccomp supervisor
(``ztmcp/sandbox/netaudit.py``): one ``egress`` deny record each."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.sandbox.conftest import SECRETS
from ztmcp.sandbox.bwrap import PROXY_PORT

HOSTILE = Path(__file__).with_name("hostile_server.py")
SECRET_ENV = {"AWS_SECRET_ACCESS_KEY": "fake-aws-secret", "GITHUB_TOKEN": "ghp_fake0000"}


class Client:
    """Newline-delimited JSON-RPC over a ``ztmcp run`` child, every read bounded in time."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd
        )
        self.buffer = b""

    def call(self, rid: int, method: str, params: dict[str, Any], timeout: float = 60) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        self.proc.stdin.write(json.dumps(line).encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer to {method} in {timeout} s"
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, f"ztmcp run ended before answering {method}"
                self.buffer += chunk
        line_bytes, _, self.buffer = self.buffer.partition(b"\n")
        reply = json.loads(line_bytes)
        assert reply.get("id") == rid, reply
        return reply

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=30)


def handshake(client: Client) -> None:
    client.call(
        1,
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    )
    assert client.proc.stdin is not None
    client.proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    client.proc.stdin.flush()
    client.call(2, "tools/list", {})


def audit_records(ztmcp_home: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted((ztmcp_home / "audit").glob("*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines()]
    return records


def test_every_technique_is_contained(
    tmp_path: Path,
    fake_home: Path,
    http_port: int,
    other_port: int,
    victim: subprocess.Popen[bytes],
    unix_listener: tuple[str, socket.socket],
    abstract_listener: tuple[str, socket.socket],
    udp_listener: socket.socket,
) -> None:
    ztmcp_home = Path(os.environ["ZTMCP_HOME"])
    ztmcp_home.mkdir(parents=True, exist_ok=True)
    (ztmcp_home / "marker").write_text("ztmcp state")
    own = tmp_path / "server" / "hostile_server.py"
    own.parent.mkdir()
    own.write_bytes(HOSTILE.read_bytes())
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(fake_home),
        "ZTMCP_HOME": str(ztmcp_home),
        **SECRET_ENV,
    }
    # --monitor: ztmcp's injection check would block this result (it names ~/.ssh/id_rsa);
    # what is measured here is the sandbox, not the checks.
    argv = [sys.executable, "-m", "ztmcp", "run", "--name", "hostile", "--sandbox", "--monitor"]
    argv += ["--allow-net", f"127.0.0.1:{http_port}", "--", sys.executable, str(own)]
    work = tmp_path / "work"
    work.mkdir()
    client = Client(argv, env, work)
    try:
        handshake(client)
        targets = {
            "allowed_port": http_port,
            "other_port": other_port,
            "udp_port": udp_listener.getsockname()[1],
            "unix_socket": unix_listener[0],
            "abstract_socket": abstract_listener[0],
            "host_pid": os.getpid(),
            "victim_pid": victim.pid,
            "ztmcp_home": str(ztmcp_home),
            "secret_names": sorted(SECRET_ENV),
            "own_file": str(own),
        }
        reply = client.call(3, "tools/call", {"name": "escape", "arguments": {"targets": targets}})
    finally:
        code = client.close()
    results = json.loads(reply["result"]["content"][0]["text"])

    allowed = results.pop("allowed host via the proxy")
    assert allowed["escaped"], allowed  # the one granted destination works
    # Appends and UDP sends "succeed" inside the sandbox: what counts is what reached the host.
    inside_only = {"append to ~/.bashrc", "UDP to a host port"}
    escaped = {k: v for k, v in results.items() if v["escaped"] and k not in inside_only}
    assert not escaped, escaped
    assert (fake_home / ".bashrc").read_text() == SECRETS[".bashrc"]
    assert own.read_bytes() == HOSTILE.read_bytes()
    try:
        data = udp_listener.recv(100)
    except TimeoutError:
        data = b""
    assert data == b""
    assert victim.poll() is None  # still running
    assert code == 0

    egress = [r for r in audit_records(ztmcp_home) if r.get("event") == "egress"]
    seen = {(r["server.address"], r["server.port"], r["egress.verdict"]) for r in egress}
    assert ("evil.example", 80, "deny") in seen
    assert ("evil.example", 443, "deny") in seen
    assert ("127.0.0.1", other_port, "deny") in seen
    assert ("127.0.0.1", http_port, "allow") in seen
    assert all(r["server"] == "hostile" for r in egress)
    # Direct sockets never leave the sandbox's namespace: seccomp notification audits each one.
    direct = {
        (r["egress.technique"], r["egress.syscall"], r["server.address"], r["server.port"])
        for r in egress
        if "egress.syscall" in r and r["egress.verdict"] == "deny"
    }
    udp_port = targets["udp_port"]
    for expected in (
        ("tcp", "connect", "127.0.0.1", other_port),  # another host port
        ("tcp", "connect", "127.0.0.1", http_port),  # the allowed port, bypassing the proxy
        ("tcp", "connect", "1.1.1.1", 443),
        ("tcp", "connect", "::1", other_port),
        ("udp", "sendto", "127.0.0.1", udp_port),
        ("udp", "sendmsg", "127.0.0.1", udp_port),
        ("dns", "sendto", "1.1.1.1", 53),
        ("dns", "connect", "127.0.0.1", 53),  # getaddrinfo: no resolver but the default
        ("tcp", "connect", "127.0.0.2", PROXY_PORT),  # the proxy's port, not its address
        ("tcp", "connect", "::ffff:127.0.0.1", other_port),
        ("socket", "socket", None, None),  # AF_PACKET, AF_VSOCK: refused at socket()
    ):
        assert expected in direct, (expected, direct)
    for name in (
        "direct TCP to another host port",
        "direct TCP to the allowed port (no proxy)",
        "direct TCP to a public address",
        "direct TCP over IPv6 loopback",
        "UDP to a host port",
        "UDP to a public resolver",
        "UDP with sendmsg to a host port",
        "direct TCP to 127.0.0.2 at the proxy's port",
        "direct TCP over IPv4-mapped IPv6 to a host port",
        "open a packet socket (AF_PACKET)",
        "open a vsock socket (AF_VSOCK: no namespace contains it)",
    ):
        assert "Errno 1]" in results[name]["detail"], (name, results[name])  # EPERM
    assert "Errno 1]" in results["set up io_uring (sockets without system calls)"]["detail"]
    families = {r["network.type"] for r in egress if r.get("egress.syscall") == "socket"}
    assert families == {"af_packet", "af_vsock"}, families
    table = "\n".join(f"| {k} | {v['detail']} |" for k, v in sorted(results.items()))
    print("\n" + table)


def test_a_refusal_flood_stops_the_server_with_one_line(tmp_path: Path, fake_home: Path) -> None:
    """A server looping on refused connections (sweeping addresses and ports) is stopped by
    ``ztmcp run`` with one line; the audit log stays bounded, counts add up, the chain holds."""
    from ztmcp.sandbox.netaudit import FloodLimits, flood_line
    from ztmcp.state.audit import verify_file

    ztmcp_home = Path(os.environ["ZTMCP_HOME"])
    env = {"PATH": os.environ["PATH"], "HOME": str(fake_home), "ZTMCP_HOME": str(ztmcp_home)}
    argv = [sys.executable, "-m", "ztmcp", "run", "--name", "flooder", "--sandbox", "--monitor"]
    argv += ["--", sys.executable, str(HOSTILE)]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    client = Client.__new__(Client)
    client.proc, client.buffer = proc, b""
    handshake(client)
    assert proc.stdin is not None and proc.stderr is not None
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call"}
    call["params"] = {"name": "flood", "arguments": {"seconds": 40}}  # type: ignore[assignment]
    proc.stdin.write(json.dumps(call).encode() + b"\n")
    proc.stdin.flush()
    try:
        proc.wait(timeout=30)  # well before the loop's own 40 s: stopped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    err = proc.stderr.read().decode()
    limits = FloodLimits()
    line = flood_line("flooder", limits.stop_count, limits.stop_seconds)
    assert err.count(line) == 1, err
    records = audit_records(ztmcp_home)
    egress = [r for r in records if r.get("event") == "egress" and r.get("egress.syscall")]
    assert sum(r["egress.count"] for r in egress) >= limits.stop_count
    assert len(egress) <= 2 * (limits.distinct + 2) * 2  # one window or two, not thousands
    assert [r["sandbox.reason"] for r in records if r.get("event") == "sandbox.flood"] == [line]
    for path in sorted((ztmcp_home / "audit").glob("*.jsonl")):
        assert verify_file(path).ok, path
