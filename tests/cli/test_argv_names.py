"""Each option and argument that names a server, agent, tool, secret, host, origin or URL,
given an empty value or one with a control character: refused by the name's rule while the
command line is read, before the command does anything (the policy file named here does not
exist: a command that got past its names would say that instead), one line, exit 2.

Only the CLI is imported, so the same cases run against a tree from before the rule
(``PYTHONPATH=<that tree>``) and show what it let through.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ztmcp.cli.app import app

runner = CliRunner()
MISSING = "{MISSING}"

# (argv with {V} for the value, what the refusal calls the value, how it names the option)
CASES = {
    "proxy --name": (["proxy", "--policy", MISSING, "--name", "{V}", "http://127.0.0.1:9/"],
                     "server name", "--name"),
    "proxy --allow-host": (["proxy", "--policy", MISSING, "--allow-host", "{V}",
                            "http://127.0.0.1:9/"], "host", "--allow-host"),
    "proxy --allow-origin": (["proxy", "--policy", MISSING, "--allow-origin", "{V}",
                              "http://127.0.0.1:9/"], "origin", "--allow-origin"),
    "proxy URL": (["proxy", "--policy", MISSING, "{V}"], "URL", "URL"),
    "run --name": (["run", "--policy", MISSING, "--name", "{V}", "--", MISSING],
                   "server name", "--name"),
    "watch --name": (["watch", "--policy", MISSING, "--name", "{V}"], "agent name", "--name"),
    "grant SERVER": (["grant", "{V}", "tool", "--for", "1m"], "server name", "SERVER"),
    "grant TOOL": (["grant", "srv", "{V}", "--for", "1m"], "tool name", "TOOL"),
    "audit show --server": (["audit", "show", "--server", "{V}"], "server name", "--server"),
    "audit show --agent": (["audit", "show", "--agent", "{V}"], "agent name", "--agent"),
    "audit tail --server": (["audit", "tail", "--server", "{V}"], "server name", "--server"),
    "report --server": (["report", "--server", "{V}"], "server name", "--server"),
    "baseline --server": (["baseline", "--server", "{V}"], "server name", "--server"),
    "baseline --agent": (["baseline", "--agent", "{V}"], "agent name", "--agent"),
    "unpin NAME": (["unpin", "{V}", "--lockfile", MISSING], "server name", "NAME"),
    "diff NAME": (["diff", "{V}", "--observed", "--lockfile", MISSING], "server name", "NAME"),
    "pin NAME": (["pin", "{V}", "--lockfile", MISSING, "--", MISSING], "server name", "NAME"),
    "secret set NAME": (["secret", "set", "{V}"], "secret name", "NAME"),
    "export --endpoint": (["export", "--policy", MISSING, "--endpoint", "{V}"], "URL",
                          "--endpoint"),
}  # fmt: skip


@pytest.mark.parametrize(
    "value", ["", "a\x1b]0;title\x07", "a\u202eb"], ids=["empty", "OSC", "bidi"]
)
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_name_from_argv_is_refused_by_its_rule(
    case: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    template, noun, where = CASES[case]
    argv = [a.replace("{V}", value).replace(MISSING, str(tmp_path / "missing")) for a in template]
    result = runner.invoke(app, argv, input="")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith(f"ztmcp: error: invalid {noun} for {where}: "), result.output
    assert len(lines) == 2 and lines[1].startswith("  hint: "), result.output


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--name", "a\x1b]52;c;aGk=\x07", "--", "true"],  # the fast path: no typer
        ["proxy", "--allow-host", "a\x1b[2J", "http://127.0.0.1:9/"],
        ["grant", "srv", "a\u202eb", "--for", "1m"],
    ],
    ids=["run", "proxy", "grant"],
)
def test_the_real_entry_point_writes_no_control_byte(argv: list[str], tmp_path: Path) -> None:
    # Through `python -m ztmcp` (ztmcp run exits by os._exit there): the bytes that reach
    # the terminal, not a test runner's capture.
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", *argv],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    text = done.stderr.decode()
    assert text.startswith("ztmcp: error: invalid "), text
    assert len(text.splitlines()) == 2
    assert not any(b in done.stderr for b in (b"\x1b", b"\x07", "\u202e".encode())), text
