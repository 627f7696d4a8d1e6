"""``ztmcp run``: the stdio interceptor.

An MCP client starts one ``ztmcp run`` per server and waits for it, so its options are read
without argparse when they are written plainly (``--name NAME``, ``--name=NAME``, flags): the
table below (``OPTIONS``) names each, and ``tests/cli/test_run_options.py`` checks it against
the argparse parser and that both read every command line the same way. Anything else (an
abbreviation, a missing value, a value that starts with ``-``, a stray argument, ``--help``)
goes to argparse, which reads it or prints the error as before.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import argparse
    import subprocess

    from ztmcp.pinning import PinEdge
    from ztmcp.policy import Policy
    from ztmcp.session import Session

from ztmcp.errors import ZtmcpError

DESCRIPTION = """\
Run an MCP server behind ztmcp over stdio. Every JSON-RPC message between your agent
(on this process's stdin/stdout) and the server passes ztmcp's checks, fail-closed, and
is recorded in a hash-chained audit log under $ZTMCP_HOME/audit.

Put it in front of the server command in your client's config, e.g. for Claude Desktop:
  "command": "ztmcp", "args": ["run", "--name", "time", "--", "uvx", "mcp-server-time"]
"""

EPILOG = """\
examples:
  ztmcp run -- npx -y @modelcontextprotocol/server-everything stdio
  ztmcp run --name fs --policy ./ztmcp.toml -- mcp-server-filesystem ~/src
  ztmcp run --monitor -- uvx mcp-server-time     # record findings, block nothing

exit status: 0 when the agent closed the connection, the server's code when it exited
on its own, 2 on a usage or policy error. See the audit with `ztmcp audit show`.
"""


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="ztmcp run",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="policy file (default: ./ztmcp.toml if present, over the user config)",
    )
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="server name for policy, pins and audit (default: the command's name)",
    )
    parser.add_argument(
        "--monitor",
        action="store_true",
        help="record what the checks find but block nothing (overrides the policy mode)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long the server gets to exit after the agent disconnects (default 5)",
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD ARGS…",
        help="the server command, after --",
    )
    from ztmcp.sandbox.launch import add_arguments  # --sandbox, --allow-*: ztmcp/sandbox/

    add_arguments(parser)
    return parser


class RunOptions:
    """What ``ztmcp run``'s options say, read by ``fast_options`` or by argparse."""

    __slots__ = FIELDS = (
        "policy",
        "name",
        "monitor",
        "grace",
        "command",
        "sandbox",
        "learn",
        "intercept_tls",
        "allow_read",
        "allow_write",
        "allow_net",
        "allow_env",
    )

    def __init__(
        self,
        *,
        policy: Path | None = None,
        name: str | None = None,
        monitor: bool = False,
        grace: float = 5.0,
        command: list[str] | None = None,
        sandbox: bool = False,
        learn: bool = False,
        intercept_tls: bool = False,
        allow_read: list[str] | None = None,
        allow_write: list[str] | None = None,
        allow_net: list[str] | None = None,
        allow_env: list[str] | None = None,
    ) -> None:
        self.policy = policy
        self.name = name
        self.monitor = monitor
        self.grace = grace
        self.command = command or []
        self.sandbox = sandbox
        self.learn = learn
        self.intercept_tls = intercept_tls
        self.allow_read = allow_read or []
        self.allow_write = allow_write or []
        self.allow_net = allow_net or []
        self.allow_env = allow_env or []

    @classmethod
    def of(cls, ns: argparse.Namespace) -> RunOptions:
        return cls(**{f: getattr(ns, f) for f in cls.FIELDS})

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunOptions) and self.values() == other.values()

    def __repr__(self) -> str:
        return f"RunOptions({', '.join(f'{f}={getattr(self, f)!r}' for f in self.FIELDS)})"


# Every option of ``build_parser``: (its field, how its value is read). ``None``: a flag;
# ``list``: repeatable, each value appended.
OPTIONS: Final[dict[str, tuple[str, Any]]] = {
    "--policy": ("policy", Path),
    "--name": ("name", str),
    "--monitor": ("monitor", None),
    "--grace": ("grace", float),
    "--sandbox": ("sandbox", None),
    "--learn": ("learn", None),
    "--intercept-tls": ("intercept_tls", None),
    "--allow-read": ("allow_read", list),
    "--allow-write": ("allow_write", list),
    "--allow-net": ("allow_net", list),
    "--allow-env": ("allow_env", list),
}


def fast_options(ours: list[str]) -> RunOptions | None:
    """``ours`` (the options before ``--``) read as argparse reads them, or None when they are
    not all written plainly (then argparse reads them, or says what is wrong)."""
    found: dict[str, Any] = {}
    i = 0
    while i < len(ours):
        option, eq, inline = ours[i].partition("=")
        spec = OPTIONS.get(option)
        if spec is None:
            return None  # an abbreviation, an unknown option, an argument, "-h"
        dest, kind = spec
        if kind is None:
            if eq:
                return None  # "--monitor=…": argparse's error
            found[dest] = True
            i += 1
            continue
        if eq:
            value, i = inline, i + 1
        elif i + 1 < len(ours) and ours[i + 1][:1] not in ("", "-"):
            value, i = ours[i + 1], i + 2
        else:
            return None  # no value, or one argparse might read as an option
        if kind is list:
            found.setdefault(dest, []).append(value)
            continue
        try:
            found[dest] = kind(value)
        except ValueError:
            return None  # "--grace soon": argparse's error
    return RunOptions(**found)


def _fail(exc: ZtmcpError) -> int:
    """The one error line (and hint), escaped for the terminal as ``render.fail`` does: a
    message may carry a path, a name or a key id from the environment or a file."""
    from ztmcp.terminal import safe

    hint = f"\n  hint: {safe(exc.hint)}" if exc.hint else ""
    print(f"ztmcp: error: {safe(exc.message)}{hint}", file=sys.stderr)
    return 2


def _say(text: str) -> None:
    from ztmcp.terminal import safe_lines

    print(f"ztmcp: {safe_lines(text)}", file=sys.stderr)


def split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after the first "--" is the server's, never ours."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


_FOREVER: Final = float("inf")  # a grace of it (or nan) would be no deadline at all


def _named(options: RunOptions) -> RunOptions:
    """``options`` with ``--name`` read as a server name (``ztmcp.names.SERVER``, the rule the
    policy applies to its server names): a refusal is the one error
    line, exit 2, on either way the options were read."""
    if options.name is not None:
        from ztmcp.names import SERVER, refused

        error = refused(SERVER, "--name", options.name)
        if error is not None:
            raise SystemExit(_fail(error))
    return options


def parse(argv: list[str]) -> tuple[RunOptions, list[str]]:
    """The options and the server command; usage errors exit as argparse's do (status 2)."""
    ours, command = split(argv)
    options = fast_options(ours)
    if options is not None and command and 0 < options.grace < _FOREVER:
        return _named(options), command
    parser = build_parser()  # anything unusual, and every error, is argparse's to say
    options = RunOptions.of(parser.parse_args(ours))
    command = command or [a for a in options.command if a != "--"]
    if not command:
        parser.error("no server command: put it after --, e.g. ztmcp run -- mcp-server-time")
    if not 0 < options.grace < _FOREVER:  # nan and inf too: no comparison holds for nan
        parser.error("--grace must be a positive number of seconds")
    return _named(options), command


def main(argv: list[str]) -> int:
    ours, _command = split(argv)
    if {"-h", "--help"} & set(ours):  # the same rich help every other command has
        from ztmcp.cli.hints import print_run_help

        print_run_help(build_parser())
        return 0
    ns, command = parse(argv)
    try:
        return _run(ns, command)
    except ZtmcpError as exc:
        return _fail(exc)


# The project policy file ``load_policy`` looks for (``ztmcp.policy.PROJECT_FILE``; the same,
# tested: this module does not import the policy before the server starts).
PROJECT_FILE: Final = "ztmcp.toml"


def unconfined(ns: RunOptions, cwd: Path, user_config: Path) -> bool:
    """Whether the server starts as its bare command whatever the policy says: no sandbox
    option, and no policy file (``--policy``, the user config, a project ``ztmcp.toml``) that
    could hold a ``[sandbox]`` table; the policy is then the default one."""
    if any(getattr(ns, f) for f in SPAWN_FIELDS):
        return False
    return not user_config.is_file() and not (cwd / PROJECT_FILE).is_file()


# The options that may change how the server starts (all but --name, --monitor, --grace).
SPAWN_FIELDS: Final = (
    "policy",
    "sandbox",
    "learn",
    "intercept_tls",
    "allow_read",
    "allow_write",
    "allow_net",
    "allow_env",
)


def _run(ns: RunOptions, command: list[str]) -> int:
    # Start-up allocates almost only what lives as long as the process (modules, the policy,
    # the pipeline), and the collector would walk all of it again each time it grew: it
    # waits until the relay starts, which freezes what was built (``_relay``). Enabled again
    # on every way out, a start-up error included (a server command that cannot start fails
    # before the policy is read).
    gc.disable()
    try:
        return _start(ns, command)
    finally:
        gc.enable()


def _start(ns: RunOptions, command: list[str]) -> int:
    from ztmcp.adapters.spawn import kill_server, spawn_server
    from ztmcp.state import paths

    cwd, user_config = Path.cwd(), paths.user_config()
    # When nothing in the policy can change how the server starts, it starts now and boots
    # while ztmcp loads the policy and builds the pipeline; otherwise after the policy and
    # its sandbox. Either way its stdin is ours: nothing reaches it, and nothing it writes
    # reaches the agent, before the Session with every check exists; if anything fails
    # first, its process group is killed and ztmcp exits with the one-line error as before
    # (docs/design.md, "Start-up: the server starts while ztmcp loads").
    child = spawn_server(command) if unconfined(ns, cwd, user_config) else None
    sandbox = None
    try:
        from ztmcp.policy import load_policy

        # Loaded once: the sandbox reads its [sandbox] tables from it, the runtime its checks.
        policy = load_policy(ns.policy, cwd=cwd, user_config=user_config)
        if child is not None and policy.sources:  # a policy file appeared meanwhile
            kill_server(child)
            child = None
        if child is None:  # (started early, it is not sandboxed: ``prepare`` says None there)
            from ztmcp.sandbox.launch import prepare  # --sandbox / [sandbox]

            sandbox = prepare(ns, command, policy)
            child = (
                spawn_server(command)
                if sandbox is None
                else spawn_server(sandbox.argv, env=sandbox.env)
            )
        session = _session(ns, command, policy)
    except BaseException:
        if child is not None:
            kill_server(child)
        if sandbox is not None:
            sandbox.close("ztmcp run ended")
        raise
    try:
        return _relay(ns, command, child, session)
    finally:
        if sandbox is not None:
            sandbox.close("ztmcp run ended")


def _relay(
    ns: RunOptions, command: list[str], child: subprocess.Popen[bytes], session: Session
) -> int:
    from ztmcp.adapters.stdio import StdioRelay
    from ztmcp.cli.hints import NotMcpWatch, say_waiting
    from ztmcp.runtime import warm_up_in_background  # imported already, by _session

    # What start-up built stays for the process's life: out of every later collection's walk
    # (a handful of start-up cycles stay with it), then the collector runs as usual.
    gc.freeze()
    gc.enable()
    say_waiting(sys.stdin, sys.stderr, session.server)  # on a terminal: what it waits for
    # Warm the detectors up once the first answers went out: before that, the work would only
    # compete with the first messages (which need little of it) for the interpreter lock.
    try:
        # A server that echoes or is no MCP server is told apart from one using a method
        # the policy does not allow: said once on stderr (the denial itself says so too).
        watch = NotMcpWatch(command, sys.stderr)
        result = StdioRelay(
            session,
            command,
            grace=ns.grace,
            child=child,
            watch=watch,
            when_idle=warm_up_in_background,
        ).run()
    except BaseException:
        session.close("ztmcp run failed while relaying")
        raise
    return result.exit_code


def _session(ns: RunOptions, command: list[str], policy: Policy | None = None) -> Session:
    from ztmcp.runtime import Stdio, build

    runtime = build(
        Stdio(tuple(command)),
        policy=policy,
        policy_file=ns.policy,
        name=ns.name,
        monitor=ns.monitor,
        say=_say,
    )
    # One session over the runtime's own log: it owns both edges (pins, holds and renewals)
    # and closes them, and the log, when it ends.
    return runtime.session()


def _pin_edge(
    checks: list[Any], name: str, argv_sha256: str, *, background: bool = True
) -> PinEdge | None:
    """The runtime's pin edge (kept for callers of the old name); see ``runtime.pin_edge``."""
    from ztmcp.runtime import pin_edge

    return pin_edge(
        checks,
        name,
        argv_sha256,
        say=_say,
        background=background,
    )
