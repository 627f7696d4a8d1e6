"""``ztmcp secret set/list/delete`` through the typer app, a real keyring backend, and a pty."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.keyring_backends import FILE_ENV, MemoryKeyring, memory_keyring, no_keyring
from ztmcp.cli.app import app
from ztmcp.credentials import SERVICE
from ztmcp.state import paths
from ztmcp.state.audit import read_records, session_files, verify_file

__all__ = ["memory_keyring", "no_keyring"]  # fixtures used by name below

runner = CliRunner()
TOKEN = "ghp_TestTokenValue0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


def audit_text() -> str:
    return "".join(p.read_text() for p in session_files(paths.audit_dir()))


def test_set_from_stdin_list_delete(memory_keyring: MemoryKeyring) -> None:
    result = runner.invoke(app, ["secret", "set", "github"], input=TOKEN + "\n")
    assert result.exit_code == 0, result.output
    assert "stored secret 'github'" in result.output and "{secret:github}" in result.output
    assert memory_keyring.entries == {(SERVICE, "github"): TOKEN}  # one newline stripped

    result = runner.invoke(app, ["secret", "set", "github"], input=TOKEN + "2\r\n")
    assert result.exit_code == 0 and "replaced secret 'github'" in result.output
    assert memory_keyring.entries[(SERVICE, "github")] == TOKEN + "2"

    runner.invoke(app, ["secret", "set", "other"], input="x")
    result = runner.invoke(app, ["secret", "list"])
    assert result.exit_code == 0 and result.output.splitlines() == ["github", "other"]

    memory_keyring.entries.pop((SERVICE, "other"))  # removed behind ztmcp's back
    result = runner.invoke(app, ["secret", "list"])
    assert result.output.splitlines() == ["github", "other  (missing from the keyring)"]

    result = runner.invoke(app, ["secret", "delete", "github"])
    assert result.exit_code == 0 and "deleted secret 'github'" in result.output
    assert (SERVICE, "github") not in memory_keyring.entries
    result = runner.invoke(app, ["secret", "delete", "github"])
    assert result.exit_code == 2
    assert result.output.startswith("ztmcp: error: no secret named 'github'")

    events = sorted(
        (
            r
            for r in read_records(session_files(paths.audit_dir()))
            if str(r.get("event", "")).startswith("secret.")
        ),
        key=lambda r: str(r["ts"]),
    )
    assert [(e["event"], e["secret.name"]) for e in events] == [
        ("secret.set", "github"),
        ("secret.set", "github"),
        ("secret.set", "other"),
        ("secret.delete", "github"),
    ]
    assert TOKEN not in audit_text()
    assert all(verify_file(p).ok for p in session_files(paths.audit_dir()))


def test_the_value_is_never_an_argument(memory_keyring: MemoryKeyring) -> None:
    result = runner.invoke(app, ["secret", "set", "github", TOKEN], input="")
    assert result.exit_code != 0 and memory_keyring.entries == {}
    assert TOKEN not in audit_text()


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (["secret", "set", "github"], "", "empty secret value"),
        (["secret", "set", "github"], "a\nb\n", "line break"),
        (["secret", "set", "bad name"], "x", "invalid secret name"),
        (["secret", "delete", "bad name"], "", "invalid secret name"),
    ],
)
def test_bad_input_is_one_line(
    memory_keyring: MemoryKeyring, args: list[str], stdin: str, needle: str
) -> None:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert first.startswith("ztmcp: error: ") and needle in first
    assert memory_keyring.entries == {} and "Traceback" not in result.output


@pytest.mark.usefixtures("no_keyring")
@pytest.mark.parametrize("args", [["secret", "set", "github"], ["secret", "list"]])
def test_no_keyring_backend_says_what_to_install(args: list[str]) -> None:
    if args[1] == "list":  # list reads the keyring only when there are names to check
        paths.home().mkdir(parents=True, exist_ok=True)
        (paths.home() / "secrets.json").write_text(json.dumps({"names": ["github"]}))
    result = runner.invoke(app, args, input=TOKEN)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ztmcp: error: cannot ") and "no keyring backend" in lines[0]
    assert "keyrings.alt" in lines[1] and "PYTHON_KEYRING_BACKEND" in lines[1]
    assert len(lines) == 2 and TOKEN not in result.output


def test_list_without_secrets() -> None:
    result = runner.invoke(app, ["secret", "list"])
    assert result.exit_code == 0 and "no secrets" in result.output


def test_hidden_prompt_on_a_terminal(tmp_path: Path) -> None:
    """On a real pty: asked twice, nothing echoed, stored in the backend the env selects."""
    store = tmp_path / "keyring.json"
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.keyring_backends.FileKeyring",
        FILE_ENV: str(store),
        "ZTMCP_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(ROOT),
    }
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ztmcp", "secret", "set", "github"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 30.0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen.lower() and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(leader, 4096)
                except OSError:  # the child closed the pty
                    break
        assert marker in seen.lower(), seen

    try:
        # click prints the prompt text, then getpass turns echo off and prints the last space:
        # type only after that space, as a person would.
        read_until(b"(hidden): ")
        os.write(leader, TOKEN.encode() + b"\r")
        read_until(b"confirmation: ")
        os.write(leader, TOKEN.encode() + b"\r")
        read_until(b"stored secret")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(leader)
    assert TOKEN.encode() not in seen
    assert json.loads(store.read_text()) == {f"{SERVICE}\0github": TOKEN}
