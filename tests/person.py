"""A person at a terminal, for tests: run a ztmcp command on a real pseudo-terminal (stdin,
stdout and stderr) and type an answer when it asks for approval.

This is exactly the residual risk docs/threat-model.md names (a process that drives a
pseudo-terminal can answer the prompt); here it stands in for the developer.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

PROMPT = b"to approve"


def run_on_terminal(
    argv: list[str], env: dict[str, str], answer: str | None, *, timeout: float = 30.0
) -> tuple[int, str]:
    """Run ``argv`` on a fresh pty; type ``answer`` at the approval prompt (None: type
    nothing, close). The exit code and everything it printed (the terminal's bytes)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
                if not sent and PROMPT in out:
                    sent = True
                    os.write(master, ((answer or "") + "\n").encode())
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise TimeoutError(f"{argv[-3:]} did not finish in {timeout}s: {out[-500:]!r}")
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, out.decode("utf-8", errors="replace")
