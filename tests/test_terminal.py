"""Terminal output is data: ``terminal.safe`` and every CLI command over hostile strings.

A hostile server, agent or repository chooses names, methods, reasons, tool descriptions and
lock entries carrying terminal control sequences: OSC 52 (write the clipboard), OSC 0 (window
title), CSI (clear, move, recolour), the one-byte C1 CSI U+009B, a bidi override (RLO) and
BEL. Every command's output must carry them only escaped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ztmcp.cli.app import app
from ztmcp.terminal import safe, safe_lines, unsafe

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
OSC0 = "\x1b]0;pwned\x07"
CSI = "\x1b[2J\x1b[31m"
C1_CSI = "\x9b31m"
RLO = "\u202e"
BEL = "\x07"
HOSTILE = f"x{OSC52}{OSC0}{CSI}{C1_CSI}{RLO}gpj.exe{BEL}\r\u2066\u200b\U000e0041"
ATTACKS = (OSC52, OSC0, CSI, C1_CSI, RLO, BEL)


def assert_inert(output: str) -> None:
    """No character that could act on a terminal or hide in it; newlines are ztmcp's own."""
    bad = sorted({f"U+{ord(c):04X}" for c in output if c != "\n" and unsafe(c)})
    assert not bad, f"unescaped {bad} in: {output[:400]!r}"
    for attack in ATTACKS:
        assert attack not in output


# -- the function ----------------------------------------------------------------------------


@given(st.text())
def test_safe_leaves_nothing_that_acts_on_a_terminal(text: str) -> None:
    out = safe(text)
    assert not any(unsafe(c) for c in out)
    assert safe(out) == out  # idempotent: escaping twice changes nothing


@given(st.text().filter(lambda t: '"' not in t and "\\" not in t))
def test_safe_is_a_json_escape(text: str) -> None:
    """Differential against JSON: the escaped text decodes back to the original string, so
    `--json` output stays valid and exact."""
    assert json.loads(f'"{safe(text)}"') == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp", "Cs"))))
def test_printable_text_passes_unchanged(text: str) -> None:
    assert safe(text) == text


def test_every_category_that_acts_is_escaped() -> None:
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x202E, 0x2066, 0x2069,
                 0xFEFF, 0x2028, 0x2029, 0xE0041]:  # fmt: skip
        char = chr(code)
        assert unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")
        assert char not in safe(char)
    assert safe_lines("a\nb\x1b") == "a\nb\\u001b"
    assert safe(HOSTILE).startswith("x\\u001b]52;c;")


# -- every CLI command -----------------------------------------------------------------------


@pytest.fixture
def hostile_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Audit records, grants, observed drift, first-seen pins and an (approved) lock, every
    name and text in them hostile. Returns the project directory (the cwd)."""
    from ztmcp import lockfile
    from ztmcp.manifest import Manifest
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog
    from ztmcp.state.grants import GrantStore
    from ztmcp.state.observed import ObservedStore

    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    log = AuditLog.create(paths.audit_dir(), "srv")
    log.append({"event": "session.start", "server": HOSTILE, "mode": "enforce"})
    for outcome in ("forwarded", "denied"):
        log.append(
            {
                "event": "message",
                "server": HOSTILE,
                "direction": "to_server",
                "mcp.method.name": "tools/call" if outcome == "denied" else HOSTILE,
                "gen_ai.tool.name": HOSTILE,
                "outcome": outcome,
                "verdicts": [
                    {
                        "check": "access",
                        "rule": HOSTILE,
                        "reason": HOSTILE,
                        "evidence": f"tool.sha256={'ab' * 32} {HOSTILE}",
                    }
                ],
            }
        )
    log.close(reason=HOSTILE)
    with GrantStore() as store:
        store.add(HOSTILE, HOSTILE, 600, digest=None, who=HOSTILE, why=HOSTILE)
    tool = {"name": HOSTILE, "description": HOSTILE, "inputSchema": {"type": "object"}}
    manifest = Manifest.from_lists(
        server_name=HOSTILE, server_version=HOSTILE, instructions=HOSTILE, tools=[tool]
    )
    lock = lockfile.Lockfile(project / "ztmcp.lock")
    pin = lockfile.pin_manifest("evil", manifest, command=(HOSTILE, "--flag"))
    other = lockfile.pin_manifest(HOSTILE, manifest, url=f"http://127.0.0.1/{HOSTILE}")
    lockfile.write(lock.with_pin(pin).with_pin(other))  # ztmcp wrote it: approved
    drifted = Manifest.from_lists(tools=[{**tool, "description": HOSTILE + "changed"}])
    with ObservedStore() as observed:
        observed.record("evil", drifted, 1.0, pin=pin, kinds=("tools",))
    (project / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    methods = json.dumps([HOSTILE[:-1]])  # a TOML string with \\u escapes (no astral char)
    policy = f"[envelope]\nallow_methods = {methods}\n"
    (project / "policy.toml").write_text(policy, encoding="utf-8")
    return project


# (argv, whether the output shows the hostile text, escaped)
COMMANDS = [
    (["audit", "show"], True),
    (["audit", "show", "--json"], True),
    (["audit", "verify"], False),
    (["report", "--since", "30d"], True),
    (["report", "--since", "30d", "--json"], True),
    (["grants", "--all"], True),
    (["pins"], True),
    (["diff", "evil", "--observed"], True),
    (["diff", "evil", "--manifest", "manifest.json"], False),
    (["diff", HOSTILE], True),
    (["scan", "manifest.json"], True),
    (["scan", "manifest.json", "--format", "json"], True),
    (["scan", "manifest.json", "--format", "sarif"], True),
    (["trust", "--list"], False),
    (["trust", "policy.toml"], False),
    (["revoke", HOSTILE], True),
    (["unpin", HOSTILE], True),
    (["audit", "verify", HOSTILE], True),
]


@pytest.mark.parametrize(
    ("argv", "shows"), COMMANDS, ids=[f"{i}-{a[0]}" for i, (a, _) in enumerate(COMMANDS)]
)
def test_no_cli_command_prints_a_control_sequence(
    hostile_state: Path, argv: list[str], shows: bool
) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert_inert(result.output)
    assert ("gpj.exe" in result.output) is shows, result.output[:300]


def test_audit_tail_prints_no_control_sequence(hostile_state: Path) -> None:
    """`audit tail` follows forever: run it as a process for a moment and read what it said."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ztmcp", "audit", "tail", "-n", "50", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=4)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    text = out.decode("utf-8")
    assert "gpj.exe" in text  # the hostile record was shown, escaped
    assert_inert(text)
    assert_inert(err.decode("utf-8"))


def test_errors_and_json_stay_exact(hostile_state: Path) -> None:
    """A hostile name in an error is escaped; `--json` output still decodes to the exact
    hostile string (the escaping is a JSON escape)."""
    shown = CliRunner().invoke(app, ["audit", "show", "--json"])
    records = [json.loads(line) for line in shown.output.splitlines()]
    assert any(r.get("gen_ai.tool.name") == HOSTILE for r in records)
