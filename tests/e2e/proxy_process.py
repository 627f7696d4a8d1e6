"""``ztmcp proxy`` as a real subprocess for e2e tests: start it, read the URL it prints, stop it."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
_PROXYING = re.compile(r"proxying (http://127\.0\.0\.1:\d+\S*)")


@dataclass
class ProxyProcess:
    url: str
    proc: subprocess.Popen[bytes]
    output: list[str] = field(default_factory=list)  # stdout and stderr, once stopped

    @property
    def text(self) -> str:
        return "".join(self.output)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def child_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with the repo importable, so a child started in a
    scratch directory still finds ``tests.keyring_backends``."""
    base = dict(os.environ if env is None else env)
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH")) if p)
    return base


@contextmanager
def ztmcp_proxy(
    upstream: str,
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[ProxyProcess]:
    """``python -m ztmcp proxy UPSTREAM --port 0 ARGS…`` in ``cwd``; yields its local URL.

    ``cwd`` is a scratch directory, so no ztmcp.toml or ztmcp.lock of the repo is picked up.

    Both output pipes are drained by threads for the whole run, so a chatty proxy never blocks
    on a full pipe; everything it printed is in ``output`` once the block ends.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "ztmcp", "proxy", upstream, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=child_env(env),
    )
    running = ProxyProcess(url="", proc=proc)
    lines: queue.Queue[str | None] = queue.Queue()

    def drain(stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode(errors="replace"))
        lines.put(None)

    readers = [
        threading.Thread(target=drain, args=(s,), daemon=True)
        for s in (proc.stdout, proc.stderr)
        if s is not None
    ]
    for reader in readers:
        reader.start()
    try:
        running.url = _read_url(proc, lines, running.output)
        yield running
    finally:
        stop(proc)
        for reader in readers:
            reader.join(timeout=10)
        while not lines.empty():
            line = lines.get_nowait()
            if line is not None:
                running.output.append(line)
        if log is not None:
            log.write_text(running.text)


def _read_url(
    proc: subprocess.Popen[bytes], lines: queue.Queue[str | None], seen: list[str]
) -> str:
    """The local URL from the ``ztmcp: proxying URL -> …`` line, within START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    ended = 0
    while (left := deadline - time.monotonic()) > 0 and ended < 2:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            ended += 1
            continue
        seen.append(line)
        found = _PROXYING.search(line)
        if found:
            return found.group(1)
    if ended == 2:
        proc.wait(timeout=10)
        pytest.fail(f"ztmcp proxy exited ({proc.returncode}) without a URL: {''.join(seen)}")
    pytest.fail(f"ztmcp proxy printed no URL within {START_TIMEOUT} s: {''.join(seen)}")
