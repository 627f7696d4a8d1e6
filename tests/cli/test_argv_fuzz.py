"""Every command's every option and argument, against hostile values from argv.

The commands and their parameters are read from the typer app (and ``ztmcp run``'s argparse
parser), not listed here: a command added later is fuzzed too. Each value is given in an
isolated HOME, XDG and state directory, with stdin closed; whatever the command makes of it,
it must end with exit 0, 1 or 2, in bounded time, with no traceback and no raw control
character written to the terminal. A parameter read through a ``ztmcp.names`` kind
(``ztmcp.cli.values``) must refuse what its kind refuses with the one error line, exit 2.

Commands that would start a server, a listener or a network call get base options that make
them refuse before they do (``BEFORE_START``); two are skipped, with the reason (``SKIPPED``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.fifo import unwritten_fifo
from tests.keyring_backends import memory_keyring
from ztmcp import names
from ztmcp.cli import run_cmd
from ztmcp.cli.app import app
from ztmcp.cli.values import Reader
from ztmcp.terminal import unsafe

__all__ = ["memory_keyring"]  # a fixture used by name below

runner = CliRunner()
CLI = typer.main.get_command(app)  # built once: CliRunner.invoke builds it on every call
MISSING = "{MISSING}"  # a path that does not exist, in the test's directory
SECONDS = 10.0  # one invocation's bound (each takes milliseconds)

SKIPPED = {
    ("tui",): "a full-screen Textual app that runs until the person quits "
    "(its options: tests/cli/test_tui_cmd.py)",
    ("audit", "tail"): "follows the audit log until interrupted: any valid --lines never returns",
}

# Base options that make a command refuse before it starts anything, whatever the fuzzed value
# (the fuzzed parameter's own base is replaced by the value).
BEFORE_START: dict[tuple[str, ...], list[str]] = {
    ("proxy",): ["--policy", MISSING],  # the policy is read before mitmproxy listens
    ("run",): ["--policy", MISSING],  # policy read before the server starts (after `--`)
    ("export",): ["--endpoint", "http://127.0.0.1:9/v1/logs"],  # loopback, nothing listens
    ("verify",): ["--offline"],
    ("pin",): ["--offline"],
    ("wrap",): ["--dry-run"],
    ("unwrap",): ["--dry-run"],
}

# What each hostile value is: the ones a crash hunt tries first.
FIXED: dict[str, str] = {
    "empty": "",
    "blank": "   ",
    "tab": "\t",
    "newline": "a\nb",
    "CSI": "\x1b[2J\x1b[H",
    "OSC 52": "\x1b]52;c;aGk=\x07",
    "OSC 0": "\x1b]0;title\x1b\\",
    "C1 CSI": "\x9b31m",
    "DEL": "a\x7f",
    "bidi override": "\u202eexe.txt",
    "bidi isolate": "\u2066x\u2069",
    "zero width": "a\u200bb",
    "line separator": "a\u2028b",
    "10,000 characters": "a" * 10_000,
    "lone surrogate": os.fsdecode(b"\xff"),  # a file name in invalid UTF-8, as Python reads it
    "dash": "-",
    "directory": "{DIR}",
    "FIFO": "{FIFO}",
    "nonexistent": MISSING,
}


@dataclass(frozen=True)
class Target:
    path: tuple[str, ...]  # the command: ("audit", "show")
    option: str | None  # "--name"; None for an argument
    position: int  # an argument's place among the command's arguments
    reader: Reader | None  # the names kind it is read by, if any

    @property
    def id(self) -> str:
        return " ".join(self.path) + " " + (self.option or f"ARG{self.position}")


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    commands = getattr(command, "commands", None)
    if commands is None:
        yield path, command
        return
    for name, sub in sorted(commands.items()):
        yield from _leaves(sub, (*path, name))


def _arguments(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "argument"]


def _base(path: tuple[str, ...], command: Any) -> tuple[list[str], list[str]]:
    """Options and arguments for ``command`` that make it refuse before starting anything."""
    options = list(BEFORE_START.get(path, []))
    arguments: list[str] = []
    for param in command.params:
        if param.param_type_name == "argument":
            arguments.append(_plain(param))
        elif param.required and not param.is_flag:
            options += [param.opts[0], _plain(param)]
    if path == ("proxy",):
        arguments = ["http://127.0.0.1:9/mcp"]  # loopback, where nothing listens
    return options, arguments


def _plain(param: Any) -> str:
    annotation = str(param.type_descriptor.annotation)
    if "Path" in annotation:
        return MISSING
    if "int" in annotation or "float" in annotation:
        return "1"
    return "x"


def _targets() -> list[Target]:
    found: list[Target] = []
    for path, command in _leaves(CLI):
        if path in SKIPPED or path == ("run",):
            continue
        position = 0
        for param in command.params:
            if getattr(param, "is_flag", False) or getattr(param, "count", False):
                continue
            parser = param.type_descriptor.parameter_info.parser
            reader = parser if isinstance(parser, Reader) else None
            if param.param_type_name == "argument":
                found.append(Target(path, None, position, reader))
                position += 1
            else:
                found.append(Target(path, max(param.opts, key=len), 0, reader))
    for action in run_cmd.build_parser()._actions:  # ztmcp run: argparse, for start-up time
        if action.option_strings and action.nargs != 0 and "--help" not in action.option_strings:
            reader = Reader(names.SERVER, "--name") if action.dest == "name" else None
            found.append(Target(("run",), max(action.option_strings, key=len), 0, reader))
    return found


TARGETS = _targets()


def _argv(target: Target, value: str) -> list[str]:
    if target.path == ("run",):
        options = [o for o in BEFORE_START[("run",)]]
        if target.option == "--policy":
            options = []
        return ["run", *options, target.option or "", value, "--", MISSING]
    command: Any = CLI
    for name in target.path:
        command = command.commands[name]
    options, arguments = _base(target.path, command)
    if target.option is None:
        arguments[target.position] = value
    else:
        cut = [i for i, o in enumerate(options) if o == target.option]
        for i in reversed(cut):  # the fuzzed option's base value goes
            del options[i : i + 2]
        options += [target.option, value]
    return [*target.path, *options, *(["--"] if arguments else []), *arguments]


def _invoke(argv: list[str], where: Path) -> Result:
    argv = [a.replace(MISSING, str(where / "missing")).replace("{DIR}", str(where)) for a in argv]
    if not any("{FIFO}" in a for a in argv):
        return _timed(argv)
    with unwritten_fifo(where / "fifo") as fifo:
        result = _timed([a.replace("{FIFO}", str(fifo)) for a in argv])
    fifo.unlink()
    return result


@dataclass(frozen=True)
class Result:
    exit_code: int
    output: str
    exception: BaseException | None


def _timed(argv: list[str]) -> Result:
    """``CliRunner.invoke`` on the command built once (its isolation: stdin empty, stdout and
    stderr captured together), bounded in time."""
    started = time.monotonic()
    code, exception = 0, None
    with runner.isolation(input="") as streams:
        try:
            CLI.main(args=argv, prog_name="ztmcp")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:
            code, exception = 1, exc
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            output = streams[2].getvalue().decode("utf-8", "replace")
    assert time.monotonic() - started < SECONDS, (argv[:4], "took too long")
    return Result(code, output, exception)


def _assert_clean(result: Result, target: Target, value: str) -> None:
    output: str = result.output
    shown = (target.id, value[:40])
    assert result.exception is None, (shown, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (shown, result.exit_code, output[-500:])
    assert "Traceback" not in output, (shown, output[-2000:])
    raw = sorted({f"U+{ord(c):04X}" for c in output if c != "\n" and unsafe(c)})
    assert not raw, (shown, raw, output[-500:])
    if target.reader is None or target.reader.kind.refusal(value) is None:
        return
    # Read by a names kind, which refuses this value: the one error line (and hint), exit 2.
    lines = [line for line in output.splitlines() if line.strip()]
    assert result.exit_code == 2, (shown, output)
    assert lines[0].startswith(f"ztmcp: error: invalid {target.reader.kind.noun} for "), shown
    assert len(lines) == 2 and lines[1].startswith("  hint: "), (shown, output)


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: object) -> Path:
    """HOME, the XDG directories and the working directory in the test's own directory (and
    ZTMCP_HOME, by the suite's conftest); the keyring in memory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("NO_PROXY", "*")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_every_command_with_a_value_is_fuzzed() -> None:
    # The introspection found the commands (a walk that found nothing would pass anything).
    commands = {t.path for t in TARGETS}
    assert {("proxy",), ("run",), ("grant",), ("audit", "show"), ("secret", "set")} <= commands
    assert len(TARGETS) > 50


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_hostile_values_end_cleanly(target: Target, isolated: Path) -> None:
    for name, value in FIXED.items():
        result = _invoke(_argv(target, value), isolated)
        _assert_clean(result, target, value.replace("{DIR}", str(isolated)))
        assert name  # (the value's name, for a failing run's locals)

    @settings(
        max_examples=20,
        derandomize=True,  # seeded: the same examples on every run
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.text(max_size=40))
    def random_text(value: str) -> None:
        _assert_clean(_invoke(_argv(target, value), isolated), target, value)

    random_text()


# Values typed as text that are no name, host, origin or URL, and what reads them instead.
NOT_NAMES: dict[str, str] = {
    "--since": "a duration: ztmcp.durations.parse_duration",
    "--for": "a duration: ztmcp.durations.parse_duration",
    "--renew": "a duration: ztmcp.durations.parse_duration",
    "--max": "a duration: ztmcp.durations.parse_duration",
    "--grant-times": "a choice, read by the tui command",
    "--mode": "a choice (auto or legacy), read by pin_cmd.extract_now",
    "--format": "a choice, read by the scan command",
    "--fail-on": "a severity, read by the scan command",
    "--bound": "a choice, read by the eval command",
    "--client": "a choice: ztmcp.clients.rules.BY_NAME",
    "--resolve": "HOST:PORT:ADDRESS[:PORT]: ztmcp.watch.launcher.parse_resolve",
    "--identity-token": "a secret (an OIDC token): never shown, read by sigstore",
}


def test_every_text_value_is_read_by_a_kind_or_says_what_reads_it() -> None:
    # By construction: an option added later that takes text must name its kind (or its own
    # parser here), so a name from argv cannot skip the rule the policy applies.
    unread = []
    for path, command in _leaves(CLI):
        for param in command.params:
            annotation = str(param.type_descriptor.annotation)
            if getattr(param, "is_flag", False) or "str" not in annotation:
                continue
            parser = param.type_descriptor.parameter_info.parser
            option = max(param.opts, key=len)
            if not isinstance(parser, Reader) and option not in NOT_NAMES:
                unread.append(f"{' '.join(path)} {option}")
    assert unread == []


# The policy fields a command-line value shares its rule with: its kind, and a policy that
# holds the value there.
SHARED: dict[str, tuple[names.Kind, Callable[[str], dict[str, Any]]]] = {
    "access rule server": (
        names.SERVER,
        lambda v: {"access": {"rule": [{"server": v, "tool": "t", "action": "deny"}]}},
    ),
    "access rule tool": (
        names.TOOL,
        lambda v: {"access": {"rule": [{"tool": v, "action": "deny"}]}},
    ),
    "flow exempt server": (names.SERVER, lambda v: {"flow": {"exempt": [{"server": v}]}}),
    "flow rate tool": (names.TOOL, lambda v: {"flow": {"rate": [{"tool": v, "max": 1}]}}),
    "proxy header secret": (
        names.SECRET,
        lambda v: {
            "proxy": {
                "header": [
                    {"upstream": "https://a.example/*", "name": "X-Key", "value": f"{{secret:{v}}}"}
                ]
            }
        },
    ),
}


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(
    st.sampled_from(sorted(SHARED)),
    st.one_of(st.sampled_from(list(FIXED.values())), st.text(max_size=30)),
)
def test_the_policy_and_the_command_line_accept_the_same_names(field: str, value: str) -> None:
    """Differential: one rule, two entry points. A value the policy loader accepts for a
    field is exactly one the command line accepts for it, and the other way round."""
    from ztmcp.errors import PolicyError
    from ztmcp.policy import parse_policy

    kind, policy = SHARED[field]
    try:
        parse_policy(policy(value), "policy.toml")
        policy_accepts = True
    except PolicyError:
        policy_accepts = False
    assert policy_accepts == (kind.refusal(value) is None), (field, value)
    if policy_accepts:
        assert Reader(kind, "--x")(value) == kind.parse(value)


@pytest.mark.parametrize("name", sorted(FIXED))
def test_pin_reads_its_name_from_the_extra_arguments_by_the_same_kind(
    name: str, isolated: Path
) -> None:
    # NAME of `ztmcp pin NAME -- CMD…` comes after typer's parsing (extra arguments, with the
    # command): read by names.PINNED all the same, before any server would start.
    value = FIXED[name]
    result = _invoke(["pin", "--offline", value, "--", "/nonexistent/server"], isolated)
    shown = value.replace("{DIR}", str(isolated)).replace(MISSING, str(isolated / "missing"))
    target = Target(("pin",), None, 0, Reader(names.PINNED, "NAME"))
    _assert_clean(result, target, shown)
    assert names.PINNED.refusal(shown) is not None and result.exit_code == 2


@pytest.mark.parametrize("name", ["{}\x1b]0;x\x07", "{}\u202e", " {}"])
@pytest.mark.parametrize(("command", "kind"), [("run", "server"), ("watch", "agent")])
def test_a_peer_named_by_its_command_is_read_by_the_same_kind(
    command: str, kind: str, name: str, isolated: Path
) -> None:
    # Without --name, `ztmcp run` calls the server and `ztmcp watch` the agent by its
    # command's name (argv too; or a [watch] name): read by names.SERVER / names.AGENT all the
    # same, before the proxy starts or the audit log is opened.
    program = isolated / name.format(kind)
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    result = _invoke([command, "--", str(program)], isolated)
    _assert_clean(result, Target((command,), None, 0, None), program.name)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"ztmcp: error: invalid {kind} name for the {kind} "), (
        result.output
    )
    assert not list((Path(os.environ["ZTMCP_HOME"])).rglob("*.jsonl"))  # nothing recorded
