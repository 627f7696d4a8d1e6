"""``ztmcp run`` usage: every mistake is a one-line error with a fix, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RUN = [sys.executable, "-m", "ztmcp", "run"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, *args], input=stdin, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("args", "must_say"),
    [
        ((), "no server command"),
        (("--", "no-such-command-ztmcp-test"), "not found"),
        (("--grace", "0", "--", "cat"), "--grace must be a positive"),
        (("--policy", "/nonexistent/ztmcp.toml", "--", "cat"), "no such policy file"),
        (("--bogus", "--", "cat"), "unrecognized arguments"),
    ],
)
def test_usage_errors(args: tuple[str, ...], must_say: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert must_say in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # stdout is for MCP only


def test_a_server_the_kernel_cannot_exec_is_a_one_line_error(tmp_path: Path) -> None:
    script = tmp_path / "no-shebang"
    script.write_text("echo hi\n")  # executable, but no "#!": execve fails with ENOEXEC
    script.chmod(0o755)
    done = run("--", str(script))
    assert done.returncode == 2
    assert "cannot start the server" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_bad_policy_names_file_key_and_fix_and_starts_nothing(tmp_path: Path) -> None:
    policy = tmp_path / "ztmcp.toml"
    policy.write_text("[limits]\nmax_depth = 0\n")
    marker = tmp_path / "started"
    server = [
        sys.executable,
        "-c",
        f"import pathlib, time; time.sleep(1); pathlib.Path({str(marker)!r}).touch()",
    ]
    done = run("--policy", str(policy), "--", *server)
    assert done.returncode == 2
    assert str(policy) in done.stderr and "max_depth" in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr
    import time

    time.sleep(1.5)
    assert not marker.exists()  # the server started early was ended, not left running


def test_help_teaches() -> None:
    done = subprocess.run([*RUN, "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    for fragment in ("--policy", "--monitor", "--name", "--grace", "claude", "exit status"):
        assert fragment.lower() in done.stdout.lower()
