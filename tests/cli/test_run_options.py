"""``ztmcp run``'s options read without argparse (``run_cmd.fast_options``), against argparse.

Differential: on any command line, the fast reader either declines (None: argparse reads it)
or gives exactly what argparse gives. Its table of options is the parser's, by construction
checked here, so an option added to the parser and not to the table is a failing test, and
at run time merely a command line the fast reader declines.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.cli import run_cmd
from ztmcp.cli.run_cmd import OPTIONS, RunOptions, build_parser, fast_options, parse
from ztmcp.errors import PolicyError
from ztmcp.policy import Policy
from ztmcp.sandbox import launch

ROOT = Path(__file__).resolve().parents[2]


def _argparse(ours: list[str]) -> RunOptions | None:
    """What argparse reads, or None when it refuses (a usage error)."""
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return RunOptions.of(build_parser().parse_args(ours))
        except SystemExit:
            return None


def test_the_table_is_the_parsers_options() -> None:
    parser = build_parser()
    table: dict[str, tuple[str, object]] = {}
    for action in parser._actions:
        for option in action.option_strings:
            if option in ("-h", "--help"):
                continue
            if isinstance(action, argparse._StoreTrueAction):
                kind: object = None
            elif isinstance(action, argparse._AppendAction):
                kind = list
            else:
                kind = action.type or str
            table[option] = (action.dest, kind)
    assert table == OPTIONS
    dests = {a.dest for a in parser._actions if a.dest != "help"}
    assert dests == set(RunOptions.FIELDS)
    assert RunOptions() == RunOptions.of(parser.parse_args([]))  # the same defaults


_VALUES = st.sampled_from(
    ["x", "srv", "./p.toml", "1", "0.5", "-1", "nan", "1e3", "", "-", "--", "a=b", "--name",
     "--mon", "ztmcp.toml", "*.example.com:443", "HOME", " y", "-x", "soon", "inf"]
)  # fmt: skip
_TOKENS = st.one_of(
    st.sampled_from(sorted(OPTIONS)),
    st.sampled_from(["--pol", "--nam", "--allow", "-h", "--help", "--unknown", "-x", "server"]),
    st.builds(lambda o, v: f"{o}={v}", st.sampled_from(sorted(OPTIONS)), _VALUES),
    _VALUES,
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_TOKENS, max_size=7))
def test_the_fast_reader_reads_as_argparse_does_or_declines(ours: list[str]) -> None:
    fast = fast_options(ours)
    if fast is not None:  # by repr: "--grace nan" reads as nan both ways, and nan != nan
        assert repr(fast) == repr(_argparse(ours)), ours


@pytest.mark.parametrize(
    "ours",
    [
        [],
        ["--name", "fs", "--monitor"],
        ["--name=fs", "--policy", "p.toml", "--grace", "2.5"],
        ["--sandbox", "--allow-net", "api.example.com", "--allow-net=x:1", "--allow-env", "HOME"],
        ["--learn", "--intercept-tls", "--allow-read", "~/src", "--allow-write", "/tmp/x"],
    ],
)
def test_plain_command_lines_take_the_fast_path(ours: list[str]) -> None:
    fast = fast_options(ours)
    assert fast is not None and fast == _argparse(ours)


def test_usage_errors_are_argparses(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, said in (
        (["--name", "x"], "no server command"),
        (["--grace", "0", "--", "srv"], "--grace must be a positive number"),
        (["--grace", "soon", "--", "srv"], "invalid float value"),
        (["--monitor=1", "--", "srv"], "ignored explicit argument"),
    ):
        with pytest.raises(SystemExit) as exited:
            parse(argv)
        assert exited.value.code == 2
        assert said in capsys.readouterr().err
    options, command = parse(["--mon", "--", "srv", "--name", "x"])  # abbreviations: argparse
    assert options.monitor and command == ["srv", "--name", "x"]
    assert parse(["srv", "a"])[1] == ["srv", "a"]  # no "--": argparse's remainder


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "Infinity", "1e999"])
def test_a_grace_that_is_no_number_of_seconds_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``float`` reads "nan" and "inf", and nan compares false both ways: neither may pass
    for a grace period (the fast reader's or argparse's), in either spelling."""
    for argv in (["--grace", value, "--", "srv"], [f"--grace={value}", "--", "srv"]):
        with pytest.raises(SystemExit) as exited:
            parse(argv)
        assert exited.value.code == 2
        err = capsys.readouterr().err
        last = err.strip().splitlines()[-1]  # after argparse's usage lines, its one error line
        assert last.endswith(": error: --grace must be a positive number of seconds")
        assert "Traceback" not in err


def test_ztmcp_run_reads_its_options_without_argparse() -> None:
    code = (
        "import sys; from ztmcp.cli.run_cmd import parse; "
        "o, c = parse(['--name', 'x', '--monitor', '--', 'srv']); "
        "print(o.name, o.monitor, c, 'argparse' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["x", "True", "['srv']", "False"], done.stderr


def test_no_sandbox_asked_for_is_decided_without_the_profile_parser() -> None:
    """``prepare``'s shortcut (no option, no policy file) is the answer the full path gives."""
    from ztmcp.sandbox.profile import Profile, SandboxTable

    plain = RunOptions()
    assert not launch.given(plain)
    assert launch.cli_profile(plain) == Profile()  # so nothing is granted
    assert launch.policy_table(Policy()) == SandboxTable()  # and no [sandbox] table applies
    assert launch.policy_table(Policy()).profile_for("anything") is None
    assert launch.prepare(plain, ["srv"], Policy()) is None
    for option in ("allow_read", "allow_write", "allow_net", "allow_env"):
        assert launch.given(RunOptions(**{option: ["x"]}))
    assert launch.given(RunOptions(intercept_tls=True))


def test_the_sandbox_tables_are_the_ones_the_policy_read_not_a_second_read(
    tmp_path: Path,
) -> None:
    """One read, one parser: a policy file swapped after ``load_policy`` read it (the former
    second read by plain tomllib) changes neither the profile nor the enforcement."""
    from ztmcp.policy import load_policy
    from ztmcp.sandbox.profile import Profile

    user = tmp_path / "config.toml"
    user.write_text('[sandbox.servers."f*"]\nallow_read = ["/srv/user"]\n')
    given = tmp_path / "policy.toml"
    given.write_text('[sandbox.servers.fs]\nallow_write = ["/srv/given"]\n')
    policy = load_policy(given, cwd=tmp_path, user_config=user)
    before = launch.policy_table(policy)
    assert before.profile_for("fs") == Profile(allow_read=("/srv/user",)).merged(
        Profile(allow_write=("/srv/given",))
    )
    given.write_text("[sandbox]\nenforce = true\n[sandbox.servers.other]\n")
    user.write_text("[sandbox]\nservers = 1\n")  # a second read would refuse this one
    assert launch.policy_table(policy) == before
    assert not before.enforce and before.profile_for("other") is None


def test_a_bad_flag_is_still_refused_by_the_sandbox(tmp_path: Path) -> None:
    with pytest.raises(Exception) as refused:
        launch.prepare(RunOptions(allow_env=["1BAD"]), ["srv"], Policy())
    assert "not an environment variable name" in str(refused.value)
    assert not isinstance(refused.value, PolicyError)
    assert run_cmd.split(["a", "--", "b", "--", "c"]) == (["a"], ["b", "--", "c"])
