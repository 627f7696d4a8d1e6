"""Fixtures for sandbox tests: a fake home full of secrets, loopback servers, a host victim."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ztmcp.errors import UsageError
from ztmcp.sandbox.bwrap import bwrap_path, probe


@pytest.fixture(scope="session", autouse=True)
def _namespaces() -> None:
    try:
        probe(bwrap_path())
    except UsageError as exc:  # a machine without user namespaces: nothing here can run
        pytest.skip(f"no sandbox on this machine: {exc.message}")


class _Ok(http.server.BaseHTTPRequestHandler):
    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        body = f"reached {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def http_port() -> Iterator[int]:
    """A loopback HTTP server on the host (the one the sandbox is allowed to reach)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture()
def other_port() -> Iterator[int]:
    """Another loopback HTTP server on the host, never allowed."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


SECRETS = {
    ".ssh/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n",
    ".aws/credentials": "[default]\naws_secret_access_key = fake\n",
    ".config/gcloud/credentials.db": "fake gcloud",
    ".bashrc": "# the user's bashrc\n",
}


@pytest.fixture()
def fake_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    for rel, text in SECRETS.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    return home


@pytest.fixture()
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """A host process the sandboxed server tries to signal."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


@pytest.fixture()
def unix_listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "host.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(1)
    yield path, sock
    sock.close()


@pytest.fixture()
def abstract_listener() -> Iterator[tuple[str, socket.socket]]:
    name = f"ztmcp-test-{os.getpid()}-{id(object())}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind("\0" + name)
    sock.listen(1)
    yield name, sock
    sock.close()


@pytest.fixture()
def udp_listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    yield sock
    sock.close()
